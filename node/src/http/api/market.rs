//! The market under `/api/v1/communities/{id}/market`: the policy, listings (search, one, a
//! member's shop, create or replace my own), deals (mine, one with its history, propose, and
//! each step by path: accept, deliver, complete, dispute, resolve, cancel) and reviews. Hiding
//! listings, steps, reviews and the policy go through the shared edit handler's shape; the
//! core's verdict is the only authorization (a refused step is a 403 naming the rule).

use super::ApiResult;
use crate::dto::market::{self as m, DEAL_STEPS};
use crate::dto::{
    DealOut, DealStep, EditDone, IntoEdit, ListingOut, ListingRequest, MarketCreated,
    MarketPolicyView, ProposeDeal, ReviewSummary, parse,
};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{Community, Json, Member, Query};
use axum::extract::State;
use axum::http::StatusCode;
use qun_crdt::market::{ListingKind, ListingQuery, ListingStatus, ListingView};
use serde::Deserialize;

/// `?q=&tag=&kind=&status=&owner=&hidden=`.
#[derive(Debug, Default, Deserialize)]
pub struct ListingsQuery {
    /// Text in the title, description or tags.
    #[serde(default)]
    pub q: String,
    /// A tag (several separated by commas).
    #[serde(default)]
    pub tag: String,
    /// `offer` or `request`.
    #[serde(default)]
    pub kind: String,
    /// `open`, `reserved`, `closed`.
    #[serde(default)]
    pub status: String,
    /// Only this member's shop.
    #[serde(default)]
    pub owner: String,
    /// Include hidden listings (marked), as moderators see them.
    #[serde(default)]
    pub hidden: bool,
}

impl ListingsQuery {
    /// The core query and the kind and status filters.
    pub fn parse(
        &self,
    ) -> crate::Result<(ListingQuery, Option<ListingKind>, Option<ListingStatus>)> {
        let owner = match self.owner.trim() {
            "" => None,
            o => Some(parse::member(o)?),
        };
        let q = ListingQuery {
            owner,
            text: Some(self.q.trim().to_string()).filter(|t| !t.is_empty()),
            tags: self
                .tag
                .split(',')
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
            include_hidden: self.hidden,
        };
        let kind = (!self.kind.trim().is_empty())
            .then(|| m::kind(&self.kind))
            .transpose()?;
        let status = (!self.status.trim().is_empty())
            .then(|| m::status(&self.status))
            .transpose()?;
        Ok((q, kind, status))
    }
}

/// The listings `q` asks for, filtered by kind and status.
pub async fn search_listings(
    s: &AppState,
    c: qun_crdt::CommunityId,
    q: &ListingsQuery,
) -> crate::Result<Vec<ListingView>> {
    let (query, kind, status) = q.parse()?;
    Ok(s.node
        .listings(c, query)
        .await?
        .into_iter()
        .filter(|l| kind.is_none_or(|k| l.listing.kind == k))
        .filter(|l| status.is_none_or(|st| l.listing.status == st))
        .collect())
}

/// `GET …/market/policy`.
pub(super) async fn policy(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<MarketPolicyView> {
    let policy = s.node.market_policy(c).await?.to_string();
    Ok(Json(MarketPolicyView { policy }))
}

/// `GET …/market/listings?q=&tag=&kind=&status=&owner=&hidden=`, by id.
pub(super) async fn listings(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ListingsQuery>,
) -> ApiResult<Vec<ListingOut>> {
    let found = search_listings(&s, c, &q).await?;
    Ok(Json(found.into_iter().map(ListingOut::from).collect()))
}

/// `?id=`.
#[derive(Deserialize)]
pub(super) struct IdQuery {
    id: String,
}

/// `GET …/market/listing?id=<member>/<key>`.
pub(super) async fn listing(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<IdQuery>,
) -> ApiResult<ListingOut> {
    Ok(Json(s.node.listing(c, m::listing_id(&q.id)?).await?.into()))
}

/// `GET …/market/shop/{member}`: a member's listings, hidden ones included (marked).
pub(super) async fn shop(
    State(s): State<AppState>,
    Community(c): Community,
    Member(who): Member,
) -> ApiResult<Vec<ListingOut>> {
    let q = ListingQuery {
        owner: Some(who),
        include_hidden: true,
        ..Default::default()
    };
    let shop = s.node.listings(c, q).await?;
    Ok(Json(shop.into_iter().map(ListingOut::from).collect()))
}

/// `POST …/market/listings {key?, kind, title, description, price, quantity, tags, location,
/// status}` → 201 `{id, hash}`: create or replace one of my listings.
pub(super) async fn put_listing(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<ListingRequest>,
) -> Result<(StatusCode, Json<MarketCreated>), HttpError> {
    let (id, edit) = r.into_edit_as(s.node.member(), s.node.now().as_millis())?;
    let done = s.node.edit(c, edit).await?;
    Ok((
        StatusCode::CREATED,
        Json(MarketCreated {
            id: id.to_string(),
            hash: done.hash,
        }),
    ))
}

/// Propose a deal: read the listing, then propose; the deal's id.
pub async fn propose(
    s: &AppState,
    c: qun_crdt::CommunityId,
    r: ProposeDeal,
) -> crate::Result<MarketCreated> {
    let listing = s.node.listing(c, r.listing_id()?).await?;
    let (id, edit) = r.into_edit_as(s.node.member(), s.node.now().as_millis(), &listing)?;
    let done = s.node.edit(c, edit).await?;
    Ok(MarketCreated {
        id: id.to_string(),
        hash: done.hash,
    })
}

/// `POST …/market/deals {listing, key?, quantity?, price?, terms?, arbiter?}` → 201 `{id,
/// hash}`.
pub(super) async fn propose_deal(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<ProposeDeal>,
) -> Result<(StatusCode, Json<MarketCreated>), HttpError> {
    Ok((StatusCode::CREATED, Json(propose(&s, c, r).await?)))
}

/// `?member=`.
#[derive(Deserialize)]
pub(super) struct DealsQuery {
    /// Whose deals (default: mine).
    #[serde(default)]
    member: String,
}

/// `GET …/market/deals?member=`: the deals a member (default: me) is a party or the arbiter
/// of.
pub(super) async fn deals(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<DealsQuery>,
) -> ApiResult<Vec<DealOut>> {
    let who = match q.member.trim() {
        "" => None,
        w => Some(parse::member(w)?),
    };
    let deals = s.node.deals(c, who).await?;
    Ok(Json(deals.into_iter().map(DealOut::from).collect()))
}

/// `GET …/market/deal?id=<member>/<key>`: one deal with its history.
pub(super) async fn deal(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<IdQuery>,
) -> ApiResult<DealOut> {
    Ok(Json(s.node.deal(c, m::deal_id(&q.id)?).await?.into()))
}

/// `POST …/market/deals/{step} {deal, reason?, outcome?, percent?}`, the step from the path
/// (`DEAL_STEPS[S]`).
pub(super) async fn step<const S: usize>(
    State(s): State<AppState>,
    Community(c): Community,
    Json(mut r): Json<DealStep>,
) -> ApiResult<EditDone> {
    r.step = DEAL_STEPS[S].to_string();
    let edit = r.into_edit()?;
    Ok(Json(s.node.edit(c, edit).await?))
}

/// `?about=`.
#[derive(Deserialize)]
pub(super) struct ReviewsQuery {
    about: String,
}

/// `GET …/market/reviews?about=<member>`: the reviews about a member, counted and averaged.
pub(super) async fn reviews(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<ReviewsQuery>,
) -> ApiResult<ReviewSummary> {
    let about = parse::member(q.about.trim())?;
    let r = s.node.reviews(c, Some(about)).await?;
    Ok(Json(ReviewSummary::of(about, r)))
}
