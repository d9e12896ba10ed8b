//! Community state for qun: signed, authorized Automerge documents and a sans-IO
//! replication core.
//!
//! * [`community`]: a community's genesis, governance and content documents, the typed
//!   read ([`community::view`]) and write ([`community::edit`]) API, and the one path by which
//!   a change gets in ([`Community::ingest`]: limits, signature, dependencies, authorization at
//!   the change's dependencies, ownership of every operation).
//! * [`gov`]: the governance index that answers "who could do what" at any frontier.
//! * [`replicate`]: the sans-IO [`Replicator`] the node and the simulator drive.
//! * [`market`]: the community market: listings, deals with an arbiter, reviews.
//! * [`ledger`]: community money: a mutual-credit ledger with escrow, proposals, bounties, votes.
//! * [`prescan`]: a bounded check of change bytes (header, hash, operation count) to run before
//!   Automerge parses them.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, unreachable_pub)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod community;
mod error;
pub mod gov;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod market;
pub mod model;
pub mod prescan;
pub mod replicate;

pub use community::action::{Action, ChannelSettings};
pub use community::apply::{Accepted, CHANGE_SIG_TAG, Ingested, signing_message};
pub use community::edit::{Edit, LocalChange, MAX_POST_TEXT, Profile};
pub use community::genesis::{CommunityGenesis, Genesis};
pub use community::policy::{AdmissionPolicy, Perm, Role};
pub use community::view::{ChannelView, HiddenBy, MemberView, PostVersion, PostView};
pub use community::{Community, CommunityReader};
pub use error::{Error, Result};
pub use gov::{GovState, MemberStatus};
pub use ids::{ChannelId, CommunityId, DocId, Hash, PostId};
pub use limits::Limits;
pub use replicate::{
    Config, Event, Input, InviteKey, JoinProgress, MsgId, Origin, Output, Persist, Replicator,
    ReplyId, Verdict,
};

#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

/// The hash of encoded Automerge change bytes, if their header pre-scans as a change (within
/// the default operation limit; no full parse).
pub fn change_hash(bytes: &[u8]) -> Option<Hash> {
    Limits::default().prescan(bytes).ok().map(|h| h.hash)
}

/// The device (Automerge actor) of encoded change bytes, as text, if their header pre-scans.
pub fn change_actor(bytes: &[u8]) -> Option<String> {
    let h = Limits::default().prescan(bytes).ok()?;
    let a = <[u8; 32]>::try_from(h.actor.as_slice()).ok()?;
    qun_identity::DeviceId::from_bytes(&a)
        .ok()
        .map(|d| d.to_string())
}
