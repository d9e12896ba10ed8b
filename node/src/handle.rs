//! The cloneable handle everyone else uses to talk to a running node: typed async methods, one
//! per operation, each a [`Command`] on a bounded channel with a oneshot for the answer (as
//! heartwood's `runtime/handle.rs` and iroh's `api.rs`), and a broadcast of [`NodeEvent`]s (for
//! SSE, the CLI and tests). Nobody outside the driver's task sees the driver.
//!
//! Mutating methods answer once the change's outputs ran: persisted and flushed before the
//! answer, so an acknowledged edit is durable (see `crate::runtime`).

use crate::clock::Clock;
use crate::dto::{BountyOut, FundOut, LedgerEntries, Wallet};
use crate::dto::{
    CommunityInfo, CommunityView, Documents, EditDone, Endorse, EndorsementQuery, EndorsementView,
    Follows, Health, IdentityInfo, JoinInfo, MemberDetail, NodeEvent, PeerInfo, PostQuery, Stats,
    Status, TrustEntry, TrustWhy,
};
use crate::error::{Error, Result};
use crate::limits::Load;
#[cfg(feature = "test-utils")]
use crate::runtime::command::TestCommand;
use crate::runtime::command::{Command, Reply};
use libp2p::{Multiaddr, PeerId};
use qun_crdt::ledger::view::Totals;
use qun_crdt::market::{
    DealId, DealView, ListingId, ListingQuery, ListingView, MarketPolicy, ReviewView,
};
use qun_crdt::{
    AdmissionPolicy, ChannelView, CommunityId, Edit, MemberView, PostId, PostView, Profile,
};
use qun_identity::{DeviceId, MemberId, Timestamp};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Capacity of the command channel.
pub const COMMAND_QUEUE: usize = 256;
/// Capacity of the event broadcast (slow subscribers miss the oldest events).
pub const EVENT_QUEUE: usize = 1024;

/// A handle to a running node.
#[derive(Clone)]
pub struct NodeHandle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<NodeEvent>,
    member: MemberId,
    peer_id: PeerId,
    clock: Arc<dyn Clock>,
    load: Arc<Load>,
    blobs: Arc<crate::blobs::BlobStore>,
}

impl NodeHandle {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        events: broadcast::Sender<NodeEvent>,
        member: MemberId,
        peer_id: PeerId,
        clock: Arc<dyn Clock>,
        load: Arc<Load>,
        blobs: Arc<crate::blobs::BlobStore>,
    ) -> Self {
        NodeHandle {
            commands,
            events,
            member,
            peer_id,
            clock,
            load,
            blobs,
        }
    }

    /// The node's blob store (images and attachments; its methods are short blocking file
    /// operations: call them from `spawn_blocking` in async code).
    pub fn blobs(&self) -> &Arc<crate::blobs::BlobStore> {
        &self.blobs
    }

    /// Make sure a blob is in the store, fetching it from peers that share a community with
    /// this node if it is not (its bytes verified against the id before they are stored).
    pub async fn fetch_blob(&self, id: qun_identity::ContentId) -> Result<()> {
        self.ask(|r| Command::FetchBlob(id, r)).await?
    }

    /// A blob's bytes, verified: from the store, or fetched from peers first.
    pub async fn blob(&self, id: qun_identity::ContentId) -> Result<Vec<u8>> {
        let store = self.blobs.clone();
        let read = move || store.get(&id);
        let join = |e: tokio::task::JoinError| Error::io("read a blob", std::io::Error::other(e));
        if let Some(b) = tokio::task::spawn_blocking(read.clone())
            .await
            .map_err(join)??
        {
            return Ok(b);
        }
        self.fetch_blob(id).await?;
        tokio::task::spawn_blocking(read)
            .await
            .map_err(join)??
            .ok_or_else(|| Error::BlobUnavailable {
                id: id.to_string(),
                reason: "removed again right after it was fetched".into(),
            })
    }

    /// Every blob the communities held here name (post attachments and images, avatars).
    pub async fn blob_refs(&self) -> Result<std::collections::BTreeSet<qun_identity::ContentId>> {
        self.ask(Command::BlobRefs).await?
    }

    /// Remove blobs no post or profile here names and older than the grace period
    /// (`[blobs] gc_grace_secs`).
    pub async fn blobs_gc(&self) -> Result<crate::blobs::GcReport> {
        let keep = self.blob_refs().await?;
        let store = self.blobs.clone();
        let grace = std::time::Duration::from_secs(store.limits().gc_grace_secs);
        tokio::task::spawn_blocking(move || store.gc(&keep, grace, std::time::SystemTime::now()))
            .await
            .map_err(|e| Error::io("collect blobs", std::io::Error::other(e)))?
    }

    /// The node's load limits and their counters (the HTTP layer counts its own hits there).
    pub fn load(&self) -> &Arc<Load> {
        &self.load
    }

    /// Send a command and wait for its answer.
    async fn ask<T>(&self, cmd: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(cmd(tx))
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// The member this node acts for.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// This node's libp2p peer id (from its device key).
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The node's current time (its configured clock).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Subscribe to events.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Stop the node and wait until it has.
    pub async fn shutdown(&self) -> Result<()> {
        self.ask(Command::Shutdown).await
    }

    /// Liveness and readiness.
    pub async fn health(&self) -> Result<Health> {
        self.ask(Command::Health).await
    }

    /// Every metric (gossipsub's, libp2p's, qun's) as OpenMetrics text.
    pub async fn metrics(&self) -> Result<String> {
        self.ask(Command::Metrics).await
    }

    /// Write a consistent copy of the store to `dest` (a directory that must not exist yet).
    pub async fn snapshot(&self, dest: std::path::PathBuf) -> Result<()> {
        self.ask(|r| Command::Snapshot(dest, r)).await?
    }

    /// Node status: identity, addresses, peers, communities, joins, traffic.
    pub async fn status(&self) -> Result<Status> {
        self.ask(Command::Status).await
    }

    /// Traffic counters since start.
    pub async fn stats(&self) -> Result<Stats> {
        Ok(self.status().await?.traffic)
    }

    /// This node's identity and the devices communities know for its member.
    pub async fn identity(&self) -> Result<IdentityInfo> {
        self.ask(Command::Identity).await
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.ask(Command::Peers).await
    }

    /// Every join in progress and where it stands.
    pub async fn joins(&self) -> Result<Vec<JoinInfo>> {
        self.ask(Command::Joins).await
    }

    /// The backup phrase of the root key this node holds (`None`: the root key is not here).
    /// Whoever calls this must have checked the user may see it (the keyfile's passphrase).
    pub async fn backup_phrase(&self) -> Result<Option<String>> {
        self.ask(Command::BackupPhrase).await
    }

    /// One community from this member's point of view.
    pub async fn community_view(&self, c: CommunityId) -> Result<CommunityView> {
        self.ask(|r| Command::CommunityView(c, r)).await?
    }

    /// A community as the API shows it.
    pub async fn community(&self, c: CommunityId) -> Result<CommunityInfo> {
        self.ask(|r| Command::CommunityInfo(c, r)).await?
    }

    /// A community's channels.
    pub async fn channels(&self, c: CommunityId) -> Result<Vec<ChannelView>> {
        self.ask(|r| Command::Channels(c, r)).await?
    }

    /// This member's notifications (replies, mentions, reactions by others), newest first.
    pub async fn notifications(&self) -> Result<Vec<crate::dto::Notification>> {
        self.ask(Command::Notifications).await?
    }

    /// A post's versions, oldest first (empty when it is not visible).
    pub async fn post_history(
        &self,
        c: CommunityId,
        post: PostId,
    ) -> Result<Vec<qun_crdt::PostVersion>> {
        self.ask(|r| Command::PostHistory(c, post, r)).await?
    }

    /// The posts of one channel window (one content document), newest first: what the search
    /// index reads after a change to that document.
    pub async fn window_posts(
        &self,
        c: CommunityId,
        channel: qun_crdt::ChannelId,
        window: u32,
    ) -> Result<Vec<PostView>> {
        self.ask(|r| Command::WindowPosts(c, channel, window, r))
            .await?
    }

    /// Posts of a channel, newest first.
    pub async fn posts(&self, c: CommunityId, q: PostQuery) -> Result<Vec<PostView>> {
        self.ask(|r| Command::Posts(c, q, r)).await?
    }

    /// A post and its replies.
    pub async fn thread(&self, c: CommunityId, post: PostId) -> Result<Vec<PostView>> {
        self.ask(|r| Command::Thread(c, post, r)).await?
    }

    /// Send a direct message to `to` (end-to-end encrypted to each of its devices and this
    /// member's other devices): answered once handed to the network, or with an error when no
    /// device of `to` became known within a few seconds.
    pub async fn dm_send(&self, to: MemberId, text: String) -> Result<crate::dto::DmSent> {
        self.ask(|r| Command::DmSend(to, text, r)).await?
    }

    /// Direct-message conversations, the latest first, with unread counts.
    pub async fn dm_list(&self) -> Result<Vec<crate::dto::Conversation>> {
        self.ask(Command::DmList).await?
    }

    /// The conversation with `member`, oldest first (marks it read).
    pub async fn dm_read(&self, member: MemberId) -> Result<Vec<crate::dto::DmMessage>> {
        self.ask(|r| Command::DmRead(member, r)).await?
    }

    /// Members and their roles.
    pub async fn members(&self, c: CommunityId) -> Result<Vec<MemberView>> {
        self.ask(|r| Command::Members(c, r)).await?
    }

    /// One member as their profile page shows them.
    pub async fn member_detail(&self, c: CommunityId, m: MemberId) -> Result<MemberDetail> {
        self.ask(|r| Command::Member(c, m, r)).await?
    }

    /// A member's profile (this member's when `None`).
    pub async fn profile(&self, c: CommunityId, m: Option<MemberId>) -> Result<Option<Profile>> {
        self.ask(|r| Command::Profile(c, m, r)).await?
    }

    /// Whom a member follows (this member when `None`).
    pub async fn follows(&self, c: CommunityId, m: Option<MemberId>) -> Result<Follows> {
        self.ask(|r| Command::Follows(c, m, r)).await?
    }

    /// Endorsements published in a community: the latest per (from, to, topic).
    pub async fn endorsements(
        &self,
        c: CommunityId,
        q: EndorsementQuery,
    ) -> Result<Vec<EndorsementView>> {
        self.ask(|r| Command::Endorsements(c, q, r)).await?
    }

    /// Members ranked by trust from this member's point of view (and the founders'): the first
    /// `top`.
    pub async fn trust(&self, c: CommunityId, top: usize) -> Result<Vec<TrustEntry>> {
        self.ask(|r| Command::Trust(c, top, r)).await?
    }

    /// Why a member has the trust it has (`NotFound` when not in the trust graph).
    pub async fn trust_why(&self, c: CommunityId, m: MemberId) -> Result<TrustWhy> {
        self.trust_explained(c, vec![m])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| Error::NotFound(format!("member {m} in the trust graph")))
    }

    /// Why each of `members` has the trust it has, computed over one ranking (`None` for those
    /// not in the trust graph).
    pub async fn trust_explained(
        &self,
        c: CommunityId,
        members: Vec<MemberId>,
    ) -> Result<Vec<Option<TrustWhy>>> {
        self.ask(|r| Command::TrustWhy(c, members, r)).await?
    }

    /// The market policy in force.
    pub async fn market_policy(&self, c: CommunityId) -> Result<MarketPolicy> {
        self.ask(|r| Command::MarketPolicy(c, r)).await?
    }

    /// Listings shown under a query (by id).
    pub async fn listings(&self, c: CommunityId, q: ListingQuery) -> Result<Vec<ListingView>> {
        self.ask(|r| Command::Listings(c, q, r)).await?
    }

    /// One listing (`NotFound` when it is not shown).
    pub async fn listing(&self, c: CommunityId, id: ListingId) -> Result<ListingView> {
        let what = format!("listing {id}");
        self.ask(|r| Command::Listing(c, id, r))
            .await??
            .ok_or(Error::NotFound(what))
    }

    /// The deals `m` is a party or the arbiter of (this member's when `None`).
    pub async fn deals(&self, c: CommunityId, m: Option<MemberId>) -> Result<Vec<DealView>> {
        let m = m.unwrap_or(self.member);
        self.ask(|r| Command::Deals(c, m, r)).await?
    }

    /// One deal with its history (`NotFound` when there is none).
    pub async fn deal(&self, c: CommunityId, id: DealId) -> Result<DealView> {
        let what = format!("deal {id}");
        self.ask(|r| Command::Deal(c, id, r))
            .await??
            .ok_or(Error::NotFound(what))
    }

    /// The reviews that count: about `about`, or all.
    pub async fn reviews(
        &self,
        c: CommunityId,
        about: Option<MemberId>,
    ) -> Result<Vec<ReviewView>> {
        self.ask(|r| Command::Reviews(c, about, r)).await?
    }

    /// A member's ledger wallet (this member's when `None`): balance, limit and why, holds,
    /// history newest first.
    pub async fn wallet(&self, c: CommunityId, m: Option<MemberId>) -> Result<Wallet> {
        let m = m.unwrap_or(self.member);
        self.ask(|r| Command::Wallet(c, m, r)).await?
    }

    /// The ledger's debits with their statuses, open holds and settlements.
    pub async fn ledger_entries(&self, c: CommunityId) -> Result<LedgerEntries> {
        self.ask(|r| Command::LedgerEntries(c, r)).await?
    }

    /// The ledger's totals: volume, accounts, who is at the limit, held, frozen.
    pub async fn ledger_totals(&self, c: CommunityId) -> Result<Totals> {
        self.ask(|r| Command::LedgerTotals(c, r)).await?
    }

    /// Every proposal with its money and tally, and this member's pledges, vote and weight.
    pub async fn proposals(&self, c: CommunityId) -> Result<Vec<FundOut>> {
        let m = self.member;
        self.ask(|r| Command::Funds(c, m, r)).await?
    }

    /// Every motion (a governance change put to a vote) with its tally.
    pub async fn motions(&self, c: CommunityId) -> Result<Vec<crate::dto::MotionOut>> {
        self.ask(|r| Command::Motions(c, r)).await?
    }

    /// Every bounty.
    pub async fn bounties(&self, c: CommunityId) -> Result<Vec<BountyOut>> {
        self.ask(|r| Command::Bounties(c, r)).await?
    }

    /// The community as Automerge documents (`(doc id, saved bytes)`).
    pub async fn export(&self, c: CommunityId) -> Result<Documents> {
        self.ask(|r| Command::Export(c, r)).await?
    }

    /// Create a community with this member as founder.
    pub async fn create_community(
        &self,
        name: &str,
        description: &str,
        policy: AdmissionPolicy,
    ) -> Result<CommunityId> {
        let (name, description) = (name.to_string(), description.to_string());
        self.ask(|reply| Command::Create {
            name,
            description,
            policy,
            reply,
        })
        .await?
    }

    /// An invite code for `c`: this node's addresses, and a signed invitation (for `invitee`,
    /// or a single-use bearer one) valid for `valid_ms`.
    pub async fn invite(
        &self,
        c: CommunityId,
        invitee: Option<MemberId>,
        valid_ms: Option<u64>,
    ) -> Result<String> {
        self.ask(|reply| Command::Invite {
            community: c,
            invitee,
            valid_ms,
            reply,
        })
        .await?
    }

    /// Join with an invite code: dial its addresses and start joining.
    pub async fn join(&self, code: &str) -> Result<CommunityId> {
        let code = code.to_string();
        self.ask(|r| Command::Join(code, r)).await?
    }

    /// Stop joining `c` (what was fetched stays); whether a join was in progress.
    pub async fn cancel_join(&self, c: CommunityId) -> Result<bool> {
        self.ask(|r| Command::CancelJoin(c, r)).await?
    }

    /// Make an edit in a community; answered once it is stored.
    pub async fn edit(&self, c: CommunityId, edit: Edit) -> Result<EditDone> {
        self.ask(|r| Command::Edit(c, edit, r)).await?
    }

    /// Make an edit at most once per `key` (1 to 128 bytes, chosen by the caller): sending the
    /// same edit with the same key again answers the first result without a second edit (the
    /// last 1,024 keys are remembered, until restart; a different edit under a used key is
    /// made).
    pub async fn edit_once(&self, c: CommunityId, key: String, edit: Edit) -> Result<EditDone> {
        self.ask(|r| Command::EditOnce(c, key, edit, r)).await?
    }

    /// Endorse a member in a community (signed by the root key; weight 0 revokes).
    pub async fn endorse(&self, c: CommunityId, e: Endorse) -> Result<EditDone> {
        self.ask(|r| Command::Endorse(c, e, r)).await?
    }

    /// Certify `device` for this member; the device code for the new device.
    pub async fn link_device(&self, device: DeviceId, label: &str) -> Result<String> {
        let label = label.to_string();
        self.ask(|r| Command::LinkDevice(device, label, r)).await?
    }

    /// Revoke `device` in every community where this member is; in how many.
    pub async fn revoke_device(&self, device: DeviceId, reason: &str) -> Result<usize> {
        let reason = reason.to_string();
        self.ask(|r| Command::RevokeDevice(device, reason, r))
            .await?
    }

    /// Dial a peer's address (`/…/p2p/<peer id>`), as `qun up --dial` does at start.
    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        self.ask(|r| Command::Dial(addr, r)).await?
    }
}

/// Test-only methods (feature `test-utils`, which the node's own tests turn on): probes of the
/// swarm's state that no API exposes, and acting as a misbehaving node would. A node built
/// without the feature has none of them; nothing but tests may use them.
#[cfg(feature = "test-utils")]
impl NodeHandle {
    async fn test<T>(&self, cmd: impl FnOnce(Reply<T>) -> TestCommand) -> Result<T> {
        self.ask(|r| Command::Test(cmd(r))).await
    }

    /// Test only: publish `bytes` on `c`'s gossip topic as they are, bypassing the core (an
    /// attacker's node). The node's own state does not change.
    pub async fn publish_raw(&self, c: CommunityId, bytes: Vec<u8>) -> Result<()> {
        self.test(|r| TestCommand::PublishRaw(c, bytes, r)).await?
    }

    /// Test only: serve blobs wrongly from now on, as a malicious node would (`None`:
    /// honestly again).
    pub async fn blob_lie(&self, lie: Option<crate::blobs::BlobLie>) -> Result<()> {
        self.test(|r| TestCommand::BlobLie(lie, r)).await
    }

    /// Test only: the bytes of every envelope this node's DM mailbox holds for others (what
    /// a holder sees of messages it keeps).
    pub async fn dm_mailbox(&self) -> Result<Vec<Vec<u8>>> {
        self.test(TestCommand::DmMailbox).await
    }

    /// Test only: the devices of `member` this node's DM device has a bundle of.
    pub async fn dm_devices(&self, member: MemberId) -> Result<Vec<qun_identity::DeviceId>> {
        self.test(|r| TestCommand::DmDevices(member, r)).await
    }

    /// Test only: the peers in this node's gossip mesh of `c`.
    pub async fn mesh_peers(&self, c: CommunityId) -> Result<Vec<PeerId>> {
        self.test(|r| TestCommand::MeshPeers(c, r)).await
    }

    /// Test only: the gossip topics `peer` is subscribed to, as this node sees them (what an
    /// eavesdropping peer learns).
    pub async fn peer_topics(&self, peer: PeerId) -> Result<Vec<String>> {
        self.test(|r| TestCommand::PeerTopics(peer, r)).await
    }

    /// Test only: the keys of the provider records this node's Kademlia store holds under
    /// `key` (what an eavesdropping DHT server learns).
    pub async fn provider_records(&self, key: libp2p::kad::RecordKey) -> Result<Vec<Vec<u8>>> {
        self.test(|r| TestCommand::ProviderRecords(key, r)).await
    }

    /// Test only: take `addr` as a confirmed external address (what `--public-addr` does at
    /// start), e.g. to make a node a DHT server once its random ports are known.
    pub async fn add_external_address(&self, addr: Multiaddr) -> Result<()> {
        self.test(|r| TestCommand::AddExternalAddress(addr, r))
            .await
    }

    /// Test only: start a sync exchange about `c` with `peer` now (as when it subscribes).
    pub async fn sync_with(&self, peer: PeerId, c: CommunityId) -> Result<()> {
        self.test(|r| TestCommand::SyncWith(peer, c, r)).await
    }
}
