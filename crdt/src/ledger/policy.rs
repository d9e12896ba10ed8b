//! The ledger's policy (data, changed by the `policy` permission with `ledger.policy`): on or
//! off, the unit's name, and how far below zero a member's balance may go.
//!
//! A credit limit is either one fixed amount for everyone, or scaled by the member's trust
//! from the founders' point of view: the founders and the members they endorse directly get
//! the whole maximum, each further endorsement step halves it, and a member the community's
//! trust flow does not reach (or does not admit) gets no credit at all. The flow bounds what
//! a ring of fake members can draw: each is admitted only through the capacity of the honest
//! members who endorsed it (`qun_trust::admission`).

use super::{MAX_AMOUNT, check_text, field};
use crate::error::{Error, Result};
use crate::gov::GovState;
use crate::model::genesis::CommunityGenesis;
use crate::model::policy::{AdmissionPolicy, DEFAULT_FLOW_CAPACITIES};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Longest unit name, bytes.
pub const MAX_UNIT: usize = 24;

/// How far below zero a balance may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum CreditLimit {
    /// The same for every member.
    Fixed {
        /// The limit (a balance may reach `-amount`).
        amount: u64,
    },
    /// `max` for the founders and those they endorse, halved per further step of trust; 0
    /// for members the trust flow does not admit.
    Trust {
        /// The largest limit.
        max: u64,
    },
}

impl fmt::Display for CreditLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreditLimit::Fixed { amount } => write!(f, "{amount}"),
            CreditLimit::Trust { max } => write!(f, "trust:{max}"),
        }
    }
}

impl FromStr for CreditLimit {
    type Err = Error;
    /// `N` (fixed) or `trust:MAX`.
    fn from_str(s: &str) -> Result<Self> {
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_AMOUNT)
                .ok_or_else(|| field("credit limit", format!("a whole number 0-{MAX_AMOUNT}")))
        };
        Ok(match s.strip_prefix("trust:") {
            Some(m) => CreditLimit::Trust { max: num(m)? },
            None => CreditLimit::Fixed { amount: num(s)? },
        })
    }
}

/// The ledger's policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPolicy {
    /// Whether payments, pledges and new bounties are allowed (holds under way always settle).
    pub on: bool,
    /// The unit's name ("hours", "credits"): 1-24 bytes.
    pub unit: String,
    /// How far below zero a balance may go.
    pub limit: CreditLimit,
}

impl LedgerPolicy {
    /// Rules of the policy itself.
    pub fn check(&self) -> Result<()> {
        check_text("unit", &self.unit, MAX_UNIT, true)?;
        let n = match self.limit {
            CreditLimit::Fixed { amount } => amount,
            CreditLimit::Trust { max } => max,
        };
        if n > MAX_AMOUNT {
            return Err(field("credit limit", format!("at most {MAX_AMOUNT}")));
        }
        Ok(())
    }

    /// The credit limit of every member in `st`, with why (for statements).
    pub fn limits(&self, g: &CommunityGenesis, st: &GovState) -> BTreeMap<MemberId, (u64, Why)> {
        match self.limit {
            CreditLimit::Fixed { amount } => st
                .members
                .keys()
                .map(|m| (*m, (amount, Why::Fixed)))
                .collect(),
            CreditLimit::Trust { max } => {
                let steps = trust_steps(g, st);
                st.members
                    .keys()
                    .map(|m| match steps.get(m) {
                        Some(d) => (*m, (scaled(max, *d), Why::Steps(*d))),
                        None => (*m, (0, Why::Unreached)),
                    })
                    .collect()
            }
        }
    }

    /// One member's credit limit in `st` (0 for a non-member).
    pub fn limit_of(&self, g: &CommunityGenesis, st: &GovState, m: &MemberId) -> u64 {
        if !st.is_member(m) {
            return 0;
        }
        match self.limit {
            CreditLimit::Fixed { amount } => amount,
            CreditLimit::Trust { max } => trust_steps(g, st)
                .get(m)
                .map(|d| scaled(max, *d))
                .unwrap_or(0),
        }
    }
}

/// Why a member's limit (or vote weight) is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Why {
    /// The policy's fixed limit.
    Fixed,
    /// This many endorsement steps from a founder (0: a founder).
    Steps(u32),
    /// The trust flow from the founders does not admit the member.
    Unreached,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Fixed => f.write_str("the same limit for everyone"),
            Why::Steps(0) => f.write_str("a founder"),
            Why::Steps(1) => f.write_str("endorsed by a founder"),
            Why::Steps(d) => write!(f, "{d} endorsement steps from a founder"),
            Why::Unreached => f.write_str("not yet reached by the founders' trust"),
        }
    }
}

/// `max` at `steps` endorsement steps: whole up to 1, halved per step after.
fn scaled(max: u64, steps: u32) -> u64 {
    max >> steps.saturating_sub(1).min(63)
}

/// Distance from the founders of every member the community's trust flow admits (the
/// policy's capacities under trust-flow admission, Advogato's otherwise).
pub fn trust_steps(g: &CommunityGenesis, st: &GovState) -> BTreeMap<MemberId, u32> {
    let caps: Vec<u32> = match &st.policy {
        AdmissionPolicy::TrustFlow { capacities } => capacities.clone(),
        _ => DEFAULT_FLOW_CAPACITIES.to_vec(),
    };
    let founders = g.value().founders.clone();
    crate::gov::flow::standing(st, &founders, &g.id(), &caps)
}
