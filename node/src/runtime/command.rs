//! What the handle asks of the driver: one variant per operation, each with a oneshot for its
//! answer. The driver answers a command only after running the outputs it caused (persisted and
//! flushed first), so an edit is acknowledged once it is durable.

use crate::dto::{BountyOut, FundOut, LedgerEntries, Wallet};
use crate::dto::{
    CommunityInfo, CommunityView, Documents, EditDone, Endorse, EndorsementQuery, EndorsementView,
    Follows, Health, IdentityInfo, JoinInfo, MemberDetail, PeerInfo, PostQuery, Status, TrustEntry,
    TrustWhy,
};
use crate::error::Result;
use libp2p::Multiaddr;
use qun_crdt::ledger::view::Totals;
use qun_crdt::market::{
    DealId, DealView, ListingId, ListingQuery, ListingView, MarketPolicy, ReviewView,
};
use qun_crdt::{
    AdmissionPolicy, ChannelView, CommunityId, Edit, MemberView, PostId, PostView, Profile,
};
use qun_identity::{DeviceId, MemberId};
use tokio::sync::oneshot;

/// Where the driver sends an answer.
pub(crate) type Reply<T> = oneshot::Sender<T>;

/// One operation of the node, asked by a [`crate::handle::NodeHandle`].
pub(crate) enum Command {
    /// Node status.
    Status(Reply<Status>),
    /// Send a direct message (answered once sent, see `super::dm`).
    DmSend(MemberId, String, Reply<Result<crate::dto::DmSent>>),
    /// Direct-message conversations.
    DmList(Reply<Result<Vec<crate::dto::Conversation>>>),
    /// One conversation (marked read).
    DmRead(MemberId, Reply<Result<Vec<crate::dto::DmMessage>>>),
    /// This node's identity and devices.
    Identity(Reply<IdentityInfo>),
    /// Connected peers.
    Peers(Reply<Vec<PeerInfo>>),
    /// Joins in progress.
    Joins(Reply<Vec<JoinInfo>>),
    /// The backup phrase of the root key held here, if any.
    BackupPhrase(Reply<Option<String>>),
    /// One community from this member's point of view.
    CommunityView(CommunityId, Reply<Result<CommunityView>>),
    /// A community as the API shows it.
    CommunityInfo(CommunityId, Reply<Result<CommunityInfo>>),
    /// A community's channels.
    Channels(CommunityId, Reply<Result<Vec<ChannelView>>>),
    /// This member's notifications, newest first.
    Notifications(Reply<Result<Vec<crate::dto::Notification>>>),
    /// A post's versions, oldest first.
    PostHistory(
        CommunityId,
        qun_crdt::PostId,
        Reply<Result<Vec<qun_crdt::PostVersion>>>,
    ),
    /// The posts of one channel window, newest first.
    WindowPosts(
        CommunityId,
        qun_crdt::ChannelId,
        u32,
        Reply<Result<Vec<PostView>>>,
    ),
    /// Posts of a channel, newest first.
    Posts(CommunityId, PostQuery, Reply<Result<Vec<PostView>>>),
    /// A post and its replies.
    Thread(CommunityId, PostId, Reply<Result<Vec<PostView>>>),
    /// Members and roles.
    Members(CommunityId, Reply<Result<Vec<MemberView>>>),
    /// One member's details.
    Member(CommunityId, MemberId, Reply<Result<MemberDetail>>),
    /// A member's profile (this member's by default).
    Profile(
        CommunityId,
        Option<MemberId>,
        Reply<Result<Option<Profile>>>,
    ),
    /// Whom a member follows (this member by default).
    Follows(CommunityId, Option<MemberId>, Reply<Result<Follows>>),
    /// Endorsements published in a community.
    Endorsements(
        CommunityId,
        EndorsementQuery,
        Reply<Result<Vec<EndorsementView>>>,
    ),
    /// Members ranked by trust, the first `top`.
    Trust(CommunityId, usize, Reply<Result<Vec<TrustEntry>>>),
    /// Why each of these members has the trust it has (`None`: not in the trust graph).
    TrustWhy(
        CommunityId,
        Vec<MemberId>,
        Reply<Result<Vec<Option<TrustWhy>>>>,
    ),
    /// The market policy in force.
    MarketPolicy(CommunityId, Reply<Result<MarketPolicy>>),
    /// Listings shown under a query.
    Listings(CommunityId, ListingQuery, Reply<Result<Vec<ListingView>>>),
    /// One listing, if shown.
    Listing(CommunityId, ListingId, Reply<Result<Option<ListingView>>>),
    /// The deals a member is a party or the arbiter of.
    Deals(CommunityId, MemberId, Reply<Result<Vec<DealView>>>),
    /// One deal with its history.
    Deal(CommunityId, DealId, Reply<Result<Option<DealView>>>),
    /// The reviews that count (about one member, or all).
    Reviews(
        CommunityId,
        Option<MemberId>,
        Reply<Result<Vec<ReviewView>>>,
    ),
    /// A member's ledger wallet.
    Wallet(CommunityId, MemberId, Reply<Result<Wallet>>),
    /// The ledger's debits, holds and settlements.
    LedgerEntries(CommunityId, Reply<Result<LedgerEntries>>),
    /// The ledger's totals.
    LedgerTotals(CommunityId, Reply<Result<Totals>>),
    /// Proposals, with this member's pledges, vote and weight.
    Funds(CommunityId, MemberId, Reply<Result<Vec<FundOut>>>),
    /// Every motion with its tally.
    Motions(CommunityId, Reply<Result<Vec<crate::dto::MotionOut>>>),
    /// Bounties.
    Bounties(CommunityId, Reply<Result<Vec<BountyOut>>>),
    /// The community's Automerge documents.
    Export(CommunityId, Reply<Result<Documents>>),
    /// Create a community.
    Create {
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Admission policy.
        policy: AdmissionPolicy,
        /// The new id.
        reply: Reply<Result<CommunityId>>,
    },
    /// Make an invite code.
    Invite {
        /// The community.
        community: CommunityId,
        /// For this member only.
        invitee: Option<MemberId>,
        /// Valid for, ms.
        valid_ms: Option<u64>,
        /// The code.
        reply: Reply<Result<String>>,
    },
    /// Join with an invite code.
    Join(String, Reply<Result<CommunityId>>),
    /// Stop joining.
    CancelJoin(CommunityId, Reply<Result<bool>>),
    /// Make an edit.
    Edit(CommunityId, Edit, Reply<Result<EditDone>>),
    /// Make an edit once per idempotency key.
    EditOnce(CommunityId, String, Edit, Reply<Result<EditDone>>),
    /// Endorse a member (signed by the root key).
    Endorse(CommunityId, Endorse, Reply<Result<EditDone>>),
    /// Certify a new device; the device code.
    LinkDevice(DeviceId, String, Reply<Result<String>>),
    /// Revoke a device everywhere; in how many communities.
    RevokeDevice(DeviceId, String, Reply<Result<usize>>),
    /// Dial an address.
    Dial(Multiaddr, Reply<Result<()>>),
    /// Fetch a blob from peers unless it is here; answered once it is stored.
    FetchBlob(qun_identity::ContentId, Reply<Result<()>>),
    /// Every blob the communities held here name (posts and profiles).
    BlobRefs(Reply<Result<std::collections::BTreeSet<qun_identity::ContentId>>>),
    /// Test-only probes and attacks (see `crate::handle`'s test-utils methods).
    #[cfg(feature = "test-utils")]
    Test(TestCommand),
    /// Liveness and readiness.
    Health(Reply<Health>),
    /// Every metric as OpenMetrics text.
    Metrics(Reply<String>),
    /// Write a consistent copy of the store to a new directory.
    Snapshot(std::path::PathBuf, Reply<Result<()>>),
    /// Stop the node (the store is flushed first).
    Shutdown(Reply<()>),
}

/// What only tests ask (with the `test-utils` feature): look at the swarm's state, or act as a
/// misbehaving node would. Never compiled into a node that is not under test.
#[cfg(feature = "test-utils")]
pub(crate) enum TestCommand {
    /// Publish raw bytes on a community's gossip topic.
    PublishRaw(CommunityId, Vec<u8>, Reply<Result<()>>),
    /// Serve blobs wrongly from now on (`None`: honestly again).
    BlobLie(Option<super::blobs::BlobLie>, Reply<()>),
    /// The peers in our gossip mesh of a community.
    MeshPeers(CommunityId, Reply<Vec<libp2p::PeerId>>),
    /// The topics a peer is subscribed to, as gossipsub sees them.
    PeerTopics(libp2p::PeerId, Reply<Vec<String>>),
    /// The keys of the provider records our Kademlia store holds under a key.
    ProviderRecords(libp2p::kad::RecordKey, Reply<Vec<Vec<u8>>>),
    /// Add a confirmed external address.
    AddExternalAddress(Multiaddr, Reply<()>),
    /// Start a sync exchange about a community with a peer now.
    SyncWith(libp2p::PeerId, CommunityId, Reply<()>),
    /// The envelopes the DM mailbox holds for others.
    DmMailbox(Reply<Vec<Vec<u8>>>),
    /// The devices of a member the DM device knows (has a bundle of).
    DmDevices(MemberId, Reply<Vec<DeviceId>>),
}
