//! What happened, as the node reports it to subscribers (the API's server-sent events, the
//! CLI, tests): serialized as JSON with a `type` tag.

use super::member::MemberStatus;
use serde::{Deserialize, Serialize};

/// Where an accepted change came from (`local`, `gossip` or `sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOrigin {
    /// Made on this node.
    Local,
    /// Received over gossipsub.
    Gossip,
    /// Received in a sync exchange.
    Sync,
}

impl From<qun_crdt::replicate::Origin> for EventOrigin {
    fn from(o: qun_crdt::replicate::Origin) -> Self {
        use qun_crdt::replicate::Origin;
        match o {
            Origin::Local => EventOrigin::Local,
            Origin::Gossip => EventOrigin::Gossip,
            Origin::Sync => EventOrigin::Sync,
        }
    }
}

/// Something that happened, for the UI (serialized as JSON with a `type` tag).
#[derive(Clone, Debug, Serialize, Deserialize)]
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
        /// Where it came from.
        origin: EventOrigin,
        /// The post it is about (a post, edit, deletion, reaction, hide or unhide).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post: Option<String>,
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
        status: MemberStatus,
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
    /// The store takes writes again after a failed one: the node reloaded its state from it
    /// (what failed to be stored was never acknowledged and comes back through sync) and
    /// acknowledges changes again.
    StoreRecovered,
    /// A direct message arrived (from another member, or from another device of this
    /// member). Carries no text: read it with `qun dm read`.
    DirectMessage {
        /// The conversation: the other member.
        conversation: String,
    },
}
