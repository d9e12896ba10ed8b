//! `qun-sim`: deterministic discrete-event simulations of qun networks.
//!
//! One seed gives byte-identical output. The simulator keeps a virtual clock and one
//! event queue ordered by `(time, seq)`; it jumps from event to event, never ticks. Nodes
//! run a model of GossipSub v1.1 (or plain flooding) behind the [`gossip_model::Dissemination`]
//! trait and an application behind the [`app::Application`] trait: the light, messages-only
//! [`app::LightApp`] for scale, or (`mode = "full"`) [`app::replicator::ReplicatorApp`], the
//! real `qun_crdt::Replicator` on every node.
//! Links have latency, bandwidth and loss drawn from distributions; nodes churn; partitions
//! start and heal.
//!
//! ```
//! let scenario = qun_sim::scenario::Scenario::from_toml_str(
//!     "smoke.toml",
//!     r#"
//!     name = "doc"
//!     nodes = 30
//!     duration_s = 20
//!     [workload]
//!     messages = 5
//!     posts_per_second = 1
//!     "#,
//! )
//! .expect("valid scenario");
//! let result = qun_sim::world::run(&scenario, 7, &mut |_| {}).expect("runs");
//! assert_eq!(result.summary.messages_published, 5);
//! assert!(result.summary.delivery_ratio > 0.99);
//! ```
#![warn(clippy::unwrap_used)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod app;
pub mod attack;
pub mod ctx;
pub mod determinism;
pub mod dist;
pub mod economy;
pub mod error;
pub mod event;
pub mod gossip_model;
pub mod messages;
pub mod metrics;
pub mod net_model;
pub mod output;
pub mod plot;
pub mod queue;
pub mod results;
pub mod scenario;
pub mod sweep;
pub mod topology;
pub mod world;

pub use error::Error;
pub use queue::Time;

/// Index of a simulated node, `0..nodes`.
pub type NodeIx = u32;
/// Index of a topic (one per community).
pub type TopicIx = u16;
/// Dense index of a published message, in publication order.
pub type MsgIx = u32;

/// Hints the CPU to fetch the cache line at `p` (no effect on results; a no-op off x86-64).
#[inline(always)]
pub(crate) fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86-64 baseline, and a prefetch never dereferences
        // (nor faults on) its address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
