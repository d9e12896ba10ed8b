//! Names of communities, documents, channels, posts and changes.

use crate::error::{Error, Result};
use qun_identity::ContentId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An Automerge change hash (sha256 of the change bytes, as Automerge defines it).
pub type Hash = automerge::ChangeHash;

/// A community: the blake3 hash of its signed genesis envelope.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommunityId(pub ContentId);

impl CommunityId {
    /// The raw hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// A short form for logs.
    pub fn short(&self) -> String {
        self.0.short()
    }
}

impl fmt::Display for CommunityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for CommunityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommunityId({})", self.0.short())
    }
}

impl FromStr for CommunityId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(CommunityId(s.parse()?))
    }
}

/// Longest channel id, bytes.
pub const MAX_CHANNEL_ID: usize = 32;

/// A channel's id: `[a-z0-9][a-z0-9-]*`, at most 32 bytes (`general`, `show-and-tell`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChannelId(String);

impl ChannelId {
    /// Parse and check.
    pub fn new(s: &str) -> Result<Self> {
        let ok = !s.is_empty()
            && s.len() <= MAX_CHANNEL_ID
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(ChannelId(s.to_string()))
        } else {
            Err(Error::decode(
                "channel id",
                format!(
                    "{:?}: use [a-z0-9][a-z0-9-]*, at most 32 bytes",
                    s.chars().take(40).collect::<String>()
                ),
            ))
        }
    }

    /// The channel every community starts with.
    pub fn general() -> Self {
        ChannelId("general".into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ChannelId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        ChannelId::new(&s)
    }
}

impl From<ChannelId> for String {
    fn from(c: ChannelId) -> String {
        c.0
    }
}

impl FromStr for ChannelId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ChannelId::new(s)
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One Automerge document of a community.
///
/// The governance document holds membership, roles, policy, channels, device links,
/// endorsements, moderation and profiles: everything authorization reads, kept small. Posts
/// live in content documents, one per channel and time window, so no document grows with the
/// community's age.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DocId {
    /// The governance document.
    Governance,
    /// Posts, replies and reactions of one channel in one time window.
    Content {
        /// The channel.
        channel: ChannelId,
        /// Window number: `floor(time_ms / window_ms)`.
        window: u32,
    },
}

impl DocId {
    /// Text form: `gov` or `c/<channel>/<window>`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Whether this is the governance document.
    pub fn is_governance(&self) -> bool {
        matches!(self, DocId::Governance)
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocId::Governance => f.write_str("gov"),
            DocId::Content { channel, window } => write!(f, "c/{channel}/{window}"),
        }
    }
}

impl fmt::Debug for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocId({self})")
    }
}

impl FromStr for DocId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "gov" {
            return Ok(DocId::Governance);
        }
        let mut parts = s.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("c"), Some(ch), Some(w)) => Ok(DocId::Content {
                channel: ChannelId::new(ch)?,
                window: w
                    .parse()
                    .map_err(|_| Error::decode("doc id", "window is not a number"))?,
            }),
            _ => Err(Error::decode(
                "doc id",
                "expected gov or c/<channel>/<window>",
            )),
        }
    }
}

/// Longest post key, bytes.
pub const MAX_POST_KEY: usize = 40;

/// A post: its channel, the window its document covers, and its key in that document.
/// Text form `<channel>/<window>/<key>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostId {
    /// The channel.
    pub channel: ChannelId,
    /// The window.
    pub window: u32,
    /// Key in the author's post map (`[a-z0-9]`, from the author's device and change seq).
    pub key: String,
}

impl PostId {
    /// The document holding the post.
    pub fn doc(&self) -> DocId {
        DocId::Content {
            channel: self.channel.clone(),
            window: self.window,
        }
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.channel, self.window, self.key)
    }
}

impl fmt::Debug for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostId({self})")
    }
}

impl FromStr for PostId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.splitn(3, '/');
        let (Some(ch), Some(w), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::decode(
                "post id",
                "expected <channel>/<window>/<key>",
            ));
        };
        let key_ok = !key.is_empty()
            && key.len() <= MAX_POST_KEY
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !key_ok {
            return Err(Error::decode("post id", "key must be 1-40 of [a-z0-9]"));
        }
        Ok(PostId {
            channel: ChannelId::new(ch)?,
            window: w
                .parse()
                .map_err(|_| Error::decode("post id", "window is not a number"))?,
            key: key.to_string(),
        })
    }
}

impl TryFrom<String> for PostId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<PostId> for String {
    fn from(p: PostId) -> String {
        p.to_string()
    }
}

/// Parse a change hash from its 64-character hex form.
pub fn parse_hash(s: &str) -> Result<Hash> {
    s.parse::<Hash>()
        .map_err(|_| Error::decode("change hash", "expected 64 hex characters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        let d: DocId = "c/general/12".parse().unwrap();
        assert_eq!(d.to_string(), "c/general/12");
        assert_eq!("gov".parse::<DocId>().unwrap(), DocId::Governance);
        let p: PostId = "general/3/abc123".parse().unwrap();
        assert_eq!(p.to_string(), "general/3/abc123");
        assert_eq!(p.doc(), "c/general/3".parse().unwrap());
        for bad in ["", "c/General/1", "c/x", "c/x/y", "x/1/2"] {
            assert!(bad.parse::<DocId>().is_err(), "{bad}");
        }
        for bad in ["general/1", "general/x/a", "general/1/ABC", "general/1/"] {
            assert!(bad.parse::<PostId>().is_err(), "{bad}");
        }
        assert!(ChannelId::new(&"a".repeat(33)).is_err());
    }
}
