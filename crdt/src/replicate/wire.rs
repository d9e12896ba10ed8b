//! Wire messages of the replication protocol, encoded with postcard behind a version byte.
//!
//! ```text
//! gossip (topic: see the node):        0x02 | GossipMsg
//! sync request (request-response):     0x02 | SyncRequest
//! sync response:                       0x02 | SyncResponse
//! ```
//!
//! Every decoder checks the size limit before parsing, refuses trailing bytes and unknown
//! versions, and never panics on any input (see the fuzz targets).

use crate::error::{Error, Result};
use crate::ids::{CommunityId, DocId, Hash};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Version byte of all replication messages.
pub const WIRE_VERSION: u8 = 2;

/// A change hash on the wire (32 raw bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WireHash(pub [u8; 32]);

impl From<Hash> for WireHash {
    fn from(h: Hash) -> Self {
        WireHash(h.0)
    }
}

impl From<WireHash> for Hash {
    fn from(h: WireHash) -> Self {
        automerge::ChangeHash(h.0)
    }
}

impl fmt::Debug for WireHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Hash::from(*self))
    }
}

/// A change and its signature.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireChange {
    /// Automerge change bytes.
    pub bytes: Vec<u8>,
    /// Device signature over `"qun-change-v2" || community || doc || 0 || hash`.
    #[serde(with = "qun_identity::canonical::bytes64")]
    pub sig: [u8; 64],
}

impl fmt::Debug for WireChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WireChange(<{}b>)", self.bytes.len())
    }
}

/// Encoded size of a [`WireChange`] whose change has `len` bytes: the length as a postcard
/// varint, the bytes, and the 64-byte signature (a fixed-size tuple, no length).
pub fn change_wire_size(len: usize) -> usize {
    let mut varint = 1;
    let mut n = len >> 7;
    while n > 0 {
        varint += 1;
        n >>= 7;
    }
    varint + len + 64
}

/// New changes of one document, pushed to the community's gossip topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipMsg {
    /// The community.
    pub community: CommunityId,
    /// The document.
    pub doc: DocId,
    /// The changes, in causal order.
    pub changes: Vec<WireChange>,
}

/// Heads of one document.
pub type DocHeads = (DocId, Vec<WireHash>);

/// What lets a device the responder does not know read a community that is not open: the
/// device certificate when the requesting device is not a root key (a new device of a
/// member), and an invitation with, for a bearer one, the proof of possession a join would
/// carry (signed over the member id). The libp2p connection authenticates the device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessProof {
    /// The signed invitation.
    pub invitation: Option<Vec<u8>>,
    /// Bearer invitations: the bearer key's signature over the member id.
    pub proof: Option<Vec<u8>>,
    /// The root-signed certificate of the requesting device, when it is not a root key.
    pub cert: Option<Vec<u8>>,
}

impl fmt::Debug for AccessProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AccessProof(invitation: {}, cert: {})",
            self.invitation.is_some(),
            self.cert.is_some()
        )
    }
}

/// A catch-up request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRequest {
    /// "These are my heads; send what I lack (and the genesis, if I ask for it)."
    Heads {
        /// The community.
        community: CommunityId,
        /// Send the signed genesis too (a joining node does not have it).
        want_genesis: bool,
        /// Heads of every document the requester holds.
        docs: Vec<DocHeads>,
        /// For a requester that is not a member of a community that is not open.
        access: Option<AccessProof>,
    },
    /// "Here are changes you lack" (after learning the responder's heads).
    Push {
        /// The community.
        community: CommunityId,
        /// Changes per document, in causal order.
        docs: Vec<(DocId, Vec<WireChange>)>,
    },
}

/// A catch-up response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncResponse {
    /// Changes the requester lacks, and the responder's heads.
    Changes {
        /// The community.
        community: CommunityId,
        /// The signed genesis, when asked for.
        genesis: Option<Vec<u8>>,
        /// Changes per document, in causal order.
        docs: Vec<(DocId, Vec<WireChange>)>,
        /// The responder's heads of every document it holds.
        heads: Vec<DocHeads>,
        /// For documents where the responder knows none of the requester's heads (both
        /// wrote since they last met): some of the responder's changes, newest first at
        /// doubling distances, so that the requester finds what they share and pushes the
        /// rest.
        samples: Vec<DocHeads>,
        /// The size limit cut the answer short: ask again.
        more: bool,
    },
    /// A push was received; how many changes went in.
    Ack {
        /// The community.
        community: CommunityId,
        /// Changes accepted.
        accepted: u32,
    },
    /// The responder does not hold this community.
    Unknown {
        /// The community.
        community: CommunityId,
    },
    /// The request could not be read.
    Refused {
        /// Why (for logs).
        reason: String,
    },
    /// The community is not open and the requester showed no right to read it.
    Denied {
        /// The community.
        community: CommunityId,
    },
    /// The requester used up its share of this node's sync capacity: ask again later.
    Busy {
        /// The community.
        community: CommunityId,
        /// When to ask again, milliseconds from now.
        retry_ms: u64,
    },
}

impl SyncRequest {
    /// The community the request is about.
    pub fn community(&self) -> CommunityId {
        match self {
            SyncRequest::Heads { community, .. } | SyncRequest::Push { community, .. } => {
                *community
            }
        }
    }
}

impl SyncResponse {
    /// The community the response is about.
    pub fn community(&self) -> CommunityId {
        match self {
            SyncResponse::Changes { community, .. }
            | SyncResponse::Ack { community, .. }
            | SyncResponse::Unknown { community }
            | SyncResponse::Denied { community }
            | SyncResponse::Busy { community, .. } => *community,
            SyncResponse::Refused { .. } => CommunityId(qun_identity::ContentId([0; 32])),
        }
    }
}

/// Encode any replication message with its version byte.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    // Plain data; postcard into a growable Vec cannot fail.
    out.extend(postcard::to_allocvec(msg).unwrap_or_default());
    out
}

/// Decode a replication message: size, version, exact length.
pub fn decode<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
    max: usize,
) -> Result<T> {
    crate::limits::Limits::check(what, max, bytes.len())?;
    let (&v, body) = bytes
        .split_first()
        .ok_or_else(|| Error::decode(what, "empty"))?;
    if v != WIRE_VERSION {
        return Err(Error::Version { what, version: v });
    }
    let (msg, rest) = postcard::take_from_bytes::<T>(body).map_err(|e| Error::decode(what, e))?;
    if !rest.is_empty() {
        return Err(Error::decode(
            what,
            format!("{} trailing bytes", rest.len()),
        ));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn community() -> CommunityId {
        CommunityId(qun_identity::ContentId::of(b"c"))
    }

    #[test]
    fn round_trip_and_errors() {
        let m = GossipMsg {
            community: community(),
            doc: DocId::Governance,
            changes: vec![WireChange {
                bytes: vec![1, 2, 3],
                sig: [9; 64],
            }],
        };
        let b = encode(&m);
        assert_eq!(decode::<GossipMsg>("gossip", &b, 1000).unwrap(), m);
        assert!(matches!(
            decode::<GossipMsg>("gossip", &b, 10),
            Err(Error::TooLarge { .. })
        ));
        let mut v1 = b.clone();
        v1[0] = 1;
        assert!(matches!(
            decode::<GossipMsg>("gossip", &v1, 1000),
            Err(Error::Version { version: 1, .. })
        ));
        let mut trailing = b.clone();
        trailing.push(0);
        assert!(matches!(
            decode::<GossipMsg>("gossip", &trailing, 1000),
            Err(Error::Decode { .. })
        ));
        assert!(decode::<GossipMsg>("gossip", &[], 1000).is_err());
    }

    #[test]
    fn change_wire_size_is_exact() {
        for len in [0usize, 1, 127, 128, 431, 16_383, 16_384, 70_000] {
            let c = WireChange {
                bytes: vec![7; len],
                sig: [1; 64],
            };
            let encoded = postcard::to_allocvec(&c).unwrap();
            assert_eq!(change_wire_size(len), encoded.len(), "{len}");
        }
    }

    fn arb_doc() -> impl Strategy<Value = DocId> {
        prop_oneof![
            Just(DocId::Governance),
            ("[a-z][a-z0-9-]{0,10}", any::<u32>()).prop_map(|(c, w)| DocId::Content {
                channel: crate::ChannelId::new(&c).unwrap_or_else(|_| crate::ChannelId::general()),
                window: w
            })
        ]
    }

    fn arb_change() -> impl Strategy<Value = WireChange> {
        (
            proptest::collection::vec(any::<u8>(), 0..64),
            any::<[u8; 32]>(),
        )
            .prop_map(|(b, s)| {
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&s);
                WireChange { bytes: b, sig }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn gossip_round_trips(doc in arb_doc(), changes in proptest::collection::vec(arb_change(), 0..4)) {
            let m = GossipMsg { community: community(), doc, changes };
            prop_assert_eq!(decode::<GossipMsg>("gossip", &encode(&m), 1 << 20).unwrap(), m);
        }

        #[test]
        fn sync_round_trips(docs in proptest::collection::vec((arb_doc(), proptest::collection::vec(any::<[u8; 32]>().prop_map(WireHash), 0..3)), 0..4), more: bool) {
            let req = SyncRequest::Heads { community: community(), want_genesis: more, docs: docs.clone(), access: None };
            prop_assert_eq!(decode::<SyncRequest>("sync", &encode(&req), 1 << 20).unwrap(), req);
            let resp = SyncResponse::Changes { community: community(), genesis: None, docs: vec![], heads: docs, samples: vec![], more };
            prop_assert_eq!(decode::<SyncResponse>("sync", &encode(&resp), 1 << 20).unwrap(), resp);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode::<GossipMsg>("gossip", &bytes, 1 << 20);
            let _ = decode::<SyncRequest>("sync", &bytes, 1 << 20);
            let _ = decode::<SyncResponse>("sync", &bytes, 1 << 20);
        }
    }
}
