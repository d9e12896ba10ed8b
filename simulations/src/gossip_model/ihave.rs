//! Lazy gossip: IHAVE emission at the heartbeat, IWANT requests with promises, IWANT
//! answers from the message cache (rust-libp2p `emit_gossip`, `handle_ihave`, `handle_iwant`).

use crate::ctx::Core;
use crate::dist::{choose_k, shuffle};
use crate::gossip_model::gossipsub::{Control, GossipSub};
use crate::gossip_model::state::Promise;
use crate::queue::Time;
use crate::{MsgIx, NodeIx, TopicIx};

impl GossipSub {
    /// Sends IHAVE for the last `mcache_gossip` windows to non-mesh peers of each topic.
    pub(crate) fn emit_gossip<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx) {
        let now = core.now;
        let n = &self.nodes[node as usize];
        let recent: Vec<MsgIx> = n
            .mcache
            .iter()
            .take(self.cfg.mcache_gossip as usize)
            .flatten()
            .copied()
            .collect();
        if recent.is_empty() {
            return;
        }
        let mut topics: Vec<(TopicIx, Vec<NodeIx>)> = n
            .topics
            .iter()
            .map(|t| (t.topic, t.mesh.clone()))
            .chain(n.fanout.iter().map(|f| (f.topic, f.peers.clone())))
            .collect();
        topics.sort_by_key(|(t, _)| *t);
        topics.dedup_by_key(|(t, _)| *t);
        let threshold = self.cfg.score.gossip_threshold;
        for (topic, exclude) in topics {
            let ids: Vec<MsgIx> = recent
                .iter()
                .copied()
                .filter(|&m| core.messages.meta[m as usize].topic == topic)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut cands: Vec<NodeIx> = self.nodes[node as usize]
                .peers
                .iter()
                .map(|p| p.id)
                .filter(|&p| {
                    core.membership.is_member(p, topic)
                        && !exclude.contains(&p)
                        && self.score_of(node, p, now) >= threshold
                })
                .collect();
            let k = (self.cfg.d_lazy as usize)
                .max((self.cfg.gossip_factor * cands.len() as f64) as usize);
            choose_k(&mut core.rng, &mut cands, k);
            cands.sort_unstable();
            for p in cands {
                let mut list = ids.clone();
                if list.len() > self.cfg.max_ihave_length as usize {
                    shuffle(&mut core.rng, &mut list);
                    list.truncate(self.cfg.max_ihave_length as usize);
                }
                self.send_control(
                    core,
                    node,
                    p,
                    Control::IHave {
                        topic,
                        ids: list.into_boxed_slice(),
                    },
                );
            }
        }
    }

    pub(crate) fn on_ihave<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        from: NodeIx,
        topic: TopicIx,
        ids: &[MsgIx],
    ) {
        let now = core.now;
        if self.score_of(node, from, now) < self.cfg.score.gossip_threshold {
            return;
        }
        let (max_msgs, max_len) = (self.cfg.max_ihave_messages, self.cfg.max_ihave_length);
        let followup = Time::from_millis_f64(self.cfg.iwant_followup_ms);
        let n = &mut self.nodes[node as usize];
        if n.topic(topic).is_none() {
            return;
        }
        let promised: Vec<MsgIx> = n.promises.iter().map(|p| p.msg).collect();
        let Some(p) = n.peer_mut(from) else {
            return;
        };
        p.ihaves_this_hb += 1;
        if p.ihaves_this_hb > max_msgs || p.asked_this_hb >= max_len {
            return;
        }
        let mut want: Vec<MsgIx> = ids
            .iter()
            .copied()
            .filter(|&m| !core.messages.has(m, node) && !promised.contains(&m))
            .collect();
        want.sort_unstable();
        want.dedup();
        if want.is_empty() {
            return;
        }
        let budget = (max_len - p.asked_this_hb) as usize;
        if want.len() > budget {
            choose_k(&mut core.rng, &mut want, budget);
        }
        p.asked_this_hb += want.len() as u32;
        let deadline = now.plus(followup);
        n.promises.extend(want.iter().map(|&msg| Promise {
            peer: from,
            msg,
            deadline,
        }));
        self.send_control(
            core,
            node,
            from,
            Control::IWant {
                ids: want.into_boxed_slice(),
            },
        );
    }

    pub(crate) fn on_iwant<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        from: NodeIx,
        ids: &[MsgIx],
    ) {
        if self.score_of(node, from, core.now) < self.cfg.score.gossip_threshold {
            return;
        }
        let max = self.cfg.gossip_retransmission as u8;
        let mut send = Vec::new();
        let n = &mut self.nodes[node as usize];
        for &m in ids {
            if !n.in_mcache(m) {
                continue;
            }
            let Some(p) = n.peer_mut(from) else {
                return;
            };
            match p.retransmits.iter_mut().find(|(x, _)| *x == m) {
                Some((_, c)) if *c >= max => continue,
                Some((_, c)) => *c += 1,
                None => p.retransmits.push((m, 1)),
            }
            send.push(m);
        }
        for m in send {
            self.stats.iwant_replies += 1;
            self.send_data(core, node, from, m);
        }
    }
}
