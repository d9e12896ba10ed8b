//! The market pages (issue 15): open listings ranked by my trust in their owner, with the
//! reason in words, a search box and a form for a new listing (`/c/{id}/market`); one
//! listing with "Propose a deal" (`/c/{id}/market/listing?id=`); my deals with only the
//! buttons my role in each allows and a review form once a deal is finished
//! (`/c/{id}/market/deals`); and the reviews and shop on a member's profile. Every form is a
//! plain POST that redirects; the core's verdict is the only authorization.

use super::Landing;
use super::view::{self, Current, Names, Nav, avatar, badge, icon, page};
use crate::dto::market::listing_id;
use crate::dto::{
    DealStep, HideListing, ListingRequest, ProposeDeal, ReviewRequest, ReviewSummary, UnhideListing,
};
use crate::http::AppState;
use crate::http::api::market::{ListingsQuery, propose, search_listings};
use crate::http::error::PageError;
use crate::http::extract::{Community, Form, Query};
use axum::extract::State;
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::CommunityId;
use qun_crdt::market::{
    DealStatus, DealView, ListingKind, ListingQuery, ListingView, Price, ReviewView,
};
use qun_identity::MemberId;
use serde::Deserialize;
use std::collections::BTreeMap;

impl Landing for DealStep {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/market/deals")
    }
}

impl Landing for HideListing {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/market/listing?id={}", view::enc(self.id.trim()))
    }
}

impl Landing for UnhideListing {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/market/listing?id={}", view::enc(self.id.trim()))
    }
}

impl Landing for ReviewRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/market/deals?saved=review")
    }
}

/// Reviews about each member, summarized.
fn summaries(all: Vec<ReviewView>) -> BTreeMap<MemberId, ReviewSummary> {
    let mut by: BTreeMap<MemberId, Vec<ReviewView>> = BTreeMap::new();
    for r in all {
        by.entry(r.about).or_default().push(r);
    }
    by.into_iter()
        .map(|(m, rs)| (m, ReviewSummary::of(m, rs)))
        .collect()
}

fn price_text(p: &Price) -> String {
    match p {
        Price::Amount { amount } => amount.to_string(),
        Price::Negotiable => "negotiable".into(),
    }
}

fn kind_text(k: ListingKind) -> &'static str {
    match k {
        ListingKind::Offer => "offer",
        ListingKind::Request => "request",
    }
}

/// What the market pages share: the sidebar, names, reviews, my trust ranking.
struct Ctx {
    nav: Nav,
    cid: String,
    cname: String,
    me: MemberId,
    names: Names,
    reviews: BTreeMap<MemberId, ReviewSummary>,
    /// Trust rank (1-based) and score from my point of view.
    trust: BTreeMap<String, (usize, f64)>,
    /// My role may hide listings (a moderator's).
    can_hide: bool,
}

async fn context(s: &AppState, c: CommunityId) -> crate::Result<Ctx> {
    let v = s.node.community_view(c).await?;
    let status = s.node.status().await?;
    let trust = s
        .node
        .trust(c, usize::MAX)
        .await?
        .into_iter()
        .map(|t| (t.member, (t.rank, t.score)))
        .collect();
    Ok(Ctx {
        nav: Nav::new(&status, Some(Current::of(&v, None, "market"))),
        cid: c.to_string(),
        cname: v.summary.name.clone(),
        me: v.me,
        names: view::names(&v),
        reviews: summaries(s.node.reviews(c, None).await?),
        trust,
        can_hide: v.can(qun_crdt::Perm::Hide),
    })
}

impl Ctx {
    fn summary(&self, m: &MemberId) -> ReviewSummary {
        self.reviews
            .get(m)
            .cloned()
            .unwrap_or_else(|| ReviewSummary::of(*m, Vec::new()))
    }

    /// Why a listing ranks where it does, in words.
    fn reason(&self, owner: &MemberId) -> String {
        let r = self.summary(owner).words();
        if *owner == self.me {
            return format!("your listing · {r}");
        }
        match self.trust.get(&owner.to_string()) {
            Some((rank, _)) => format!("{r} · #{rank} in your trust ranking"),
            None => format!("{r} · not in your trust ranking yet"),
        }
    }

    fn score(&self, owner: &MemberId) -> f64 {
        self.trust.get(&owner.to_string()).map_or(0.0, |(_, s)| *s)
    }

    fn head(&self, title: &str, sub: &str) -> Markup {
        html! {
            header class="page-head" {
                div class="community-title" {
                    (badge(&self.cid, &self.cname))
                    div { h1 { (title) } p class="muted" { (sub) } }
                }
                div class="head-actions" {
                    a class="btn" href={ "/c/" (self.cid) "/market" } { (icon("star")) "Market" }
                    a class="btn" href={ "/c/" (self.cid) "/market/deals" } id="my-deals" { "My deals" }
                }
            }
        }
    }
}

/// `?q=&tag=&kind=`.
#[derive(Debug, Default, Deserialize)]
pub struct MarketQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    kind: String,
}

/// One listing in a list.
fn listing_row(x: &Ctx, l: &ListingView) -> Markup {
    let owner = l.owner.to_string();
    html! {
        li class="listing-row card" id={ "l-" (l.id.key) } {
            a href={ "/c/" (x.cid) "/m/" (owner) } { (avatar(&owner, "md")) }
            div class="listing-main" {
                div class="member-line" {
                    span class={ "pill kind-" (kind_text(l.listing.kind)) } { (kind_text(l.listing.kind)) }
                    a class="listing-title" href={ "/c/" (x.cid) "/market/listing?id=" (view::enc(&l.id.to_string())) } { (l.listing.title) }
                    @if l.hidden.is_some() { span class="pill warn" { "hidden" } }
                }
                div class="small" {
                    a class="author" href={ "/c/" (x.cid) "/m/" (owner) } { (x.names.of(&owner)) }
                    " · " span class="price" { (price_text(&l.listing.price)) } " each · " (l.listing.quantity) " available"
                    " · " span class="status" { (format!("{:?}", l.listing.status).to_lowercase()) }
                    @if !l.listing.location.is_empty() { " · " (l.listing.location) }
                }
                div class="small muted why-rank" { (x.reason(&l.owner)) }
                @if !l.listing.tags.is_empty() {
                    div class="small muted" { @for t in &l.listing.tags { span class="tag" { "#" (t) } " " } }
                }
            }
        }
    }
}

/// `GET /c/{id}/market?q=&tag=&kind=`: open listings, trust-ranked.
pub async fn market(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<MarketQuery>,
) -> Result<Markup, PageError> {
    let x = context(&s, c).await?;
    let mut listings = search_listings(
        &s,
        c,
        &ListingsQuery {
            q: q.q.clone(),
            tag: q.tag.clone(),
            kind: q.kind.clone(),
            status: "open".into(),
            ..Default::default()
        },
    )
    .await?;
    // By my trust in the owner, then by their reviews' average, then by id.
    listings.sort_by(|a, b| {
        x.score(&b.owner)
            .total_cmp(&x.score(&a.owner))
            .then_with(|| {
                x.summary(&b.owner)
                    .average
                    .total_cmp(&x.summary(&a.owner).average)
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(page(
        &format!("Market of {}", x.cname),
        &x.nav,
        html! {
            (x.head("Market", "Offers and requests from members, ranked by your trust in who posted them and the reviews behind it."))
            form class="market-search" method="get" action={ "/c/" (x.cid) "/market" } role="search" {
                input type="search" name="q" value=(q.q) placeholder="Search listings" aria-label="Search listings";
                select name="kind" aria-label="Kind" {
                    option value="" selected[q.kind.is_empty()] { "Offers and requests" }
                    option value="offer" selected[q.kind == "offer"] { "Offers" }
                    option value="request" selected[q.kind == "request"] { "Requests" }
                }
                button class="btn" type="submit" { "Search" }
            }
            @if listings.is_empty() {
                p class="muted card section" id="no-listings" { "No open listings" @if !q.q.is_empty() { " match “" (q.q) "”" } "." }
            }
            ul class="listing-list" {
                @for l in &listings { (listing_row(&x, l)) }
            }
            section class="card section" id="new-listing" {
                h2 { "New listing" }
                form class="form" method="post" action={ "/c/" (x.cid) "/market/listing" } {
                    fieldset {
                        label class="choice" { input type="radio" name="kind" value="offer" checked; span { strong { "Offer" } small { "You sell or give this" } } }
                        label class="choice" { input type="radio" name="kind" value="request"; span { strong { "Request" } small { "You are looking for this" } } }
                    }
                    label { span { "Title" } input name="title" id="listing-title" required maxlength="200"; }
                    label { span { "Price per unit (empty: negotiable)" } input type="number" name="price" id="listing-price" min="0"; }
                    label { span { "Quantity" } input type="number" name="quantity" min="1" value="1"; }
                    label { span { "Tags (comma separated)" } input name="tags" placeholder="food, local"; }
                    label { span { "Location" } input name="location" maxlength="200"; }
                    label { span { "Description" } textarea name="description" rows="4" {} }
                    div class="form-actions" { button class="btn primary" type="submit" id="create-listing" { "Publish listing" } }
                }
            }
        },
    ))
}

/// `POST /c/{id}/market/listing`: create or replace my listing, then show it.
pub async fn put_listing(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<ListingRequest>,
) -> Result<Redirect, PageError> {
    let (id, edit) = form.into_edit_as(s.node.member(), s.node.now().as_millis())?;
    s.node.edit(c, edit).await?;
    Ok(Redirect::to(&format!(
        "/c/{c}/market/listing?id={}",
        view::enc(&id.to_string())
    )))
}

/// `?id=`.
#[derive(Deserialize)]
pub struct IdQuery {
    id: String,
}

/// `GET /c/{id}/market/listing?id=`: one listing, its owner's reviews, "Propose a deal".
pub async fn listing(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<IdQuery>,
) -> Result<Markup, PageError> {
    let x = context(&s, c).await?;
    let l = s.node.listing(c, listing_id(&q.id)?).await?;
    let owner = l.owner.to_string();
    let mine = l.owner == x.me;
    let sum = x.summary(&l.owner);
    let you_are = match l.listing.kind {
        ListingKind::Offer => "buyer",
        ListingKind::Request => "seller",
    };
    Ok(page(
        &l.listing.title,
        &x.nav,
        html! {
            (x.head(&l.listing.title, &format!("{} in {}", match l.listing.kind { ListingKind::Offer => "An offer", ListingKind::Request => "A request" }, if mine { "your shop".to_string() } else { format!("{}'s shop", x.names.of(&owner)) })))
            div class="card section listing-detail" {
                div class="member-line" {
                    a href={ "/c/" (x.cid) "/m/" (owner) } { (avatar(&owner, "md")) }
                    a class="author" href={ "/c/" (x.cid) "/m/" (owner) } { (x.names.of(&owner)) }
                    span class="muted small" { (x.reason(&l.owner)) }
                }
                p { strong { "Price: " } span id="listing-price" { (price_text(&l.listing.price)) } " · " strong { "Quantity: " } (l.listing.quantity)
                    " · " strong { "Status: " } (format!("{:?}", l.listing.status).to_lowercase()) }
                @if !l.listing.location.is_empty() { p { strong { "Where: " } (l.listing.location) } }
                @if !l.listing.description.is_empty() { div class="bio" { (view::text(&l.listing.description)) } }
                @if let Some(h) = &l.hidden { p class="pill warn" { "Hidden by a moderator: " (h.reason) } }
            }
            @if !mine {
                section class="card section" id="propose" {
                    h2 { "Propose a deal" }
                    p class="muted small" { "You would be the " (you_are) ". The owner accepts or not; nothing is binding before that." }
                    form class="form" method="post" action={ "/c/" (x.cid) "/market/propose" } {
                        input type="hidden" name="listing" value=(l.id.to_string());
                        label { span { "Quantity" } input type="number" name="quantity" min="1" value="1"; }
                        label { span { "Total price (empty: the listed price × quantity)" } input type="number" name="price" min="0"; }
                        label { span { "Terms (delivery, payment)" } textarea name="terms" rows="2" {} }
                        label { span { "Arbiter (a member id both accept; optional)" } input name="arbiter" placeholder="z6Mk…"; }
                        div class="form-actions" { button class="btn primary" type="submit" id="propose-deal" { "Propose a deal" } }
                    }
                }
            }
            @if x.can_hide && !mine {
                section class="card section" id="moderate" {
                    h2 { "Moderation" }
                    @if l.hidden.is_some() {
                        form method="post" action={ "/c/" (x.cid) "/market/unhide" } {
                            input type="hidden" name="id" value=(l.id.to_string());
                            button class="btn small" type="submit" id="unhide-listing" { "Show this listing again" }
                        }
                    } @else {
                        form class="form" method="post" action={ "/c/" (x.cid) "/market/hide" } {
                            input type="hidden" name="id" value=(l.id.to_string());
                            label { span { "Why (shown to members)" } input name="reason" maxlength="500"; }
                            div class="form-actions" { button class="btn small" type="submit" id="hide-listing" { "Hide this listing" } }
                        }
                    }
                }
            }
            (reviews_section(&x, &sum))
        },
    ))
}

/// `POST /c/{id}/market/propose`: propose a deal, then my deals.
pub async fn propose_deal(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<ProposeDeal>,
) -> Result<Redirect, PageError> {
    let done = propose(&s, c, form).await?;
    let key = done.id.rsplit('/').next().unwrap_or_default().to_string();
    Ok(Redirect::to(&format!("/c/{c}/market/deals#d-{key}")))
}

fn reviews_section(x: &Ctx, sum: &ReviewSummary) -> Markup {
    html! {
        section class="card section reviews" {
            h2 { "Reviews" }
            p class="muted small review-summary" { (sum.words()) }
            @for r in &sum.reviews {
                @let by = r.reviewer.to_string();
                div class="row-item review" {
                    a class="member-line" href={ "/c/" (x.cid) "/m/" (by) } { (avatar(&by, "xs")) span { (x.names.of(&by)) } }
                    span class="stars" title=(format!("{} of 5", r.stars)) { (stars(r.stars)) }
                    @if !r.text.is_empty() { span { (r.text) } }
                }
            }
        }
    }
}

fn stars(n: u8) -> String {
    (0..5).map(|i| if i < n { '★' } else { '☆' }).collect()
}

/// The steps `me` may take on `d`, as (step, button label): what the state machine allows
/// (the node refuses the rest anyway).
fn steps_for(d: &DealView, me: &MemberId) -> Vec<(&'static str, &'static str)> {
    let t = &d.terms;
    let party = *me == t.buyer || *me == t.seller;
    let proposer = d.id.proposer == *me;
    let arbiter = t.arbiter.as_ref() == Some(me);
    let has_arbiter = t.arbiter.is_some();
    let mut v = Vec::new();
    match d.status {
        DealStatus::Proposed => {
            if party && !proposer {
                v.push(("accept", "Accept"));
            }
            if proposer {
                v.push(("cancel", "Withdraw"));
            }
        }
        DealStatus::Accepted | DealStatus::Delivered => {
            if d.status == DealStatus::Accepted && *me == t.seller {
                v.push(("deliver", "Mark delivered"));
            }
            if d.status == DealStatus::Delivered && *me == t.buyer {
                v.push(("complete", "Confirm received (complete)"));
            }
            if party && has_arbiter {
                v.push(("dispute", "Dispute"));
            }
            if party {
                v.push(match d.cancel_asked {
                    Some(a) if a != *me => ("cancel", "Agree to cancel"),
                    Some(_) => ("cancel", "Cancel asked (waiting)"),
                    None => ("cancel", "Ask to cancel"),
                });
            }
        }
        DealStatus::Disputed if arbiter => v.push(("resolve", "Resolve")),
        _ => {}
    }
    v
}

/// `GET /c/{id}/market/deals`: my deals with the buttons my role allows.
pub async fn deals(
    State(s): State<AppState>,
    Community(c): Community,
) -> Result<Markup, PageError> {
    let x = context(&s, c).await?;
    let mut deals = s.node.deals(c, None).await?;
    deals.reverse();
    let wallet = s.node.wallet(c, None).await?;
    let mine_reviewed: Vec<String> = x
        .reviews
        .values()
        .flat_map(|r| r.reviews.iter())
        .filter(|r| r.reviewer == x.me)
        .map(|r| r.deal.to_string())
        .collect();
    let mut titles = BTreeMap::new();
    for d in &deals {
        if let Ok(l) = s.node.listing(c, d.terms.listing.clone()).await {
            titles.insert(d.terms.listing.to_string(), l.listing.title);
        }
    }
    Ok(page(
        "My deals",
        &x.nav,
        html! {
            (x.head("My deals", "Deals you are the buyer, the seller or the arbiter of. Each step is signed by the party allowed to make it."))
            @if deals.is_empty() { p class="muted card section" { "No deals yet: propose one from a listing." } }
            @for d in &deals {
                @let t = &d.terms;
                @let id = d.id.to_string();
                @let role = if t.buyer == x.me { "buyer" } else if t.seller == x.me { "seller" } else { "arbiter" };
                section class="card section deal" id={ "d-" (d.id.key) } data-status=(d.status.name()) {
                    div class="member-line" {
                        span class={ "pill deal-" (d.status.name()) } { (d.status.name()) }
                        a href={ "/c/" (x.cid) "/market/listing?id=" (view::enc(&t.listing.to_string())) } {
                            (titles.get(&t.listing.to_string()).cloned().unwrap_or_else(|| t.listing.to_string()))
                        }
                        span class="muted small" { "you are the " (role) }
                    }
                    p class="small" {
                        "Buyer " (x.names.of(&t.buyer.to_string())) " · seller " (x.names.of(&t.seller.to_string()))
                        @if let Some(a) = &t.arbiter { " · arbiter " (x.names.of(&a.to_string())) }
                        " · " (t.quantity) " for " (t.price)
                    }
                    @if !t.terms.is_empty() { p class="small muted" { (t.terms) } }
                    @if let Some(dis) = &d.dispute { p class="small" { "Disputed by " (x.names.of(&dis.by.to_string())) ": " (dis.reason) } }
                    ol class="deal-history small muted" {
                        @for e in &d.history { li { (x.names.of(&e.by.to_string())) " — " (e.action) " → " (e.status.name()) } }
                    }
                    (super::ledger::escrow_section(&x.cid, &wallet, d, &x.me))
                    div class="deal-actions" {
                        @for (step, label) in steps_for(d, &x.me) {
                            form class="inline" method="post" action={ "/c/" (x.cid) "/market/step" } {
                                input type="hidden" name="deal" value=(id);
                                input type="hidden" name="step" value=(step);
                                @if step == "dispute" { input name="reason" placeholder="Why" aria-label="Why"; }
                                @if step == "resolve" {
                                    select name="outcome" aria-label="Outcome" {
                                        option value="release" { "Release to the seller" }
                                        option value="refund" { "Refund the buyer" }
                                        option value="split" { "Split" }
                                    }
                                    input type="number" name="percent" min="1" max="99" placeholder="buyer %" aria-label="Buyer's share, percent";
                                }
                                button class={ "btn small" @if matches!(step, "accept" | "deliver" | "complete") { " primary" } } type="submit" id={ (step) "-" (d.id.key) } { (label) }
                            }
                        }
                    }
                    @if d.status.earns_reviews() && role != "arbiter" {
                        @if mine_reviewed.contains(&id) {
                            p class="small muted" { "You reviewed this deal." }
                        } @else {
                            form class="form review-form" method="post" action={ "/c/" (x.cid) "/market/review" } {
                                input type="hidden" name="deal" value=(id);
                                label { span { "Stars" }
                                    select name="stars" { @for n in (1..=5).rev() { option value=(n) { (stars(n)) } } }
                                }
                                label { span { "Review" } textarea name="text" rows="2" {} }
                                div class="form-actions" { button class="btn primary small" type="submit" id={ "review-" (d.id.key) } { "Post review" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// The market part of a member's profile: their reviews and open listings.
pub async fn profile_section(
    s: &AppState,
    c: CommunityId,
    m: MemberId,
    names: &Names,
) -> crate::Result<Markup> {
    let sum = ReviewSummary::of(m, s.node.reviews(c, Some(m)).await?);
    let shop = s
        .node
        .listings(
            c,
            ListingQuery {
                owner: Some(m),
                ..Default::default()
            },
        )
        .await?;
    let cid = c.to_string();
    Ok(html! {
        section class="card section reviews" id="profile-market" {
            h2 { "Shop and reviews" }
            p class="muted small review-summary" { (sum.words()) }
            @for r in &sum.reviews {
                @let by = r.reviewer.to_string();
                div class="row-item review" {
                    a class="member-line" href={ "/c/" (cid) "/m/" (by) } { (avatar(&by, "xs")) span { (names.of(&by)) } }
                    span class="stars" { (stars(r.stars)) }
                    @if !r.text.is_empty() { span { (r.text) } }
                }
            }
            @if !shop.is_empty() {
                ul class="shop" {
                    @for l in &shop {
                        li { a href={ "/c/" (cid) "/market/listing?id=" (view::enc(&l.id.to_string())) } { (l.listing.title) } " · " (price_text(&l.listing.price)) }
                    }
                }
            }
        }
    })
}
