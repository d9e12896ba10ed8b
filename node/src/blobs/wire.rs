//! The messages of `/qun/blob/1`, one request and one response per stream (framed by
//! `crate::net::codec::BlobCodec`: a 4-byte length, refused before reading when over the
//! limit).
//!
//! ```text
//! request:   version (1) | community id (32) | blob id (32)             exactly 65 bytes
//! response:  version (1) | 0 found   | size (u64 BE) | bytes (size)
//!                        | 1 not found | 2 refused (we share no community) | 3 busy
//! ```
//!
//! The community names which of our shared communities the asker reads the blob for; the
//! answering node serves it only to a peer subscribed to that community's topic. Decoding
//! checks every declared size against the limit and against the bytes actually there before
//! allocating anything for it.

use qun_crdt::CommunityId;
use qun_identity::ContentId;

/// The wire version byte.
pub const VERSION: u8 = 1;
/// Bytes of a request.
pub const REQUEST_LEN: usize = 1 + 32 + 32;
/// Bytes of a response besides the blob.
pub const RESPONSE_OVERHEAD: usize = 1 + 1 + 8;

/// Why bytes from a peer are not a blob message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Nothing at all.
    #[error("empty message")]
    Empty,
    /// Another version of the protocol.
    #[error("unknown version {0}")]
    Version(u8),
    /// A request is exactly [`REQUEST_LEN`] bytes.
    #[error("request of {actual} bytes (expected {expected})")]
    RequestLength {
        /// [`REQUEST_LEN`].
        expected: usize,
        /// What came.
        actual: usize,
    },
    /// An unknown answer.
    #[error("unknown response kind {0}")]
    Kind(u8),
    /// The declared size is over the limit.
    #[error("blob of {actual} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// The declared size.
        actual: u64,
    },
    /// The declared size does not match the bytes that came.
    #[error("declared {declared} bytes, {available} came")]
    WrongSize {
        /// The declared size.
        declared: u64,
        /// The bytes there.
        available: u64,
    },
}

/// "Send me this blob, which I read in this community."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobRequest {
    /// A community both peers hold.
    pub community: CommunityId,
    /// The blob.
    pub blob: ContentId,
}

impl BlobRequest {
    /// The request's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(REQUEST_LEN);
        out.push(VERSION);
        out.extend_from_slice(self.community.as_bytes());
        out.extend_from_slice(self.blob.as_bytes());
        out
    }

    /// A request from a peer's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let (&v, rest) = bytes.split_first().ok_or(WireError::Empty)?;
        if v != VERSION {
            return Err(WireError::Version(v));
        }
        if bytes.len() != REQUEST_LEN {
            return Err(WireError::RequestLength {
                expected: REQUEST_LEN,
                actual: bytes.len(),
            });
        }
        let (c, b) = rest.split_at(32);
        let arr = |s: &[u8]| -> Result<[u8; 32], WireError> {
            s.try_into().map_err(|_| WireError::RequestLength {
                expected: REQUEST_LEN,
                actual: bytes.len(),
            })
        };
        Ok(BlobRequest {
            community: CommunityId(ContentId(arr(c)?)),
            blob: ContentId(arr(b)?),
        })
    }
}

/// The answer to a [`BlobRequest`].
#[derive(Clone, PartialEq, Eq)]
pub enum BlobResponse {
    /// The blob's bytes (the asker verifies them against the id).
    Found(Vec<u8>),
    /// Not here.
    NotFound,
    /// The asker shares no community with us (or not the one it named).
    Refused,
    /// Too many requests now; ask later or elsewhere.
    Busy,
}

impl std::fmt::Debug for BlobResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobResponse::Found(b) => write!(f, "Found(<{}b>)", b.len()),
            BlobResponse::NotFound => f.write_str("NotFound"),
            BlobResponse::Refused => f.write_str("Refused"),
            BlobResponse::Busy => f.write_str("Busy"),
        }
    }
}

impl BlobResponse {
    /// The response's bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            BlobResponse::Found(b) => {
                let mut out = Vec::with_capacity(RESPONSE_OVERHEAD + b.len());
                out.extend_from_slice(&[VERSION, 0]);
                out.extend_from_slice(&(b.len() as u64).to_be_bytes());
                out.extend_from_slice(b);
                out
            }
            BlobResponse::NotFound => vec![VERSION, 1],
            BlobResponse::Refused => vec![VERSION, 2],
            BlobResponse::Busy => vec![VERSION, 3],
        }
    }

    /// A response from a peer's bytes, with blobs of at most `max` bytes.
    pub fn decode(bytes: &[u8], max: u64) -> Result<Self, WireError> {
        let (&v, rest) = bytes.split_first().ok_or(WireError::Empty)?;
        if v != VERSION {
            return Err(WireError::Version(v));
        }
        let (&kind, rest) = rest.split_first().ok_or(WireError::Empty)?;
        let done = |r: BlobResponse| {
            if rest.is_empty() {
                Ok(r)
            } else {
                Err(WireError::WrongSize {
                    declared: 0,
                    available: rest.len() as u64,
                })
            }
        };
        match kind {
            0 => {
                let (len, body) = rest.split_at_checked(8).ok_or(WireError::WrongSize {
                    declared: 8,
                    available: rest.len() as u64,
                })?;
                let mut n = [0u8; 8];
                n.copy_from_slice(len);
                let declared = u64::from_be_bytes(n);
                if declared > max {
                    return Err(WireError::TooLarge {
                        limit: max,
                        actual: declared,
                    });
                }
                if declared != body.len() as u64 {
                    return Err(WireError::WrongSize {
                        declared,
                        available: body.len() as u64,
                    });
                }
                Ok(BlobResponse::Found(body.to_vec()))
            }
            1 => done(BlobResponse::NotFound),
            2 => done(BlobResponse::Refused),
            3 => done(BlobResponse::Busy),
            k => Err(WireError::Kind(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn messages_round_trip() {
        let req = BlobRequest {
            community: CommunityId(ContentId::of(b"c")),
            blob: ContentId::of(b"b"),
        };
        assert_eq!(BlobRequest::decode(&req.encode()), Ok(req));
        for r in [
            BlobResponse::Found(b"image".to_vec()),
            BlobResponse::Found(Vec::new()),
            BlobResponse::NotFound,
            BlobResponse::Refused,
            BlobResponse::Busy,
        ] {
            assert_eq!(BlobResponse::decode(&r.encode(), 16), Ok(r));
        }
    }

    #[test]
    fn a_huge_declared_size_in_a_tiny_input_is_refused() {
        let mut m = vec![VERSION, 0];
        m.extend_from_slice(&u64::MAX.to_be_bytes());
        m.extend_from_slice(b"tiny");
        assert_eq!(
            BlobResponse::decode(&m, 1024),
            Err(WireError::TooLarge {
                limit: 1024,
                actual: u64::MAX
            })
        );
        // Under the limit but more than came: refused too.
        let mut m = vec![VERSION, 0];
        m.extend_from_slice(&1000u64.to_be_bytes());
        m.extend_from_slice(b"tiny");
        assert!(matches!(
            BlobResponse::decode(&m, 1024),
            Err(WireError::WrongSize { declared: 1000, .. })
        ));
        assert_eq!(BlobResponse::decode(&[], 1), Err(WireError::Empty));
        assert_eq!(BlobResponse::decode(&[2, 1], 1), Err(WireError::Version(2)));
        assert_eq!(BlobResponse::decode(&[1, 9], 1), Err(WireError::Kind(9)));
        assert!(BlobRequest::decode(&[1; 64]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = BlobRequest::decode(&bytes);
            if let Ok(BlobResponse::Found(b)) = BlobResponse::decode(&bytes, 64) {
                prop_assert!(b.len() <= 64);
            }
        }
    }
}
