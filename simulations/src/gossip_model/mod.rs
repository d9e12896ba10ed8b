//! Dissemination models behind one trait, so they can be compared side by side.
//!
//! A model owns the per-node router state (meshes, caches, scores) and reacts to
//! connection changes, publications, frames, verdicts and its own timers. It talks to the
//! world only through [`Core`]: `send_frame`, `set_proto_timer`, `receive` (records a data
//! copy and says whether it is the first) and `validate` (hands a first copy to the
//! application, whose verdict comes back through [`Dissemination::on_verdict`] — the
//! `validate_messages()` contract of rust-libp2p gossipsub: nothing is forwarded before
//! `Accept`).
//!
//! Models: [`gossipsub::GossipSub`] (GossipSub v1.1, Vyzovitis et al. 2020,
//! <https://arxiv.org/abs/2007.02754>, and the libp2p spec
//! <https://github.com/libp2p/specs/tree/master/pubsub/gossipsub>, with v1.2 IDONTWANT as
//! an option) and [`flood::Flood`] (every node forwards every new message to every
//! connected member).

pub mod flood;
pub mod gossipsub;
mod ihave;
mod mesh;
mod score;
mod state;

use std::fmt::Debug;

pub use crate::event::{Frame, Verdict};

use crate::ctx::Core;
use crate::metrics::ProtoStats;
use crate::scenario::Scenario;
use crate::{MsgIx, NodeIx};

/// Bytes of framing, signature, key, sequence number and topic around a payload
/// (a signed gossipsub `Message` protobuf with a 32-byte topic id).
pub const DATA_OVERHEAD_BYTES: u32 = 160;

/// A dissemination model.
pub trait Dissemination: Sized {
    /// Control frames of this model.
    type Control: Debug;

    /// Model state for the scenario's nodes (all offline).
    fn new(scn: &Scenario) -> Self;
    /// Model name for output.
    fn name(&self) -> &'static str;
    /// `node` starts (first join or restart): fresh router state, subscriptions from membership.
    fn node_up<D>(&mut self, core: &mut Core<Self::Control, D>, node: NodeIx);
    /// `node` stops; its router state is gone.
    fn node_down(&mut self, node: NodeIx);
    /// `node` learned that the connection to `peer` is up.
    fn peer_up<D>(&mut self, core: &mut Core<Self::Control, D>, node: NodeIx, peer: NodeIx);
    /// `node` learned that the connection to `peer` is gone.
    fn peer_down<D>(&mut self, core: &mut Core<Self::Control, D>, node: NodeIx, peer: NodeIx);
    /// `node` publishes `msg` (already registered and marked as seen at `node`).
    fn publish<D>(&mut self, core: &mut Core<Self::Control, D>, node: NodeIx, msg: MsgIx);
    /// A frame from `from` arrives at `node`.
    fn on_frame<D>(
        &mut self,
        core: &mut Core<Self::Control, D>,
        node: NodeIx,
        from: NodeIx,
        frame: Frame<Self::Control>,
    );
    /// The application's verdict on `msg`, first received from `from`.
    fn on_verdict<D>(
        &mut self,
        core: &mut Core<Self::Control, D>,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    );
    /// A timer set with `Core::set_proto_timer` fired.
    fn on_timer<D>(&mut self, core: &mut Core<Self::Control, D>, node: NodeIx, timer: u32);
    /// Counters for the summary.
    fn stats(&self) -> ProtoStats;
    /// A frame from `from` will soon arrive at `node`: `stage` 0 (a few events ahead) may
    /// prefetch the node's own state, `stage` 1 (closer) what that state points to.
    /// A pure hint: it must not change any state.
    fn prefetch(&self, _node: NodeIx, _from: NodeIx, _stage: u8) {}
}
