//! Protocol versions, and what happens when a peer speaks another one.
//!
//! Every qun protocol carries its version in its id, and libp2p's multistream-select
//! negotiates ids per stream: a peer that does not speak one of ours is refused by the
//! negotiation itself, before any byte of a message is read, so nothing is ever misread.
//!
//! | what | id | on a mismatch |
//! |---|---|---|
//! | sync (request-response) | `/qun/sync/1` ([`super::codec::SYNC_PROTOCOL`]) | the stream is refused (`UnsupportedProtocols`); logged at warn with the peer |
//! | DHT (Kademlia) | `/qun/kad/1.0.0` ([`super::swarm::KAD_PROTOCOL`]) | the peer is not a DHT server for us |
//! | gossip topics | `qun/<hash>/v1` ([`super::topic`]) | another version is another topic: never delivered to us |
//! | identify | protocol version `/qun/1.0.0` ([`super::swarm::IDENTIFY_VERSION`]) | see below |
//!
//! Identify tells each peer the other's protocol version. A peer announcing a qun protocol
//! with another major version ([`incompatible`]) is told no politely: the node logs one line
//! at warn naming the peer, its agent and both versions, reports a `Rejected` event, and closes
//! the connection. Peers that do not announce a qun version (other libp2p software) are left
//! alone: they share no qun protocol, so there is nothing to misread.

use super::swarm::IDENTIFY_VERSION;

/// The major version of a qun protocol version string (`/qun/<major>.<minor>.<patch>`);
/// `None` when it is not one.
pub fn qun_major(version: &str) -> Option<u64> {
    let rest = version.strip_prefix("/qun/")?;
    rest.split('.').next()?.parse().ok()
}

/// Why a peer announcing `version` cannot talk to this node (`None`: it can, or it is no qun
/// node at all).
pub fn incompatible(version: &str) -> Option<String> {
    let theirs = qun_major(version)?;
    let ours = qun_major(IDENTIFY_VERSION)?;
    (theirs != ours).then(|| {
        let which = if theirs < ours { "older" } else { "newer" };
        format!(
            "incompatible qun protocol: the peer speaks {version} ({which}), this node {IDENTIFY_VERSION}; upgrade the older node"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_another_qun_major_is_incompatible() {
        assert_eq!(incompatible(IDENTIFY_VERSION), None);
        assert_eq!(incompatible("/qun/1.4.2"), None);
        assert!(incompatible("/qun/0.9.0").unwrap().contains("older"));
        assert!(incompatible("/qun/2.0.0").unwrap().contains("newer"));
        assert_eq!(incompatible("/ipfs/0.1.0"), None);
        assert_eq!(incompatible("/qun/x"), None);
    }
}
