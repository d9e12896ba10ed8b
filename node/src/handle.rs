//! The cloneable handle everyone else uses to talk to the driver: a bounded command channel
//! with a oneshot per reply, and a broadcast of events (for SSE and the CLI).

use crate::driver::Driver;
use crate::error::{Error, Result};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Capacity of the command channel.
pub const COMMAND_QUEUE: usize = 256;
/// Capacity of the event broadcast (slow subscribers miss the oldest events).
pub const EVENT_QUEUE: usize = 1024;

/// A closure run on the driver's task with exclusive access to its state.
pub type DriverFn = Box<dyn FnOnce(&mut Driver) + Send>;

/// Commands to the driver.
pub enum Command {
    /// Run a closure on the driver; its outputs are executed right after.
    With(DriverFn),
    /// Stop the node.
    Shutdown(oneshot::Sender<()>),
}

/// Something that happened, for the UI (serialized as JSON with a `type` tag).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A change went in.
    Change {
        /// Community id.
        community: String,
        /// Document.
        doc: String,
        /// Change hash.
        hash: String,
        /// Action tag (`post.create`...).
        action: String,
        /// Author member id.
        author: String,
        /// `local`, `gossip` or `sync`.
        origin: String,
    },
    /// A change or message was refused.
    Rejected {
        /// Community id, if known.
        community: Option<String>,
        /// The peer that sent it.
        peer: String,
        /// Why.
        error: String,
    },
    /// A community was added (created or joined).
    CommunityAdded {
        /// Community id.
        community: String,
    },
    /// Our membership changed.
    Membership {
        /// Community id.
        community: String,
        /// `member:<role>`, `requested`, `removed`, `outsider`.
        status: String,
    },
    /// A sync round finished.
    Synced {
        /// Community id.
        community: String,
        /// Peer.
        peer: String,
        /// Changes received.
        received: usize,
        /// More rounds follow.
        more: bool,
    },
    /// A peer connected.
    PeerConnected {
        /// Peer id.
        peer: String,
    },
    /// A peer's last connection closed.
    PeerDisconnected {
        /// Peer id.
        peer: String,
    },
    /// Dialing a peer failed.
    DialFailed {
        /// The peer, if known.
        peer: Option<String>,
        /// Why.
        error: String,
    },
    /// The node listens on a new address.
    Listening {
        /// Full multiaddr with `/p2p/<peer id>`.
        addr: String,
    },
}

/// A handle to a running node.
#[derive(Clone)]
pub struct NodeHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
}

impl NodeHandle {
    /// Run `f` on the driver and return its result.
    pub async fn with<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Driver) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::With(Box::new(move |d: &mut Driver| {
            let r = f(d);
            // Run the outputs (persist and flush first) before answering: an edit is
            // acknowledged only once it is durable.
            d.execute();
            let _ = tx.send(r);
        }));
        self.commands.send(cmd).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Subscribe to events.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Stop the node and wait until it has.
    pub async fn shutdown(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Shutdown(tx))
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }
}
