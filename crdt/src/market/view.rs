//! Typed reads of the market: pure functions of the valid governance changes (void ones left
//! out), like `community::view`. Listings of members who are gone (removed, left) or whom the
//! current policy does not let trade are not shown; deals keep their whole history; reviews
//! count only while their author is a member. Trust ranking is the node's work: it reads
//! [`Community::review_edges`].

use super::{
    DealId, DealStatus, DealTerms, Listing, ListingId, MarketPolicy, Outcome, deal::Dispute,
};
use crate::community::Community;
use crate::community::view::HiddenBy;
use crate::gov::index::{Register, WriteValue};
use qun_identity::MemberId;
use serde::Serialize;

/// A listing as a shop shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListingView {
    /// Its id (owner and key).
    pub id: ListingId,
    /// Whose shop it is in (the id's owner).
    pub owner: MemberId,
    /// The listing as its owner last wrote it.
    pub listing: Listing,
    /// Hidden by a moderator (a hide by someone ranking below the owner does not count).
    pub hidden: Option<HiddenBy>,
}

/// Which listings to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingQuery {
    /// Only this member's shop.
    pub owner: Option<MemberId>,
    /// Text in the title, description or tags (case-insensitive).
    pub text: Option<String>,
    /// Every one of these tags.
    pub tags: Vec<String>,
    /// Show hidden listings too (marked hidden), as moderators see them.
    pub include_hidden: bool,
}

/// One valid step of a deal, in causal order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DealEvent {
    /// The change (hex hash).
    pub change: String,
    /// Who made it.
    pub by: MemberId,
    /// The action tag (`deal.propose`, `deal.accept`, ...).
    pub action: &'static str,
    /// The status it led to.
    pub status: DealStatus,
}

/// A deal with its current state and history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DealView {
    /// Its id.
    pub id: DealId,
    /// What was agreed.
    pub terms: DealTerms,
    /// Where it stands (concurrent steps resolved, docs/market.md).
    pub status: DealStatus,
    /// A party that asked to cancel (the other must agree).
    pub cancel_asked: Option<MemberId>,
    /// The dispute, once raised.
    pub dispute: Option<Dispute>,
    /// The arbiter's decision.
    pub outcome: Option<Outcome>,
    /// Every valid step, in causal order (ties by change hash), concurrent losers included.
    pub history: Vec<DealEvent>,
    /// Parties or arbiter who are no longer members.
    pub gone: Vec<MemberId>,
}

/// A review and the deal it stems from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewView {
    /// The deal.
    pub deal: DealId,
    /// Who wrote it (a party of the deal).
    pub reviewer: MemberId,
    /// About whom (the other party).
    pub about: MemberId,
    /// 1-5.
    pub stars: u8,
    /// Text.
    pub text: String,
}

/// What trust weighting needs from a review: `(reviewer, reviewed, stars, deal)`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ReviewEdge {
    /// Who wrote it.
    pub reviewer: MemberId,
    /// About whom.
    pub reviewed: MemberId,
    /// 1-5.
    pub stars: u8,
    /// The deal it stems from.
    pub deal: DealId,
}

impl Community {
    /// The market policy in force at the current heads.
    pub fn market_policy(&mut self) -> MarketPolicy {
        self.state().market.policy.clone()
    }

    /// Listings shown under `q`, by id: their owner is a member whom the current policy lets
    /// trade (a removed member's listings disappear; an `off` market shows none).
    pub fn listings(&mut self, q: &ListingQuery) -> Vec<ListingView> {
        let st = self.state();
        let m = &st.market;
        m.listings
            .iter()
            .filter(|(id, _)| q.owner.is_none_or(|o| o == id.owner))
            .filter(|(id, _)| m.policy.allows(&st, &id.owner))
            .filter(|(_, l)| l.matches(q.text.as_deref(), &q.tags))
            .map(|(id, l)| ListingView {
                id: id.clone(),
                owner: id.owner,
                listing: (**l).clone(),
                hidden: m.hide_of(&st, id).map(HiddenBy::from),
            })
            .filter(|v| q.include_hidden || v.hidden.is_none())
            .collect()
    }

    /// One listing, if shown (hidden ones included, marked).
    pub fn listing(&mut self, id: &ListingId) -> Option<ListingView> {
        self.listings(&ListingQuery {
            owner: Some(id.owner),
            include_hidden: true,
            ..Default::default()
        })
        .into_iter()
        .find(|v| v.id == *id)
    }

    /// A member's shop: its listings, hidden ones included (marked).
    pub fn shop(&mut self, owner: &MemberId) -> Vec<ListingView> {
        self.listings(&ListingQuery {
            owner: Some(*owner),
            include_hidden: true,
            ..Default::default()
        })
    }

    /// Every deal, by id.
    pub fn deals(&mut self) -> Vec<DealView> {
        let ids: Vec<DealId> = self.state().market.deals.keys().cloned().collect();
        ids.iter().filter_map(|id| self.deal(id)).collect()
    }

    /// The deals `m` is a party or the arbiter of.
    pub fn deals_of(&mut self, m: &MemberId) -> Vec<DealView> {
        self.deals()
            .into_iter()
            .filter(|d| d.terms.buyer == *m || d.terms.seller == *m || d.terms.arbiter == Some(*m))
            .collect()
    }

    /// One deal with its history.
    pub fn deal(&mut self, id: &DealId) -> Option<DealView> {
        let st = self.state();
        let d = st.market.deals.get(id)?.clone();
        let v = self.index.validity();
        let mut history: Vec<((u64, crate::Hash), DealEvent)> = Vec::new();
        for &wi in self
            .index
            .registers
            .get(&Register::Deal(id.clone()))
            .into_iter()
            .flatten()
        {
            let w = &self.index.writes[wi as usize];
            if v.invalid.contains(w.node) {
                continue;
            }
            let node = &self.index.nodes[w.node as usize];
            let (Some(info), WriteValue::Deal(s)) =
                (node.info.as_ref(), v.overrides.get(&wi).unwrap_or(&w.value))
            else {
                continue;
            };
            history.push((
                node.order_key(),
                DealEvent {
                    change: node.hash.to_string(),
                    by: info.member,
                    action: info.action.tag(),
                    status: s.status,
                },
            ));
        }
        history.sort_by_key(|a| a.0);
        let t = &d.terms;
        let gone = [Some(t.buyer), Some(t.seller), t.arbiter]
            .into_iter()
            .flatten()
            .filter(|m| !st.is_member(m))
            .collect();
        Some(DealView {
            id: id.clone(),
            terms: (*d.terms).clone(),
            status: d.status,
            cancel_asked: d.cancel_asked,
            dispute: d.dispute.clone(),
            outcome: d.outcome,
            history: history.into_iter().map(|(_, e)| e).collect(),
            gone,
        })
    }

    /// Every review that counts, by deal then reviewer: its author is still a member (a
    /// removed member's word no longer counts; reviews about it stay).
    pub fn reviews(&mut self) -> Vec<ReviewView> {
        let st = self.state();
        st.market
            .reviews
            .iter()
            .filter(|((_, reviewer), _)| st.is_member(reviewer))
            .map(|((deal, reviewer), r)| ReviewView {
                deal: deal.clone(),
                reviewer: *reviewer,
                about: r.about,
                stars: r.stars,
                text: r.text.clone(),
            })
            .collect()
    }

    /// The reviews about `m`.
    pub fn reviews_about(&mut self, m: &MemberId) -> Vec<ReviewView> {
        self.reviews()
            .into_iter()
            .filter(|r| r.about == *m)
            .collect()
    }

    /// Reviews as `(reviewer, reviewed, stars, deal)` edges, sorted: the input trust weighting
    /// needs (topic `seller` for reviews of sellers, `buyer` for reviews of buyers: compare the
    /// reviewed member with the deal's parties).
    pub fn review_edges(&mut self) -> Vec<ReviewEdge> {
        let mut v: Vec<ReviewEdge> = self
            .reviews()
            .into_iter()
            .map(|r| ReviewEdge {
                reviewer: r.reviewer,
                reviewed: r.about,
                stars: r.stars,
                deal: r.deal,
            })
            .collect();
        v.sort();
        v
    }
}
