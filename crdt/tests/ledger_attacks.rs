//! A Sybil ring against trust-weighted votes: how much of a tally can 50 attack edges buy?
//!
//! Honest community: a founder who endorses 6 members, each of whom endorses 9 more (61
//! honest members). The attacker controls a ring of 400 fake members who join (the
//! community is open), endorse each other densely, and get 50 endorsements from honest
//! members (attack edges: careless or compromised honest members). Every fake member votes
//! yes, every honest member votes no. Measured: the fakes' share of the cast weight, one
//! member one vote against trust weighting under capacities sized to the community
//! (trust-flow policy 100/10/1), and the largest single weight against the cap.

use qun_crdt::ledger::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Endorsement, MemberId, SecretIdentity, Signed, Weight};
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

fn endorse(st: &mut GovState, from: &SecretIdentity, to: MemberId) {
    let e = Endorsement::new(from.member_id(), to, Weight::FULL, T0);
    st.endorsements.insert(Signed::sign(from, e).unwrap());
}

fn share(t: &Tally) -> u64 {
    (t.yes * 1000).checked_div(t.yes + t.no).unwrap_or(0)
}

#[test]
fn a_sybil_ring_with_50_attack_edges_gains_little_of_a_trust_weighted_vote() {
    let founder = key(40);
    let g = genesis(&founder, AdmissionPolicy::Open);
    let mut st = (*replica(&g, &founder).state()).clone();
    st.policy = AdmissionPolicy::TrustFlow {
        capacities: vec![100, 10, 1],
    };
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(42);
    let level1: Vec<SecretIdentity> = (0..6).map(|i| key_n(41, i)).collect();
    let level2: Vec<SecretIdentity> = (0..54).map(|i| key_n(42, i)).collect();
    let sybils: Vec<SecretIdentity> = (0..400).map(|i| key_n(43, i)).collect();
    for k in level1.iter().chain(&level2).chain(&sybils) {
        st.members.insert(k.member_id(), Role::Member);
    }
    for (i, a) in level1.iter().enumerate() {
        endorse(&mut st, &founder, a.member_id());
        for b in &level2[i * 9..(i + 1) * 9] {
            endorse(&mut st, a, b.member_id());
        }
    }
    for (i, s) in sybils.iter().enumerate() {
        for d in 1..=5 {
            endorse(&mut st, s, sybils[(i + d) % sybils.len()].member_id());
        }
    }
    // 50 attack edges from honest members chosen at random (either level).
    let honest: Vec<&SecretIdentity> = level1.iter().chain(&level2).collect();
    for _ in 0..50 {
        let from = honest[rng.random_range(0..honest.len())];
        let to = &sybils[rng.random_range(0..sybils.len())];
        endorse(&mut st, from, to.member_id());
    }
    let mut votes: BTreeMap<MemberId, Choice> = BTreeMap::new();
    for s in &sybils {
        votes.insert(s.member_id(), Choice::Yes);
    }
    for h in std::iter::once(&founder).chain(honest.iter().copied()) {
        votes.insert(h.member_id(), Choice::No);
    }
    let rule = |weighting| VoteRule {
        weighting,
        quorum_permille: 0,
        threshold_permille: 500,
    };
    let equal = Tally::count(&g, &st, &rule(Weighting::Equal), &votes);
    let trust = Tally::count(
        &g,
        &st,
        &rule(Weighting::Trust { cap_permille: 50 }),
        &votes,
    );
    // The same under Advogato's default capacities (800/200/50/...), made for large webs: far
    // too generous for 61 members, which is why a community sets its own.
    let mut loose = st.clone();
    loose.policy = AdmissionPolicy::Open;
    let default_caps = Tally::count(
        &g,
        &loose,
        &rule(Weighting::Trust { cap_permille: 50 }),
        &votes,
    );
    eprintln!(
        "sybil share of the tally: one member one vote {} ‰, trust-weighted {} ‰ (default capacities: {} ‰); largest weight {} of {}",
        share(&equal),
        share(&trust),
        share(&default_caps),
        trust.weights.values().max().unwrap(),
        trust.eligible
    );
    assert!(
        equal.passed,
        "one member one vote: the ring outvotes everyone"
    );
    assert!(
        !trust.passed,
        "trust-weighted: the ring does not carry the vote"
    );
    assert!(share(&trust) < 100, "the ring's share stays under 10 %");
    let cap = trust.eligible * 50 / 1000;
    assert!(trust.weights.values().all(|w| *w <= cap.max(1)));
}
