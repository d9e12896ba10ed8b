//! Explanations on a hand-computed graph.

use qun_identity::Topic;
use qun_trust::explain::explain;
use qun_trust::params::{Method, RankParams};
use qun_trust::{Node, Query, TrustGraph, rank::rank};

#[test]
fn endorsers_and_paths() {
    // s -> a (1), s -> b (1), a -> t (1), b -> t (0.5), b -> c (0.5). Seed s.
    let labels = vec!["s", "a", "b", "t", "c"];
    let e = vec![
        (0, 1, 1.0),
        (0, 2, 1.0),
        (1, 3, 1.0),
        (2, 3, 0.5),
        (2, 4, 0.5),
    ];
    let g = TrustGraph::from_edges(labels, Topic::general(), e).unwrap();
    let params = RankParams::builder()
        .method(Method::PersonalizedPageRank)
        .damping(0.5)
        .tolerance(1e-14)
        .build()
        .unwrap();
    let q = Query::new(vec![Node(0)]).rank_params(params);
    let r = rank(&g, &q, None).unwrap();
    let x = explain(&g, &q, &r, Node(3), 5).unwrap();
    // a and b each get d*s/2; a gives all of it to t, b half.
    assert_eq!(x.endorsers.len(), 2);
    assert_eq!(x.endorsers[0].from, Node(1));
    assert!((x.endorsers[0].amount - 2.0 * x.endorsers[1].amount).abs() < 1e-12);
    let sum: f64 = x.endorsers.iter().map(|c| c.amount).sum();
    assert!((sum - x.score).abs() < 1e-12 && x.teleport < 1e-12);
    assert_eq!(x.paths[0].nodes, vec![Node(0), Node(1), Node(3)]);
    assert_eq!(x.paths[1].nodes, vec![Node(0), Node(2), Node(3)]);
    assert!(
        (x.paths[0].strength - 0.125).abs() < 1e-12,
        "{}",
        x.paths[0].strength
    );
    assert!((x.paths[1].strength - 0.0625).abs() < 1e-12);
}
