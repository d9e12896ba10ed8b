//! GossipSub router state: what one node keeps per peer (score counters per topic,
//! IDONTWANT and IWANT bookkeeping), per topic (mesh, backoff), per fanout topic, and its
//! message cache and IWANT promises, laid out for the hot path (inline peer ids and first
//! topic, cached scores, a graylist count).
//!
//! Plain data with lookups: the router logic lives in `gossipsub.rs`, `mesh.rs` and
//! `ihave.rs`, the score formula in `score.rs`; all of them import this module, and it
//! imports none of them.

use std::collections::VecDeque;

use crate::queue::Time;
use crate::{MsgIx, NodeIx, TopicIx};

/// Per-topic score counters a node keeps about a peer.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerTopic {
    pub(crate) topic: TopicIx,
    /// When the peer joined our mesh for this topic (P₁, P₃ activation).
    pub(crate) mesh_since: Option<Time>,
    /// P₂ counter.
    pub(crate) first: f64,
    /// P₃ counter.
    pub(crate) mesh_deliveries: f64,
    /// P₃b counter.
    pub(crate) mesh_failure: f64,
    /// P₄ counter.
    pub(crate) invalid: f64,
}

/// A peer's per-topic counters, sorted by topic. The first lives inline: a peer usually
/// shares one topic with us, and an arriving frame then reads its counters from the
/// [`PeerState`] itself instead of chasing one more allocation.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerTopics {
    /// The lowest topic (`None` only when there are none).
    head: Option<PeerTopic>,
    /// The others, in topic order.
    rest: Vec<PeerTopic>,
}

impl PeerTopics {
    /// Counters with one (zeroed) entry for `topic`.
    #[cfg(test)]
    pub(crate) fn one(topic: TopicIx) -> PeerTopics {
        PeerTopics {
            head: Some(PeerTopic {
                topic,
                ..PeerTopic::default()
            }),
            rest: Vec::new(),
        }
    }
    /// All entries in topic order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PeerTopic> {
        self.head.iter().chain(self.rest.iter())
    }
    /// All entries in topic order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut PeerTopic> {
        self.head.iter_mut().chain(self.rest.iter_mut())
    }
    /// The entry for `topic`, if any.
    pub(crate) fn get(&self, topic: TopicIx) -> Option<&PeerTopic> {
        match &self.head {
            Some(h) if h.topic == topic => Some(h),
            Some(h) if h.topic < topic => self
                .rest
                .binary_search_by_key(&topic, |t| t.topic)
                .ok()
                .map(|i| &self.rest[i]),
            _ => None,
        }
    }
    /// The entry for `topic`, if any.
    pub(crate) fn get_mut(&mut self, topic: TopicIx) -> Option<&mut PeerTopic> {
        let head = self.head.as_ref()?.topic;
        if head == topic {
            return self.head.as_mut();
        }
        if topic < head {
            return None;
        }
        match self.rest.binary_search_by_key(&topic, |t| t.topic) {
            Ok(i) => Some(&mut self.rest[i]),
            Err(_) => None,
        }
    }
    /// The entry for `topic`, inserted (zeroed) in order if missing.
    pub(crate) fn entry(&mut self, topic: TopicIx) -> &mut PeerTopic {
        let fresh = PeerTopic {
            topic,
            ..PeerTopic::default()
        };
        let head = match &self.head {
            None => return self.head.insert(fresh),
            Some(h) => h.topic,
        };
        if topic <= head {
            if topic < head {
                let old = self.head.replace(fresh).expect("head checked above");
                self.rest.insert(0, old);
            }
            return self.head.as_mut().expect("head checked above");
        }
        let i = match self.rest.binary_search_by_key(&topic, |t| t.topic) {
            Ok(i) => i,
            Err(i) => {
                self.rest.insert(i, fresh);
                i
            }
        };
        &mut self.rest[i]
    }
}

/// What a node knows about one connected peer.
#[derive(Debug, Clone)]
pub(crate) struct PeerState {
    pub(crate) id: NodeIx,
    pub(crate) outbound: bool,
    pub(crate) ihaves_this_hb: u32,
    pub(crate) asked_this_hb: u32,
    /// P₇ counter.
    pub(crate) behaviour: f64,
    /// Score cached at the last heartbeat or counter change (0 when scoring is off).
    pub(crate) score: f64,
    pub(crate) topics: PeerTopics,
    /// IDONTWANT ids with the heartbeat they arrived in.
    pub(crate) dontwant: Vec<(MsgIx, u64)>,
    /// Messages sent to this peer in answer to IWANT, with counts.
    pub(crate) retransmits: Vec<(MsgIx, u8)>,
}

impl PeerState {
    /// The counters for `topic`, if the peer has any.
    pub(crate) fn topic_get_mut(&mut self, topic: TopicIx) -> Option<&mut PeerTopic> {
        self.topics.get_mut(topic)
    }
    pub(crate) fn topic_mut(&mut self, topic: TopicIx) -> &mut PeerTopic {
        self.topics.entry(topic)
    }
}

/// A node's mesh for one subscribed topic.
#[derive(Debug, Clone)]
pub(crate) struct TopicState {
    pub(crate) topic: TopicIx,
    pub(crate) mesh: Vec<NodeIx>,
    /// Peers we may not graft before the given time.
    pub(crate) backoff: Vec<(NodeIx, Time)>,
}

impl TopicState {
    pub(crate) fn in_backoff(&self, peer: NodeIx, now: Time) -> bool {
        self.backoff
            .iter()
            .any(|&(p, until)| p == peer && until > now)
    }
    pub(crate) fn set_backoff(&mut self, peer: NodeIx, until: Time) {
        match self.backoff.iter_mut().find(|(p, _)| *p == peer) {
            Some(e) => e.1 = e.1.max(until),
            None => self.backoff.push((peer, until)),
        }
    }
}

/// Fanout peers for a topic the node publishes to without being subscribed.
#[derive(Debug, Clone)]
pub(crate) struct FanoutState {
    pub(crate) topic: TopicIx,
    pub(crate) peers: Vec<NodeIx>,
    pub(crate) last_pub: Time,
}

/// An IWANT we sent: the message should arrive by `deadline`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Promise {
    pub(crate) peer: NodeIx,
    pub(crate) msg: MsgIx,
    pub(crate) deadline: Time,
}

/// Peer ids kept inline in [`PeerIds`] (random graphs of mean degree 20 rarely exceed it).
const INLINE_PEERS: usize = 32;

/// A node's sorted peer ids: inline up to [`INLINE_PEERS`], so finding the sender of an
/// arriving frame reads the [`GsNode`] itself rather than one more allocation.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerIds {
    len: u32,
    inline: [NodeIx; INLINE_PEERS],
    /// All ids, when there are more than fit inline (then `inline` is unused).
    spill: Vec<NodeIx>,
}

impl PeerIds {
    pub(crate) fn as_slice(&self) -> &[NodeIx] {
        if self.spill.is_empty() {
            &self.inline[..self.len as usize]
        } else {
            &self.spill
        }
    }
    pub(crate) fn binary_search(&self, id: &NodeIx) -> Result<usize, usize> {
        self.as_slice().binary_search(id)
    }
    pub(crate) fn insert(&mut self, i: usize, id: NodeIx) {
        let len = self.len as usize;
        if self.spill.is_empty() && len < INLINE_PEERS {
            self.inline.copy_within(i..len, i + 1);
            self.inline[i] = id;
        } else {
            if self.spill.is_empty() {
                self.spill = self.inline.to_vec();
            }
            self.spill.insert(i, id);
        }
        self.len += 1;
    }
    pub(crate) fn remove(&mut self, i: usize) {
        let len = self.len as usize;
        if self.spill.is_empty() {
            self.inline.copy_within(i + 1..len, i);
        } else {
            self.spill.remove(i);
            if self.spill.len() <= INLINE_PEERS {
                self.inline[..self.spill.len()].copy_from_slice(&self.spill);
                self.spill = Vec::new();
            }
        }
        self.len -= 1;
    }
}

/// Router state of one node.
#[derive(Debug, Clone, Default)]
pub(crate) struct GsNode {
    pub(crate) online: bool,
    /// Ids of `peers`, in the same order (a compact array to search).
    pub(crate) peer_ids: PeerIds,
    pub(crate) peers: Vec<PeerState>,
    pub(crate) topics: Vec<TopicState>,
    pub(crate) fanout: Vec<FanoutState>,
    /// Newest window first.
    pub(crate) mcache: VecDeque<Vec<MsgIx>>,
    pub(crate) ticks: u64,
    pub(crate) promises: Vec<Promise>,
    /// Peers whose cached score is below the graylist threshold: while 0, an arriving
    /// frame needs no peer lookup for the graylist check (see [`GsNode::set_score`]).
    pub(crate) graylisted: u32,
}

impl GsNode {
    pub(crate) fn peer(&self, id: NodeIx) -> Option<&PeerState> {
        self.peer_ids
            .binary_search(&id)
            .ok()
            .map(|i| &self.peers[i])
    }
    pub(crate) fn peer_mut(&mut self, id: NodeIx) -> Option<&mut PeerState> {
        match self.peer_ids.binary_search(&id) {
            Ok(i) => Some(&mut self.peers[i]),
            Err(_) => None,
        }
    }
    pub(crate) fn topic(&self, t: TopicIx) -> Option<&TopicState> {
        self.topics
            .binary_search_by_key(&t, |s| s.topic)
            .ok()
            .map(|i| &self.topics[i])
    }
    pub(crate) fn topic_mut(&mut self, t: TopicIx) -> Option<&mut TopicState> {
        match self.topics.binary_search_by_key(&t, |s| s.topic) {
            Ok(i) => Some(&mut self.topics[i]),
            Err(_) => None,
        }
    }
    /// Sets the cached score of `peers[i]`, keeping `graylisted` exact.
    pub(crate) fn set_score(&mut self, i: usize, score: f64, graylist: f64) {
        let old = std::mem::replace(&mut self.peers[i].score, score);
        self.graylisted = self.graylisted + u32::from(score < graylist) - u32::from(old < graylist);
    }
    pub(crate) fn in_mcache(&self, msg: MsgIx) -> bool {
        self.mcache.iter().any(|w| w.contains(&msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_topics_stay_sorted() {
        let mut t = PeerTopics::default();
        assert!(t.get_mut(3).is_none());
        for topic in [5, 2, 9, 2, 7, 1] {
            t.entry(topic).first += 1.0;
        }
        let order: Vec<_> = t.iter().map(|x| (x.topic, x.first)).collect();
        assert_eq!(order, [(1, 1.0), (2, 2.0), (5, 1.0), (7, 1.0), (9, 1.0)]);
        assert!(t.get_mut(3).is_none() && t.get(0).is_none() && t.get(10).is_none());
        assert_eq!(t.get(7).map(|x| x.first), Some(1.0));
        t.get_mut(9).expect("present").first = 4.0;
        assert_eq!(t.iter_mut().map(|x| x.first).sum::<f64>(), 9.0);
    }

    #[test]
    fn peer_ids_spill_and_return_inline() {
        let mut ids = PeerIds::default();
        let mut model: Vec<NodeIx> = Vec::new();
        // Odd ids up, then even ones in between: more than fit inline.
        for id in (1..80).step_by(2).chain((0..80).step_by(4)) {
            let i = ids.binary_search(&id).expect_err("new id");
            ids.insert(i, id);
            model.insert(model.binary_search(&id).expect_err("new id"), id);
            assert_eq!(ids.as_slice(), &model[..]);
        }
        while let Some(&id) = model.first() {
            let i = ids.binary_search(&id).expect("present");
            ids.remove(i);
            model.remove(0);
            assert_eq!(ids.as_slice(), &model[..]);
        }
        assert!(ids.spill.is_empty() && ids.len == 0);
    }
}
