//! What a node answers and is asked, as plain serializable types: the results of
//! [`crate::handle::NodeHandle`]'s methods, the JSON of the HTTP API, what the web page renders
//! and what the CLI prints and sends. Built on the driver's task, read anywhere; nothing here
//! touches the driver.
//!
//! * `status`: the node (status, traffic, peers, identity, joins).
//! * `member`: where someone stands ([`MemberStatus`], serialized as `member:<role>`,
//!   `requested`, `removed`, `outsider`), a member's details, follows.
//! * `community`: one community (summary, API info, the page's snapshot [`CommunityView`]),
//!   small answers (`Created`, `Code`, …).
//! * `trust`: rankings, explanations, endorsements.
//! * `notification`: replies, mentions and reactions that concern this member.
//! * `event`: [`NodeEvent`], what the node reports as it happens (SSE, tests, the CLI).
//! * `request`: what the API and the page send, validated once ([`IntoEdit`]).
//! * `dm`: direct messages (conversations, messages, what sending did).
//! * `market`: the market's requests (listings, deals, steps, reviews, policy) and answers.
//! * `ledger`: the ledger's requests (policy, payments, proposals, votes, bounties) and answers
//!   with what they mean in words (wallet, entries, proposals, bounties).

mod community;
mod dm;
mod event;
pub mod ledger;
pub mod market;
mod member;
pub mod motion;
mod notification;
pub mod parse;
mod request;
mod status;
mod trust;

pub use community::{
    Code, CommunityInfo, CommunitySummary, CommunityView, Created, DeviceLinked, DevicesRevoked,
    Documents, EditDone, ExportDoc, JoinCancelled, LoginLink, PostQuery,
};
pub use dm::{Conversation, DmMessage, DmSent, SendDm};
pub use event::{EventOrigin, NodeEvent};
pub use ledger::{
    BountyOut, BountyRequest, BountyStepRequest, CloseRequest, FundOut, LedgerCreated,
    LedgerEntries, LedgerPolicyRequest, PayRequest, PledgeRequest, ProposalRequest,
    UnfreezeRequest, VoteRequest, Wallet,
};
pub use market::{
    DealOut, DealStep, HideListing, ListingOut, ListingRequest, MarketCreated, MarketPolicyRequest,
    MarketPolicyView, ProposeDeal, ReviewRequest, ReviewSummary, UnhideListing,
};
pub use member::{Follows, MemberDetail, MemberStatus};
pub use motion::{EnactRequest, MotionOut, MotionRequest, VotingRequest};
pub use notification::{MarkRead, Notification, NotificationKind, Notifications, mentions};
pub use request::{
    AdmitMember, ChannelRequest, CreateCommunity, DeletePost, EditPost, Endorse, EndorseRequest,
    FollowRequest, HidePost, IntoEdit, InviteRequest, JoinRequest, LeaveRequest, LinkDevice,
    MetaRequest, NewPost, PinPost, PolicyRequest, ProfileRequest, React, RemoveMember,
    RevokeDevice, RoleRequest, UnhidePost,
};
pub use status::{
    CommunityDevice, DeviceCertInfo, Health, IdentityInfo, JoinInfo, LimitHits, PeerInfo, Stats,
    Status,
};
pub use trust::{EndorsementQuery, EndorsementView, TrustEntry, TrustWhy};
