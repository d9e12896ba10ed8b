//! The heartbeat: score decay, broken promises, mesh maintenance (D_lo / D / D_hi,
//! D_score, D_out, opportunistic grafting), fanout upkeep, gossip emission, cache shift.
//! Follows rust-libp2p `Behaviour::heartbeat`.

use crate::ctx::Core;
use crate::dist::{choose_k, shuffle};
use crate::gossip_model::gossipsub::{Control, GossipSub};
use crate::{NodeIx, TopicIx};

impl GossipSub {
    pub(crate) fn heartbeat<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx) {
        let now = core.now;
        let mcache_len = self.cfg.mcache_len as usize;
        let decay = self.decay;
        let scoring = self.cfg.score.enabled;
        let sc = &self.cfg.score;
        let n = &mut self.nodes[node as usize];
        n.ticks += 1;
        let ticks = n.ticks;
        let mcache = &n.mcache;
        let mut graylisted = 0;
        for p in &mut n.peers {
            decay.apply(p);
            if scoring {
                p.score = crate::gossip_model::score::score(sc, p, now);
            }
            graylisted += u32::from(p.score < sc.graylist_threshold);
            p.ihaves_this_hb = 0;
            p.asked_this_hb = 0;
            p.dontwant.retain(|&(_, t)| ticks - t < mcache_len as u64);
            p.retransmits
                .retain(|(m, _)| mcache.iter().any(|w| w.contains(m)));
        }
        n.graylisted = graylisted;
        // Broken IWANT promises (P₇).
        let mut broken = Vec::new();
        n.promises.retain(|pr| {
            if pr.deadline <= now {
                broken.push(*pr);
                false
            } else {
                true
            }
        });
        for pr in broken {
            if !core.messages.has(pr.msg, node)
                && let Some(p) = self.nodes[node as usize].peer_mut(pr.peer)
            {
                p.behaviour += 1.0;
                self.stats.broken_promises += 1;
                self.refresh_score(node, pr.peer, now);
            }
        }
        let n = &mut self.nodes[node as usize];
        for t in &mut n.topics {
            t.backoff.retain(|&(_, until)| until > now);
        }
        let topics: Vec<TopicIx> = n.topics.iter().map(|t| t.topic).collect();
        for topic in topics {
            self.maintain_mesh(core, node, topic);
        }
        self.maintain_fanout(core, node);
        self.emit_gossip(core, node);
        let n = &mut self.nodes[node as usize];
        n.mcache.push_front(Vec::new());
        n.mcache.truncate(mcache_len);
    }

    /// Candidates to graft into `topic`'s mesh: connected members, not in the mesh, not
    /// in backoff, score ≥ 0 (and `> min_score` when given), in peer order.
    fn graft_candidates(
        &self,
        core: &Core<Control, impl Sized>,
        node: NodeIx,
        topic: TopicIx,
        min_score: Option<f64>,
        outbound_only: bool,
    ) -> Vec<NodeIx> {
        let n = &self.nodes[node as usize];
        let Some(t) = n.topic(topic) else {
            return Vec::new();
        };
        n.peers
            .iter()
            .filter(|p| !outbound_only || p.outbound)
            .map(|p| p.id)
            .filter(|&p| {
                core.membership.is_member(p, topic)
                    && !t.mesh.contains(&p)
                    && !t.in_backoff(p, core.now)
            })
            .filter(|&p| {
                let s = self.score_of(node, p, core.now);
                s >= 0.0 && min_score.is_none_or(|m| s > m)
            })
            .collect()
    }

    fn graft<D>(
        &mut self,
        core: &mut Core<Control, D>,
        node: NodeIx,
        peers: Vec<NodeIx>,
        topic: TopicIx,
    ) {
        let now = core.now;
        for p in peers {
            self.join_mesh(node, p, topic, now);
            self.send_control(core, node, p, Control::Graft { topic });
        }
    }

    fn maintain_mesh<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx, topic: TopicIx) {
        let now = core.now;
        let (d, d_lo, d_hi) = (
            self.cfg.d as usize,
            self.cfg.d_lo as usize,
            self.cfg.d_hi as usize,
        );
        let (d_score, d_out) = (self.cfg.d_score as usize, self.cfg.d_out as usize);
        let mesh = match self.nodes[node as usize].topic(topic) {
            Some(t) => t.mesh.clone(),
            None => return,
        };
        // Drop peers with a negative score.
        let mut kept = Vec::with_capacity(mesh.len());
        for p in mesh {
            if self.score_of(node, p, now) < 0.0 {
                self.leave_mesh(node, p, topic, now);
                self.prune(core, node, p, topic);
            } else {
                kept.push(p);
            }
        }
        let mesh = kept;
        if mesh.len() < d_lo {
            let mut cands = self.graft_candidates(core, node, topic, None, false);
            choose_k(&mut core.rng, &mut cands, d - mesh.len());
            self.graft(core, node, cands, topic);
        } else if mesh.len() > d_hi {
            let mut m = mesh.clone();
            shuffle(&mut core.rng, &mut m);
            let mut scored: Vec<(f64, NodeIx)> = m
                .iter()
                .map(|&p| (self.score_of(node, p, now), p))
                .collect();
            // Stable: equal scores keep the shuffled order.
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut order: Vec<NodeIx> = scored.into_iter().map(|(_, p)| p).collect();
            shuffle(&mut core.rng, &mut order[d_score.min(d)..]);
            let outbound = |p: NodeIx| {
                self.nodes[node as usize]
                    .peer(p)
                    .is_some_and(|s| s.outbound)
            };
            // Keep at least D_out outbound peers among the first D.
            let mut have_out = order[..d].iter().filter(|&&p| outbound(p)).count();
            let mut j = d;
            while have_out < d_out && j < order.len() {
                if outbound(order[j]) {
                    if let Some(k) = (d_score.min(d)..d).rev().find(|&k| !outbound(order[k])) {
                        order.swap(k, j);
                        have_out += 1;
                    } else {
                        break;
                    }
                }
                j += 1;
            }
            for &p in &order[d..] {
                self.leave_mesh(node, p, topic, now);
                self.prune(core, node, p, topic);
            }
        }
        let mesh_len = self.nodes[node as usize]
            .topic(topic)
            .map_or(0, |t| t.mesh.len());
        if mesh_len >= d_lo && d_out > 0 {
            let outbound = self.nodes[node as usize].topic(topic).map_or(0, |t| {
                t.mesh
                    .iter()
                    .filter(|&&p| {
                        self.nodes[node as usize]
                            .peer(p)
                            .is_some_and(|s| s.outbound)
                    })
                    .count()
            });
            if outbound < d_out {
                let mut cands = self.graft_candidates(core, node, topic, None, true);
                choose_k(&mut core.rng, &mut cands, d_out - outbound);
                self.graft(core, node, cands, topic);
            }
        }
        // Opportunistic grafting: if the mesh's median score is poor, add better peers.
        let og = self.cfg.opportunistic_graft_ticks as u64;
        let ticks = self.nodes[node as usize].ticks;
        if self.cfg.score.enabled && og > 0 && ticks.is_multiple_of(og) {
            let mesh = self.nodes[node as usize]
                .topic(topic)
                .map(|t| t.mesh.clone())
                .unwrap_or_default();
            if mesh.len() > 1 {
                let mut s: Vec<f64> = mesh.iter().map(|&p| self.score_of(node, p, now)).collect();
                s.sort_by(f64::total_cmp);
                let median = s[s.len() / 2];
                if median < self.cfg.score.opportunistic_graft_threshold {
                    let mut cands = self.graft_candidates(core, node, topic, Some(median), false);
                    choose_k(
                        &mut core.rng,
                        &mut cands,
                        self.cfg.opportunistic_graft_peers as usize,
                    );
                    self.graft(core, node, cands, topic);
                }
            }
        }
    }

    fn maintain_fanout<D>(&mut self, core: &mut Core<Control, D>, node: NodeIx) {
        let now = core.now;
        let ttl = crate::queue::Time::from_secs_f64(self.cfg.fanout_ttl_s);
        let threshold = self.cfg.score.publish_threshold;
        let d = self.cfg.d as usize;
        self.nodes[node as usize]
            .fanout
            .retain(|f| f.last_pub.plus(ttl) > now);
        for i in 0..self.nodes[node as usize].fanout.len() {
            let f = self.nodes[node as usize].fanout[i].clone();
            let mut peers: Vec<NodeIx> = f
                .peers
                .iter()
                .copied()
                .filter(|&p| {
                    self.nodes[node as usize].peer(p).is_some()
                        && self.score_of(node, p, now) >= threshold
                })
                .collect();
            if peers.len() < d {
                let mut cands: Vec<NodeIx> = self.nodes[node as usize]
                    .peers
                    .iter()
                    .map(|p| p.id)
                    .filter(|&p| {
                        core.membership.is_member(p, f.topic)
                            && !peers.contains(&p)
                            && self.score_of(node, p, now) >= threshold
                    })
                    .collect();
                choose_k(&mut core.rng, &mut cands, d - peers.len());
                peers.extend(cands);
                peers.sort_unstable();
            }
            self.nodes[node as usize].fanout[i].peers = peers;
        }
    }
}
