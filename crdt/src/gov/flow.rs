//! Admission by endorsement: which endorsements count (by current members, on the general or
//! `membership` topic, here or global, positive), the members endorsing someone, and
//! trust-flow admission over the community's endorsement graph, with qun-trust's Advogato
//! capacity flow seeded at the founders: the number of Sybils admitted is bounded by the
//! capacity of the edges honest members gave them (see `qun_trust::admission`).
//!
//! Only endorsements by current members carry flow: a removed member's endorsements, or those
//! of someone who never got in, admit nobody.

use crate::gov::GovState;
use crate::ids::CommunityId;
use qun_identity::{Endorsement, MemberId, Scope};
use qun_trust::admission::admit;
use qun_trust::graph::Csr;
use qun_trust::params::AdmissionParams;
use std::collections::{BTreeMap, BTreeSet};

/// Endorsement topics that count towards admission.
pub(crate) const ADMISSION_TOPICS: [&str; 2] = ["*", "membership"];

/// Whether a member's endorsement counts for admission in this community.
pub(crate) fn counts_here(e: &Endorsement, community: &crate::ids::CommunityId) -> bool {
    let scope_ok = match e.scope {
        Scope::Global => true,
        Scope::Community(c) => c == community.0,
    };
    scope_ok && e.weight.millis() > 0 && ADMISSION_TOPICS.contains(&e.topic.as_str())
}

/// Distinct current members holding a positive admission endorsement of `m`.
pub(crate) fn endorsers_of(
    st: &GovState,
    m: &MemberId,
    community: &crate::ids::CommunityId,
) -> BTreeSet<MemberId> {
    st.endorsements
        .latest()
        .map(|e| e.value())
        .filter(|e| e.to == *m && counts_here(e, community) && st.is_member(&e.from))
        .map(|e| e.from)
        .collect()
}

/// Members the capacity flow from `founders` admits over the admission endorsements of
/// members in `st`. Invalid capacities or an empty graph admit nobody beyond the founders.
pub fn admitted(
    st: &GovState,
    founders: &[MemberId],
    community: &CommunityId,
    capacities: &[u32],
) -> BTreeSet<MemberId> {
    standing(st, founders, community, capacities)
        .into_keys()
        .collect()
}

/// The members the capacity flow from `founders` admits, each with its distance (in
/// endorsement steps) from the nearest founder: founders 0. Integer and deterministic, so
/// consensus rules may read it (credit limits and vote weights scaled by trust, issue 16).
pub fn standing(
    st: &GovState,
    founders: &[MemberId],
    community: &CommunityId,
    capacities: &[u32],
) -> BTreeMap<MemberId, u32> {
    let only_founders = || founders.iter().map(|f| (*f, 0)).collect();
    let mut ix: BTreeMap<MemberId, u32> = BTreeMap::new();
    let intern = |m: MemberId, ix: &mut BTreeMap<MemberId, u32>| {
        let n = ix.len() as u32;
        *ix.entry(m).or_insert(n)
    };
    for f in founders {
        intern(*f, &mut ix);
    }
    let mut edges = Vec::new();
    for e in st.endorsements.latest().map(|e| e.value()) {
        if counts_here(e, community) && st.is_member(&e.from) {
            let a = intern(e.from, &mut ix);
            let b = intern(e.to, &mut ix);
            edges.push((a, b, e.weight.as_f64() as f32));
        }
    }
    let seeds: Vec<u32> = founders.iter().filter_map(|f| ix.get(f).copied()).collect();
    let params = AdmissionParams::builder().by_distance(capacities).build();
    let (Ok(csr), Ok(params)) = (Csr::from_edges(ix.len(), edges), params) else {
        return only_founders();
    };
    let Ok(adm) = admit(&csr, &seeds, &params) else {
        return only_founders();
    };
    ix.into_iter()
        .filter(|(_, i)| adm.is_accepted(*i as usize))
        .map(|(m, i)| (m, adm.distance().get(i as usize).copied().unwrap_or(0)))
        .collect()
}
