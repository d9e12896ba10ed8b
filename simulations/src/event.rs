//! What can happen in a run: the `Event`s of the queue, and the [`Frame`]s and
//! [`Verdict`]s they carry between the models.
//!
//! The bottom of the crate's module graph with `queue` and `dist`: it depends on nothing
//! but the index types, so the shared context ([`crate::ctx`]), the dissemination models
//! and the applications can all name these types without importing one another.
//! `Event::key` is what the run loop feeds into the event-log hash, so changing a key
//! changes every `event_log_hash`.

use crate::{MsgIx, NodeIx};

/// A frame on the wire between two routers.
#[derive(Debug, Clone)]
pub enum Frame<C> {
    /// A full message; `hops` is the sender's hop count (0 at the origin).
    Data {
        /// The message.
        msg: MsgIx,
        /// Hops of the sender's copy.
        hops: u16,
    },
    /// A model-specific control frame.
    Control(C),
}

/// The application's decision on a message, as in libp2p's `MessageAcceptance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: cache and forward.
    Accept,
    /// Invalid: drop and penalise the sender (P₄).
    Reject,
    /// Drop silently.
    Ignore,
}

/// Everything that can happen.
#[derive(Debug)]
pub(crate) enum Event<C, D> {
    Frame {
        to: NodeIx,
        from: NodeIx,
        epoch: u32,
        slot: u32,
        stamp: u32,
        frame: Frame<C>,
    },
    Direct {
        to: NodeIx,
        from: NodeIx,
        epoch: u32,
        slot: u32,
        stamp: u32,
        msg: D,
    },
    ProtoTimer {
        node: NodeIx,
        inc: u32,
        timer: u32,
    },
    AppTimer {
        node: NodeIx,
        inc: u32,
        timer: u64,
    },
    Verdict {
        node: NodeIx,
        inc: u32,
        msg: MsgIx,
        from: NodeIx,
        verdict: Verdict,
    },
    Post,
    Forge {
        node: NodeIx,
    },
    Depart {
        node: NodeIx,
    },
    Arrive {
        node: NodeIx,
    },
    Notice {
        node: NodeIx,
        inc: u32,
        peer: NodeIx,
    },
    Connect {
        a: NodeIx,
        b: NodeIx,
    },
    PartitionStart(u32),
    PartitionEnd(u32),
    Sample,
}

impl<C, D> Event<C, D> {
    /// `(kind, a, b)` for the event-log hash.
    pub(crate) fn key(&self) -> (u64, u64, u64) {
        match self {
            Event::Frame {
                to, from, frame, ..
            } => {
                let m = match frame {
                    Frame::Data { msg, .. } => *msg as u64,
                    Frame::Control(_) => u64::MAX,
                };
                (1, ((*to as u64) << 32) | *from as u64, m)
            }
            Event::Direct { to, from, .. } => (2, *to as u64, *from as u64),
            Event::ProtoTimer { node, timer, .. } => (3, *node as u64, *timer as u64),
            Event::AppTimer { node, timer, .. } => (4, *node as u64, *timer),
            Event::Verdict { node, msg, .. } => (5, *node as u64, *msg as u64),
            Event::Post => (6, 0, 0),
            Event::Forge { node } => (7, *node as u64, 0),
            Event::Depart { node } => (8, *node as u64, 0),
            Event::Arrive { node } => (9, *node as u64, 0),
            Event::Notice { node, peer, .. } => (10, *node as u64, *peer as u64),
            Event::Connect { a, b } => (11, *a as u64, *b as u64),
            Event::PartitionStart(i) => (12, *i as u64, 0),
            Event::PartitionEnd(i) => (13, *i as u64, 0),
            Event::Sample => (14, 0, 0),
        }
    }
}
