//! Trust from this member's point of view, computed on the driver's task from the community's
//! governance state: the endorsement graph admission counts, seeded at this member and the
//! founders; rankings and explanations (`qun_trust`).

use super::driver::Driver;
use crate::dto::{TrustEntry, TrustWhy};
use crate::error::Result;
use qun_crdt::{AdmissionPolicy, CommunityId};
use qun_identity::{EndorsementBook, MemberId};
use qun_trust::{EndorsementGraph, Query, explain::explain, rank::rank};
use std::collections::BTreeSet;

/// The graph a community's trust is computed on.
struct TrustGraph {
    /// Endorsements admission counts.
    graph: EndorsementGraph,
    /// Seeded at this member and the founders.
    query: Query,
    /// The community's members.
    members: Vec<MemberId>,
    /// Whom the capacity flow from the founders admits.
    flow: BTreeSet<MemberId>,
}

impl Driver {
    /// The community's endorsement graph as admission sees it, the query seeded at this member
    /// and the founders, the members, and whom the capacity flow from the founders admits
    /// (the `trust-flow` policy's answer, with its capacities or the default ones).
    fn trust_graph(&mut self, community: &CommunityId) -> Result<TrustGraph> {
        let me = self.member;
        let mut comm = self.reader(community)?;
        let st = comm.state();
        let founders = comm.genesis().value().founders.clone();
        // The endorsements admission counts: admitted by the community (signer checked
        // there), not retired by an expiry action, by a current member.
        let mut book = EndorsementBook::new();
        for e in st.endorsements.latest() {
            if st.is_member(&e.value().from) {
                book.insert(e.clone());
            }
        }
        let mut g = EndorsementGraph::from_checked_book(&book, Some(community.0));
        let mut seed_members = vec![me];
        seed_members.extend(founders.iter().copied().filter(|f| *f != me));
        for m in st.members.keys() {
            g.seeds(&[*m])?;
        }
        let seeds = g.seeds(&seed_members)?;
        let members: Vec<MemberId> = st.members.keys().copied().collect();
        let capacities = match &st.policy {
            AdmissionPolicy::TrustFlow { capacities } => capacities.clone(),
            _ => qun_crdt::community::policy::DEFAULT_FLOW_CAPACITIES.to_vec(),
        };
        let flow = qun_crdt::community::flow::admitted(&st, &founders, community, &capacities);
        Ok(TrustGraph {
            graph: g,
            query: Query::new(seeds),
            members,
            flow,
        })
    }

    /// Members ranked by trust from this member's point of view (and the founders').
    pub(super) fn trust(&mut self, community: &CommunityId, top: usize) -> Result<Vec<TrustEntry>> {
        let t = self.trust_graph(community)?;
        let r = rank(t.graph.graph(), &t.query, None)?;
        Ok(r.top(top)
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let m = t.graph.graph().label(*n)?;
                Some(TrustEntry {
                    rank: i + 1,
                    member: m.to_string(),
                    score: r.score(*n),
                    admitted: Some(t.flow.contains(m)),
                    is_member: t.members.contains(m),
                })
            })
            .collect())
    }

    /// Why each of `members` has the trust it has, over one ranking (`None`: not in the
    /// trust graph).
    pub(super) fn trust_explained(
        &mut self,
        community: &CommunityId,
        members: &[MemberId],
    ) -> Result<Vec<Option<TrustWhy>>> {
        let t = self.trust_graph(community)?;
        let g = t.graph.graph();
        let r = rank(g, &t.query, None)?;
        let name =
            |n: qun_trust::graph::Node| g.label(n).map(|m| m.to_string()).unwrap_or_default();
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let Some(node) = t.graph.node(m) else {
                out.push(None);
                continue;
            };
            let ex = explain(g, &t.query, &r, node, 5)?;
            out.push(Some(TrustWhy {
                member: m.to_string(),
                score: ex.score,
                admitted: ex.admitted,
                endorsers: ex
                    .endorsers
                    .iter()
                    .map(|c| (name(c.from), c.weight, c.share))
                    .collect(),
                paths: ex
                    .paths
                    .iter()
                    .map(|p| (p.nodes.iter().map(|n| name(*n)).collect(), p.strength))
                    .collect(),
            }));
        }
        Ok(out)
    }
}
