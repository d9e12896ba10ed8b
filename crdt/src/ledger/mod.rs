//! Community money and collective action (issue 16): a mutual-credit ledger with escrow,
//! crowdfunding proposals with pledges, bounties, and votes on proposals.
//! `docs/ledger.md` is the specification.
//!
//! Like the market, every ledger fact is a *message-only governance action*: the governance
//! index authorizes it at its own dependencies (the author is a member, the ledger is on,
//! the proposal or deal exists...) and revocation wins and cascades over it as over anything.
//! What the index cannot judge with registers, because it is about *sums* (balances, limits,
//! forks of an account's chain of debits), is judged by the [`book`]: a pure fold over the
//! valid governance changes that decides, identically on every node, which debits count.
//!
//! Modules: [`policy`] (the ledger's policy and credit limits), [`fund`] (proposals and
//! votes), [`bounty`] (the bounty state machine), `auth` (the governance rules per action),
//! [`book`] (the fold: balances, holds, forks) and [`tally`] (votes).

pub(crate) mod auth;
pub mod book;
pub mod bounty;
pub mod entry;
pub mod fund;
pub mod motion;
pub mod policy;
pub mod tally;
pub mod view;

use crate::error::{Error, Result};
use crate::market::check_key;
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A cached book: the heads and validity version it was folded at.
pub(crate) type CachedBook = ((Vec<crate::ids::Hash>, u64), Arc<Book>);

pub use bounty::{Bounty, BountyState, BountyStatus};
pub use entry::{Account, Book, Hold, HoldFor, LedgerEntry, Movement, PaymentStatus};
pub use fund::{Choice, Fund, FundOutcome, VoteRule, Weighting};
pub use motion::{Motion, VotePolicy};
pub use policy::{CreditLimit, LedgerPolicy};
pub use tally::Tally;

/// Largest amount one action may move (integer units of the community's unit).
pub const MAX_AMOUNT: u64 = 1_000_000_000;
/// Longest payment note, bytes.
pub const MAX_NOTE: usize = 200;

/// A field rule of the ledger.
pub(crate) fn field(what: &'static str, reason: impl Into<String>) -> Error {
    Error::LedgerField {
        field: what,
        reason: reason.into(),
    }
}

/// An amount: 1..=[`MAX_AMOUNT`].
pub(crate) fn check_amount(what: &'static str, a: u64) -> Result<()> {
    if a == 0 || a > MAX_AMOUNT {
        return Err(field(what, format!("must be 1-{MAX_AMOUNT}")));
    }
    Ok(())
}

/// A text of at most `max` bytes (and, when `required`, not blank).
pub(crate) fn check_text(what: &'static str, s: &str, max: usize, required: bool) -> Result<()> {
    if s.len() > max {
        return Err(Error::TooLarge {
            what,
            limit: max,
            actual: s.len(),
        });
    }
    if required && s.trim().is_empty() {
        return Err(field(what, "must not be empty"));
    }
    Ok(())
}

macro_rules! ledger_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            /// The member who created it (only that member may).
            pub author: MemberId,
            /// Its key, chosen by the author: 1-40 of `[a-z0-9-]`.
            pub key: String,
        }

        impl $name {
            /// A checked id.
            pub fn new(author: MemberId, key: &str) -> Result<Self> {
                check_key($what, key)?;
                Ok($name { author, key: key.to_string() })
            }

            /// Rules on the id's own fields.
            pub fn check(&self) -> Result<()> {
                check_key($what, &self.key)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", self.author, self.key)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({}/{})"), self.author.short(), self.key)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// `<member>/<key>`.
            fn from_str(s: &str) -> Result<Self> {
                let (m, k) = s
                    .split_once('/')
                    .ok_or_else(|| field($what, "expected <member>/<key>"))?;
                $name::new(m.parse()?, k)
            }
        }
    };
}

ledger_id!(
    /// A crowdfunding proposal: its author and a key the author chose.
    FundId,
    "proposal id"
);
ledger_id!(
    /// A bounty: its sponsor and a key the sponsor chose.
    BountyId,
    "bounty id"
);

/// The ledger's governance registers at one frontier (part of [`crate::GovState`]); the money
/// itself is in the [`Book`].
#[derive(Clone, Debug, Default)]
pub struct LedgerState {
    /// The policy; `None` until the ledger is first turned on.
    pub policy: Option<LedgerPolicy>,
    /// Proposals as created.
    pub funds: BTreeMap<FundId, Arc<Fund>>,
    /// Votes: `(proposal, voter)` → the voter's latest choice.
    pub votes: BTreeMap<(FundId, MemberId), Choice>,
    /// Bounties in their current state.
    pub bounties: BTreeMap<BountyId, Arc<BountyState>>,
    /// Which governance actions need a vote (`None`: none).
    pub voting: Option<motion::VotePolicy>,
    /// Motions (proposed governance changes), by id (the proposals' namespace).
    pub motions: BTreeMap<FundId, Arc<motion::Motion>>,
    /// Motions enacted.
    pub enacted: std::collections::BTreeSet<FundId>,
}

impl LedgerState {
    /// Whether the ledger is on (payments, pledges and new bounties allowed).
    pub fn is_on(&self) -> bool {
        self.policy.as_ref().is_some_and(|p| p.on)
    }
}
