//! Convergence of community state. Exact bookkeeping from change counts: per community,
//! how many changes exist, how many honest members are online and how many of those hold
//! every change; the first instant after the last change at which all do is the
//! community's convergence time. It is confirmed there, and again at the end of the run,
//! by comparing `Community::heads` of every document at every online member
//! (`heads_mismatches` must stay 0).

use qun_crdt::test_utils::all_heads;
use qun_crdt::{CommunityId, DocId, Hash};

use super::{ReplicatorApp, SyncFrame};
use crate::ctx::Core;
use crate::metrics::{Percentiles, StateConvergence, round6};
use crate::queue::Time;
use crate::{NodeIx, TopicIx};

impl ReplicatorApp {
    /// `node`'s replica is up, holding `held` changes per slot: an honest member counts as
    /// online in each of its communities (and complete if it holds every change).
    pub(super) fn count_up<C>(
        &mut self,
        core: &Core<C, SyncFrame>,
        node: NodeIx,
        topics: &[TopicIx],
    ) {
        let v = node as usize;
        let counted = !core.attacker[v];
        for (s, &t) in topics.iter().enumerate().filter(|_| counted) {
            let cv = &mut self.conv[t as usize];
            cv.online += 1;
            if self.nodes[v].slots[s].held == cv.total {
                cv.complete += 1;
            }
        }
    }

    /// `node` is down: it no longer counts as online, and its replica holds nothing.
    pub(super) fn count_down<C>(&mut self, core: &Core<C, SyncFrame>, node: NodeIx) {
        let v = node as usize;
        let topics = core.membership.topics_of[v].clone();
        let counted = !core.attacker[v];
        for (s, &t) in topics.iter().enumerate() {
            let cv = &mut self.conv[t as usize];
            let slot = &mut self.nodes[v].slots[s];
            if counted {
                cv.online -= 1;
                if slot.held == cv.total {
                    cv.complete -= 1;
                }
            }
            slot.held = 0;
        }
        for &t in &topics {
            self.check_converged(core, t);
        }
    }

    /// A change was made in community `t` at `now`: nobody holds it but its author yet.
    pub(super) fn count_change(&mut self, t: TopicIx, now: Time) {
        let cv = &mut self.conv[t as usize];
        cv.total += 1;
        cv.made += 1;
        cv.last_change = now;
        cv.converged = None;
        cv.complete = 0;
    }

    /// `node` holds `by` more changes of community `t`.
    pub(super) fn add_held<C>(
        &mut self,
        core: &mut Core<C, SyncFrame>,
        node: NodeIx,
        t: TopicIx,
        by: u32,
    ) {
        let Some(s) = Self::slot_ix(core, node, t) else {
            return;
        };
        // Attackers are not honest members: honest peers graylist them, so they fall behind.
        let counted = core.is_online(node) && !core.attacker[node as usize];
        let cv = &mut self.conv[t as usize];
        let slot = &mut self.nodes[node as usize].slots[s];
        let was = slot.held == cv.total;
        slot.held += by;
        let is = slot.held == cv.total;
        if counted && was != is {
            if is {
                cv.complete += 1;
            } else {
                cv.complete -= 1;
            }
        }
        if is {
            self.recheck.push(t);
        }
    }

    /// Records the first instant, after the last change, at which every online member of
    /// `t` holds every change; confirms it by comparing heads.
    pub(super) fn check_converged<C>(&mut self, core: &Core<C, SyncFrame>, t: TopicIx) {
        let cv = &self.conv[t as usize];
        if cv.online == 0 || cv.complete != cv.online || cv.converged.is_some() {
            return;
        }
        self.conv[t as usize].converged = Some(core.now);
        self.stats.heads_checks += 1;
        let (_, divergent) = self.compare_heads(core, t);
        if divergent > 0 {
            self.stats.heads_mismatches += 1;
        }
    }

    /// Compares the heads of every document at every online member of `t` with those of a
    /// member holding every change (or the first online member): `(compared, divergent)`.
    fn compare_heads<C>(&mut self, core: &Core<C, SyncFrame>, t: TopicIx) -> (u64, u64) {
        let id = self.communities[t as usize].id;
        let total = self.conv[t as usize].total;
        let online: Vec<NodeIx> = core.membership.members[t as usize]
            .iter()
            .copied()
            .filter(|&m| core.is_online(m) && !core.attacker[m as usize])
            .collect();
        let reference = online
            .iter()
            .copied()
            .find(|&m| {
                Self::slot_ix(core, m, t)
                    .is_some_and(|s| self.nodes[m as usize].slots[s].held == total)
            })
            .or_else(|| online.first().copied());
        let Some(r) = reference else {
            return (0, 0);
        };
        let want = self.heads_of(r, &id);
        let mut divergent = 0;
        for &m in &online {
            if m != r && self.heads_of(m, &id) != want {
                divergent += 1;
            }
        }
        (online.len() as u64, divergent)
    }

    fn heads_of(&mut self, node: NodeIx, id: &CommunityId) -> Option<Vec<(DocId, Vec<Hash>)>> {
        let c = self.nodes[node as usize].rep.as_mut()?.community(id)?;
        Some(all_heads(c))
    }

    /// The `state` section at the end of the run: convergence per community after its last
    /// change, and heads compared once more at every online member (each comparison counts
    /// as a heads check).
    pub(super) fn state_at_end<C>(&mut self, core: &Core<C, SyncFrame>) -> StateConvergence {
        let mut conv_s = Vec::new();
        let (mut converged, mut last, mut all_at) = (0u32, Time::ZERO, Some(Time::ZERO));
        for cv in &self.conv {
            if cv.made == 0 {
                continue;
            }
            last = last.max(cv.last_change);
            match cv.converged {
                Some(at) => {
                    converged += 1;
                    conv_s.push(at.since(cv.last_change).as_secs_f64());
                    all_at = all_at.map(|a| a.max(at));
                }
                None => all_at = None,
            }
        }
        let mut identical = 0u32;
        let mut divergent = 0u64;
        for t in 0..self.communities.len() {
            let (_, d) = self.compare_heads(core, t as TopicIx);
            self.stats.heads_checks += 1;
            divergent += d;
            identical += u32::from(d == 0);
        }
        StateConvergence {
            communities: self.communities.len() as u32,
            converged,
            convergence_s: Percentiles::from_values(&mut conv_s),
            last_change_s: round6(last.as_secs_f64()),
            all_converged_at_s: all_at.map(|a| round6(a.as_secs_f64())),
            identical_at_end: identical,
            divergent_members_at_end: divergent,
            heads_checks: self.stats.heads_checks,
            heads_mismatches: self.stats.heads_mismatches,
        }
    }
}
