//! Document layout: the keys every qun document uses, in one place.
//!
//! Every document starts with the same deterministic genesis change (see [`doc_genesis`]):
//! a fixed actor derived from the community and document ids, time 0, creating the map
//! `d` at the root. Everything else lives under `d/<device>`, the slot of one device, and a
//! change may only write into its own device's slot (see `ownership`):
//!
//! ```text
//! governance doc:  d/<device>/profile  {name, bio, avatar, links[], updated}
//!                  d/<device>/follows  {<member>: true}
//! content doc:     d/<device>/posts/<key>  {text, created, reply_to?, attachments[], edited?, deleted}
//!                  d/<device>/reactions/<post id>/<emoji>: true
//! ```
//!
//! Privileged facts (membership, roles, policy, channels, device links, endorsements,
//! moderation) are not stored as document data at all: they are the actions carried in the
//! changes' messages, folded by the governance index (`gov`). Data in the slots is owned by
//! its author and can only say things about its author.

use crate::ids::{CommunityId, DocId, Hash};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjType, ROOT};

/// Root map of device slots.
pub const SLOTS: &str = "d";
/// Section of a slot holding posts (content documents).
pub const POSTS: &str = "posts";
/// Section of a slot holding reactions (content documents).
pub const REACTIONS: &str = "reactions";
/// Section of a slot holding the member's profile (governance document).
pub const PROFILE: &str = "profile";
/// Section of a slot holding follows (governance document).
pub const FOLLOWS: &str = "follows";

/// Post fields.
pub mod post {
    /// Markdown text.
    pub const TEXT: &str = "text";
    /// Creation time, ms.
    pub const CREATED: &str = "created";
    /// Post id this replies to.
    pub const REPLY_TO: &str = "reply_to";
    /// List of blake3 content ids of attachments.
    pub const ATTACHMENTS: &str = "attachments";
    /// Last edit time, ms.
    pub const EDITED: &str = "edited";
    /// Deleted by its author.
    pub const DELETED: &str = "deleted";
}

/// Profile fields.
pub mod profile {
    /// Display name.
    pub const NAME: &str = "name";
    /// Free text.
    pub const BIO: &str = "bio";
    /// Content id of the avatar image.
    pub const AVATAR: &str = "avatar";
    /// List of links.
    pub const LINKS: &str = "links";
    /// Last update, ms (picks the newest profile when several devices wrote one).
    pub const UPDATED: &str = "updated";
}

/// Message of the genesis change.
pub const GENESIS_MESSAGE: &str = "qun-doc-genesis-v1";

/// The actor of a document's genesis change: 16 bytes derived from community and document.
pub fn genesis_actor(community: &CommunityId, doc: &DocId) -> ActorId {
    let mut h = blake3::Hasher::new();
    h.update(b"qun-doc-genesis-actor-v1");
    h.update(community.as_bytes());
    h.update(doc.key().as_bytes());
    ActorId::from(&h.finalize().as_bytes()[..16])
}

/// A fresh document holding only the deterministic genesis change, and that change's hash.
/// Every node computes the same bytes, so nobody has to create a document first.
pub fn doc_genesis(community: &CommunityId, doc: &DocId) -> (Automerge, Hash) {
    let mut am = Automerge::new().with_actor(genesis_actor(community, doc));
    let r = am.transact_with(
        |_| {
            CommitOptions::default()
                .with_message(GENESIS_MESSAGE.to_string())
                .with_time(0)
        },
        |tx| {
            tx.put_object(ROOT, SLOTS, ObjType::Map)?;
            Ok::<_, automerge::AutomergeError>(())
        },
    );
    // A put on the root of an empty document cannot fail.
    let hash = match r {
        Ok(s) => s.hash,
        Err(_) => None,
    };
    let hash = hash.unwrap_or_else(|| {
        am.get_heads()
            .first()
            .copied()
            .unwrap_or(automerge::ChangeHash([0; 32]))
    });
    (am, hash)
}
