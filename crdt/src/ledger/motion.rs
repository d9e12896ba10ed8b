//! Governance changes the community decides by vote ("motions").
//!
//! A `vote.policy` (itself a governance change, needing the `policy` permission — or a vote,
//! once it names itself) lists the governance actions the community decides by vote and the
//! rule of those votes. From then on such an action made directly is refused on every node;
//! a member proposes it as a motion (`motion.propose`, carrying the whole action), members
//! `vote`, and any member enacts it (`motion.enact`) once the tally at the enactment's own
//! dependencies passes: the enactment then writes exactly what the action writes, with the
//! founders' authority, and revokes what it revokes. Votes the enactment did not see do not
//! count; an enactment whose tally does not pass is refused; a motion is enacted once.

use super::fund::{MAX_DESCRIPTION, VoteRule};
use super::{check_text, field};
use crate::error::Result;
use crate::model::action::Action;
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Governance actions a motion may carry (those that act on the community as a whole, with
/// no key material or device proofs in them).
pub const MOTION_TAGS: [&str; 10] = [
    "policy.set",
    "member.remove",
    "member.role",
    "member.admit",
    "role.define",
    "meta.set",
    "channel.set",
    "market.policy",
    "ledger.policy",
    "vote.policy",
];

/// Which governance actions need a vote, and how votes are counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotePolicy {
    /// Action tags decided by vote (a subset of [`MOTION_TAGS`]).
    pub voted: BTreeSet<String>,
    /// The rule of those votes.
    pub rule: VoteRule,
}

impl VotePolicy {
    /// Rules of the policy itself.
    pub fn check(&self) -> Result<()> {
        self.rule.check()?;
        if let Some(t) = self
            .voted
            .iter()
            .find(|t| !MOTION_TAGS.contains(&t.as_str()))
        {
            return Err(field(
                "vote policy",
                format!(
                    "{t} cannot be decided by vote (one of {})",
                    MOTION_TAGS.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Whether an action needs a vote.
    pub fn needs_vote(&self, a: &Action) -> bool {
        self.voted.contains(a.tag())
    }
}

/// A proposed governance change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Motion {
    /// Who proposed it.
    pub proposer: MemberId,
    /// What it does once enacted.
    pub action: Action,
    /// Why (Markdown).
    pub reason: String,
    /// The vote rule when it was proposed.
    pub rule: VoteRule,
}

/// Rules on a motion's own fields: a carried action of the allowed kinds, itself valid.
pub fn check(action: &Action, reason: &str) -> Result<()> {
    check_text("reason", reason, MAX_DESCRIPTION, false)?;
    if !MOTION_TAGS.contains(&action.tag()) {
        return Err(field(
            "motion",
            format!("{} cannot be proposed as a motion", action.tag()),
        ));
    }
    action.check()
}
