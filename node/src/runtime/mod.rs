//! The node's runtime, a private actor: one tokio task ([`driver`]) owns the swarm, the
//! replication core, the store, the clock and the one timer; everyone else sends it
//! [`command::Command`]s through a `crate::handle::NodeHandle`. Nothing outside this module
//! sees the driver or its fields.
//!
//! * `driver`: the state, the event loop, running outputs in order.
//! * `swarm`: swarm events → core inputs; `outputs`: core outputs → swarm, store, events.
//! * `dispatch`: commands → operations → outputs → answer.
//! * `node_ops`, `community_ops`, `trust`, `devices`, `ledger`: the operations, returning `crate::dto`
//!   types.

pub(crate) mod blobs;
pub(crate) mod command;
mod community_ops;
mod devices;
mod dispatch;
pub(crate) mod dm;
pub(crate) mod driver;
mod ledger;
mod node_ops;
mod notify;
pub(crate) mod ops;
mod outputs;
mod recent_edits;
mod recover;
pub(crate) mod restore;
mod swarm;
#[cfg(feature = "test-utils")]
mod testing;
mod trust;
