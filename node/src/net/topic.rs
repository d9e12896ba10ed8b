//! Gossip topics: one per community, `qun/<community id>/v1` (an `IdentTopic`, so the topic
//! hash is the string itself and any libp2p implementation can subscribe to it).

use libp2p::gossipsub::{IdentTopic, TopicHash};
use qun_crdt::CommunityId;

/// The topic of a community.
pub fn topic(c: &CommunityId) -> IdentTopic {
    IdentTopic::new(format!("qun/{c}/v1"))
}

/// The community of a topic hash, if it is a qun topic.
pub fn community_of(t: &TopicHash) -> Option<CommunityId> {
    t.as_str()
        .strip_prefix("qun/")?
        .strip_suffix("/v1")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = CommunityId(qun_identity::ContentId::of(b"c"));
        let t = topic(&c);
        assert!(t.to_string().starts_with("qun/b"));
        assert_eq!(community_of(&t.hash()), Some(c));
        assert_eq!(community_of(&TopicHash::from_raw("other")), None);
    }
}
