//! Actions: what a change means. One local edit = one action = one Automerge change, whose
//! message carries the action (JSON, stable dotted tags) and, for content documents, the
//! governance heads it was authorized against.

use super::cut::Cut;
use super::policy::{AdmissionPolicy, Perm, Role};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, Hash, PostId};
use crate::ledger::bounty::BountyStep;
use crate::ledger::{Bounty, BountyId, Choice, Fund, FundId, LedgerPolicy, VotePolicy};
use crate::market::{DealId, Listing, ListingId, MarketPolicy, Outcome, Proposal, Step};
use qun_identity::{ContentId, DeviceId, MemberId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Version of the change message format.
pub const META_VERSION: u8 = 1;
/// Longest reason / title / description text in an action, bytes.
pub const MAX_ACTION_TEXT: usize = 2_000;
/// Longest reaction, bytes (an emoji or a short word).
pub const MAX_EMOJI: usize = 32;
/// Most governance heads a content change may cite.
pub const MAX_CITED_HEADS: usize = 32;

/// Bytes as standard base64 inside JSON.
mod b64 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::BASE64.encode(v))
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        data_encoding::BASE64
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
    pub(super) mod opt {
        use serde::{Deserialize, Deserializer, Serializer};
        pub(crate) fn serialize<S: Serializer>(
            v: &Option<Vec<u8>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                data_encoding::BASE64
                    .decode(s.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// A 64-byte signature as standard base64 inside JSON.
mod b64_sig {
    use serde::{Deserialize, Deserializer, Serializer};
    pub(crate) fn serialize<S: Serializer>(v: &Option<[u8; 64]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&data_encoding::BASE64.encode(b)),
            None => s.serialize_none(),
        }
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; 64]>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let v = data_encoding::BASE64
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        <[u8; 64]>::try_from(v.as_slice())
            .map(Some)
            .map_err(|_| serde::de::Error::custom("a signature is 64 bytes"))
    }
}

/// What an expiry action retires. Time is never trusted for a rule: an honest node publishes
/// the expiry once its own clock passes the time the signed object names, and from then on the
/// expiry is causal like every other governance fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum ExpireTarget {
    /// A device whose certificate carries an expiry: acts as a revocation of the device.
    Device {
        /// The device.
        device: DeviceId,
    },
    /// An invitation of the expiring member (the action's author is the inviter): joins that
    /// use it and do not causally follow the expiry are void.
    Invitation {
        /// The invitation's nonce (hex).
        #[serde(with = "hex16")]
        nonce: [u8; 16],
    },
    /// An endorsement (by content id) that carries an expiry: it stops counting.
    Endorsement {
        /// Content id of the endorsement envelope.
        id: ContentId,
    },
}

/// 16 bytes as lower-case hex inside JSON.
mod hex16 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub(crate) fn serialize<S: Serializer>(v: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(v))
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let s = String::deserialize(d)?;
        let v = data_encoding::HEXLOWER
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)?;
        <[u8; 16]>::try_from(v.as_slice()).map_err(|_| serde::de::Error::custom("16 bytes"))
    }
}

/// Channel settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSettings {
    /// Display title.
    pub title: String,
    /// What the channel is for.
    pub description: String,
    /// Only founders and moderators may post (replies and reactions stay open).
    pub announce: bool,
    /// Closed: nobody posts any more.
    pub archived: bool,
}

/// What a change does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum Action {
    /// Ask to join (or join, if the policy admits). Carries the device certificate when the
    /// device is not the member's root key, and an invitation when there is one.
    #[serde(rename = "member.join")]
    Join {
        /// Device certificate envelope.
        #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
        cert: Option<Vec<u8>>,
        /// Invitation envelope.
        #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
        invitation: Option<Vec<u8>>,
        /// For a bearer invitation: the bearer key's signature over the joiner's member id
        /// (proof of possession of the invite code's secret).
        #[serde(default, with = "b64_sig", skip_serializing_if = "Option::is_none")]
        proof: Option<[u8; 64]>,
    },
    /// Admit a member by hand.
    #[serde(rename = "member.admit")]
    Admit {
        /// Who.
        member: MemberId,
    },
    /// Remove a member.
    #[serde(rename = "member.remove")]
    Remove {
        /// Who.
        member: MemberId,
        /// Why.
        reason: String,
        /// The member's content writes the remover had seen.
        #[serde(default, skip_serializing_if = "Cut::is_empty")]
        cut: Cut,
    },
    /// Leave the community.
    #[serde(rename = "member.leave")]
    Leave,
    /// Give a member a role.
    #[serde(rename = "member.role")]
    SetRole {
        /// Who.
        member: MemberId,
        /// The role.
        role: Role,
        /// For a role that takes permissions away: the member's content writes the setter had
        /// seen.
        #[serde(default, skip_serializing_if = "Cut::is_empty")]
        cut: Cut,
    },
    /// Define (or redefine) a custom role.
    #[serde(rename = "role.define")]
    DefineRole {
        /// Role name.
        name: String,
        /// What it may do.
        perms: BTreeSet<Perm>,
    },
    /// Change the admission policy.
    #[serde(rename = "policy.set")]
    SetPolicy {
        /// The new policy.
        policy: AdmissionPolicy,
    },
    /// Change name and description.
    #[serde(rename = "meta.set")]
    SetMeta {
        /// Name.
        name: String,
        /// Description.
        description: String,
    },
    /// Create or change a channel.
    #[serde(rename = "channel.set")]
    SetChannel {
        /// Which.
        channel: ChannelId,
        /// Its settings.
        settings: ChannelSettings,
    },
    /// Link a device to its member (certificate signed by the member's root).
    #[serde(rename = "device.link")]
    LinkDevice {
        /// Device certificate envelope.
        #[serde(with = "b64")]
        cert: Vec<u8>,
    },
    /// Revoke a device (revocation signed by the member's root).
    #[serde(rename = "device.revoke")]
    RevokeDevice {
        /// Revocation envelope.
        #[serde(with = "b64")]
        revocation: Vec<u8>,
        /// The device's content writes the member had seen.
        #[serde(default, skip_serializing_if = "Cut::is_empty")]
        cut: Cut,
    },
    /// Retire something whose signed expiry time has passed on the author's clock.
    #[serde(rename = "expire")]
    Expire {
        /// What.
        target: ExpireTarget,
        /// For a device: its content writes the author had seen.
        #[serde(default, skip_serializing_if = "Cut::is_empty")]
        cut: Cut,
    },
    /// Evidence that a device signed two different changes with one sequence number in one
    /// document: both signed changes. The device's writes in that document from that sequence
    /// number on are void on every node that holds the evidence.
    #[serde(rename = "device.equivocation")]
    Equivocation {
        /// The document (text form).
        doc: String,
        /// One change.
        #[serde(with = "b64")]
        a: Vec<u8>,
        /// Its signature.
        #[serde(with = "b64")]
        a_sig: Vec<u8>,
        /// The other change.
        #[serde(with = "b64")]
        b: Vec<u8>,
        /// Its signature.
        #[serde(with = "b64")]
        b_sig: Vec<u8>,
    },
    /// Publish an endorsement in this community.
    #[serde(rename = "endorse")]
    Endorse {
        /// Endorsement envelope.
        #[serde(with = "b64")]
        endorsement: Vec<u8>,
    },
    /// Hide a post (moderation).
    #[serde(rename = "post.hide")]
    Hide {
        /// Which post.
        post: PostId,
        /// Why.
        reason: String,
    },
    /// Undo a hide.
    #[serde(rename = "post.unhide")]
    Unhide {
        /// Which post.
        post: PostId,
    },
    /// Pin a post at the top of its channel, or unpin it (moderation).
    #[serde(rename = "post.pin")]
    Pin {
        /// Which post.
        post: PostId,
        /// Pin (true) or unpin.
        on: bool,
    },
    /// Write one's profile (data in the slot's `profile` section).
    #[serde(rename = "profile.set")]
    Profile,
    /// Follow or unfollow a member (data in the slot's `follows` section).
    #[serde(rename = "follow")]
    Follow {
        /// Whom.
        member: MemberId,
        /// Follow (true) or unfollow.
        on: bool,
    },
    /// Write a new post or reply (data in the slot's `posts` section).
    #[serde(rename = "post.create")]
    Post {
        /// Its key.
        key: String,
    },
    /// Edit one's post.
    #[serde(rename = "post.edit")]
    Edit {
        /// Its key.
        key: String,
    },
    /// Delete one's post.
    #[serde(rename = "post.delete")]
    Delete {
        /// Its key.
        key: String,
    },
    /// React to a post (data in the slot's `reactions` section).
    #[serde(rename = "react")]
    React {
        /// Which post.
        post: PostId,
        /// The reaction.
        emoji: String,
        /// Add (true) or take back.
        on: bool,
    },
    /// Set the market policy (who may trade; see `docs/market.md`).
    #[serde(rename = "market.policy")]
    MarketPolicy {
        /// The new policy.
        policy: MarketPolicy,
    },
    /// Create or replace one's listing (the whole listing).
    #[serde(rename = "listing.set")]
    ListingSet {
        /// Which (its owner must be the author).
        id: ListingId,
        /// The listing (boxed: it is the largest action).
        listing: Box<Listing>,
    },
    /// Hide a listing (moderation).
    #[serde(rename = "listing.hide")]
    ListingHide {
        /// Which.
        id: ListingId,
        /// Why.
        reason: String,
    },
    /// Undo a listing's hide.
    #[serde(rename = "listing.unhide")]
    ListingUnhide {
        /// Which.
        id: ListingId,
    },
    /// Propose a deal about someone's listing (fields flat in the message; boxed here).
    #[serde(rename = "deal.propose")]
    DealPropose(Box<Proposal>),
    /// Accept a proposed deal (the listing's owner).
    #[serde(rename = "deal.accept")]
    DealAccept {
        /// Which.
        deal: DealId,
    },
    /// Mark a deal delivered (the seller).
    #[serde(rename = "deal.deliver")]
    DealDeliver {
        /// Which.
        deal: DealId,
    },
    /// Mark a deal completed (the buyer).
    #[serde(rename = "deal.complete")]
    DealComplete {
        /// Which.
        deal: DealId,
    },
    /// Dispute a deal (a party; the deal has an arbiter).
    #[serde(rename = "deal.dispute")]
    DealDispute {
        /// Which.
        deal: DealId,
        /// Why.
        reason: String,
    },
    /// Resolve a disputed deal (the arbiter).
    #[serde(rename = "deal.resolve")]
    DealResolve {
        /// Which.
        deal: DealId,
        /// The decision.
        outcome: Outcome,
    },
    /// Cancel a deal, or ask (or agree) to cancel it.
    #[serde(rename = "deal.cancel")]
    DealCancel {
        /// Which.
        deal: DealId,
    },
    /// Review the other party of a completed (or resolved) deal.
    #[serde(rename = "review")]
    Review {
        /// The deal it stems from.
        deal: DealId,
        /// 1-5.
        stars: u8,
        /// Free text.
        #[serde(default)]
        text: String,
    },
    /// Set the ledger's policy (turn it on or off, name the unit, set credit limits).
    #[serde(rename = "ledger.policy")]
    LedgerPolicy {
        /// The policy.
        policy: LedgerPolicy,
    },
    /// Pay a member, or (with `deal`) hold a payment in escrow for a deal.
    #[serde(rename = "ledger.pay")]
    Pay {
        /// The payee (for escrow: the deal's seller).
        to: MemberId,
        /// How much.
        amount: u64,
        /// The payer's note.
        #[serde(default)]
        note: String,
        /// The deal the payment is held for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deal: Option<DealId>,
    },
    /// Restart a frozen account's chain (a moderator).
    #[serde(rename = "ledger.unfreeze")]
    Unfreeze {
        /// Whose account.
        member: MemberId,
    },
    /// Propose something to fund.
    #[serde(rename = "fund.propose")]
    FundPropose {
        /// Its id (the author's).
        id: FundId,
        /// The proposal.
        fund: Box<Fund>,
    },
    /// Pledge to a proposal (held from the pledger's account).
    #[serde(rename = "fund.pledge")]
    Pledge {
        /// Which.
        fund: FundId,
        /// How much.
        amount: u64,
    },
    /// Close a proposal: the pledges it saw settle.
    #[serde(rename = "fund.close")]
    FundClose {
        /// Which.
        fund: FundId,
    },
    /// Vote on a proposal.
    #[serde(rename = "vote")]
    Vote {
        /// Which.
        fund: FundId,
        /// Yes, no or abstain.
        choice: Choice,
    },
    /// Offer a bounty (its reward is held from the sponsor's account).
    #[serde(rename = "bounty.create")]
    BountyCreate {
        /// Its id (the sponsor's).
        id: BountyId,
        /// The offer.
        bounty: Box<Bounty>,
    },
    /// Claim a bounty.
    #[serde(rename = "bounty.claim")]
    BountyClaim {
        /// Which.
        id: BountyId,
    },
    /// Hand in work for a bounty.
    #[serde(rename = "bounty.submit")]
    BountySubmit {
        /// Which.
        id: BountyId,
        /// What was done.
        work: String,
    },
    /// Accept a claimant's work: the reward is paid (the sponsor).
    #[serde(rename = "bounty.accept")]
    BountyAccept {
        /// Which.
        id: BountyId,
        /// Whose work.
        claimant: MemberId,
    },
    /// Reject a claimant's work (the sponsor).
    #[serde(rename = "bounty.reject")]
    BountyReject {
        /// Which.
        id: BountyId,
        /// Whose work.
        claimant: MemberId,
    },
    /// Withdraw a bounty: the reward comes back (the sponsor).
    #[serde(rename = "bounty.cancel")]
    BountyCancel {
        /// Which.
        id: BountyId,
    },
    /// Say which governance actions the community decides by vote, and how.
    #[serde(rename = "vote.policy")]
    VotePolicy {
        /// The policy.
        policy: VotePolicy,
    },
    /// Propose a governance change for a vote.
    #[serde(rename = "motion.propose")]
    MotionPropose {
        /// Its id (the author's; shares the proposals' namespace).
        id: FundId,
        /// The change it makes once enacted.
        action: Box<Action>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// Enact a motion whose vote passed.
    #[serde(rename = "motion.enact")]
    MotionEnact {
        /// Which.
        id: FundId,
        /// For a removal or demotion: the member's content writes the enactor had seen.
        #[serde(default, skip_serializing_if = "Cut::is_empty")]
        cut: Cut,
    },
}

/// The section of a device slot an action may write, or `None` for actions that carry
/// everything in the message and must have no operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// `posts`.
    Posts,
    /// `reactions`.
    Reactions,
    /// `profile`.
    Profile,
    /// `follows`.
    Follows,
}

impl Section {
    /// The slot key of the section.
    pub fn key(self) -> &'static str {
        use super::schema::*;
        match self {
            Section::Posts => POSTS,
            Section::Reactions => REACTIONS,
            Section::Profile => PROFILE,
            Section::Follows => FOLLOWS,
        }
    }

    /// The section named by a slot key.
    pub fn from_key(k: &str) -> Option<Section> {
        [
            Section::Posts,
            Section::Reactions,
            Section::Profile,
            Section::Follows,
        ]
        .into_iter()
        .find(|s| s.key() == k)
    }
}

impl Action {
    /// The stable tag (`"post.create"`).
    pub fn tag(&self) -> &'static str {
        match self {
            Action::Join { .. } => "member.join",
            Action::Admit { .. } => "member.admit",
            Action::Remove { .. } => "member.remove",
            Action::Leave => "member.leave",
            Action::SetRole { .. } => "member.role",
            Action::DefineRole { .. } => "role.define",
            Action::SetPolicy { .. } => "policy.set",
            Action::SetMeta { .. } => "meta.set",
            Action::SetChannel { .. } => "channel.set",
            Action::LinkDevice { .. } => "device.link",
            Action::RevokeDevice { .. } => "device.revoke",
            Action::Expire { .. } => "expire",
            Action::Equivocation { .. } => "device.equivocation",
            Action::Endorse { .. } => "endorse",
            Action::Hide { .. } => "post.hide",
            Action::Unhide { .. } => "post.unhide",
            Action::Pin { .. } => "post.pin",
            Action::Profile => "profile.set",
            Action::Follow { .. } => "follow",
            Action::Post { .. } => "post.create",
            Action::Edit { .. } => "post.edit",
            Action::Delete { .. } => "post.delete",
            Action::React { .. } => "react",
            Action::MarketPolicy { .. } => "market.policy",
            Action::ListingSet { .. } => "listing.set",
            Action::ListingHide { .. } => "listing.hide",
            Action::ListingUnhide { .. } => "listing.unhide",
            Action::DealPropose(_) => "deal.propose",
            Action::DealAccept { .. } => "deal.accept",
            Action::DealDeliver { .. } => "deal.deliver",
            Action::DealComplete { .. } => "deal.complete",
            Action::DealDispute { .. } => "deal.dispute",
            Action::DealResolve { .. } => "deal.resolve",
            Action::DealCancel { .. } => "deal.cancel",
            Action::Review { .. } => "review",
            Action::LedgerPolicy { .. } => "ledger.policy",
            Action::Pay { .. } => "ledger.pay",
            Action::Unfreeze { .. } => "ledger.unfreeze",
            Action::FundPropose { .. } => "fund.propose",
            Action::Pledge { .. } => "fund.pledge",
            Action::FundClose { .. } => "fund.close",
            Action::Vote { .. } => "vote",
            Action::BountyCreate { .. } => "bounty.create",
            Action::BountyClaim { .. } => "bounty.claim",
            Action::BountySubmit { .. } => "bounty.submit",
            Action::BountyAccept { .. } => "bounty.accept",
            Action::BountyReject { .. } => "bounty.reject",
            Action::BountyCancel { .. } => "bounty.cancel",
            Action::VotePolicy { .. } => "vote.policy",
            Action::MotionPropose { .. } => "motion.propose",
            Action::MotionEnact { .. } => "motion.enact",
        }
    }

    /// Whether the action belongs to the market (`docs/market.md`).
    pub fn is_market(&self) -> bool {
        self.tag().starts_with("market.")
            || self.tag().starts_with("listing.")
            || self.tag().starts_with("deal.")
            || matches!(self, Action::Review { .. })
    }

    /// Whether the action trades (what a market policy lets a member do): writing a listing,
    /// proposing or accepting a deal. A revocation of the right to trade voids these.
    pub fn is_trade(&self) -> bool {
        matches!(
            self,
            Action::ListingSet { .. } | Action::DealPropose(_) | Action::DealAccept { .. }
        )
    }

    /// Whether the action belongs to the ledger, proposals, bounties or votes
    /// (`docs/ledger.md`).
    pub fn is_ledger(&self) -> bool {
        let t = self.tag();
        t.starts_with("ledger.")
            || t.starts_with("fund.")
            || t.starts_with("bounty.")
            || t == "vote"
    }

    /// For an action that takes money from its author's account (a payment, a pledge, a
    /// bounty's reward): the amount.
    pub fn debit(&self) -> Option<u64> {
        match self {
            Action::Pay { amount, .. } | Action::Pledge { amount, .. } => Some(*amount),
            Action::BountyCreate { bounty, .. } => Some(bounty.reward),
            _ => None,
        }
    }

    /// For a bounty step after its creation: the bounty and the step.
    pub fn bounty_step(&self) -> Option<(&BountyId, BountyStep)> {
        Some(match self {
            Action::BountyClaim { id } => (id, BountyStep::Claim),
            Action::BountySubmit { id, work } => (id, BountyStep::Submit { work: work.clone() }),
            Action::BountyAccept { id, claimant } => (
                id,
                BountyStep::Accept {
                    claimant: *claimant,
                },
            ),
            Action::BountyReject { id, claimant } => (
                id,
                BountyStep::Reject {
                    claimant: *claimant,
                },
            ),
            Action::BountyCancel { id } => (id, BountyStep::Cancel),
            _ => return None,
        })
    }

    /// For a deal step after the proposal: the deal and the step.
    pub fn deal_step(&self) -> Option<(&DealId, Step)> {
        Some(match self {
            Action::DealAccept { deal } => (deal, Step::Accept),
            Action::DealDeliver { deal } => (deal, Step::Deliver),
            Action::DealComplete { deal } => (deal, Step::Complete),
            Action::DealDispute { deal, reason } => (
                deal,
                Step::Dispute {
                    reason: reason.clone(),
                },
            ),
            Action::DealResolve { deal, outcome } => (deal, Step::Resolve { outcome: *outcome }),
            Action::DealCancel { deal } => (deal, Step::Cancel),
            _ => return None,
        })
    }

    /// Whether the action belongs in the governance document (else in a content document).
    pub fn is_governance(&self) -> bool {
        !matches!(
            self,
            Action::Post { .. }
                | Action::Edit { .. }
                | Action::Delete { .. }
                | Action::React { .. }
        )
    }

    /// The slot section the action writes, if it writes data.
    pub fn section(&self) -> Option<Section> {
        match self {
            Action::Profile => Some(Section::Profile),
            Action::Follow { .. } => Some(Section::Follows),
            Action::Post { .. } | Action::Edit { .. } | Action::Delete { .. } => {
                Some(Section::Posts)
            }
            Action::React { .. } => Some(Section::Reactions),
            _ => None,
        }
    }

    /// Rules on the action's own fields.
    pub fn check(&self) -> Result<()> {
        let text = |what: &'static str, s: &str| {
            if s.len() > MAX_ACTION_TEXT {
                Err(Error::decode(
                    "action",
                    format!("{what} longer than {MAX_ACTION_TEXT} bytes"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Action::Remove { reason, .. } | Action::Hide { reason, .. } => text("reason", reason),
            Action::SetMeta { name, description } => {
                if name.trim().is_empty() || name.len() > super::genesis::MAX_NAME {
                    return Err(Error::decode("action", "name must be 1-80 bytes"));
                }
                text("description", description)
            }
            Action::SetChannel { settings, .. } => {
                if settings.title.len() > 80 {
                    return Err(Error::decode(
                        "action",
                        "channel title longer than 80 bytes",
                    ));
                }
                text("description", &settings.description)
            }
            Action::DefineRole { name, .. } => Role::custom(name).map(|_| ()),
            Action::SetRole { role, .. } if *role == Role::Founder => {
                Err(Error::decode("action", "founders are fixed by the genesis"))
            }
            Action::SetPolicy { policy } => policy.check(),
            Action::React { emoji, .. } => {
                if emoji.is_empty() || emoji.len() > MAX_EMOJI {
                    Err(Error::decode("action", "reaction must be 1-32 bytes"))
                } else {
                    Ok(())
                }
            }
            Action::MarketPolicy { policy } => policy.check(),
            Action::ListingSet { id, listing } => {
                id.check()?;
                listing.check()
            }
            Action::ListingHide { id, reason } => {
                id.check()?;
                text("reason", reason)
            }
            Action::ListingUnhide { id } => id.check(),
            Action::DealPropose(p) => {
                let Proposal {
                    deal,
                    listing,
                    quantity,
                    terms,
                    ..
                } = &**p;
                deal.check()?;
                listing.check()?;
                crate::market::listing::check_quantity(*quantity)?;
                if terms.len() > crate::market::deal::MAX_TERMS {
                    return Err(Error::TooLarge {
                        what: "deal terms",
                        limit: crate::market::deal::MAX_TERMS,
                        actual: terms.len(),
                    });
                }
                Ok(())
            }
            Action::DealDispute { deal, reason } => {
                deal.check()?;
                if reason.len() > crate::market::deal::MAX_DISPUTE_REASON {
                    return Err(Error::TooLarge {
                        what: "dispute reason",
                        limit: crate::market::deal::MAX_DISPUTE_REASON,
                        actual: reason.len(),
                    });
                }
                Ok(())
            }
            Action::DealResolve { deal, outcome } => {
                deal.check()?;
                outcome.check()
            }
            Action::DealAccept { deal }
            | Action::DealDeliver { deal }
            | Action::DealComplete { deal }
            | Action::DealCancel { deal } => deal.check(),
            Action::Review { deal, stars, text } => {
                deal.check()?;
                crate::market::review::check(*stars, text)
            }
            Action::LedgerPolicy { policy } => policy.check(),
            Action::Pay {
                amount, note, deal, ..
            } => {
                crate::ledger::check_amount("amount", *amount)?;
                crate::ledger::check_text("note", note, crate::ledger::MAX_NOTE, false)?;
                deal.as_ref().map_or(Ok(()), |d| d.check())
            }
            Action::FundPropose { id, fund } => {
                id.check()?;
                fund.check()
            }
            Action::Pledge { fund, amount } => {
                fund.check()?;
                crate::ledger::check_amount("amount", *amount)
            }
            Action::FundClose { fund } | Action::Vote { fund, .. } => fund.check(),
            Action::BountyCreate { id, bounty } => {
                id.check()?;
                bounty.check()
            }
            Action::BountySubmit { id, work } => {
                id.check()?;
                crate::ledger::check_text("work", work, crate::ledger::bounty::MAX_WORK, true)
            }
            Action::VotePolicy { policy } => policy.check(),
            Action::MotionPropose { id, action, reason } => {
                id.check()?;
                crate::ledger::motion::check(action, reason)
            }
            Action::MotionEnact { id, .. } => id.check(),
            Action::BountyClaim { id }
            | Action::BountyAccept { id, .. }
            | Action::BountyReject { id, .. }
            | Action::BountyCancel { id } => id.check(),
            Action::Post { key } | Action::Edit { key } | Action::Delete { key } => {
                let ok = !key.is_empty()
                    && key.len() <= crate::ids::MAX_POST_KEY
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if ok {
                    Ok(())
                } else {
                    Err(Error::decode("action", "post key must be 1-40 of [a-z0-9]"))
                }
            }
            _ => Ok(()),
        }
    }
}

/// The message of every qun change (JSON): version, action, cited governance heads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeMeta {
    /// Format version ([`META_VERSION`]).
    pub v: u8,
    /// The action.
    pub a: Action,
    /// Governance heads the change was authorized against (content documents only; a
    /// governance change is authorized at its own dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub g: Vec<String>,
}

impl ChangeMeta {
    /// Encode as the change message.
    pub fn encode(action: &Action, gov_heads: &[Hash]) -> String {
        let meta = ChangeMeta {
            v: META_VERSION,
            a: action.clone(),
            g: gov_heads.iter().map(|h| h.to_string()).collect(),
        };
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(&meta).unwrap_or_default()
    }

    /// Decode a change message: the action and the cited heads.
    pub fn decode(message: Option<&str>) -> Result<(Action, Vec<Hash>)> {
        let m = message.ok_or_else(|| Error::decode("change message", "missing"))?;
        let meta: ChangeMeta =
            serde_json::from_str(m).map_err(|e| Error::decode("change message", e))?;
        if meta.v != META_VERSION {
            return Err(Error::Version {
                what: "change message",
                version: meta.v,
            });
        }
        if meta.g.len() > MAX_CITED_HEADS {
            return Err(Error::TooLarge {
                what: "cited governance heads",
                limit: MAX_CITED_HEADS,
                actual: meta.g.len(),
            });
        }
        meta.a.check()?;
        let mut heads = meta
            .g
            .iter()
            .map(|s| crate::ids::parse_hash(s))
            .collect::<Result<Vec<_>>>()?;
        heads.sort();
        heads.dedup();
        Ok((meta.a, heads))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trip() {
        let a = Action::React {
            post: "general/1/abc".parse().unwrap(),
            emoji: "👍".into(),
            on: true,
        };
        let h = automerge::ChangeHash([7; 32]);
        let m = ChangeMeta::encode(&a, &[h]);
        assert!(m.contains("\"t\":\"react\""), "{m}");
        assert_eq!(ChangeMeta::decode(Some(&m)).unwrap(), (a, vec![h]));
        assert!(ChangeMeta::decode(None).is_err());
        assert!(ChangeMeta::decode(Some("{\"v\":9,\"a\":{\"t\":\"member.leave\"}}")).is_err());
        assert!(ChangeMeta::decode(Some("{\"v\":1,\"a\":{\"t\":\"nope\"}}")).is_err());
        let j = Action::Join {
            cert: Some(vec![1, 2, 3]),
            invitation: None,
            proof: Some([9; 64]),
        };
        let m = ChangeMeta::encode(&j, &[]);
        assert_eq!(ChangeMeta::decode(Some(&m)).unwrap().0, j);
    }
}
