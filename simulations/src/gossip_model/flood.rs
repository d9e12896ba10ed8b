//! Plain flooding: every node forwards each new, valid message to every connected member
//! of its topic except the sender and the origin. The baseline gossipsub is compared to.

use crate::ctx::Core;
use crate::gossip_model::{DATA_OVERHEAD_BYTES, Dissemination, Frame, Verdict};
use crate::messages::Receipt;
use crate::metrics::ProtoStats;
use crate::scenario::Scenario;
use crate::{MsgIx, NodeIx};

/// Flooding has no control frames.
#[derive(Debug, Clone, Copy)]
pub enum NoControl {}

/// The flooding model: no state beyond the connections.
pub struct Flood;

impl Flood {
    fn send_to_members<D>(core: &mut Core<NoControl, D>, node: NodeIx, msg: MsgIx, skip: NodeIx) {
        let meta = &core.messages.meta[msg as usize];
        let (topic, origin, bytes) = (meta.topic, meta.origin, meta.bytes + DATA_OVERHEAD_BYTES);
        let hops = core.messages.hops(msg, node);
        let n = core.net.links(node).len();
        for i in 0..n {
            let l = &core.net.links(node)[i];
            let peer = l.peer;
            if l.up && peer != skip && peer != origin && core.membership.is_member(peer, topic) {
                core.send_frame(node, peer, Frame::Data { msg, hops }, bytes);
            }
        }
    }
}

impl Dissemination for Flood {
    type Control = NoControl;

    fn new(_scn: &Scenario) -> Self {
        Flood
    }

    fn name(&self) -> &'static str {
        "flood"
    }

    fn node_up<D>(&mut self, _core: &mut Core<NoControl, D>, _node: NodeIx) {}

    fn node_down(&mut self, _node: NodeIx) {}

    fn peer_up<D>(&mut self, _core: &mut Core<NoControl, D>, _node: NodeIx, _peer: NodeIx) {}

    fn peer_down<D>(&mut self, _core: &mut Core<NoControl, D>, _node: NodeIx, _peer: NodeIx) {}

    fn publish<D>(&mut self, core: &mut Core<NoControl, D>, node: NodeIx, msg: MsgIx) {
        Self::send_to_members(core, node, msg, node);
    }

    fn on_frame<D>(
        &mut self,
        core: &mut Core<NoControl, D>,
        node: NodeIx,
        from: NodeIx,
        frame: Frame<NoControl>,
    ) {
        match frame {
            Frame::Data { msg, hops } => {
                if core.receive(node, from, msg, hops.saturating_add(1)) == Receipt::First {
                    core.validate(node, from, msg);
                }
            }
            Frame::Control(c) => match c {},
        }
    }

    fn on_verdict<D>(
        &mut self,
        core: &mut Core<NoControl, D>,
        node: NodeIx,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    ) {
        if verdict == Verdict::Accept {
            Self::send_to_members(core, node, msg, from);
        }
    }

    fn on_timer<D>(&mut self, _core: &mut Core<NoControl, D>, _node: NodeIx, _timer: u32) {}

    fn stats(&self) -> ProtoStats {
        ProtoStats::default()
    }
}
