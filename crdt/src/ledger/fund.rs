//! Crowdfunding proposals and the votes on them.
//!
//! A proposal names a goal, a deadline and a recipient; members pledge amounts (each pledge
//! is a hold on the pledger's account, judged by the [`super::book`]). The proposal ends with
//! a signed `fund.close`: by its author or its recipient at any time, by any other member
//! once the close's own timestamp is past the deadline. Deadlines are judged as causality:
//! a pledge counts only if it is in the causal past of every close, so a pledge backdated to
//! before a close it did not see is void, whatever time it claims. A proposal that carries a
//! [`VoteRule`] is funded only if the vote passes too (votes counted the same way: in the
//! past of every close).

use super::{check_amount, check_text, field};
use crate::error::Result;
use qun_identity::{MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest proposal or bounty title, bytes.
pub const MAX_TITLE: usize = 200;
/// Longest proposal or bounty description (Markdown), bytes.
pub const MAX_DESCRIPTION: usize = 8 * 1024;

/// A crowdfunding proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fund {
    /// Title: 1-200 bytes.
    pub title: String,
    /// Description (Markdown): ≤ 8 KiB.
    #[serde(default)]
    pub description: String,
    /// The amount to reach.
    pub goal: u64,
    /// After this (the closer's clock), any member may close it.
    pub deadline: Timestamp,
    /// Who receives the pledges if it is funded.
    pub recipient: MemberId,
    /// When set, the proposal is also voted on and funded only if the vote passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<VoteRule>,
}

impl Fund {
    /// Rules on the proposal's own fields.
    pub fn check(&self) -> Result<()> {
        check_text("title", &self.title, MAX_TITLE, true)?;
        check_text("description", &self.description, MAX_DESCRIPTION, false)?;
        check_amount("goal", self.goal)?;
        if let Some(v) = &self.vote {
            v.check()?;
        }
        Ok(())
    }
}

/// How votes weigh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Weighting {
    /// One member, one vote.
    Equal,
    /// By trust from the founders' point of view (8 for founders and those they endorse,
    /// halved per further step, at least 1 for members the trust flow admits, 0 for the
    /// others), no member above `cap_permille` of the total weight.
    Trust {
        /// The largest share one member's vote may have, per mille (1-1000).
        cap_permille: u16,
    },
}

/// The rules of a vote, as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRule {
    /// How votes weigh.
    pub weighting: Weighting,
    /// The share of the eligible weight that must vote (abstentions count), per mille.
    pub quorum_permille: u16,
    /// The vote passes when yes is more than this share of yes + no, per mille (500: a
    /// majority).
    pub threshold_permille: u16,
}

impl VoteRule {
    /// Rules of the rule itself.
    pub fn check(&self) -> Result<()> {
        if self.quorum_permille > 1000 || self.threshold_permille >= 1000 {
            return Err(field(
                "vote rule",
                "quorum 0-1000 and threshold 0-999 per mille",
            ));
        }
        if let Weighting::Trust { cap_permille } = self.weighting
            && (cap_permille == 0 || cap_permille > 1000)
        {
            return Err(field("vote rule", "cap 1-1000 per mille"));
        }
        Ok(())
    }
}

/// A vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// For.
    Yes,
    /// Against.
    No,
    /// Counts towards the quorum only.
    Abstain,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        })
    }
}

impl std::str::FromStr for Choice {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "yes" => Ok(Choice::Yes),
            "no" => Ok(Choice::No),
            "abstain" => Ok(Choice::Abstain),
            _ => Err(field("vote", "yes, no or abstain")),
        }
    }
}

/// Where a proposal stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum FundOutcome {
    /// Not closed: pledges are held.
    Open,
    /// Closed with the goal met (and the vote passed): the pledges went to the recipient.
    Funded,
    /// Closed short of the goal, or the vote failed: the pledges went back.
    Failed {
        /// Why, in words.
        reason: String,
    },
}
