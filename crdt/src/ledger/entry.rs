//! What the ledger's book holds: debits and their fate, holds, settlements, accounts and
//! proposals' money (the types; `book` folds them from the valid changes).

use super::fund::FundOutcome;
use super::tally::Tally;
use super::{BountyId, FundId};
use crate::ids::Hash;
use crate::market::DealId;
use qun_identity::{MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a debit does with the money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Movement {
    /// A payment to a member.
    Pay {
        /// The payee.
        to: MemberId,
        /// The payer's note.
        note: String,
    },
    /// A payment held in escrow for a deal, to its seller.
    Escrow {
        /// The deal.
        deal: DealId,
        /// The seller.
        to: MemberId,
        /// The payer's note.
        note: String,
    },
    /// A pledge to a proposal.
    Pledge {
        /// The proposal.
        fund: FundId,
    },
    /// A bounty's reward, held from its sponsor.
    Reward {
        /// The bounty.
        bounty: BountyId,
    },
}

/// Whether a debit counts, and if not why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// It counts.
    Valid,
    /// The payer made another debit concurrently: both are void (rule 1).
    Forked,
    /// The account was frozen by a fork in this debit's past.
    Frozen,
    /// It would take the payer below its credit limit at its dependencies.
    OverLimit,
    /// A pledge its proposal's close did not see (made after or concurrently with a close).
    AfterClose,
    /// A bounty funded from a proposal that, at the bounty's dependencies, is not closed
    /// funded, or whose bounties would take more than it raised.
    Unfunded,
}

/// One debit and its fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The change.
    pub hash: Hash,
    /// The payer.
    pub from: MemberId,
    /// The amount.
    pub amount: u64,
    /// What it does.
    pub movement: Movement,
    /// The payer's clock (informational).
    pub time: Timestamp,
    /// Whether it counts.
    pub status: PaymentStatus,
    /// Members other than the payer who have built on it (governance changes with it in
    /// their past), up to [`SEEN_ENOUGH`]: how widely it is known. A later fork by the payer
    /// would still void it.
    pub seen_by: usize,
    /// Witnesses (founders and moderators other than the payer) who have it in the past of
    /// their latest change (or, for a fork's debit, who saw it first).
    pub confirmations: usize,
    /// Final: more than half of the witnesses saw it before any conflicting debit, so no fork
    /// made later can void it (as long as more than half of the witnesses are honest).
    pub settled: bool,
}

/// What a hold waits for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum HoldFor {
    /// A deal's completion or resolution.
    Deal {
        /// The deal.
        deal: DealId,
    },
    /// A proposal's close.
    Fund {
        /// The proposal.
        fund: FundId,
    },
    /// A bounty's acceptance or cancellation.
    Bounty {
        /// The bounty.
        bounty: BountyId,
    },
}

/// Money held and not yet settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The debit that holds it.
    pub entry: Hash,
    /// Whose money.
    pub from: MemberId,
    /// How much.
    pub amount: u64,
    /// What settles it.
    pub waits_for: HoldFor,
}

/// A member's account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Credits minus debits (negative: owes the community).
    pub balance: i64,
    /// How far below zero it may go (current policy and standing).
    pub limit: u64,
    /// Own money in open holds.
    pub held: u64,
    /// A fork froze it (rule 1).
    pub frozen: bool,
}

/// A settlement: money a hold moved to someone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The hold's debit.
    pub entry: Hash,
    /// The change that settled it.
    pub by: Hash,
    /// Who receives.
    pub to: MemberId,
    /// How much.
    pub amount: u64,
}

/// A proposal's money and vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundBook {
    /// Valid pledges (held, or settled if closed).
    pub pledged: u64,
    /// How many members pledged.
    pub pledgers: usize,
    /// Where it stands.
    pub outcome: FundOutcome,
    /// The vote so far (or at the close), if the proposal is voted.
    pub tally: Option<Tally>,
    /// The change that closed it (the first close in `(lamport, hash)` order).
    pub closed_by: Option<Hash>,
}

/// The whole book at the current heads.
#[derive(Clone, Debug, Default)]
pub struct Book {
    /// Every debit, in `(lamport, hash)` order.
    pub entries: Vec<LedgerEntry>,
    /// Every settlement of a hold.
    pub settlements: Vec<Settlement>,
    /// Accounts of current members and of anyone with money moved.
    pub accounts: BTreeMap<MemberId, Account>,
    /// Open holds.
    pub holds: Vec<Hold>,
    /// Proposals.
    pub funds: BTreeMap<FundId, FundBook>,
    /// Total of valid debits.
    pub volume: u64,
}

impl Book {
    /// Sum of balances plus open holds: always 0.
    pub fn imbalance(&self) -> i128 {
        let b: i128 = self.accounts.values().map(|a| i128::from(a.balance)).sum();
        let h: i128 = self.holds.iter().map(|h| i128::from(h.amount)).sum();
        b + h
    }

    /// A member's account (zero if it never moved money).
    pub fn account(&self, m: &MemberId) -> Account {
        self.accounts.get(m).cloned().unwrap_or_default()
    }
}

/// Where counting the members who built on a payment stops.
pub const SEEN_ENOUGH: usize = 5;
