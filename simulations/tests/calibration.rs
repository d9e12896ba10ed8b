//! Calibration against real rust-libp2p gossipsub (small form for every CI run; the
//! 50-node form is `cargo run --release -p qun-sim --example calibrate`).
//!
//! The assertion bounds are loose on purpose: the real swarms' timing is not
//! deterministic, and this test must never flake. The measured gaps are printed and
//! recorded in BENCHMARKS.md.

#[path = "support/calibration.rs"]
mod calibration;

use calibration::{Setup, compare, report};

#[test]
fn model_matches_real_gossipsub_at_small_scale() {
    let setup = Setup {
        nodes: 20,
        degree: 8,
        messages: 10,
        model_seeds: 5,
    };
    let c = compare(&setup);
    println!("{}", report(&setup, &c));
    assert!(c.real.delivery > 0.99, "real delivery {}", c.real.delivery);
    assert!(
        c.model.delivery > 0.99,
        "model delivery {}",
        c.model.delivery
    );
    let (_, hops_gap, copies_gap) = c.gaps();
    assert!(
        hops_gap < 0.5,
        "hops: model {:?} real {:?}",
        c.model,
        c.real
    );
    assert!(
        copies_gap < 0.5,
        "copies: model {:?} real {:?}",
        c.model,
        c.real
    );
}
