//! What goes in and out of the replicator: inputs, outputs, events, settings.

use super::SYNC_INTERVAL_MS;
use super::wire::WireChange;
use crate::Accepted;
use crate::MemberStatus;
use crate::error::Error;
use crate::ids::{CommunityId, DocId, Hash};
use crate::limits::Limits;
use std::fmt::Debug;

/// How the driver names a peer (libp2p `PeerId` in the node, an index in the simulator).
pub trait Peer: Clone + Ord + Debug {}
impl<T: Clone + Ord + Debug> Peer for T {}

/// The id the gossip layer gave a message (gossipsub message id: blake3 of the data).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub Vec<u8>);

impl Debug for MsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.0.iter().take(6).map(|b| format!("{b:02x}")).collect();
        write!(f, "MsgId({hex})")
    }
}

/// The driver's handle for an inbound request it must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyId(pub u64);

/// Gossip validation result (gossipsub `MessageAcceptance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and new: forward it.
    Accept,
    /// Invalid: drop it and penalise the sender.
    Reject,
    /// Not invalid, not worth forwarding (duplicate, unknown community, waiting for deps).
    Ignore,
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made on this node.
    Local,
    /// Received by gossip.
    Gossip,
    /// Received by sync.
    Sync,
}

/// Everything that happens to the replicator from outside.
#[derive(Clone, Debug)]
pub enum Input<P> {
    /// A gossip message arrived (gossipsub `Event::Message`, validation pending).
    Gossip {
        /// The peer that forwarded it.
        from: P,
        /// Its message id.
        id: MsgId,
        /// Its data.
        bytes: Vec<u8>,
    },
    /// A peer sent a sync request; answer with `Output::SyncRespond { reply }`.
    SyncRequest {
        /// The peer.
        from: P,
        /// The peer's device key, as the connection authenticated it (libp2p: the peer id's
        /// ed25519 key); `None` when it has none, which reads only open communities.
        device: Option<qun_identity::DeviceId>,
        /// Handle for the response.
        reply: ReplyId,
        /// Request bytes.
        bytes: Vec<u8>,
    },
    /// A peer answered our sync request.
    SyncResponse {
        /// The peer.
        from: P,
        /// Response bytes.
        bytes: Vec<u8>,
    },
    /// A sync request of ours failed (timeout, connection closed, refused).
    SyncFailed {
        /// The peer.
        peer: P,
        /// The community the request was about.
        community: CommunityId,
    },
    /// A peer subscribed to a community's topic.
    PeerJoined {
        /// The peer.
        peer: P,
        /// The community.
        community: CommunityId,
    },
    /// A peer went away (last connection closed).
    PeerLeft {
        /// The peer.
        peer: P,
    },
    /// Time passed: run due timers.
    Tick,
}

/// Changes to store, in order; the driver must flush them before running the next output.
#[derive(Clone, Debug, PartialEq)]
pub enum Persist {
    /// A community's signed genesis.
    Genesis {
        /// The community.
        community: CommunityId,
        /// Genesis envelope bytes.
        bytes: Vec<u8>,
    },
    /// Accepted changes.
    Changes {
        /// The community.
        community: CommunityId,
        /// `(doc, hash, change bytes, signature)`, in the order they were accepted.
        changes: Vec<(DocId, Hash, WireChange)>,
    },
}

/// Things worth telling the user interface and the metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<P> {
    /// A change went in.
    Accepted {
        /// The community.
        community: CommunityId,
        /// The change.
        change: Accepted,
        /// From where.
        origin: Origin,
    },
    /// A change or message was refused.
    Rejected {
        /// The community, if known.
        community: Option<CommunityId>,
        /// The peer that sent it.
        from: P,
        /// Why.
        error: Error,
    },
    /// We hold a community's genesis now (created or fetched while joining).
    CommunityAdded {
        /// The community.
        community: CommunityId,
    },
    /// Our own membership changed (admitted, removed...).
    MembershipChanged {
        /// The community.
        community: CommunityId,
        /// New status.
        status: MemberStatus,
    },
    /// A sync round with a peer finished.
    Synced {
        /// The community.
        community: CommunityId,
        /// The peer.
        peer: P,
        /// Changes received in this round.
        received: usize,
        /// Whether more rounds follow.
        more: bool,
    },
}

/// What the replicator asks the driver to do.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // drained at once by the driver
pub enum Output<P> {
    /// Subscribe to a community's gossip topic.
    Subscribe(CommunityId),
    /// Publish on a community's gossip topic.
    Publish {
        /// The community.
        community: CommunityId,
        /// Message bytes.
        bytes: Vec<u8>,
    },
    /// Report the validation result of a gossip message.
    Verdict {
        /// The message.
        id: MsgId,
        /// Its forwarder.
        from: P,
        /// The result.
        verdict: Verdict,
    },
    /// Send a sync request.
    SyncSend {
        /// The peer.
        to: P,
        /// The community (for `SyncFailed`).
        community: CommunityId,
        /// Request bytes.
        bytes: Vec<u8>,
    },
    /// Answer a sync request.
    SyncRespond {
        /// The handle from `Input::SyncRequest`.
        reply: ReplyId,
        /// Response bytes.
        bytes: Vec<u8>,
    },
    /// Store durably before running the next output.
    Persist(Persist),
    /// Tell the UI.
    Event(Event<P>),
}

/// Replicator settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Input limits.
    pub limits: Limits,
    /// Anti-entropy period, ms.
    pub sync_interval_ms: u64,
    /// Most bytes of sync answers one peer gets per [`SYNC_BUDGET_WINDOW_MS`] before it is
    /// told to come back later (`Busy`).
    pub sync_budget_bytes: usize,
    /// RNG seed (peer choice).
    pub seed: u64,
    /// Threads a batch's change signatures are checked on (at least 1; the node passes its
    /// core count, the simulator 1 since it runs one node per thread). Verdicts do not depend
    /// on it.
    pub verify_threads: usize,
}

/// The window of the per-peer sync budget, ms.
pub const SYNC_BUDGET_WINDOW_MS: u64 = 60_000;
/// Default per-peer sync budget per window: 32 MiB (a large catch-up takes several windows).
pub const DEFAULT_SYNC_BUDGET_BYTES: usize = 32 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            sync_interval_ms: SYNC_INTERVAL_MS,
            sync_budget_bytes: DEFAULT_SYNC_BUDGET_BYTES,
            seed: 0,
            verify_threads: 1,
        }
    }
}
