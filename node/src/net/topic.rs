//! Names a community goes by on the network: its gossipsub topic and its Kademlia provider
//! key. Neither carries the community id, which is a read capability (anyone who knows it can
//! fetch the community): both are hashes of it under distinct domain tags,
//!
//! * topic `qun/<base32(blake3("qun-topic-v1" || id))>/v1` (an `IdentTopic`, so the topic hash
//!   is the string itself and any libp2p implementation can subscribe to it), and
//! * provider key `blake3("qun-dht-v1" || id)`,
//!
//! so a DHT server storing provider records, or a peer reading our subscriptions, learns a
//! name it can match against ids it already knows, and nothing it could fetch the community
//! with. The two hashes differ, so a provider key does not give away the topic either. A node
//! maps topic hashes back to its communities with [`Topics`].
//!
//! What this does not hide: gossip messages and sync requests carry the community id, so a
//! peer that subscribes to the same topic string receives it (see ARCHITECTURE.md).

use libp2p::gossipsub::{IdentTopic, TopicHash};
use libp2p::kad::RecordKey;
use qun_crdt::CommunityId;
use std::collections::HashMap;

/// Domain tag of the topic hash.
pub const TOPIC_TAG: &[u8] = b"qun-topic-v1";
/// Domain tag of the DHT provider key.
pub const DHT_TAG: &[u8] = b"qun-dht-v1";

fn tagged_hash(tag: &[u8], c: &CommunityId) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(tag);
    h.update(c.as_bytes());
    *h.finalize().as_bytes()
}

/// The topic of a community: `qun/<base32 of the tagged hash, lower case>/v1`.
pub fn topic(c: &CommunityId) -> IdentTopic {
    let name = data_encoding::BASE32_NOPAD
        .encode(&tagged_hash(TOPIC_TAG, c))
        .to_ascii_lowercase();
    IdentTopic::new(format!("qun/{name}/v1"))
}

/// The Kademlia provider key of a community.
pub fn provider_key(c: &CommunityId) -> RecordKey {
    RecordKey::new(&tagged_hash(DHT_TAG, c))
}

/// Topic hash → community, for the communities this node subscribed to.
#[derive(Debug, Default, Clone)]
pub struct Topics {
    by_hash: HashMap<TopicHash, CommunityId>,
}

impl Topics {
    /// Remember the topic of `c`; returns it.
    pub fn insert(&mut self, c: &CommunityId) -> IdentTopic {
        let t = topic(c);
        self.by_hash.insert(t.hash(), *c);
        t
    }

    /// The community of a topic hash, if it is the topic of one we subscribed to.
    pub fn community_of(&self, t: &TopicHash) -> Option<CommunityId> {
        self.by_hash.get(t).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn names_do_not_carry_the_id() {
        for seed in 0u8..50 {
            let c = CommunityId(qun_identity::ContentId::of(&[seed]));
            let text = c.to_string();
            let t = topic(&c).to_string();
            let k = provider_key(&c);
            // The id in any form an observer could recognise: its text form, the text form
            // without its multibase prefix, its raw bytes, and its bytes in the topic's base32.
            let b32 = data_encoding::BASE32_NOPAD
                .encode(c.as_bytes())
                .to_ascii_lowercase();
            for needle in [
                text.as_bytes(),
                &text.as_bytes()[1..],
                c.as_bytes(),
                &b32.as_bytes()[..20],
            ] {
                assert!(!contains(t.as_bytes(), needle), "{t} carries {c}");
                assert!(!contains(k.as_ref(), needle), "provider key carries {c}");
            }
            assert!(t.starts_with("qun/") && t.ends_with("/v1"), "{t}");
            assert_eq!(t.len(), "qun/".len() + 52 + "/v1".len());
            // Domain separation: the provider key is not the topic's hash.
            assert_ne!(k.as_ref(), tagged_hash(TOPIC_TAG, &c).as_slice());
            assert_eq!(k.as_ref().len(), 32);
        }
    }

    #[test]
    fn topics_map_back_to_communities() {
        let a = CommunityId(qun_identity::ContentId::of(b"a"));
        let b = CommunityId(qun_identity::ContentId::of(b"b"));
        let mut ts = Topics::default();
        let ta = ts.insert(&a);
        assert_eq!(ts.community_of(&ta.hash()), Some(a));
        // Not subscribed to b: its topic is unknown, as is anything else.
        assert_eq!(ts.community_of(&topic(&b).hash()), None);
        assert_eq!(
            ts.community_of(&TopicHash::from_raw(format!("qun/{a}/v1"))),
            None
        );
        assert_ne!(topic(&a).hash(), topic(&b).hash());
        assert_ne!(provider_key(&a), provider_key(&b));
    }
}
