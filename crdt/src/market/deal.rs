//! Deals: the signed agreement between a buyer and a seller about a listing, and its state
//! machine. Pure functions: [`DealState::step`] says whether `who` may make a step from a
//! state and what state it leads to; [`concurrency_rank`] orders concurrent steps.
//!
//! ```text
//! proposed ──accept──▶ accepted ──deliver──▶ delivered ──complete──▶ completed
//!    │                   │  │                   │  │
//!    │ cancel            │  └──────dispute──────┼──┴──▶ disputed ──resolve──▶ resolved
//!    ▼ (proposer)        └─cancel (both)────────┴─────▶ cancelled
//! withdrawn
//! ```
//!
//! Who: the listing's owner accepts (the proposer is the other party); the seller delivers;
//! the buyer completes; either party disputes (only a deal with an arbiter); the arbiter alone
//! resolves; the proposer cancels before acceptance, both parties after it (the first `cancel`
//! asks, the other party's `cancel` agrees). A party whose counterpart is no longer a member
//! cancels alone; so do the parties of a disputed deal whose arbiter is gone (both).

use super::ListingId;
use crate::error::{Error, Result};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest deal terms text, bytes.
pub const MAX_TERMS: usize = 2_000;
/// Longest dispute reason, bytes.
pub const MAX_DISPUTE_REASON: usize = 2_000;

/// What the parties agreed: fixed by the proposal and accepted as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealTerms {
    /// The listing the deal is about.
    pub listing: ListingId,
    /// Who pays.
    pub buyer: MemberId,
    /// Who delivers.
    pub seller: MemberId,
    /// How many.
    pub quantity: u32,
    /// Total price, in the community's unit.
    pub price: u64,
    /// Free text (delivery, payment method...).
    pub terms: String,
    /// A member both parties accept to decide a dispute.
    pub arbiter: Option<MemberId>,
}

/// A proposal: the deal's id and the terms its proposer offers (the action `deal.propose`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The new deal (its proposer must be the author).
    pub deal: super::DealId,
    /// The listing.
    pub listing: ListingId,
    /// How many.
    pub quantity: u32,
    /// Total price, in the community's unit.
    pub price: u64,
    /// Free text.
    #[serde(default)]
    pub terms: String,
    /// A member both parties accept to decide a dispute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arbiter: Option<MemberId>,
}

/// How an arbiter decides a dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Outcome {
    /// The buyer gets its payment back.
    Refund,
    /// The seller keeps the payment.
    Release,
    /// The buyer gets back this share of the payment (1-99 %), the seller keeps the rest.
    Split {
        /// The buyer's share, percent.
        buyer_percent: u8,
    },
}

impl Outcome {
    /// Rules on the outcome's own fields.
    pub fn check(&self) -> Result<()> {
        match self {
            Outcome::Split { buyer_percent } if !(1..=99).contains(buyer_percent) => {
                Err(Error::MarketField {
                    field: "outcome",
                    reason: "a split gives the buyer 1-99 % (use refund or release)".into(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Where a deal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// Proposed, not accepted yet.
    Proposed,
    /// Both parties agreed.
    Accepted,
    /// The seller says it delivered.
    Delivered,
    /// A party called the arbiter.
    Disputed,
    /// The buyer confirmed: done.
    Completed,
    /// The arbiter decided: done.
    Resolved,
    /// Called off after acceptance (by both parties, or by one whose counterpart is gone):
    /// done.
    Cancelled,
    /// Withdrawn by its proposer before acceptance: done.
    Withdrawn,
}

impl DealStatus {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DealStatus::Proposed => "proposed",
            DealStatus::Accepted => "accepted",
            DealStatus::Delivered => "delivered",
            DealStatus::Disputed => "disputed",
            DealStatus::Completed => "completed",
            DealStatus::Resolved => "resolved",
            DealStatus::Cancelled => "cancelled",
            DealStatus::Withdrawn => "withdrawn",
        }
    }

    /// Whether nothing more can happen to the deal.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DealStatus::Completed
                | DealStatus::Resolved
                | DealStatus::Cancelled
                | DealStatus::Withdrawn
        )
    }

    /// Whether a review may stem from a deal in this state.
    pub fn earns_reviews(self) -> bool {
        matches!(self, DealStatus::Completed | DealStatus::Resolved)
    }
}

/// The order in which concurrent steps of one deal win (higher wins; equal ranks: the greater
/// `(lamport, hash)` of the change, as for every register). Among the writes of a deal that no
/// other write in the frontier's past supersedes, the one whose *resulting status* ranks
/// highest is the deal's state:
///
/// `completed` > `resolved` > `disputed` > `delivered` > `cancelled` > `accepted` >
/// `withdrawn` > `proposed`.
///
/// An author chooses its dependencies, so a step can always be made "concurrent" with what it
/// did not want to see; the order is chosen so that doing so gains nothing. A final state wins
/// over concurrent progress only when the party it could harm signed it; otherwise the state
/// that keeps recourse open wins:
///
/// * `completed` first: the buyer's release of the seller, signed by the buyer, the only party
///   it can harm.
/// * `resolved`, then `disputed`: the arbiter both parties accepted decides; a dispute beats
///   delivery and cancellation, so a seller cannot race a buyer's complaint by marking the deal
///   delivered, and a party cannot close the door on arbitration.
/// * `delivered` beats `cancelled`: a cancellation completes a request to cancel, which may
///   be old; agreeing to it later with dependencies from before the delivery must not erase the
///   delivery (the parties can still cancel from `delivered`, both again).
/// * `accepted` beats `withdrawn` (the mailbox rule): a proposer cannot undo an acceptance
///   (and what followed) by withdrawing with dependencies from before it.
pub fn concurrency_rank(s: DealStatus) -> u8 {
    match s {
        DealStatus::Proposed => 0,
        DealStatus::Withdrawn => 1,
        DealStatus::Accepted => 2,
        DealStatus::Cancelled => 3,
        DealStatus::Delivered => 4,
        DealStatus::Disputed => 5,
        DealStatus::Resolved => 6,
        DealStatus::Completed => 7,
    }
}

/// One step a party (or the arbiter) takes on a deal after its proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// The listing's owner agrees to the proposal.
    Accept,
    /// The seller says it delivered.
    Deliver,
    /// The buyer confirms.
    Complete,
    /// A party calls the arbiter.
    Dispute {
        /// Why.
        reason: String,
    },
    /// The arbiter decides.
    Resolve {
        /// How.
        outcome: Outcome,
    },
    /// Call it off (or ask to, or agree to).
    Cancel,
}

impl Step {
    /// The action tag of the step.
    pub fn tag(&self) -> &'static str {
        match self {
            Step::Accept => "deal.accept",
            Step::Deliver => "deal.deliver",
            Step::Complete => "deal.complete",
            Step::Dispute { .. } => "deal.dispute",
            Step::Resolve { .. } => "deal.resolve",
            Step::Cancel => "deal.cancel",
        }
    }
}

/// A dispute: who raised it and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    /// The party.
    pub by: MemberId,
    /// Why.
    pub reason: String,
}

/// A deal as one step left it (each step writes the whole state; the terms are shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealState {
    /// The member who proposed it.
    pub proposer: MemberId,
    /// What was agreed.
    pub terms: Arc<DealTerms>,
    /// Where it stands.
    pub status: DealStatus,
    /// A party that asked to cancel an accepted deal (the other must agree).
    pub cancel_asked: Option<MemberId>,
    /// The dispute, once raised.
    pub dispute: Option<Dispute>,
    /// The arbiter's decision, once resolved.
    pub outcome: Option<Outcome>,
}

impl DealState {
    /// A fresh proposal.
    pub fn proposed(proposer: MemberId, terms: DealTerms) -> Self {
        DealState {
            proposer,
            terms: Arc::new(terms),
            status: DealStatus::Proposed,
            cancel_asked: None,
            dispute: None,
            outcome: None,
        }
    }

    /// The party that did not propose (the listing's owner, who accepts).
    pub fn acceptor(&self) -> MemberId {
        if self.proposer == self.terms.buyer {
            self.terms.seller
        } else {
            self.terms.buyer
        }
    }

    /// Whether `m` is the buyer or the seller.
    pub fn is_party(&self, m: &MemberId) -> bool {
        *m == self.terms.buyer || *m == self.terms.seller
    }

    /// The other party of `m` (`None` when `m` is no party).
    pub fn counterpart(&self, m: &MemberId) -> Option<MemberId> {
        if *m == self.terms.buyer {
            Some(self.terms.seller)
        } else if *m == self.terms.seller {
            Some(self.terms.buyer)
        } else {
            None
        }
    }

    /// The state after `who` takes `step`, or why it may not. `is_member` says who is still a
    /// member (in the state at the step's dependencies).
    pub fn step(
        &self,
        who: &MemberId,
        step: &Step,
        is_member: impl Fn(&MemberId) -> bool,
    ) -> Result<DealState> {
        let tag = step.tag();
        let deny = |reason: &str| Err(Error::unauthorized(who, tag, reason));
        let illegal = || {
            Err(Error::DealTransition {
                status: self.status.name(),
                action: tag,
            })
        };
        let t = &self.terms;
        let mut next = self.clone();
        match step {
            Step::Accept => {
                if *who != self.acceptor() {
                    return deny("only the listing's owner accepts a proposed deal");
                }
                if self.status != DealStatus::Proposed {
                    return illegal();
                }
                if !is_member(&self.proposer) {
                    return deny("the proposer is no longer a member");
                }
                if t.arbiter.is_some_and(|a| !is_member(&a)) {
                    return deny("the arbiter is no longer a member");
                }
                next.status = DealStatus::Accepted;
            }
            Step::Deliver => {
                if *who != t.seller {
                    return deny("only the seller can mark a deal delivered");
                }
                if self.status != DealStatus::Accepted {
                    return illegal();
                }
                next.status = DealStatus::Delivered;
                next.cancel_asked = None;
            }
            Step::Complete => {
                if *who != t.buyer {
                    return deny("only the buyer can mark a deal completed");
                }
                if self.status != DealStatus::Delivered {
                    return illegal();
                }
                next.status = DealStatus::Completed;
                next.cancel_asked = None;
            }
            Step::Dispute { reason } => {
                if !self.is_party(who) {
                    return deny("only a party of the deal can dispute it");
                }
                match t.arbiter {
                    None => {
                        return deny(
                            "a deal without an arbiter cannot be disputed: cancel it together",
                        );
                    }
                    Some(a) if !is_member(&a) => {
                        return deny("the arbiter is no longer a member: cancel it together");
                    }
                    Some(_) => {}
                }
                if !matches!(self.status, DealStatus::Accepted | DealStatus::Delivered) {
                    return illegal();
                }
                next.status = DealStatus::Disputed;
                next.cancel_asked = None;
                next.dispute = Some(Dispute {
                    by: *who,
                    reason: reason.clone(),
                });
            }
            Step::Resolve { outcome } => {
                if t.arbiter != Some(*who) {
                    return deny("only the deal's arbiter can resolve it");
                }
                if self.status != DealStatus::Disputed {
                    return deny("an arbiter resolves only a disputed deal");
                }
                next.status = DealStatus::Resolved;
                next.outcome = Some(*outcome);
            }
            Step::Cancel => {
                let Some(other) = self.counterpart(who) else {
                    return deny("only a party of the deal can cancel it");
                };
                match self.status {
                    DealStatus::Proposed => {
                        if *who != self.proposer {
                            return deny("before acceptance only the proposer cancels a deal");
                        }
                        next.status = DealStatus::Withdrawn;
                    }
                    DealStatus::Accepted | DealStatus::Delivered | DealStatus::Disputed => {
                        let arbiter_gone = t.arbiter.is_none_or(|a| !is_member(&a));
                        if self.status == DealStatus::Disputed && !arbiter_gone {
                            return deny("a disputed deal is the arbiter's to resolve");
                        }
                        if !is_member(&other) || self.cancel_asked == Some(other) {
                            next.status = DealStatus::Cancelled;
                            next.cancel_asked = None;
                        } else if self.cancel_asked == Some(*who) {
                            return deny("already asked to cancel: the other party must agree");
                        } else {
                            next.cancel_asked = Some(*who);
                        }
                    }
                    _ => return illegal(),
                }
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_identity::SecretIdentity;

    fn m(seed: u8) -> MemberId {
        let mut s = [0u8; 32];
        s[0] = seed;
        SecretIdentity::from_seed(&s).member_id()
    }

    const ALL: [DealStatus; 8] = [
        DealStatus::Proposed,
        DealStatus::Accepted,
        DealStatus::Delivered,
        DealStatus::Disputed,
        DealStatus::Completed,
        DealStatus::Resolved,
        DealStatus::Cancelled,
        DealStatus::Withdrawn,
    ];

    fn steps() -> Vec<Step> {
        vec![
            Step::Accept,
            Step::Deliver,
            Step::Complete,
            Step::Dispute { reason: "r".into() },
            Step::Resolve {
                outcome: Outcome::Release,
            },
            Step::Cancel,
        ]
    }

    /// The table of docs/market.md, written out: with everyone a member and no cancel asked.
    fn expected(from: DealStatus, step: &Step, who: char) -> Option<DealStatus> {
        use DealStatus::*;
        match (step, from, who) {
            (Step::Accept, Proposed, 's') => Some(Accepted),
            (Step::Deliver, Accepted, 's') => Some(Delivered),
            (Step::Complete, Delivered, 'b') => Some(Completed),
            (Step::Dispute { .. }, Accepted | Delivered, 'b' | 's') => Some(Disputed),
            (Step::Resolve { .. }, Disputed, 'r') => Some(Resolved),
            (Step::Cancel, Proposed, 'b') => Some(Withdrawn),
            // An ask: the status stays.
            (Step::Cancel, Accepted | Delivered, 'b' | 's') => Some(from),
            _ => None,
        }
    }

    #[test]
    fn every_status_step_and_actor_follows_the_table() {
        let (b, s, r, x) = (m(1), m(2), m(3), m(4));
        let base = DealState::proposed(
            b,
            DealTerms {
                listing: super::super::ListingId::new(s, "l").unwrap(),
                buyer: b,
                seller: s,
                quantity: 1,
                price: 5,
                terms: String::new(),
                arbiter: Some(r),
            },
        );
        for from in ALL {
            for step in steps() {
                for (who, c) in [(b, 'b'), (s, 's'), (r, 'r'), (x, 'x')] {
                    let mut d = base.clone();
                    d.status = from;
                    let got = d.step(&who, &step, |_| true).ok().map(|n| n.status);
                    assert_eq!(got, expected(from, &step, c), "{from:?} {step:?} by {c}");
                }
            }
        }
    }

    #[test]
    fn cancelling_after_acceptance_takes_both_or_a_gone_counterpart() {
        let (b, s, r) = (m(1), m(2), m(3));
        let mut d = DealState::proposed(
            b,
            DealTerms {
                listing: super::super::ListingId::new(s, "l").unwrap(),
                buyer: b,
                seller: s,
                quantity: 1,
                price: 5,
                terms: String::new(),
                arbiter: Some(r),
            },
        );
        d.status = DealStatus::Accepted;
        let asked = d.step(&s, &Step::Cancel, |_| true).unwrap();
        assert_eq!(
            (asked.status, asked.cancel_asked),
            (DealStatus::Accepted, Some(s))
        );
        assert!(asked.step(&s, &Step::Cancel, |_| true).is_err());
        assert_eq!(
            asked.step(&b, &Step::Cancel, |_| true).unwrap().status,
            DealStatus::Cancelled
        );
        // A delivery clears the ask.
        assert_eq!(
            asked
                .step(&s, &Step::Deliver, |_| true)
                .unwrap()
                .cancel_asked,
            None
        );
        // The counterpart gone: one party cancels alone.
        let alone = d.step(&s, &Step::Cancel, |m| *m != b).unwrap();
        assert_eq!(alone.status, DealStatus::Cancelled);
        // A disputed deal: the arbiter's, unless it is gone.
        d.status = DealStatus::Disputed;
        assert!(d.step(&s, &Step::Cancel, |_| true).is_err());
        let asked = d.step(&s, &Step::Cancel, |m| *m != r).unwrap();
        assert_eq!(
            asked.step(&b, &Step::Cancel, |m| *m != r).unwrap().status,
            DealStatus::Cancelled
        );
    }

    #[test]
    fn the_concurrency_rank_is_a_total_order_of_the_statuses() {
        let mut ranks: Vec<u8> = ALL.iter().map(|s| concurrency_rank(*s)).collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), ALL.len());
        assert!(concurrency_rank(DealStatus::Disputed) > concurrency_rank(DealStatus::Delivered));
        assert!(concurrency_rank(DealStatus::Delivered) > concurrency_rank(DealStatus::Cancelled));
        assert!(concurrency_rank(DealStatus::Accepted) > concurrency_rank(DealStatus::Withdrawn));
    }
}
