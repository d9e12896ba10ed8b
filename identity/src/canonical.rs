//! Canonical byte encoding of signed bodies and envelopes.
//!
//! Bodies are encoded with [postcard](https://postcard.jamesmunns.com/wire-format): fields in
//! declaration order, varint integers, length-prefixed strings and byte strings, no maps with
//! free key order and no floats. Decoding is strict: the input must be within the size limit,
//! must be consumed entirely, and must re-encode to exactly the same bytes (so overlong varints
//! and other alternative spellings of one value are refused, and a content id names exactly
//! one value).

use crate::error::{Error, Result};
use serde::{Serialize, de::DeserializeOwned};

/// Default maximum size of one encoded envelope (16 KiB): endorsements and certificates are a
/// few hundred bytes; anything near this is an attack or a bug.
pub const DEFAULT_MAX_ENVELOPE_BYTES: usize = 16 * 1024;

/// Size limits applied before any byte is parsed or any signature checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted encoded envelope, in bytes.
    pub max_envelope_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_envelope_bytes: DEFAULT_MAX_ENVELOPE_BYTES,
        }
    }
}

/// Encode a value canonically.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // postcard only fails on types it cannot represent (none of ours) or a full fixed buffer
    // (we use a growable Vec); an empty result would fail decoding, never verify, and be seen.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Decode `bytes` as a `T`, refusing oversized, trailing or non-canonical input.
pub fn decode<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    max_len: usize,
) -> Result<T> {
    if bytes.len() > max_len {
        return Err(Error::TooLarge {
            limit: max_len,
            actual: bytes.len(),
        });
    }
    let (value, rest) =
        postcard::take_from_bytes::<T>(bytes).map_err(|e| Error::decode(what, e))?;
    if !rest.is_empty() {
        return Err(Error::decode(
            what,
            format!("{} trailing bytes", rest.len()),
        ));
    }
    if encode(&value) != bytes {
        return Err(Error::decode(what, "non-canonical encoding"));
    }
    Ok(value)
}

/// Serde helper for `[u8; 64]` (serde's derives stop at 32-element arrays): use with
/// `#[serde(with = "qun_identity::canonical::bytes64")]`.
pub mod bytes64 {
    use serde::de::{Error as _, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Serialize as a 64-element tuple.
    pub fn serialize<S: Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(64)?;
        for b in v {
            t.serialize_element(b)?;
        }
        t.end()
    }

    /// Deserialize a 64-element tuple.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = [u8; 64];
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 bytes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; 64], A::Error> {
                let mut out = [0u8; 64];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                Ok(out)
            }
        }
        d.deserialize_tuple(64, V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        a: u64,
        s: String,
    }

    #[test]
    fn round_trip() {
        let v = T {
            a: 300,
            s: "hi".into(),
        };
        let b = encode(&v);
        assert_eq!(decode::<T>("t", &b, 100).unwrap(), v);
    }

    #[test]
    fn rejects_trailing_oversized_and_overlong() {
        let mut b = encode(&T {
            a: 1,
            s: String::new(),
        });
        b.push(0);
        assert!(matches!(
            decode::<T>("t", &b, 100),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            decode::<T>("t", &[0; 200], 100),
            Err(Error::TooLarge {
                limit: 100,
                actual: 200
            })
        ));
        // 1 encoded as an overlong varint (0x81 0x00) is the same value but not canonical.
        let overlong = [0x81, 0x00, 0x00];
        assert!(matches!(
            decode::<T>("t", &overlong, 100),
            Err(Error::Decode { .. })
        ));
    }
}
