//! The ledger's pages (issue 16): the wallet (`/c/{id}/wallet`: balance, limit and why,
//! available, open holds, history newest first with whether each line counts and how safe
//! money received is, a Pay form, the community's totals, and the ledger's settings for
//! whoever may change the policy), the proposals (`/c/{id}/proposals`: progress bars, tallies
//! in words, pledge, vote and close forms, a new proposal) and the bounties board
//! (`/c/{id}/bounties`: the step buttons that apply to the viewer, a new bounty). Every form
//! is a plain POST that redirects with `?saved=`; a refused form shows its page again with
//! what was typed and the reason. The core's verdict is the only authorization.

use super::Landing;
use super::view::{self, Current, Names, Nav, badge, icon, page, time};
use crate::dto::ledger::hold_words;
use crate::dto::{
    BountyOut, BountyRequest, BountyStepRequest, CloseRequest, FundOut, IntoEdit,
    LedgerPolicyRequest, PayRequest, PledgeRequest, ProposalRequest, UnfreezeRequest, VoteRequest,
    Wallet,
};
use crate::http::AppState;
use crate::http::api::ledger::{offer_bounty, pledge, propose, set_policy};
use crate::http::error::{HttpError, PageError};
use crate::http::extract::{Community, Form, Query};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qun_crdt::CommunityId;
use qun_crdt::ledger::bounty::Claim;
use qun_crdt::ledger::view::Totals;
use qun_crdt::ledger::{BountyStatus, Choice, FundOutcome};
use qun_identity::MemberId;
use serde::Deserialize;

impl Landing for CloseRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/proposals?saved=closed")
    }
}

impl Landing for VoteRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/proposals?saved=voted")
    }
}

impl Landing for BountyStepRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/bounties?saved={}", view::enc(self.step.trim()))
    }
}

impl Landing for UnfreezeRequest {
    fn landing(&self, c: &CommunityId, _: &MemberId) -> String {
        format!("/c/{c}/wallet?saved=unfrozen")
    }
}

/// `?saved=`: the notice after a form went in.
#[derive(Debug, Default, Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

/// What a notice says after `?saved=…`.
fn saved_words(s: &str) -> Option<&'static str> {
    Some(match s {
        "paid" => "Payment made.",
        "escrow" => "Paid into escrow.",
        "policy" => "Ledger settings saved.",
        "unfrozen" => "Account unfrozen.",
        "proposed" => "Proposal made.",
        "pledged" => "Pledge made.",
        "voted" => "Vote cast.",
        "closed" => "Proposal closed.",
        "offered" => "Bounty offered.",
        "claim" => "Bounty claimed.",
        "submit" => "Work handed in.",
        "accept" => "Work accepted: the reward is paid.",
        "reject" => "Work rejected.",
        "cancel" => "Bounty cancelled.",
        _ => return None,
    })
}

fn notice(saved: &str) -> Markup {
    html! {
        @if let Some(w) = saved_words(saved) {
            div class="notice ok saved-notice" id="saved" role="status" { (w) }
        }
    }
}

/// A refused form's error for the page: a rule's refusal says only the rule, in words.
fn refusal(e: crate::Error) -> HttpError {
    match &e {
        crate::Error::Crdt(qun_crdt::Error::Unauthorized { reason, .. }) => {
            let mut words = reason.clone();
            if let Some(first) = words.get(..1) {
                words.replace_range(..1, &first.to_uppercase());
            }
            HttpError::new(
                axum::http::StatusCode::FORBIDDEN,
                format!("{words}."),
                "The community's rules refuse it; nothing was changed.",
            )
        }
        _ => HttpError::from(e),
    }
}

fn error_notice(e: Option<&HttpError>) -> Markup {
    html! {
        @if let Some(e) = e {
            div class="notice error" id="form-error" role="alert" { strong { (e.error) } " " (e.hint) }
        }
    }
}

/// What the ledger's pages share.
struct Ctx {
    nav: Nav,
    cid: String,
    cname: String,
    me: MemberId,
    names: Names,
    members: Vec<MemberId>,
    can_policy: bool,
    can_unfreeze: bool,
    wallet: Wallet,
    now: u64,
}

async fn context(s: &AppState, c: CommunityId, tab: &'static str) -> crate::Result<Ctx> {
    let v = s.node.community_view(c).await?;
    let status = s.node.status().await?;
    let wallet = s.node.wallet(c, None).await?;
    Ok(Ctx {
        nav: Nav::new(&status, Some(Current::of(&v, None, tab))),
        cid: c.to_string(),
        cname: v.summary.name.clone(),
        me: v.me,
        names: view::names(&v),
        members: v.roles.keys().copied().collect(),
        can_policy: v.can(qun_crdt::Perm::Policy),
        can_unfreeze: v.can(qun_crdt::Perm::Remove),
        wallet,
        now: v.now.as_millis(),
    })
}

impl Ctx {
    fn unit(&self) -> &str {
        if self.wallet.unit.is_empty() {
            "units"
        } else {
            &self.wallet.unit
        }
    }

    fn name(&self, m: &MemberId) -> String {
        if *m == self.me {
            "you".into()
        } else {
            self.names.of(&m.to_string())
        }
    }

    fn head(&self, title: &str, sub: &str) -> Markup {
        html! {
            header class="page-head" {
                div class="community-title" {
                    (badge(&self.cid, &self.cname))
                    div { h1 { (title) } p class="muted" { (sub) } }
                }
                div class="head-actions" {
                    a class="btn" href={ "/c/" (self.cid) "/wallet" } id="nav-wallet" { "Wallet" }
                    a class="btn" href={ "/c/" (self.cid) "/proposals" } id="nav-proposals" { "Proposals" }
                    a class="btn" href={ "/c/" (self.cid) "/bounties" } id="nav-bounties" { "Bounties" }
                }
            }
        }
    }

    fn off_notice(&self) -> Markup {
        html! {
            @if !self.wallet.on {
                p class="notice" id="ledger-off" {
                    @if self.wallet.policy.is_none() { "This community has no ledger yet." } @else { "The ledger is off: no new payments, pledges or bounties (holds under way still settle)." }
                    @if self.can_policy { " You may turn it on below, in the wallet's settings." }
                }
            }
        }
    }

    /// A `<select>` of the other members.
    fn member_select(&self, name: &str, id: &str, selected: &str) -> Markup {
        html! {
            select name=(name) id=(id) required {
                option value="" { "Choose a member" }
                @for m in self.members.iter().filter(|m| **m != self.me) {
                    @let ms = m.to_string();
                    option value=(ms) selected[ms == selected] { (self.names.of(&ms)) " (" (view::short_id(&ms)) ")" }
                }
            }
        }
    }
}

/// The wallet page, with the Pay form's values and an error after a refused form.
fn wallet_page(
    x: &Ctx,
    totals: &Totals,
    saved: &str,
    form: &PayRequest,
    err: Option<&HttpError>,
) -> Markup {
    let w = &x.wallet;
    let unit = x.unit();
    html! {
        (x.head("Wallet", "Your account in the community's mutual credit: everyone starts at 0, and the sum of all balances is always 0."))
        (notice(saved))
        (x.off_notice())
        section class="card section" id="account" {
            div class="wallet-figures" {
                div { span class="muted small" { "Balance" } strong id="balance" { (w.account.balance) " " (unit) } }
                div { span class="muted small" { "Credit limit" } strong id="limit" { (w.account.limit) } span class="small muted" id="limit-why" { (w.limit_why) } }
                div { span class="muted small" { "Available to spend" } strong id="available" { (w.available) } span class="small muted" { "balance + limit" } }
                div { span class="muted small" { "Held" } strong id="held" { (w.account.held) } span class="small muted" { "in escrow, pledges, rewards" } }
            }
            @if w.account.frozen {
                p class="notice error" id="frozen" { "Your account is frozen: two of your payments were made at once from different places (a fork). A moderator can unfreeze it." }
            }
        }
        @if !w.holds.is_empty() {
            section class="card section" id="holds" {
                h2 { "Open holds" }
                ul {
                    @for h in &w.holds { li class="hold" { strong { (h.hold.amount) " " (unit) } " " (h.what) } }
                }
            }
        }
        section class="card section" id="pay" {
            h2 { "Pay a member" }
            (error_notice(err))
            form class="form" method="post" action={ "/c/" (x.cid) "/wallet/pay" } {
                label { span { "To" } (x.member_select("to", "pay-to", form.to.trim())) }
                label { span { "Amount (" (unit) ")" } input type="number" name="amount" id="pay-amount" min="1" required value=(form.amount); }
                label { span { "Note" } input name="note" id="pay-note" maxlength="200" value=(form.note); }
                @if !form.deal.is_empty() { input type="hidden" name="deal" value=(form.deal); }
                div class="form-actions" { button class="btn primary" type="submit" id="pay-submit" { "Pay" } }
            }
        }
        section class="card section" id="history" {
            h2 { "History" }
            @if w.history.is_empty() { p class="muted" id="no-history" { "Nothing yet." } }
            ul class="ledger-lines" {
                @for l in &w.history {
                    li class={ "ledger-line" @if !l.counts { " void" } } data-status=(format!("{:?}", l.line.status).to_lowercase()) {
                        strong class="amount" { @if l.line.amount > 0 { "+" } (l.line.amount) " " (unit) }
                        " " span class="what" { (l.line.what) }
                        @if let Some(m) = &l.line.counterpart {
                            " · " @if l.line.amount > 0 { "from " } @else { "to " } (x.name(m))
                        }
                        " · " (time(l.line.time.0, x.now))
                        div class="small" {
                            span class="counts" { (l.status_words) }
                            @if l.counts && l.line.amount > 0 {
                                " · " span class="safety" { (l.safety) }
                            }
                        }
                    }
                }
            }
        }
        section class="card section" id="totals" {
            h2 { "The community" }
            p class="small" {
                "Volume " strong { (totals.volume) } " " (unit) " · " (totals.accounts) " accounts · " (totals.held) " held"
            }
            @if !totals.at_limit.is_empty() {
                p class="small" { "At their limit: " @for (i, m) in totals.at_limit.iter().enumerate() { @if i > 0 { ", " } (x.name(m)) } }
            }
            @for m in &totals.frozen {
                div class="row-item small" {
                    span { "Frozen: " (x.name(m)) }
                    @if x.can_unfreeze {
                        form class="inline" method="post" action={ "/c/" (x.cid) "/wallet/unfreeze" } {
                            input type="hidden" name="member" value=(m.to_string());
                            button class="btn small" type="submit" { "Unfreeze" }
                        }
                    }
                }
            }
        }
        @if x.can_policy {
            section class="card section" id="ledger-settings" {
                h2 { "Ledger settings" }
                form class="form" method="post" action={ "/c/" (x.cid) "/wallet/policy" } {
                    label { span { "Unit" } input name="unit" id="ledger-unit" maxlength="24" value=(w.unit) placeholder="hours"; }
                    label { span { "Credit limit: a number for everyone, or trust:MAX scaled by trust" } input name="limit" id="ledger-limit" value=(w.policy.as_ref().map(|p| p.limit.to_string()).unwrap_or_default()) placeholder="50 or trust:100"; }
                    fieldset {
                        label class="choice" { input type="radio" name="enabled" value="true" checked[w.on || w.policy.is_none()]; span { strong { "On" } } }
                        label class="choice" { input type="radio" name="enabled" value="false" checked[!w.on && w.policy.is_some()]; span { strong { "Off" } } }
                    }
                    div class="form-actions" { button class="btn" type="submit" id="ledger-save" { "Save" } }
                }
            }
        }
    }
}

/// `GET /c/{id}/wallet?saved=`.
pub async fn wallet(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<Saved>,
) -> Result<Markup, PageError> {
    let x = context(&s, c, "wallet").await?;
    let totals = s.node.ledger_totals(c).await?;
    let body = wallet_page(&x, &totals, &q.saved, &PayRequest::default(), None);
    Ok(page(&format!("Wallet · {}", x.cname), &x.nav, body))
}

/// `POST /c/{id}/wallet/pay`: pay (or pay into escrow), then back (`back`, or the wallet); a
/// refused payment shows the wallet again with what was typed and why.
pub async fn pay(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, back, nonce }: Form<PayRequest>,
) -> Result<Response, PageError> {
    let escrow = !form.deal.trim().is_empty();
    let tried = form.clone();
    let r = match form.into_edit() {
        Ok(edit) => match nonce.filter(|n| !n.is_empty()) {
            Some(key) => s.node.edit_once(c, key, edit).await,
            None => s.node.edit(c, edit).await,
        },
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => {
            let to = format!(
                "/c/{c}/wallet?saved={}",
                if escrow { "escrow" } else { "paid" }
            );
            Ok(super::back_to(back.as_deref(), to).into_response())
        }
        Err(e) => {
            let e = refusal(e);
            let x = context(&s, c, "wallet").await?;
            let totals = s.node.ledger_totals(c).await?;
            let body = wallet_page(&x, &totals, "", &tried, Some(&e));
            Ok((
                e.status,
                page(&format!("Wallet · {}", x.cname), &x.nav, body),
            )
                .into_response())
        }
    }
}

/// `POST /c/{id}/wallet/policy`: the ledger's settings.
pub async fn policy(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<LedgerPolicyRequest>,
) -> Result<Redirect, PageError> {
    set_policy(&s, c, form).await?;
    Ok(Redirect::to(&format!("/c/{c}/wallet?saved=policy")))
}

fn outcome_words(o: &FundOutcome) -> (&'static str, String) {
    match o {
        FundOutcome::Open => ("open", "open".into()),
        FundOutcome::Funded => ("funded", "funded: the pledges went to the recipient".into()),
        FundOutcome::Failed { reason } => (
            "failed",
            format!("not funded: {reason}; the pledges went back"),
        ),
    }
}

fn proposal_card(x: &Ctx, f: &FundOut) -> Markup {
    let unit = x.unit();
    let fund = &f.view.fund;
    let open = f.view.outcome == FundOutcome::Open;
    let (cls, words) = outcome_words(&f.view.outcome);
    let author = f.view.id.author == x.me || fund.recipient == x.me;
    let past = fund.deadline.0 <= x.now;
    html! {
        section class="card section proposal" id={ "f-" (f.view.id.key) } data-outcome=(cls) {
            div class="member-line" {
                span class={ "pill outcome-" (cls) } { (cls) }
                strong class="proposal-title" { (fund.title) }
            }
            p class="small muted" {
                "For " (x.name(&fund.recipient)) " · proposed by " (x.name(&f.view.id.author))
                " · deadline " (view::iso(fund.deadline.0))
            }
            @if !fund.description.is_empty() { div class="bio" { (view::text(&fund.description)) } }
            div class="progress-line" {
                progress class="goal" max=(fund.goal) value=(f.view.pledged.min(fund.goal)) aria-label="Pledged of the goal" {}
                span class="small pledged" { (f.view.pledged) " of " (fund.goal) " " (unit) " (" (f.percent) " %) from " (view::plural(f.view.pledgers, "member", "members")) }
            }
            @if f.my_pledge > 0 { p class="small" { "You pledged " (f.my_pledge) " " (unit) "." } }
            @if !open { p class="small outcome" { (words) } }
            @if let Some(t) = &f.view.tally_words {
                p class="small tally" { "Vote: " (t) }
                @if let Some(w) = &f.my_weight { p class="small muted weight" { (w) } }
                @if let Some(v) = f.my_vote { p class="small my-vote" { "You voted " (v) "." } }
            }
            @if open {
                div class="deal-actions" {
                    form class="inline" method="post" action={ "/c/" (x.cid) "/proposals/pledge" } {
                        input type="hidden" name="proposal" value=(f.reference);
                        input type="number" name="amount" min="1" required placeholder=(unit) aria-label="Amount to pledge";
                        button class="btn small primary" type="submit" id={ "pledge-" (f.view.id.key) } { "Pledge" }
                    }
                    @if fund.vote.is_some() {
                        @for (c, label) in [(Choice::Yes, "Vote yes"), (Choice::No, "Vote no"), (Choice::Abstain, "Abstain")] {
                            form class="inline" method="post" action={ "/c/" (x.cid) "/proposals/vote" } {
                                input type="hidden" name="proposal" value=(f.reference);
                                input type="hidden" name="choice" value=(c.to_string());
                                button class="btn small" type="submit" id={ "vote-" (c) "-" (f.view.id.key) } { (label) }
                            }
                        }
                    }
                    @if author || past {
                        form class="inline" method="post" action={ "/c/" (x.cid) "/proposals/close" } {
                            input type="hidden" name="proposal" value=(f.reference);
                            button class="btn small" type="submit" id={ "close-" (f.view.id.key) } { "Close" }
                        }
                    }
                }
            }
        }
    }
}

fn proposals_page(
    x: &Ctx,
    funds: &[FundOut],
    saved: &str,
    form: &ProposalRequest,
    err: Option<&HttpError>,
) -> Markup {
    html! {
        (x.head("Proposals", "Crowdfunding: members pledge towards a goal; when the proposal closes with the goal met (and its vote passed) the pledges go to the recipient, otherwise back."))
        (notice(saved))
        (x.off_notice())
        @if funds.is_empty() { p class="muted card section" id="no-proposals" { "No proposals yet." } }
        @for f in funds.iter().rev() { (proposal_card(x, f)) }
        section class="card section" id="new-proposal" {
            h2 { "New proposal" }
            (error_notice(err))
            form class="form" method="post" action={ "/c/" (x.cid) "/proposals/new" } {
                label { span { "Title" } input name="title" id="proposal-title" required maxlength="200" value=(form.title); }
                label { span { "Goal (" (x.unit()) ")" } input type="number" name="goal" id="proposal-goal" min="1" required value=(form.goal); }
                label { span { "Deadline (7d, 12h, …; empty: a week)" } input name="deadline" value=(form.deadline) placeholder="7d"; }
                label { span { "Recipient (empty: you)" } input name="recipient" value=(form.recipient) placeholder="z6Mk…"; }
                label { span { "Vote" }
                    select name="vote" {
                        option value="none" selected[form.vote.is_empty() || form.vote == "none"] { "No vote" }
                        option value="equal" selected[form.vote == "equal"] { "One member, one vote" }
                        option value="trust" selected[form.vote == "trust"] { "Weighted by trust" }
                    }
                }
                label { span { "Quorum %" } input type="number" name="quorum" min="0" max="100" value=(form.quorum); }
                label { span { "Threshold % (yes must exceed)" } input type="number" name="threshold" min="0" max="99" value=(form.threshold) placeholder="50"; }
                label { span { "Largest share of one vote % (trust weighting)" } input type="number" name="cap" min="1" max="100" value=(form.cap) placeholder="25"; }
                label { span { "Description" } textarea name="description" rows="3" { (form.description) } }
                div class="form-actions" { button class="btn primary" type="submit" id="create-proposal" { "Propose" } }
            }
        }
    }
}

/// `POST /c/{id}/proposals/pledge`.
pub async fn pledge_to(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<PledgeRequest>,
) -> Result<Redirect, PageError> {
    pledge(&s, c, form).await?;
    Ok(Redirect::to(&format!("/c/{c}/proposals?saved=pledged")))
}

/// `GET /c/{id}/proposals?saved=`.
pub async fn proposals(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<Saved>,
) -> Result<Markup, PageError> {
    let x = context(&s, c, "proposals").await?;
    let funds = s.node.proposals(c).await?;
    let body = proposals_page(&x, &funds, &q.saved, &ProposalRequest::default(), None);
    Ok(page(&format!("Proposals · {}", x.cname), &x.nav, body))
}

/// `POST /c/{id}/proposals/new`; a refused proposal shows the page again with what was typed.
pub async fn create_proposal(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<ProposalRequest>,
) -> Result<Response, PageError> {
    let tried = form.clone();
    match propose(&s, c, form).await {
        Ok(made) => {
            let key = made.id.rsplit('/').next().unwrap_or_default().to_string();
            Ok(Redirect::to(&format!("/c/{c}/proposals?saved=proposed#f-{key}")).into_response())
        }
        Err(e) => {
            let e = refusal(e);
            let x = context(&s, c, "proposals").await?;
            let funds = s.node.proposals(c).await?;
            let body = proposals_page(&x, &funds, "", &tried, Some(&e));
            Ok((
                e.status,
                page(&format!("Proposals · {}", x.cname), &x.nav, body),
            )
                .into_response())
        }
    }
}

/// The steps `me` may take on bounty `b`: (step, label, claimant).
fn bounty_steps(
    b: &BountyOut,
    me: &MemberId,
) -> Vec<(&'static str, &'static str, Option<MemberId>)> {
    let st = &b.state;
    let mut v = Vec::new();
    if st.status != BountyStatus::Open {
        return v;
    }
    let active = |c: &Claim| matches!(c, Claim::Claimed | Claim::Submitted { .. });
    if st.sponsor == *me {
        for (m, c) in &st.claims {
            if matches!(c, Claim::Submitted { .. }) {
                v.push(("accept", "Accept and pay", Some(*m)));
            }
            if active(c) {
                v.push(("reject", "Reject", Some(*m)));
            }
        }
        v.push(("cancel", "Cancel bounty", None));
    } else {
        match st.claims.get(me) {
            Some(Claim::Claimed) => v.push(("submit", "Hand in work", None)),
            Some(Claim::Submitted { .. }) => {}
            _ if st.bounty.several || !st.claims.values().any(active) => {
                v.push(("claim", "Claim", None))
            }
            _ => {}
        }
    }
    v
}

fn bounties_page(
    x: &Ctx,
    bounties: &[BountyOut],
    saved: &str,
    form: &BountyRequest,
    err: Option<&HttpError>,
) -> Markup {
    let unit = x.unit();
    html! {
        (x.head("Bounties", "Tasks with a reward held from the sponsor: claim one, hand in your work, and the sponsor pays it or not."))
        (notice(saved))
        (x.off_notice())
        @if bounties.is_empty() { p class="muted card section" id="no-bounties" { "No bounties yet." } }
        @for b in bounties.iter().rev() {
            @let st = &b.state;
            @let status = match st.status { BountyStatus::Open => "open", BountyStatus::Accepted { .. } => "paid", BountyStatus::Cancelled => "cancelled" };
            section class="card section bounty" id={ "b-" (b.id.key) } data-status=(status) {
                div class="member-line" {
                    span class={ "pill bounty-" (status) } { (status) }
                    strong class="bounty-title" { (st.bounty.title) }
                    span class="small" { (st.bounty.reward) " " (unit) }
                }
                p class="small muted" {
                    "Offered by " (x.name(&st.sponsor))
                    @if st.bounty.several { " · several may work on it at once" } @else { " · one claimant at a time" }
                    @if let BountyStatus::Accepted { claimant } = &st.status { " · paid to " (x.name(claimant)) }
                }
                @if !st.bounty.description.is_empty() { div class="bio" { (view::text(&st.bounty.description)) } }
                @if !st.claims.is_empty() {
                    ul class="small claims" {
                        @for (m, c) in &st.claims {
                            li {
                                (x.name(m)) ": "
                                @match c {
                                    Claim::Claimed => "working on it",
                                    Claim::Submitted { work } => { "handed in: " (work) },
                                    Claim::Rejected => "rejected",
                                }
                            }
                        }
                    }
                }
                div class="deal-actions" {
                    @for (step, label, claimant) in bounty_steps(b, &x.me) {
                        form class="inline" method="post" action={ "/c/" (x.cid) "/bounties/step" } {
                            input type="hidden" name="bounty" value=(b.reference);
                            input type="hidden" name="step" value=(step);
                            @if let Some(m) = claimant { input type="hidden" name="claimant" value=(m.to_string()); }
                            @if step == "submit" { input name="work" required placeholder="What you did (text, a link)" aria-label="Your work"; }
                            button class={ "btn small" @if matches!(step, "claim" | "submit" | "accept") { " primary" } } type="submit"
                                id={ (step) "-" (b.id.key) @if let Some(m) = claimant { "-" (view::short_id(&m.to_string())) } } {
                                (label) @if let Some(m) = claimant { " (" (x.name(&m)) ")" }
                            }
                        }
                    }
                }
            }
        }
        section class="card section" id="new-bounty" {
            h2 { "New bounty" }
            (error_notice(err))
            form class="form" method="post" action={ "/c/" (x.cid) "/bounties/new" } {
                label { span { "Title" } input name="title" id="bounty-title" required maxlength="200" value=(form.title); }
                label { span { "Reward (" (unit) ", held from your account)" } input type="number" name="reward" id="bounty-reward" min="1" required value=(form.reward); }
                label class="choice" { input type="checkbox" name="several" value="true" checked[form.several == Some(true)]; span { "Several members may work on it at once" } }
                label { span { "The task" } textarea name="description" rows="3" { (form.description) } }
                div class="form-actions" { button class="btn primary" type="submit" id="create-bounty" { "Offer bounty" } }
            }
        }
    }
}

/// `GET /c/{id}/bounties?saved=`.
pub async fn bounties(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<Saved>,
) -> Result<Markup, PageError> {
    let x = context(&s, c, "bounties").await?;
    let list = s.node.bounties(c).await?;
    let body = bounties_page(&x, &list, &q.saved, &BountyRequest::default(), None);
    Ok(page(&format!("Bounties · {}", x.cname), &x.nav, body))
}

/// `POST /c/{id}/bounties/new`; a refused bounty shows the board again with what was typed.
pub async fn create_bounty(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<BountyRequest>,
) -> Result<Response, PageError> {
    let tried = form.clone();
    match offer_bounty(&s, c, form).await {
        Ok(made) => {
            let key = made.id.rsplit('/').next().unwrap_or_default().to_string();
            Ok(Redirect::to(&format!("/c/{c}/bounties?saved=offered#b-{key}")).into_response())
        }
        Err(e) => {
            let e = refusal(e);
            let x = context(&s, c, "bounties").await?;
            let list = s.node.bounties(c).await?;
            let body = bounties_page(&x, &list, "", &tried, Some(&e));
            Ok((
                e.status,
                page(&format!("Bounties · {}", x.cname), &x.nav, body),
            )
                .into_response())
        }
    }
}

/// The deal page's escrow part for `me`: what is held for `deal`, and "Pay into escrow" for
/// the buyer of a deal under way with nothing held yet.
pub fn escrow_section(
    cid: &str,
    w: &Wallet,
    d: &qun_crdt::market::DealView,
    me: &MemberId,
) -> Markup {
    let held: u64 = w
        .holds
        .iter()
        .filter(|h| matches!(&h.hold.waits_for, qun_crdt::ledger::HoldFor::Deal { deal } if *deal == d.id))
        .map(|h| h.hold.amount)
        .sum();
    let buyer = d.terms.buyer == *me;
    let under_way = !d.status.is_final();
    html! {
        @if held > 0 {
            p class="small escrow-held" { (held) " " (w.unit) " " (hold_words(&qun_crdt::ledger::HoldFor::Deal { deal: d.id.clone() })) }
        } @else if buyer && under_way && w.on {
            form class="inline" method="post" action={ "/c/" (cid) "/wallet/pay" } {
                input type="hidden" name="to" value=(d.terms.seller.to_string());
                input type="hidden" name="amount" value=(d.terms.price);
                input type="hidden" name="deal" value=(d.id.to_string());
                input type="hidden" name="note" value="escrow";
                input type="hidden" name="back" value={ "/c/" (cid) "/market/deals?saved=escrow#d-" (d.id.key) };
                button class="btn small primary" type="submit" id={ "escrow-" (d.id.key) } { (icon("shield")) "Pay " (d.terms.price) " " (w.unit) " into escrow" }
            }
        }
    }
}
