//! Bounties: a task with a reward held from the sponsor's account when the bounty is
//! created. Members claim it, submit their work, and the sponsor accepts one submission (the
//! reward goes to that claimant) or rejects it (the bounty stays open); the sponsor may cancel
//! a bounty nobody's work was accepted for (the reward comes back).
//!
//! ```text
//! open ──claim──▶ (claims: claimed ──submit──▶ submitted ──accept──▶ accepted: paid)
//!   │                         └──────reject◀──────┘
//!   └──cancel (sponsor)──▶ cancelled: refunded
//! ```
//!
//! One claimant at a time unless the bounty says `several`. Each step writes the whole state;
//! concurrent steps resolve like deals: `accepted` over `cancelled` over anything else (both
//! are the sponsor's own signatures, and the one that pays for delivered work wins), then the
//! greatest `(lamport, hash)`. A step is judged at the bounty's state at its dependencies.

use super::fund::{MAX_DESCRIPTION, MAX_TITLE};
use super::{check_amount, check_text};
use crate::error::{Error, Result};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest description of submitted work, bytes.
pub const MAX_WORK: usize = 2_000;
/// Most claims one bounty keeps.
pub const MAX_CLAIMS: usize = 64;

/// What a sponsor offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounty {
    /// Title: 1-200 bytes.
    pub title: String,
    /// The task (Markdown): ≤ 8 KiB.
    #[serde(default)]
    pub description: String,
    /// The reward, held from the sponsor's account.
    pub reward: u64,
    /// Whether several members may work on it at once (the sponsor accepts one).
    #[serde(default)]
    pub several: bool,
    /// Paid from a funded proposal whose recipient is the sponsor: the reward is held from the
    /// money the proposal brought (rewards of all bounties funded by one proposal stay within
    /// what it raised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funded_by: Option<super::FundId>,
}

impl Bounty {
    /// Rules on the bounty's own fields.
    pub fn check(&self) -> Result<()> {
        check_text("title", &self.title, MAX_TITLE, true)?;
        check_text("description", &self.description, MAX_DESCRIPTION, false)?;
        if let Some(f) = &self.funded_by {
            f.check()?;
        }
        check_amount("reward", self.reward)
    }
}

/// Where a bounty stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum BountyStatus {
    /// Open for claims and work.
    Open,
    /// The sponsor accepted this claimant's work: the reward is paid.
    Accepted {
        /// Who was paid.
        claimant: MemberId,
    },
    /// The sponsor cancelled it: the reward came back.
    Cancelled,
}

/// One member's claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Claim {
    /// Working on it.
    Claimed,
    /// Work handed in.
    Submitted {
        /// What was done (text, a link).
        work: String,
    },
    /// The sponsor rejected the work.
    Rejected,
}

/// A bounty's whole state (what each step writes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BountyState {
    /// Who offers it (pays the reward).
    pub sponsor: MemberId,
    /// The offer.
    pub bounty: Bounty,
    /// Where it stands.
    pub status: BountyStatus,
    /// Claims by member.
    pub claims: BTreeMap<MemberId, Claim>,
}

/// A step after creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BountyStep {
    /// Start working on it.
    Claim,
    /// Hand in work.
    Submit {
        /// What was done.
        work: String,
    },
    /// Pay this claimant (the sponsor).
    Accept {
        /// Whose work.
        claimant: MemberId,
    },
    /// Reject this claimant's work (the sponsor).
    Reject {
        /// Whose work.
        claimant: MemberId,
    },
    /// Withdraw the bounty (the sponsor).
    Cancel,
}

impl BountyStep {
    fn tag(&self) -> &'static str {
        match self {
            BountyStep::Claim => "bounty.claim",
            BountyStep::Submit { .. } => "bounty.submit",
            BountyStep::Accept { .. } => "bounty.accept",
            BountyStep::Reject { .. } => "bounty.reject",
            BountyStep::Cancel => "bounty.cancel",
        }
    }
}

/// Order of concurrent bounty states: paid over cancelled over open.
pub fn concurrency_rank(s: &BountyStatus) -> u8 {
    match s {
        BountyStatus::Accepted { .. } => 2,
        BountyStatus::Cancelled => 1,
        BountyStatus::Open => 0,
    }
}

impl BountyState {
    /// A new bounty.
    pub fn new(sponsor: MemberId, bounty: Bounty) -> Self {
        BountyState {
            sponsor,
            bounty,
            status: BountyStatus::Open,
            claims: BTreeMap::new(),
        }
    }

    /// The state after `who` makes `step`, or the rule that refuses it.
    pub fn step(&self, who: &MemberId, step: &BountyStep) -> Result<BountyState> {
        let deny = |reason: &str| Err(Error::unauthorized(who, step.tag(), reason));
        if self.status != BountyStatus::Open {
            return deny("the bounty is closed");
        }
        let mut next = self.clone();
        match step {
            BountyStep::Claim => {
                if *who == self.sponsor {
                    return deny("a sponsor does not claim its own bounty");
                }
                let active = |c: &Claim| matches!(c, Claim::Claimed | Claim::Submitted { .. });
                if self.claims.get(who).is_some_and(active) {
                    return deny("already claimed");
                }
                if !self.bounty.several && self.claims.values().any(active) {
                    return deny("someone else is working on it (one claimant at a time)");
                }
                if self.claims.len() >= MAX_CLAIMS && !self.claims.contains_key(who) {
                    return deny("too many claims");
                }
                next.claims.insert(*who, Claim::Claimed);
            }
            BountyStep::Submit { work } => {
                check_text("work", work, MAX_WORK, true)?;
                if !matches!(self.claims.get(who), Some(Claim::Claimed)) {
                    return deny("only a claimant who has not handed in yet submits");
                }
                next.claims
                    .insert(*who, Claim::Submitted { work: work.clone() });
            }
            BountyStep::Accept { claimant } => {
                if *who != self.sponsor {
                    return deny("only the sponsor accepts work");
                }
                if !matches!(self.claims.get(claimant), Some(Claim::Submitted { .. })) {
                    return deny("this member has not handed in work");
                }
                next.status = BountyStatus::Accepted {
                    claimant: *claimant,
                };
            }
            BountyStep::Reject { claimant } => {
                if *who != self.sponsor {
                    return deny("only the sponsor rejects work");
                }
                if !matches!(
                    self.claims.get(claimant),
                    Some(Claim::Claimed | Claim::Submitted { .. })
                ) {
                    return deny("this member has no claim to reject");
                }
                next.claims.insert(*claimant, Claim::Rejected);
            }
            BountyStep::Cancel => {
                if *who != self.sponsor {
                    return deny("only the sponsor cancels a bounty");
                }
                next.status = BountyStatus::Cancelled;
            }
        }
        Ok(next)
    }
}
