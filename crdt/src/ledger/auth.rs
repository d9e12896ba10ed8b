//! The ledger's governance rules: one arm per action. Called by `community::auth::authorize`
//! after the common checks (the device acts for a current member with the needed capability,
//! the action is in the governance document), against the governance state at the change's
//! own dependencies (admission) and again resolved (validity). What depends on sums — the
//! balance behind a debit, forks of an account's chain — is judged by the book
//! (`ledger::book`), over the changes these rules admit.

use super::bounty::{BountyState, BountyStep};
use crate::error::{Error, Result};
use crate::gov::GovState;
use crate::gov::index::{Register, WriteValue};
use crate::model::action::Action;
use crate::model::policy::Perm;
use qun_identity::MemberId;
use std::sync::Arc;

/// The registers a ledger action of `member` writes, or the rule that refuses it.
pub(crate) fn authorize(
    st: &GovState,
    member: &MemberId,
    action: &Action,
) -> Result<Vec<(Register, WriteValue)>> {
    let tag = action.tag();
    let deny = |reason: &str| Err(Error::unauthorized(member, tag, reason));
    let ledger = &st.ledger;
    let on = || {
        if ledger.is_on() {
            Ok(())
        } else {
            Err(Error::unauthorized(member, tag, "the ledger is off"))
        }
    };
    Ok(match action {
        Action::LedgerPolicy { policy } => {
            if !st.can(member, Perm::Policy) {
                return deny("needs the policy permission");
            }
            vec![(
                Register::LedgerPolicy,
                WriteValue::LedgerPolicy(policy.clone()),
            )]
        }
        // A moderator restarts a frozen account's chain (the book decides whether a fork is
        // in its past; without one it changes nothing).
        Action::Unfreeze { member: m } => {
            if !st.can(member, Perm::Remove) {
                return deny("needs the remove permission");
            }
            if !st.is_member(m) {
                return deny("not a member");
            }
            Vec::new()
        }
        Action::Pay {
            to, deal, amount, ..
        } => {
            on()?;
            super::check_amount("amount", *amount)?;
            if to == member {
                return deny("a member does not pay itself");
            }
            if !st.is_member(to) {
                return deny("the payee is not a member");
            }
            if let Some(id) = deal {
                let Some(d) = st.market.deals.get(id) else {
                    return deny("no such deal");
                };
                if d.terms.buyer != *member || d.terms.seller != *to {
                    return deny("an escrow payment goes from the deal's buyer to its seller");
                }
                if d.status.is_final() {
                    return deny("the deal is over");
                }
            }
            Vec::new()
        }
        Action::FundPropose { id, fund } => {
            on()?;
            if id.author != *member {
                return deny("a proposal's id names its author");
            }
            if ledger.funds.contains_key(id) || ledger.motions.contains_key(id) {
                return deny("a proposal or motion with this id exists");
            }
            if !st.is_member(&fund.recipient) {
                return deny("the recipient is not a member");
            }
            vec![(
                Register::Fund(id.clone()),
                WriteValue::Fund(Arc::new((**fund).clone())),
            )]
        }
        Action::VotePolicy { policy } => {
            if !st.can(member, Perm::Policy) {
                return deny("needs the policy permission");
            }
            vec![(Register::VotePolicy, WriteValue::VotePolicy(policy.clone()))]
        }
        Action::MotionPropose { id, action, reason } => {
            if id.author != *member {
                return deny("a motion's id names its proposer");
            }
            if ledger.motions.contains_key(id) || ledger.funds.contains_key(id) {
                return deny("a proposal or motion with this id exists");
            }
            let Some(voting) = &ledger.voting else {
                return deny("the community votes on nothing yet (no vote policy)");
            };
            vec![(
                Register::Motion(id.clone()),
                WriteValue::Motion(Arc::new(super::Motion {
                    proposer: *member,
                    action: (**action).clone(),
                    reason: reason.clone(),
                    rule: voting.rule,
                })),
            )]
        }
        Action::Pledge { fund, amount } => {
            on()?;
            super::check_amount("amount", *amount)?;
            if !ledger.funds.contains_key(fund) {
                return deny("no such proposal");
            }
            Vec::new()
        }
        Action::FundClose { fund } => {
            if !ledger.funds.contains_key(fund) {
                return deny("no such proposal");
            }
            Vec::new()
        }
        Action::Vote { fund, choice } => {
            let open_motion = ledger.motions.contains_key(fund) && !ledger.enacted.contains(fund);
            match ledger.funds.get(fund) {
                Some(f) if f.vote.is_none() => return deny("this proposal is not voted on"),
                None if !open_motion => return deny("no such proposal or open motion"),
                _ => {}
            }
            vec![(
                Register::Vote(fund.clone(), *member),
                WriteValue::Vote(*choice),
            )]
        }
        Action::BountyCreate { id, bounty } => {
            on()?;
            if id.author != *member {
                return deny("a bounty's id names its sponsor");
            }
            if ledger.bounties.contains_key(id) {
                return deny("a bounty with this id exists");
            }
            if let Some(f) = &bounty.funded_by {
                match ledger.funds.get(f) {
                    None => return deny("no such proposal to fund the bounty from"),
                    Some(x) if x.recipient != *member => {
                        return deny("only a proposal's recipient funds a bounty from it");
                    }
                    _ => {}
                }
            }
            vec![(
                Register::Bounty(id.clone()),
                WriteValue::Bounty(Arc::new(BountyState::new(*member, (**bounty).clone()))),
            )]
        }
        other => {
            let Some((id, step)) = other.bounty_step() else {
                return deny("not a ledger action");
            };
            let Some(b) = ledger.bounties.get(id) else {
                return deny("no such bounty");
            };
            if let BountyStep::Accept { claimant } = &step
                && !st.is_member(claimant)
            {
                return deny("the claimant is no longer a member");
            }
            let next = b.step(member, &step)?;
            vec![(
                Register::Bounty(id.clone()),
                WriteValue::Bounty(Arc::new(next)),
            )]
        }
    })
}
