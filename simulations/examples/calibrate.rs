//! Full calibration run: 50 real rust-libp2p gossipsub swarms vs the qun-sim model.
//!
//!     cargo run --release -p qun-sim --example calibrate [NODES] [MESSAGES]
//!
//! Prints one Markdown row per setup for BENCHMARKS.md.

#[path = "../tests/support/calibration.rs"]
mod calibration;

use calibration::{Setup, compare, report};

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let nodes = args.first().copied().unwrap_or(50);
    let messages = args.get(1).copied().unwrap_or(30);
    for degree in [8, 16] {
        let setup = Setup {
            nodes,
            degree,
            messages,
            model_seeds: 10,
        };
        let c = compare(&setup);
        print!("{}", report(&setup, &c));
    }
}
