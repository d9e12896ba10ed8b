//! A read-only handle on a community a [`Replicator`](crate::Replicator) holds.
//!
//! The replicator is the only way into the communities it holds: edits, ingested changes,
//! clock observations and fork flips go through its inputs, which persist and publish what
//! they change. Reading still needs `&mut` underneath (views are computed lazily and cached),
//! so the replicator hands out this wrapper, which forwards the queries and nothing else.

use super::Community;
use super::edit::Profile;
use super::genesis::CommunityGenesis;
use super::view::{ChannelView, MemberView, PostView};
use crate::error::Result;
use crate::gov::GovState;
use crate::ids::{ChannelId, CommunityId, DocId, Hash, PostId};
use qun_identity::{DeviceId, MemberId, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Queries on a held community; see the module documentation.
pub struct CommunityReader<'a>(pub(crate) &'a mut Community);

impl std::fmt::Debug for CommunityReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<'a> From<&'a mut Community> for CommunityReader<'a> {
    fn from(c: &'a mut Community) -> Self {
        CommunityReader(c)
    }
}

impl<'a, 'b> From<&'b mut CommunityReader<'a>> for CommunityReader<'b> {
    fn from(c: &'b mut CommunityReader<'a>) -> Self {
        CommunityReader(&mut *c.0)
    }
}

impl CommunityReader<'_> {
    /// The community's id.
    pub fn id(&self) -> CommunityId {
        self.0.id()
    }

    /// The genesis the community was founded with.
    pub fn genesis(&self) -> &CommunityGenesis {
        self.0.genesis()
    }

    /// The governance state, with revocations resolved.
    pub fn state(&mut self) -> Arc<GovState> {
        self.0.state()
    }

    /// Members with their roles and profiles.
    pub fn members(&mut self) -> Result<Vec<MemberView>> {
        self.0.members()
    }

    /// Profiles by member.
    pub fn profiles(&mut self) -> Result<BTreeMap<MemberId, Profile>> {
        self.0.profiles()
    }

    /// One member's profile.
    pub fn profile(&mut self, m: &MemberId) -> Result<Option<Profile>> {
        self.0.profile(m)
    }

    /// Whom a member follows.
    pub fn follows(&mut self, m: &MemberId) -> Result<Vec<MemberId>> {
        self.0.follows(m)
    }

    /// The channels.
    pub fn channels(&mut self) -> Vec<ChannelView> {
        self.0.channels()
    }

    /// Posts of a channel, newest first (see [`Community::posts`]).
    pub fn posts(
        &mut self,
        channel: &ChannelId,
        limit: usize,
        before: Option<Timestamp>,
    ) -> Result<Vec<PostView>> {
        self.0.posts(channel, limit, before)
    }

    /// The visible posts of one channel window, newest first (see
    /// [`Community::window_posts`]).
    pub fn window_posts(&mut self, channel: &ChannelId, window: u32) -> Result<Vec<PostView>> {
        self.0.window_posts(channel, window)
    }

    /// A post's versions, oldest first (see [`Community::post_history`]).
    pub fn post_history(&mut self, id: &PostId) -> Result<Vec<super::view::PostVersion>> {
        self.0.post_history(id)
    }

    /// One post.
    pub fn post(&mut self, id: &PostId) -> Result<Option<PostView>> {
        self.0.post(id)
    }

    /// A post and its replies.
    pub fn thread(&mut self, id: &PostId) -> Result<Vec<PostView>> {
        self.0.thread(id)
    }

    /// Whether a change is held and counts (not voided by a revocation).
    pub fn is_valid(&mut self, doc: &DocId, h: &Hash) -> bool {
        self.0.is_valid(doc, h)
    }

    /// The documents held.
    pub fn docs(&self) -> Vec<DocId> {
        self.0.docs()
    }

    /// The heads of a document.
    pub fn heads(&mut self, doc: &DocId) -> Result<Vec<Hash>> {
        self.0.heads(doc)
    }

    /// How many changes a document holds.
    pub fn change_count(&self, doc: &DocId) -> usize {
        self.0.change_count(doc)
    }

    /// How many changes the community holds.
    pub fn total_changes(&self) -> usize {
        self.0.total_changes()
    }

    /// Whether a change is held.
    pub fn has_change(&self, doc: &DocId, h: &Hash) -> bool {
        self.0.has_change(doc, h)
    }

    /// A held change with its signature.
    pub fn signed_change(&self, doc: &DocId, h: &Hash) -> Option<(Vec<u8>, [u8; 64])> {
        self.0.signed_change(doc, h)
    }

    /// Every held change, by document.
    pub fn all_changes(&self) -> Vec<(DocId, Hash)> {
        self.0.all_changes()
    }

    /// Changes of a document not covered by `have`.
    pub fn changes_since(&mut self, doc: &DocId, have: &[Hash]) -> Result<Vec<Hash>> {
        self.0.changes_since(doc, have)
    }

    /// Every document, saved.
    pub fn export(&mut self) -> Result<Vec<(DocId, Vec<u8>)>> {
        self.0.export()
    }

    /// One document, saved.
    pub fn export_doc(&mut self, doc: &DocId) -> Result<Vec<u8>> {
        self.0.export_doc(doc)
    }

    /// Whether a device may read this community, given what it showed.
    pub fn may_read(
        &mut self,
        device: &DeviceId,
        invitation: Option<&[u8]>,
        proof: Option<&[u8]>,
        cert: Option<&[u8]>,
    ) -> bool {
        self.0.may_read(device, invitation, proof, cert)
    }
    /// The market policy in force (see [`Community::market_policy`]).
    pub fn market_policy(&mut self) -> crate::market::MarketPolicy {
        self.0.market_policy()
    }

    /// Listings shown under a query (see [`Community::listings`]).
    pub fn listings(&mut self, q: &crate::market::ListingQuery) -> Vec<crate::market::ListingView> {
        self.0.listings(q)
    }

    /// One listing, if shown (see [`Community::listing`]).
    pub fn listing(&mut self, id: &crate::market::ListingId) -> Option<crate::market::ListingView> {
        self.0.listing(id)
    }

    /// A member's shop (see [`Community::shop`]).
    pub fn shop(&mut self, owner: &MemberId) -> Vec<crate::market::ListingView> {
        self.0.shop(owner)
    }

    /// The deals `m` is a party or the arbiter of (see [`Community::deals_of`]).
    pub fn deals_of(&mut self, m: &MemberId) -> Vec<crate::market::DealView> {
        self.0.deals_of(m)
    }

    /// One deal with its history (see [`Community::deal`]).
    pub fn deal(&mut self, id: &crate::market::DealId) -> Option<crate::market::DealView> {
        self.0.deal(id)
    }

    /// Every review that counts (see [`Community::reviews`]).
    pub fn reviews(&mut self) -> Vec<crate::market::ReviewView> {
        self.0.reviews()
    }

    /// The reviews about `m` (see [`Community::reviews_about`]).
    pub fn reviews_about(&mut self, m: &MemberId) -> Vec<crate::market::ReviewView> {
        self.0.reviews_about(m)
    }

    /// The ledger's book (see [`Community::ledger_book`]).
    pub fn ledger_book(&mut self) -> Arc<crate::ledger::Book> {
        self.0.ledger_book()
    }

    /// A member's ledger statement (see [`Community::statement`]).
    pub fn statement(&mut self, m: &MemberId) -> crate::ledger::view::Statement {
        self.0.statement(m)
    }

    /// The ledger's totals (see [`Community::ledger_totals`]).
    pub fn ledger_totals(&mut self) -> crate::ledger::view::Totals {
        self.0.ledger_totals()
    }

    /// Every proposal with its money and vote (see [`Community::funds`]).
    pub fn funds(&mut self) -> Vec<crate::ledger::view::FundView> {
        self.0.funds()
    }

    /// Every bounty (see [`Community::bounties`]).
    pub fn bounties(&mut self) -> Vec<(crate::ledger::BountyId, crate::ledger::BountyState)> {
        self.0.bounties()
    }

    /// Every motion (a governance change put to a vote) with its tally.
    pub fn motions(&mut self) -> Vec<crate::ledger::view::MotionView> {
        self.0.motions()
    }
}
