//! Trust-flow admission over the community's endorsement graph, with qun-trust's Advogato
//! capacity flow seeded at the founders: the number of Sybils admitted is bounded by the
//! capacity of the edges honest members gave them (see `qun_trust::admission`).
//!
//! Only endorsements by current members carry flow: a removed member's endorsements, or those
//! of someone who never got in, admit nobody.

use super::auth::counts_here;
use crate::gov::GovState;
use crate::ids::CommunityId;
use qun_identity::MemberId;
use qun_trust::admission::admit;
use qun_trust::graph::Csr;
use qun_trust::params::AdmissionParams;
use std::collections::{BTreeMap, BTreeSet};

/// Members the capacity flow from `founders` admits over the admission endorsements of
/// members in `st`. Invalid capacities or an empty graph admit nobody beyond the founders.
pub fn admitted(
    st: &GovState,
    founders: &[MemberId],
    community: &CommunityId,
    capacities: &[u32],
) -> BTreeSet<MemberId> {
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
        return founders.iter().copied().collect();
    };
    let Ok(adm) = admit(&csr, &seeds, &params) else {
        return founders.iter().copied().collect();
    };
    ix.into_iter()
        .filter(|(_, i)| adm.is_accepted(*i as usize))
        .map(|(m, _)| m)
        .collect()
}
