//! Content ids: the blake3 hash of canonical bytes.
//!
//! Shown as multibase base32 lower-case (`b…`, 53 characters), which is case-insensitive and
//! safe in URLs, file names and DNS labels.

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Multibase prefix of base32 lower-case without padding.
const BASE32_PREFIX: char = 'b';

/// A blake3 hash naming a piece of content (a genesis, an envelope, an attachment).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentId(pub [u8; 32]);

impl ContentId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        ContentId(*blake3::hash(bytes).as_bytes())
    }

    /// The id of several byte strings hashed as one (no separators; callers supply framing).
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut h = blake3::Hasher::new();
        for p in parts {
            h.update(p);
        }
        ContentId(*h.finalize().as_bytes())
    }

    /// The raw hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A short form for logs: the first 12 characters of the text form.
    pub fn short(&self) -> String {
        self.to_string().chars().take(12).collect()
    }
}

impl fmt::Display for ContentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{BASE32_PREFIX}{}",
            data_encoding::BASE32_NOPAD
                .encode(&self.0)
                .to_ascii_lowercase()
        )
    }
}

impl fmt::Debug for ContentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentId({})", self.short())
    }
}

impl FromStr for ContentId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &'static str| Error::BadText {
            what: "content id",
            input: s.chars().take(80).collect(),
            reason,
        };
        let t = s.trim();
        if t.len() != 53 {
            return Err(bad("wrong length (expected 53 characters)"));
        }
        let body = t
            .strip_prefix(BASE32_PREFIX)
            .or_else(|| t.strip_prefix('B'))
            .ok_or_else(|| bad("must start with 'b' (multibase base32)"))?;
        let raw = data_encoding::BASE32_NOPAD
            .decode(body.to_ascii_uppercase().as_bytes())
            .map_err(|_| bad("not base32 (allowed: a-z, 2-7)"))?;
        let arr: [u8; 32] = raw.try_into().map_err(|_| bad("wrong length"))?;
        Ok(ContentId(arr))
    }
}

impl Serialize for ContentId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for ContentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(ContentId(<[u8; 32]>::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blake3_vector_and_text_round_trip() {
        // blake3("") from the reference test vectors.
        let id = ContentId::of(b"");
        assert_eq!(
            data_encoding::HEXLOWER.encode(id.as_bytes()),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        let s = id.to_string();
        assert_eq!(s.len(), 53);
        assert_eq!(s.parse::<ContentId>().unwrap(), id);
        assert_eq!(s.to_uppercase().parse::<ContentId>().unwrap(), id);
    }

    #[test]
    fn malformed_text_is_a_typed_error() {
        for s in [
            "",
            "b",
            "zabc",
            &"b".repeat(53),
            &format!("x{}", "a".repeat(52)),
        ] {
            assert!(
                matches!(
                    s.parse::<ContentId>(),
                    Err(Error::BadText {
                        what: "content id",
                        ..
                    })
                ),
                "{s}"
            );
        }
    }
}
