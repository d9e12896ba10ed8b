//! Property tests: monotonicity, mass, determinism, symmetry, overlay = bulk build, admission.

use proptest::prelude::*;
use qun_identity::Topic;
use qun_trust::admission::admit;
use qun_trust::params::{AdmissionParams, Method, RankParams};
use qun_trust::rank::{Query, rank, rank_csr};
use qun_trust::{Csr, Node, TrustGraph};

const N: u32 = 12;

fn edges() -> impl Strategy<Value = Vec<(u32, u32, f32)>> {
    prop::collection::vec(
        (0..N, 0..N, 1u16..=1000).prop_map(|(u, v, w)| (u, v, f32::from(w) / 1000.0)),
        0..60,
    )
}

fn ppr_params() -> RankParams {
    RankParams::builder()
        .method(Method::PersonalizedPageRank)
        .damping(0.85)
        .tolerance(1e-13)
        .max_iterations(5000)
        .build()
        .unwrap()
}

fn scores(e: &[(u32, u32, f32)], seeds: &[u32]) -> Vec<f64> {
    let csr = Csr::from_edges(N as usize, e.to_vec()).unwrap();
    rank_csr(
        &csr,
        seeds,
        &ppr_params(),
        &AdmissionParams::default(),
        None,
    )
    .unwrap()
    .scores
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scores_sum_to_one(e in edges(), s in 0..N) {
        let x = scores(&e, &[s]);
        prop_assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        prop_assert!(x.iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn a_new_endorsement_never_lowers_the_endorsee(e in edges(), s in 0..N, u in 0..N, v in 0..N, w in 1u16..=1000) {
        prop_assume!(u != v);
        prop_assume!(!e.iter().any(|x| x.0 == u && x.1 == v));
        let before = scores(&e, &[s]);
        let mut e2 = e.clone();
        e2.push((u, v, f32::from(w) / 1000.0));
        let after = scores(&e2, &[s]);
        prop_assert!(after[v as usize] >= before[v as usize] - 1e-9, "{} -> {}", before[v as usize], after[v as usize]);
    }

    #[test]
    fn deterministic_and_independent_of_edge_order(e in edges(), s in 0..N, rot in 0usize..60) {
        let mut shuffled = e.clone();
        // Distinct pairs only, so "last wins" cannot differ between orders.
        shuffled.sort_by_key(|x| (x.0, x.1));
        shuffled.dedup_by_key(|x| (x.0, x.1));
        let base = scores(&shuffled, &[s]);
        let k = if shuffled.is_empty() { 0 } else { rot % shuffled.len() };
        shuffled.rotate_left(k);
        shuffled.reverse();
        prop_assert_eq!(base, scores(&shuffled, &[s]));
    }

    #[test]
    fn relabelling_permutes_scores(e in edges(), s in 0..N, shift in 1..N) {
        let perm = |x: u32| (x + shift) % N;
        let mapped: Vec<_> = e.iter().map(|&(u, v, w)| (perm(u), perm(v), w)).collect();
        let a = scores(&e, &[s]);
        let b = scores(&mapped, &[perm(s)]);
        for i in 0..N {
            prop_assert!((a[i as usize] - b[perm(i) as usize]).abs() < 1e-9);
        }
    }

    #[test]
    fn overlay_updates_equal_a_bulk_build(ops in prop::collection::vec((0..N, 0..N, -1000i16..=1000), 0..200)) {
        let t = Topic::general();
        let labels: Vec<u32> = (0..N).collect();
        let mut g = TrustGraph::from_edges(labels.clone(), t.clone(), vec![]).unwrap();
        let mut bulk = Vec::new();
        for &(u, v, w) in &ops {
            let w = f32::from(w) / 1000.0;
            g.set_edge(Node(u), Node(v), &t, w).unwrap();
            bulk.push((u, v, w));
        }
        let want = TrustGraph::from_edges(labels, t.clone(), bulk).unwrap();
        prop_assert_eq!(g.view(&t).to_csr(None), want.view(&t).to_csr(None));
        prop_assert_eq!(g.layer(&t).map(|l| l.negatives().clone()), want.layer(&t).map(|l| l.negatives().clone()));
        for u in 0..N {
            for v in 0..N {
                prop_assert_eq!(g.edge(Node(u), Node(v), &t), want.edge(Node(u), Node(v), &t));
            }
        }
    }

    #[test]
    fn admission_respects_capacity(e in edges(), s in 0..N) {
        let csr = Csr::from_edges(N as usize, e).unwrap();
        let p = AdmissionParams::builder().by_distance(&[5, 3, 1]).build().unwrap();
        let a = admit(&csr, &[s], &p).unwrap();
        prop_assert!(a.is_accepted(s as usize));
        prop_assert!(a.accepted_count() <= 5);
        prop_assert_eq!(a.accepted_count() as u64, a.flow());
        for i in 0..N as usize {
            if a.is_accepted(i) {
                prop_assert!(a.distance()[i] <= 2);
            }
        }
    }

    #[test]
    fn ranking_order_is_sorted_and_complete(e in edges(), s in 0..N) {
        let g = TrustGraph::from_edges((0..N).map(|i| format!("m{i:02}")).collect(), Topic::general(), e).unwrap();
        let r = rank(&g, &Query::new(vec![Node(s)]), None).unwrap();
        prop_assert_eq!(r.order().len(), N as usize);
        for w in r.order().windows(2) {
            let (a, b) = (r.key(w[0]), r.key(w[1]));
            prop_assert!(a > b || (a == b && g.label(w[0]) < g.label(w[1])));
        }
        prop_assert_eq!(r.order()[0], Node(s));
    }
}

/// Reference max flow (Edmonds–Karp on a dense matrix) of the Advogato network.
fn reference_flow(csr: &Csr, seeds: &[u32], cap: &[u32]) -> u64 {
    let n = csr.nodes();
    let (src, sink) = (2 * n, 2 * n + 1);
    let m = 2 * n + 2;
    let mut c = vec![vec![0i64; m]; m];
    for &s in seeds {
        c[src][2 * s as usize] = i64::from(cap[s as usize]);
    }
    for x in 0..n {
        if cap[x] == 0 {
            continue;
        }
        c[2 * x][sink] = 1;
        c[2 * x][2 * x + 1] = i64::from(cap[x]) - 1;
        for &y in csr.row(x as u32).0 {
            if cap[y as usize] > 0 {
                c[2 * x + 1][2 * y as usize] += i64::from(cap[x]) - 1;
            }
        }
    }
    let mut flow = 0;
    loop {
        let mut prev = vec![usize::MAX; m];
        prev[src] = src;
        let mut q = std::collections::VecDeque::from([src]);
        while let Some(u) = q.pop_front() {
            for v in 0..m {
                if prev[v] == usize::MAX && c[u][v] > 0 {
                    prev[v] = u;
                    q.push_back(v);
                }
            }
        }
        if prev[sink] == usize::MAX {
            return flow;
        }
        let mut push = i64::MAX;
        let mut v = sink;
        while v != src {
            push = push.min(c[prev[v]][v]);
            v = prev[v];
        }
        let mut v = sink;
        while v != src {
            c[prev[v]][v] -= push;
            c[v][prev[v]] += push;
            v = prev[v];
        }
        flow += push as u64;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dinic_matches_a_reference_max_flow(e in edges(), s1 in 0..N, s2 in 0..N, caps in prop::collection::vec(1u32..20, 1..5)) {
        let mut caps = caps;
        caps.sort_unstable_by(|a, b| b.cmp(a));
        let csr = Csr::from_edges(N as usize, e).unwrap();
        let p = AdmissionParams::builder().by_distance(&caps).build().unwrap();
        let mut seeds = vec![s1, s2];
        seeds.sort_unstable();
        seeds.dedup();
        let a = admit(&csr, &seeds, &p).unwrap();
        prop_assert_eq!(a.flow(), reference_flow(&csr, &seeds, a.capacity()));
    }
}

#[test]
fn admission_hand_computed() {
    // seed 0 (cap 3) -> 1, 2, 3 (cap 2 each); 1 -> 4, 2 -> 4, 3 -> 5; level 2 cap 1.
    // Seed keeps 1, passes 2: two of {1,2,3} accepted; each passes 1 to level 2.
    let csr = Csr::from_edges(
        6,
        vec![
            (0, 1, 1.0),
            (0, 2, 1.0),
            (0, 3, 1.0),
            (1, 4, 1.0),
            (2, 4, 1.0),
            (3, 5, 1.0),
        ],
    )
    .unwrap();
    let p = AdmissionParams::builder()
        .by_distance(&[3, 2, 1])
        .build()
        .unwrap();
    let a = admit(&csr, &[0], &p).unwrap();
    assert_eq!(a.flow(), 3);
    assert!(a.is_accepted(0));
    assert_eq!(
        (1..4).filter(|&i| a.is_accepted(i)).count() + (4..6).filter(|&i| a.is_accepted(i)).count(),
        2
    );
    // With seed capacity 5 everyone at distance 1 and both at distance 2 fit: 1 + 3 + 2.
    let p = AdmissionParams::builder()
        .by_distance(&[6, 2, 1])
        .build()
        .unwrap();
    let a = admit(&csr, &[0], &p).unwrap();
    assert_eq!(a.accepted_count(), 6);
    // The bound for an attack edge from node 3 (capacity 2) is 1.
    assert_eq!(a.attack_bound(&[(3, 99)]), 1);
}
