//! The market's authorization rules: one arm per action, each stating its rule. Called by
//! `community::auth::authorize` after the common checks (the device acts for a current
//! member, the action is in the governance document), against the governance state at the
//! change's own dependencies (admission) and again resolved (validity), like every action.

use super::deal::{DealState, DealTerms};
use super::listing::{ListingKind, ListingStatus};
use super::{MAX_OPEN_LISTINGS, review};
use crate::error::{Error, Result};
use crate::gov::GovState;
use crate::gov::HideInfo;
use crate::gov::index::{Perms, Register, Revokes, Target, WriteValue};
use crate::model::action::Action;
use crate::model::policy::{Perm, Role};
use qun_identity::MemberId;
use std::sync::Arc;

/// What an admitted market action does: the registers it writes and what it revokes.
pub(crate) type Effects = (Vec<(Register, WriteValue)>, Option<Revokes>);

/// The registers a market action of `member` writes and what it revokes, or the rule that
/// refuses it.
pub(crate) fn authorize(st: &GovState, member: &MemberId, action: &Action) -> Result<Effects> {
    let tag = action.tag();
    let deny = |reason: &str| Err(Error::unauthorized(member, tag, reason));
    let rank = |m: &MemberId| st.role(m).map(Role::rank).unwrap_or(0);
    let market = &st.market;
    let may_trade = || {
        if market.policy.allows(st, member) {
            Ok(())
        } else {
            Err(Error::unauthorized(
                member,
                tag,
                format!(
                    "the market policy ({}) does not let this member trade",
                    market.policy
                ),
            ))
        }
    };
    let hide_in_place = |id| -> Result<()> {
        if let Some(h) = market.hidden.get(id)
            && h.by != *member
            && rank(member) < rank(&h.by)
        {
            return Err(Error::unauthorized(
                member,
                tag,
                "hidden by a member of higher rank",
            ));
        }
        Ok(())
    };
    let writes = match action {
        // Policy: needs the policy permission (as the admission policy). A policy that stops
        // members from trading revokes their right to: their trading concurrent with it is
        // void (revocation wins, docs/market.md).
        Action::MarketPolicy { policy } => {
            if !st.can(member, Perm::Policy) {
                return deny("needs the policy permission");
            }
            let excluded: Vec<MemberId> = st
                .members
                .iter()
                .filter(|(m, r)| market.policy.allows(st, m) && !policy.allows_role(r))
                .map(|(m, _)| *m)
                .collect();
            let revokes = (!excluded.is_empty()).then(|| Revokes {
                target: Target::Members(excluded),
                perms: Perms::Some(Default::default()),
                cut: None,
                trade: true,
            });
            return Ok((
                vec![(
                    Register::MarketPolicy,
                    WriteValue::MarketPolicy(policy.clone()),
                )],
                revokes,
            ));
        }
        // Listings: only the owner writes its listing, the policy lets it trade, and it has
        // fewer than MAX_OPEN_LISTINGS other listings that are not closed.
        Action::ListingSet { id, listing } => {
            if id.owner != *member {
                return deny("only the owner edits its listings");
            }
            may_trade()?;
            if listing.status != ListingStatus::Closed {
                let open = market
                    .listings
                    .iter()
                    .filter(|(k, _)| k.owner == *member && *k != id)
                    .filter(|(_, l)| l.status != ListingStatus::Closed)
                    .count();
                if open >= MAX_OPEN_LISTINGS {
                    return deny("too many listings that are not closed (close some first)");
                }
            }
            vec![(
                Register::Listing(id.clone()),
                WriteValue::Listing(Arc::new((**listing).clone())),
            )]
        }
        // Hiding a listing: needs hide; the listing exists; its owner does not outrank the
        // moderator; a hide in place is replaced only by its author or someone of at least its
        // author's rank (rule 10 of moderation).
        Action::ListingHide { id, reason } => {
            if !st.can(member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            if !market.listings.contains_key(id) {
                return deny("no such listing");
            }
            if rank(&id.owner) > rank(member) {
                return deny("the listing's owner ranks above you");
            }
            hide_in_place(id)?;
            vec![(
                Register::ListingHide(id.clone()),
                WriteValue::Hide(HideInfo {
                    by: *member,
                    reason: reason.clone(),
                }),
            )]
        }
        Action::ListingUnhide { id } => {
            if !st.can(member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            hide_in_place(id)?;
            vec![(Register::ListingHide(id.clone()), WriteValue::Unhide)]
        }
        // Proposing: a new id of the author's own; the policy lets it trade; the listing is
        // open, shown, and someone else's (a member cannot deal with itself) who is still a
        // member; the quantity fits; an arbiter is a third member.
        Action::DealPropose(p) => {
            let super::Proposal {
                deal,
                listing,
                quantity,
                price,
                terms,
                arbiter,
            } = &**p;
            if deal.proposer != *member {
                return deny("a deal's id names its proposer");
            }
            if market.deals.contains_key(deal) {
                return deny("a deal with this id exists");
            }
            may_trade()?;
            let Some(l) = market.listings.get(listing) else {
                return deny("no such listing");
            };
            if listing.owner == *member {
                return deny("a member cannot deal with itself");
            }
            if !st.is_member(&listing.owner) {
                return deny("the listing's owner is no longer a member");
            }
            if !market.policy.allows(st, &listing.owner) {
                return deny("the listing's owner may not trade under the market policy");
            }
            if market.hide_of(st, listing).is_some() {
                return deny("the listing is hidden");
            }
            if l.status != ListingStatus::Open {
                return deny("the listing is not open");
            }
            if *quantity > l.quantity {
                return deny("more than the listing's quantity");
            }
            let (buyer, seller) = match l.kind {
                ListingKind::Offer => (*member, listing.owner),
                ListingKind::Request => (listing.owner, *member),
            };
            if let Some(a) = arbiter
                && (*a == buyer || *a == seller || !st.is_member(a))
            {
                return deny("the arbiter must be a member who is neither party");
            }
            let d = DealState::proposed(
                *member,
                DealTerms {
                    listing: listing.clone(),
                    buyer,
                    seller,
                    quantity: *quantity,
                    price: *price,
                    terms: terms.clone(),
                    arbiter: *arbiter,
                },
            );
            vec![(Register::Deal(deal.clone()), WriteValue::Deal(Arc::new(d)))]
        }
        // Reviews: by a party of a deal that is completed or resolved in the review's own
        // causal past, about the other party. One per party per deal: a later one replaces it.
        Action::Review { deal, stars, text } => {
            let Some(d) = market.deals.get(deal) else {
                return deny("a review needs a completed deal: no such deal");
            };
            let Some(about) = d.counterpart(member) else {
                return deny("only a party of the deal reviews it");
            };
            if !d.status.earns_reviews() {
                return deny("a review needs a completed deal");
            }
            review::check(*stars, text)?;
            vec![(
                Register::Review(deal.clone(), *member),
                WriteValue::Review(Arc::new(super::Review {
                    about,
                    stars: *stars,
                    text: text.clone(),
                })),
            )]
        }
        // Steps: the state machine (`deal::DealState::step`) at the deal's state in the
        // change's causal past; accepting also needs the policy to let the accepter trade.
        other => {
            let Some((deal, step)) = other.deal_step() else {
                return deny("not a market action");
            };
            let Some(d) = market.deals.get(deal) else {
                return deny("no such deal (a step must cite the deal's proposal)");
            };
            if step == super::Step::Accept {
                may_trade()?;
            }
            let next = d.step(member, &step, |m| st.is_member(m))?;
            vec![(
                Register::Deal(deal.clone()),
                WriteValue::Deal(Arc::new(next)),
            )]
        }
    };
    Ok((writes, None))
}
