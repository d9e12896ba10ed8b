//! Counting votes: deterministic integer arithmetic over the votes that count (those in the
//! causal past of every close, by members of the community at the first close), explained.
//!
//! Under trust weighting a member weighs 8 when it is a founder or endorsed by one, half as
//! much per further endorsement step (at least 1) when the community's trust flow admits it,
//! and 0 otherwise; then no member weighs more than the rule's cap of the total eligible
//! weight. The flow admits a ring of fake members only through the capacity of the honest
//! members who endorsed it, and each of those is far from the founders, so the ring's share
//! of a tally stays small (measured in `crdt/tests/ledger_attacks.rs`).

use super::fund::{Choice, VoteRule, Weighting};
use super::policy::trust_steps;
use crate::gov::GovState;
use crate::model::genesis::CommunityGenesis;
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The weight of a member `steps` endorsement steps from a founder, before the cap.
fn trust_weight(steps: u32) -> u64 {
    8u64 >> steps.saturating_sub(1).min(3)
}

/// A tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Weight voting yes.
    pub yes: u64,
    /// Weight voting no.
    pub no: u64,
    /// Weight abstaining.
    pub abstain: u64,
    /// How many members voted.
    pub voters: usize,
    /// The weight of every member who may vote.
    pub eligible: u64,
    /// Whether enough weight voted.
    pub quorum_met: bool,
    /// Whether the vote passes (quorum met and yes above the threshold).
    pub passed: bool,
    /// Each member's weight after the cap.
    pub weights: BTreeMap<MemberId, u64>,
}

impl Tally {
    /// Count `votes` under `rule` in `st` (members of `st` only).
    pub fn count(
        g: &CommunityGenesis,
        st: &GovState,
        rule: &VoteRule,
        votes: &BTreeMap<MemberId, Choice>,
    ) -> Tally {
        let mut weights: BTreeMap<MemberId, u64> = match rule.weighting {
            Weighting::Equal => st.members.keys().map(|m| (*m, 1)).collect(),
            Weighting::Trust { .. } => {
                let steps = trust_steps(g, st);
                st.members
                    .keys()
                    .map(|m| (*m, steps.get(m).map(|s| trust_weight(*s)).unwrap_or(0)))
                    .collect()
            }
        };
        if let Weighting::Trust { cap_permille } = rule.weighting {
            let total: u64 = weights.values().sum();
            let cap = (total.saturating_mul(u64::from(cap_permille)) / 1000).max(1);
            for w in weights.values_mut() {
                *w = (*w).min(cap);
            }
        }
        let eligible: u64 = weights.values().sum();
        let (mut yes, mut no, mut abstain, mut voters) = (0u64, 0u64, 0u64, 0usize);
        for (m, c) in votes {
            let Some(w) = weights.get(m) else { continue };
            voters += 1;
            match c {
                Choice::Yes => yes += w,
                Choice::No => no += w,
                Choice::Abstain => abstain += w,
            }
        }
        let cast = yes + no + abstain;
        let quorum_met = u128::from(cast) * 1000
            >= u128::from(eligible) * u128::from(rule.quorum_permille)
            && cast > 0;
        let passed = quorum_met
            && u128::from(yes) * 1000 > u128::from(yes + no) * u128::from(rule.threshold_permille);
        Tally {
            yes,
            no,
            abstain,
            voters,
            eligible,
            quorum_met,
            passed,
            weights,
        }
    }

    /// The tally in words ("62 % yes of 31 voters; quorum met").
    pub fn explain(&self) -> String {
        let decided = self.yes + self.no;
        let pct = (self.yes * 100).checked_div(decided).unwrap_or(0);
        format!(
            "{pct} % yes of {} voter{} ({} of {} weight cast); quorum {}; {}",
            self.voters,
            if self.voters == 1 { "" } else { "s" },
            self.yes + self.no + self.abstain,
            self.eligible,
            if self.quorum_met { "met" } else { "not met" },
            if self.passed {
                "passes"
            } else {
                "does not pass"
            },
        )
    }

    /// Why `m` weighs what it does, in words.
    pub fn explain_weight(&self, g: &CommunityGenesis, st: &GovState, m: &MemberId) -> String {
        let w = self.weights.get(m).copied().unwrap_or(0);
        let steps = trust_steps(g, st);
        let why = match steps.get(m) {
            Some(0) => "you are a founder".to_string(),
            Some(1) => "a founder endorses you".to_string(),
            Some(d) => format!("you are {d} endorsement steps from a founder"),
            None => "the founders' trust does not reach you yet".to_string(),
        };
        let share = (w * 1000).checked_div(self.eligible).unwrap_or(0);
        format!(
            "your vote weighs {w} of {} ({}.{} %) because {why}",
            self.eligible,
            share / 10,
            share % 10
        )
    }
}
