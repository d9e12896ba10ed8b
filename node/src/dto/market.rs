//! The market (issue 15, `docs/market.md`) as the API, the page and the CLI send and read it:
//! requests validated once into core market actions (listings, deals and their steps,
//! reviews, the market policy), and a few answers (a new listing's or deal's id, a member's
//! review summary). Like `request`, each type reads from a JSON body and from a form.

use super::parse;
use super::request::{IntoEdit, lines};
use crate::error::{Error, Result};
use qun_crdt::market::{
    DealId, DealView, Listing, ListingId, ListingKind, ListingStatus, ListingView, MarketPolicy,
    Outcome, Price, Proposal, ReviewView,
};
use qun_crdt::{Action, Edit};
use qun_identity::MemberId;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A number sent as JSON (`12`) or as form text (`"12"`), kept as text to be parsed with a
/// hint (an empty form field is "not given").
pub(crate) fn loose<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    struct Loose;
    impl Visitor<'_> for Loose {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or text")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<String, E> {
            Ok(String::new())
        }
    }
    d.deserialize_any(Loose)
}

pub(crate) fn invalid(reason: String, hint: &'static str) -> Error {
    Error::Invalid { reason, hint }
}

/// A whole number in a field, or `None` when the field is empty.
pub(crate) fn number<T: std::str::FromStr>(
    field: &str,
    text: &str,
    hint: &'static str,
) -> Result<Option<T>> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| invalid(format!("{field} is not a whole number: {t:?}"), hint)),
    }
}

/// A listing id (`<member>/<key>`).
pub fn listing_id(text: &str) -> Result<ListingId> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("not a listing id: {:?}", text.trim()),
            "listing ids look like <member>/<key>; see GET …/market/listings",
        )
    })
}

/// A deal id (`<member>/<key>`).
pub fn deal_id(text: &str) -> Result<DealId> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("not a deal id: {:?}", text.trim()),
            "deal ids look like <member>/<key>; see GET …/market/deals",
        )
    })
}

/// A listing kind: `offer` or `request`.
pub fn kind(text: &str) -> Result<ListingKind> {
    match text.trim() {
        "offer" | "" => Ok(ListingKind::Offer),
        "request" => Ok(ListingKind::Request),
        other => Err(invalid(
            format!("not a listing kind: {other:?}"),
            "a listing is an offer or a request",
        )),
    }
}

/// A listing status: `open`, `reserved`, `closed`.
pub fn status(text: &str) -> Result<ListingStatus> {
    match text.trim() {
        "open" | "" => Ok(ListingStatus::Open),
        "reserved" => Ok(ListingStatus::Reserved),
        "closed" => Ok(ListingStatus::Closed),
        other => Err(invalid(
            format!("not a listing status: {other:?}"),
            "a listing is open, reserved or closed",
        )),
    }
}

/// A fresh key for something new: a slug of `title` (if any) and the time in base 36.
pub fn fresh_key(title: &str, now_ms: u64) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if slug.len() >= 24 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut t = String::new();
    let mut n = now_ms;
    loop {
        let d = (n % 36) as u32;
        t.insert(0, char::from_digit(d, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        format!("x-{t}")
    } else {
        format!("{slug}-{t}")
    }
}

/// Set the market policy (`POST …/market/policy`): `open`, `off`, `roles:ROLE[,ROLE...]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarketPolicyRequest {
    /// The policy.
    pub policy: String,
}

impl IntoEdit for MarketPolicyRequest {
    fn into_edit(self) -> Result<Edit> {
        let policy: MarketPolicy = self.policy.trim().parse().map_err(|e| {
            invalid(
                format!("{e}"),
                "the market policy is open, off or roles:ROLE[,ROLE...]",
            )
        })?;
        Ok(Edit::Govern(Action::MarketPolicy { policy }))
    }
}

/// The market policy in force (`GET …/market/policy`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarketPolicyView {
    /// `open`, `off`, `roles:…`.
    pub policy: String,
}

/// Create or replace one of my listings (`POST …/market/listings`, the market page's form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ListingRequest {
    /// Its key (`[a-z0-9-]`); a new one is made from the title when empty.
    #[serde(default)]
    pub key: String,
    /// `offer` (default) or `request`.
    #[serde(default)]
    pub kind: String,
    /// Title (not empty).
    pub title: String,
    /// Markdown text.
    #[serde(default)]
    pub description: String,
    /// Price per unit, a whole number; empty or `negotiable`: to be agreed.
    #[serde(default, deserialize_with = "loose")]
    pub price: String,
    /// How many (default 1).
    #[serde(default, deserialize_with = "loose")]
    pub quantity: String,
    /// Tags (a list, or text with one per line or separated by commas).
    #[serde(default, deserialize_with = "lines")]
    pub tags: Vec<String>,
    /// Where.
    #[serde(default)]
    pub location: String,
    /// `open` (default), `reserved`, `closed`.
    #[serde(default)]
    pub status: String,
}

impl ListingRequest {
    /// The listing's id (mine) and the edit that writes it.
    pub fn into_edit_as(self, owner: MemberId, now_ms: u64) -> Result<(ListingId, Edit)> {
        let key = match self.key.trim() {
            "" => fresh_key(&self.title, now_ms),
            k => k.to_string(),
        };
        let id = ListingId::new(owner, &key).map_err(|e| {
            invalid(
                e.to_string(),
                "a listing key is 1-40 of [a-z0-9-]; leave it out for a new one",
            )
        })?;
        let price = match self.price.trim() {
            "" | "negotiable" => Price::Negotiable,
            p => Price::Amount {
                amount: number("price", p, "a price is a whole number, or negotiable")?
                    .unwrap_or_default(),
            },
        };
        let tags: Vec<String> = self
            .tags
            .iter()
            .flat_map(|l| l.split(','))
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let listing = Listing {
            kind: kind(&self.kind)?,
            title: self.title.trim().to_string(),
            description: self.description.trim_end().to_string(),
            price,
            quantity: number("quantity", &self.quantity, "a quantity is 1 or more")?.unwrap_or(1),
            images: Vec::new(),
            tags,
            location: self.location.trim().to_string(),
            status: status(&self.status)?,
        };
        listing.check().map_err(|e| {
            invalid(
                e.to_string(),
                "a listing needs a title; tags are [a-z0-9-]; see docs/market.md",
            )
        })?;
        Ok((
            id.clone(),
            Edit::Govern(Action::ListingSet {
                id,
                listing: Box::new(listing),
            }),
        ))
    }
}

/// What was made: its id and the change (`POST …/market/listings`, `…/market/deals`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarketCreated {
    /// The new listing's or deal's id (`<member>/<key>`).
    pub id: String,
    /// The change's hash.
    pub hash: String,
}

/// Hide a listing (moderation, `POST …/market/listings/hide`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HideListing {
    /// The listing.
    pub id: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

impl IntoEdit for HideListing {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::ListingHide {
            id: listing_id(&self.id)?,
            reason: self.reason.trim().to_string(),
        }))
    }
}

/// Show a hidden listing again (`POST …/market/listings/unhide`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnhideListing {
    /// The listing.
    pub id: String,
}

impl IntoEdit for UnhideListing {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::ListingUnhide {
            id: listing_id(&self.id)?,
        }))
    }
}

/// Propose a deal on a listing (`POST …/market/deals`, the listing page's form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProposeDeal {
    /// The listing.
    pub listing: String,
    /// The deal's key; a new one when empty.
    #[serde(default)]
    pub key: String,
    /// How many (default 1).
    #[serde(default, deserialize_with = "loose")]
    pub quantity: String,
    /// Total price; default the listing's price times the quantity (required when the
    /// listing's price is negotiable).
    #[serde(default, deserialize_with = "loose")]
    pub price: String,
    /// Free text (delivery, payment).
    #[serde(default)]
    pub terms: String,
    /// A member both accept to decide a dispute.
    #[serde(default)]
    pub arbiter: String,
}

impl ProposeDeal {
    /// The listing, parsed.
    pub fn listing_id(&self) -> Result<ListingId> {
        listing_id(&self.listing)
    }

    /// The deal's id (mine) and the edit, given the listing as shown now.
    pub fn into_edit_as(
        self,
        proposer: MemberId,
        now_ms: u64,
        listing: &ListingView,
    ) -> Result<(DealId, Edit)> {
        let key = match self.key.trim() {
            "" => fresh_key("deal", now_ms),
            k => k.to_string(),
        };
        let deal = DealId::new(proposer, &key).map_err(|e| {
            invalid(
                e.to_string(),
                "a deal key is 1-40 of [a-z0-9-]; leave it out for a new one",
            )
        })?;
        let quantity: u32 =
            number("quantity", &self.quantity, "a quantity is 1 or more")?.unwrap_or(1);
        let price = match number::<u64>("price", &self.price, "a price is a whole number")? {
            Some(p) => p,
            None => match listing.listing.price {
                Price::Amount { amount } => amount.saturating_mul(u64::from(quantity)),
                Price::Negotiable => {
                    return Err(invalid(
                        "this listing's price is negotiable".into(),
                        "name the total price you propose",
                    ));
                }
            },
        };
        let arbiter = match self.arbiter.trim() {
            "" => None,
            a => Some(parse::member(a)?),
        };
        Ok((
            deal.clone(),
            Edit::Govern(Action::DealPropose(Box::new(Proposal {
                deal,
                listing: listing.id.clone(),
                quantity,
                price,
                terms: self.terms.trim().to_string(),
                arbiter,
            }))),
        ))
    }
}

/// The steps of a deal after its proposal, as the API's paths and the page's `step` name them.
pub const DEAL_STEPS: [&str; 6] = [
    "accept", "deliver", "complete", "dispute", "resolve", "cancel",
];

/// One step of a deal (`POST …/market/deals/{step}`; the page sends `step` in the form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DealStep {
    /// The deal.
    pub deal: String,
    /// `accept`, `deliver`, `complete`, `dispute`, `resolve`, `cancel` (the API takes it from
    /// the path).
    #[serde(default)]
    pub step: String,
    /// Why (a dispute).
    #[serde(default)]
    pub reason: String,
    /// `refund`, `release` or `split` (a resolution).
    #[serde(default)]
    pub outcome: String,
    /// The buyer's share for a split, 1-99.
    #[serde(default, deserialize_with = "loose")]
    pub percent: String,
}

impl IntoEdit for DealStep {
    fn into_edit(self) -> Result<Edit> {
        let deal = deal_id(&self.deal)?;
        let action = match self.step.trim() {
            "accept" => Action::DealAccept { deal },
            "deliver" => Action::DealDeliver { deal },
            "complete" => Action::DealComplete { deal },
            "cancel" => Action::DealCancel { deal },
            "dispute" => Action::DealDispute {
                deal,
                reason: self.reason.trim().to_string(),
            },
            "resolve" => {
                let outcome = match self.outcome.trim() {
                    "refund" => Outcome::Refund,
                    "release" => Outcome::Release,
                    "split" => Outcome::Split {
                        buyer_percent: number("percent", &self.percent, "a split is 1-99 %")?
                            .ok_or_else(|| {
                                invalid(
                                    "a split needs the buyer's percent".into(),
                                    "give percent, 1-99",
                                )
                            })?,
                    },
                    other => {
                        return Err(invalid(
                            format!("not an outcome: {other:?}"),
                            "an arbiter decides refund, release or split (with percent)",
                        ));
                    }
                };
                Action::DealResolve { deal, outcome }
            }
            other => {
                return Err(invalid(
                    format!("not a deal step: {other:?}"),
                    "steps are accept, deliver, complete, dispute, resolve, cancel",
                ));
            }
        };
        Ok(Edit::Govern(action))
    }
}

/// Review the other party of a finished deal (`POST …/market/reviews`, the deal's form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReviewRequest {
    /// The deal.
    pub deal: String,
    /// 1-5.
    #[serde(default, deserialize_with = "loose")]
    pub stars: String,
    /// What to say.
    #[serde(default)]
    pub text: String,
}

impl IntoEdit for ReviewRequest {
    fn into_edit(self) -> Result<Edit> {
        let stars: u8 = number("stars", &self.stars, "a review gives 1-5 stars")?
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| {
                invalid(
                    format!("stars must be 1-5, not {:?}", self.stars.trim()),
                    "a review gives 1-5 stars",
                )
            })?;
        Ok(Edit::Govern(Action::Review {
            deal: deal_id(&self.deal)?,
            stars,
            text: self.text.trim().to_string(),
        }))
    }
}

/// A listing as the API shows it: the core's view (whose `id` is `{owner, key}`) and `ref`,
/// the same id as the text requests take (`<owner>/<key>`).
#[derive(Clone, Debug, Serialize)]
pub struct ListingOut {
    /// `<owner>/<key>`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The listing.
    #[serde(flatten)]
    pub view: ListingView,
}

impl From<ListingView> for ListingOut {
    fn from(view: ListingView) -> Self {
        ListingOut {
            reference: view.id.to_string(),
            view,
        }
    }
}

/// A deal as the API shows it: the core's view and `ref` (`<proposer>/<key>`), and the
/// listing's id as text (`listing_ref`).
#[derive(Clone, Debug, Serialize)]
pub struct DealOut {
    /// `<proposer>/<key>`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The listing, `<owner>/<key>`.
    pub listing_ref: String,
    /// The deal.
    #[serde(flatten)]
    pub view: DealView,
}

impl From<DealView> for DealOut {
    fn from(view: DealView) -> Self {
        DealOut {
            reference: view.id.to_string(),
            listing_ref: view.terms.listing.to_string(),
            view,
        }
    }
}

/// Reviews about a member and what they add up to (`GET …/market/reviews?about=`).
#[derive(Clone, Debug, Serialize)]
pub struct ReviewSummary {
    /// The member.
    pub about: String,
    /// How many reviews count.
    pub count: usize,
    /// Their average stars (0 without reviews).
    pub average: f64,
    /// The reviews, by deal.
    pub reviews: Vec<ReviewView>,
}

impl ReviewSummary {
    /// The summary of `reviews` about `about`.
    pub fn of(about: MemberId, reviews: Vec<ReviewView>) -> Self {
        let count = reviews.len();
        let sum: u32 = reviews.iter().map(|r| u32::from(r.stars)).sum();
        let average = if count == 0 {
            0.0
        } else {
            f64::from(sum) / count as f64
        };
        ReviewSummary {
            about: about.to_string(),
            count,
            average,
            reviews,
        }
    }

    /// In words: "3 reviews, 4.7★ average", "no reviews yet".
    pub fn words(&self) -> String {
        match self.count {
            0 => "no reviews yet".into(),
            1 => format!("1 review, {:.1}★", self.average),
            n => format!("{n} reviews, {:.1}★ average", self.average),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_forms_read_like_json() {
        let k = fresh_key("Fresh Eggs, a dozen!", 1_700_000_000_000);
        assert!(k.starts_with("fresh-eggs-a-dozen-"), "{k}");
        assert!(k.len() <= qun_crdt::market::MAX_MARKET_KEY);
        assert!(fresh_key("", 1).starts_with("x-"));
        let j: ReviewRequest = serde_json::from_str(r#"{"deal":"a/b","stars":5}"#).unwrap();
        let f: ReviewRequest = serde_urlencoded::from_str("deal=a%2Fb&stars=5").unwrap();
        assert_eq!(j.stars, f.stars);
        let bad: ReviewRequest = serde_urlencoded::from_str("deal=a%2Fb&stars=9").unwrap();
        assert!(matches!(bad.into_edit(), Err(Error::Invalid { .. })));
        let s: DealStep = serde_json::from_str(r#"{"deal":"x","step":"fly"}"#).unwrap();
        assert!(s.into_edit().is_err());
    }
}
