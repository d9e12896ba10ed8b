//! Motions over the API (issue 16, "votes on governance"): which governance changes the
//! community decides by vote (`…/ledger/voting`), proposing one (`…/ledger/motions`), and
//! enacting one whose vote passed (`…/ledger/motions/enact`). Votes go through
//! `…/ledger/proposals/vote`: motions share the proposals' ids.

use super::ledger::{DEFAULT_CAP_PERCENT, DEFAULT_THRESHOLD_PERCENT, fund_id, percent};
use super::market::{fresh_key, invalid, loose};
use super::request::IntoEdit;
use crate::error::Result;
use qun_crdt::ledger::motion::MOTION_TAGS;
use qun_crdt::ledger::view::MotionView;
use qun_crdt::ledger::{FundId, VotePolicy, VoteRule, Weighting};
use qun_crdt::{Action, Edit};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};

const VOTE_HINT: &str = "quorum, threshold and cap are percentages, 0-100";

/// Say which governance changes need a vote, and how votes count (`POST …/ledger/voting`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VotingRequest {
    /// Action tags, comma-separated (`policy.set,member.remove`); empty: nothing is voted.
    #[serde(default)]
    pub tags: String,
    /// `equal` (one member one vote) or `trust` (weighted by trust from the founders).
    #[serde(default)]
    pub vote: String,
    /// The share of the eligible weight that must vote, percent (default 50).
    #[serde(default, deserialize_with = "loose")]
    pub quorum: String,
    /// The share of yes (of yes + no) a vote must exceed, percent (default 50).
    #[serde(default, deserialize_with = "loose")]
    pub threshold: String,
    /// Under trust weighting, the largest share one member's vote may have, percent.
    #[serde(default, deserialize_with = "loose")]
    pub cap: String,
}

impl IntoEdit for VotingRequest {
    fn into_edit(self) -> Result<Edit> {
        let voted = self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                if MOTION_TAGS.contains(&t) {
                    Ok(t.to_string())
                } else {
                    Err(invalid(
                        format!("{t} cannot be decided by vote"),
                        "choose among policy.set, member.remove, member.role, member.admit, \
                         role.define, meta.set, channel.set, market.policy, ledger.policy, \
                         vote.policy",
                    ))
                }
            })
            .collect::<Result<_>>()?;
        let weighting = match self.vote.trim() {
            "" | "equal" => Weighting::Equal,
            "trust" => Weighting::Trust {
                cap_permille: percent("cap", &self.cap, DEFAULT_CAP_PERCENT, VOTE_HINT)?.max(1)
                    * 10,
            },
            other => {
                return Err(invalid(
                    format!("not a way of voting: {other:?}"),
                    "vote is equal (one member one vote) or trust (weighted by trust from the founders)",
                ));
            }
        };
        let rule = VoteRule {
            weighting,
            quorum_permille: percent("quorum", &self.quorum, 50, VOTE_HINT)? * 10,
            threshold_permille: percent(
                "threshold",
                &self.threshold,
                DEFAULT_THRESHOLD_PERCENT,
                VOTE_HINT,
            )?
            .min(99)
                * 10,
        };
        Ok(Edit::Govern(Action::VotePolicy {
            policy: VotePolicy { voted, rule },
        }))
    }
}

/// Propose a governance change for a vote (`POST …/ledger/motions`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MotionRequest {
    /// Its key; a new one when empty.
    #[serde(default)]
    pub key: String,
    /// The governance action, as a change message carries it
    /// (`{"t":"policy.set","policy":"invite"}`).
    pub action: serde_json::Value,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

impl MotionRequest {
    /// The motion's id (mine) and the edit that makes it.
    pub fn into_edit_as(self, author: MemberId, now_ms: u64) -> Result<(FundId, Edit)> {
        let action: Action = serde_json::from_value(self.action).map_err(|e| {
            invalid(
                format!("not a governance action: {e}"),
                "an action is written as a change message carries it, e.g. {\"t\":\"policy.set\",\"policy\":\"invite\"}",
            )
        })?;
        let key = match self.key.trim() {
            "" => fresh_key(action.tag(), now_ms),
            k => k.to_string(),
        };
        let id = FundId::new(author, &key).map_err(|e| {
            invalid(
                e.to_string(),
                "a motion key is 1-40 of [a-z0-9-]; leave it out for a new one",
            )
        })?;
        Ok((
            id.clone(),
            Edit::Govern(Action::MotionPropose {
                id,
                action: Box::new(action),
                reason: self.reason.trim_end().to_string(),
            }),
        ))
    }
}

/// Enact a motion whose vote passed (`POST …/ledger/motions/enact`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EnactRequest {
    /// The motion (`<member>/<key>`).
    pub motion: String,
}

impl IntoEdit for EnactRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::MotionEnact {
            id: fund_id(&self.motion)?,
            cut: Default::default(),
        }))
    }
}

/// A motion as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct MotionOut {
    /// Its id as text.
    pub reference: String,
    /// What it does, by tag.
    pub does: String,
    /// The motion, its tally and whether it was enacted.
    #[serde(flatten)]
    pub view: MotionView,
}

impl From<MotionView> for MotionOut {
    fn from(view: MotionView) -> Self {
        MotionOut {
            reference: view.id.to_string(),
            does: view.motion.action.tag().to_string(),
            view,
        }
    }
}
