//! Members ranked by trust from my point of view (with "why"), a member's profile, endorsing.

use super::manage::{Powers, member_controls};
use super::view::{self, Current, Names, Nav, avatar, badge, icon, page};
use crate::dto::{
    CommunityView, EndorseRequest, EndorsementQuery, EndorsementView, MemberStatus, TrustEntry,
    TrustWhy,
};
use crate::http::AppState;
use crate::http::error::{HttpError, PageError};
use crate::http::extract::{Community, Form, Member};
use axum::extract::State;
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::{CommunityId, Perm, Profile};
use qun_identity::MemberId;
use std::collections::BTreeMap;

/// Members whose "why" is computed on the members page (the rest link to their profile).
pub const EXPLAINED: usize = 100;

/// One member on the members page.
struct Row {
    member: String,
    role: String,
    bio: String,
    trust: Option<TrustEntry>,
    why: Option<TrustWhy>,
}

/// What the members page shows.
struct MembersData {
    nav: Nav,
    cid: String,
    name: String,
    me: String,
    rows: Vec<Row>,
    requests: Vec<String>,
    can_admit: bool,
    names: Names,
    /// The policy admits by trust flow (only then does "not admitted by trust flow" mean
    /// anything).
    trust_flow: bool,
}

async fn read_members(s: &AppState, c: CommunityId) -> crate::Result<MembersData> {
    let v = s.node.community_view(c).await?;
    let me = v.me.to_string();
    let members = s.node.members(c).await?;
    let ranking: BTreeMap<String, TrustEntry> = s
        .node
        .trust(c, usize::MAX)
        .await?
        .into_iter()
        .map(|t| (t.member.clone(), t))
        .collect();
    let mut rows: Vec<Row> = members
        .into_iter()
        .map(|m| {
            let id = m.member.to_string();
            Row {
                trust: ranking.get(&id).cloned(),
                member: id,
                role: m.role,
                bio: m.profile.map(|p| p.bio).unwrap_or_default(),
                why: None,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let s = |r: &Row| r.trust.as_ref().map_or(0.0, |t| t.score);
        s(b).total_cmp(&s(a)).then_with(|| a.member.cmp(&b.member))
    });
    // Why, for the first rows but me, computed over one ranking.
    let explained: Vec<(usize, MemberId)> = rows
        .iter()
        .enumerate()
        .take(EXPLAINED)
        .filter(|(_, r)| r.member != me)
        .filter_map(|(i, r)| Some((i, r.member.parse().ok()?)))
        .collect();
    let whys = s
        .node
        .trust_explained(c, explained.iter().map(|(_, m)| *m).collect())
        .await?;
    for ((i, _), why) in explained.into_iter().zip(whys) {
        rows[i].why = why;
    }
    let status = s.node.status().await?;
    Ok(MembersData {
        nav: Nav::new(&status, Some(Current::of(&v, None, "members"))),
        cid: c.to_string(),
        name: v.summary.name.clone(),
        me,
        rows,
        requests: v.requests.iter().map(|m| m.to_string()).collect(),
        can_admit: v.can(Perm::Admit),
        names: view::names(&v).with_petnames(&s.prefs),
        trust_flow: matches!(v.policy, qun_crdt::AdmissionPolicy::TrustFlow { .. }),
    })
}

/// `GET /c/{id}/members`.
pub async fn members(
    State(s): State<AppState>,
    Community(c): Community,
) -> Result<Markup, PageError> {
    let m = read_members(&s, c).await?;
    let top = m
        .rows
        .iter()
        .filter(|r| r.member != m.me)
        .filter_map(|r| r.trust.as_ref().map(|t| t.score))
        .fold(0.0_f64, f64::max);
    Ok(page(
        &format!("Members of {}", m.name),
        &m.nav,
        html! {
            header class="page-head" {
                div class="community-title" {
                    (badge(&m.cid, &m.name))
                    div {
                        h1 { "Members" }
                        p class="muted" { "Ranked by trust from your point of view: endorsements flow from you and the founders through the people they trust. There is no global score." }
                    }
                }
                div class="head-actions" {
                    a class="btn" href={ "/c/" (m.cid) } { (icon("back")) "Posts" }
                    a class="btn primary" href={ "/c/" (m.cid) "/invite" } { (icon("invite")) "Invite" }
                }
            }
            @if !m.requests.is_empty() {
                section class="card section" {
                    h2 { "Asking to join" }
                    @for r in &m.requests {
                        div class="row-item split" {
                            a class="member-line" href={ "/c/" (m.cid) "/m/" (r) } { (avatar(r, "sm")) span { (m.names.of(r)) } }
                            @if m.can_admit {
                                form method="post" action={ "/c/" (m.cid) "/admit" } {
                                    input type="hidden" name="member" value=(r);
                                    button class="btn primary small" type="submit" { "Admit" }
                                }
                            }
                        }
                    }
                }
            }
            ol class="member-list card" {
                @for (i, r) in m.rows.iter().enumerate() {
                    @let name = m.names.of(&r.member);
                    @let is_me = r.member == m.me;
                    li class="member-row" id={ "m-" (r.member) } {
                        span class="rank muted" { (i + 1) }
                        a href={ "/c/" (m.cid) "/m/" (r.member) } { (avatar(&r.member, "md")) }
                        div class="member-main" {
                            div class="member-line" {
                                a class="author" href={ "/c/" (m.cid) "/m/" (r.member) } { (name) }
                                @if is_me && m.names.is_named(&r.member) { span class="pill subtle" { "you" } }
                                @if r.role != "member" { span class={ "pill role-" (r.role) } { (r.role) } }
                                (m.names.same_name_warning(&r.member))
                                @if m.trust_flow && let Some(Some(false)) = r.trust.as_ref().map(|t| t.admitted) { span class="pill warn" { "not admitted by trust flow" } }
                            }
                            @if !r.bio.is_empty() { div class="muted small clamp" { (r.bio) } }
                            @if let Some(w) = &r.why {
                                details class="why" {
                                    summary { "Why?" }
                                    (why(w, &m.cid, &m.names))
                                }
                            }
                        }
                        div class="score" {
                            @if is_me {
                                span class="muted small" { "your viewpoint" }
                            } @else if let Some(t) = &r.trust {
                                (view::bar(if top > 0.0 { t.score / top } else { 0.0 }))
                                span class="small muted" title=(format!("score {:.4}", t.score)) { (trust_words(t.score, top)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// Endorsers and paths, in words.
fn why(w: &TrustWhy, cid: &str, names: &Names) -> Markup {
    html! {
        div class="why-body" {
            @if w.endorsers.is_empty() && w.paths.is_empty() {
                p class="muted small" { "Nobody you trust has endorsed them yet: their trust comes only from being a member." }
            }
            @if !w.endorsers.is_empty() {
                div class="small muted" { "Endorsed by" }
                ul class="endorsers" {
                    @for (from, weight, share) in &w.endorsers {
                        li {
                            a href={ "/c/" (cid) "/m/" (from) } { (avatar(from, "xs")) (names.of(from)) }
                            span class="muted small" { " " (weight_label(f64::from(*weight))) " · " (format!("{:.0}%", share * 100.0)) " of their trust comes this way" }
                        }
                    }
                }
            }
            @if !w.paths.is_empty() {
                div class="small muted" { "How your trust reaches them" }
                ul class="paths" {
                    @for (path, strength) in &w.paths {
                        li {
                            @for (i, m) in path.iter().enumerate() {
                                @if i > 0 { span class="arrow" { "→" } }
                                span class="hop" { (names.of(m)) }
                            }
                            span class="muted small" title=(format!("strength {strength:.3}")) { " (" (path_words(*strength)) ")" }
                        }
                    }
                }
            }
        }
    }
}

/// An endorsement's weight in words (it follows a name, "You" included: "Ada vouches fully").
fn weight_label(w: f64) -> String {
    if w >= 0.99 {
        "vouches fully".into()
    } else if w >= 0.5 {
        "vouches".into()
    } else if w > 0.0 {
        "vouches a little".into()
    } else if w == 0.0 {
        "withdrew their endorsement".into()
    } else {
        "distrusts (only for themselves)".into()
    }
}

/// A trust score in words, against the most trusted member in view (scores are relative: what
/// matters is who is trusted more than whom, from this member's point of view).
pub(super) fn trust_words(score: f64, top: f64) -> &'static str {
    let r = if top > 0.0 { score / top } else { 0.0 };
    if r >= 0.66 {
        "highly trusted by you"
    } else if r >= 0.33 {
        "trusted by you"
    } else if r > 0.05 {
        "somewhat trusted by you"
    } else if r > 0.0 {
        "barely known to you"
    } else {
        "no trust reaches them yet"
    }
}

/// How strong a path of endorsements is, in words (each hop passes on part of the trust).
fn path_words(strength: f64) -> &'static str {
    if strength >= 0.5 {
        "strong"
    } else if strength >= 0.1 {
        "fair"
    } else {
        "weak: many hops or partial trust"
    }
}

/// What a member's profile page shows.
struct ProfileData {
    nav: Nav,
    cid: String,
    cname: String,
    member: String,
    me: String,
    profile: Option<Profile>,
    status: MemberStatus,
    trust: Option<TrustEntry>,
    /// The highest score of anyone but me (scores are shown relative to it).
    top: f64,
    why: Option<TrustWhy>,
    received: Vec<EndorsementView>,
    given: Vec<EndorsementView>,
    names: Names,
    holds_root: bool,
    powers: Powers,
    custom_roles: Vec<String>,
    /// I follow them.
    following: bool,
    /// How many members they follow.
    follows: usize,
}

async fn read_profile(s: &AppState, c: CommunityId, m: MemberId) -> crate::Result<ProfileData> {
    let v: CommunityView = s.node.community_view(c).await?;
    let ms = m.to_string();
    let me = v.me.to_string();
    let ranking = s.node.trust(c, usize::MAX).await?;
    let top = ranking
        .iter()
        .filter(|t| t.member != me)
        .map(|t| t.score)
        .fold(0.0, f64::max);
    let trust = ranking.into_iter().find(|t| t.member == ms);
    let why = if m == v.me {
        None
    } else {
        s.node.trust_why(c, m).await.ok()
    };
    let query = EndorsementQuery {
        member: Some(m),
        all: false,
    };
    let list = s.node.endorsements(c, query).await?;
    let (received, given): (Vec<_>, Vec<_>) = list.into_iter().partition(|e| e.to == ms);
    let detail = s.node.member_detail(c, m).await?;
    let status = s.node.status().await?;
    Ok(ProfileData {
        nav: Nav::new(&status, Some(Current::of(&v, None, "members"))),
        cid: c.to_string(),
        cname: v.summary.name.clone(),
        member: ms,
        me: v.me.to_string(),
        profile: detail.profile,
        status: detail.status,
        trust,
        top,
        why,
        received,
        given,
        names: view::names(&v).with_petnames(&s.prefs),
        holds_root: v.holds_root,
        powers: Powers::of(&v),
        custom_roles: v.role_defs.keys().cloned().collect(),
        following: detail.followed_by_me,
        follows: detail.follows.len(),
    })
}

/// `GET /c/{id}/m/{member}`.
pub async fn profile(
    State(s): State<AppState>,
    Community(c): Community,
    Member(m): Member,
) -> Result<Markup, PageError> {
    let p = read_profile(&s, c, m).await?;
    let market = super::market::profile_section(&s, c, m, &p.names).await?;
    let name = p.names.of(&p.member);
    let is_me = p.member == p.me;
    let mine = p.received.iter().find(|e| e.from == p.me && e.topic == "*");
    let role = match &p.status {
        MemberStatus::Member(r) => r.to_string(),
        MemberStatus::Requested => "asked to join".into(),
        MemberStatus::Removed => "removed".into(),
        MemberStatus::Outsider => "not a member".into(),
    };
    Ok(page(
        &name,
        &p.nav,
        html! {
            div class="profile-head card" {
                (avatar(&p.member, "xl"))
                @if let Some(pic) = p.profile.as_ref().and_then(|pr| pr.avatar) {
                    a href=(crate::blobs::url(&pic)) target="_blank" rel="noopener" {
                        img class="avatar-img" id="profile-picture" src={ (crate::blobs::url(&pic)) "?thumb=1" } alt={ "Picture of " (name) };
                    }
                }
                div class="profile-main" {
                    h1 { (name) @if is_me && p.names.is_named(&p.member) { " " span class="pill subtle" { "you" } } }
                    div class="member-line" {
                        span class={ "pill role-" (role) } { (role) }
                        (p.names.same_name_warning(&p.member))
                        span class="muted small" { "in " a href={ "/c/" (p.cid) } { (p.cname) } }
                    }
                    @if let Some(pet) = p.names.petname(&p.member) {
                        p class="muted small" id="petname-note" { "“" (pet) "” is your name for them, seen only by you. "
                            @if let Some(chosen) = p.names.chosen(&p.member) { "They call themselves “" (chosen) "”." } }
                    }
                    p class="mono small muted" { (p.member) }
                    @if !is_me {
                        form method="post" action={ "/c/" (p.cid) "/m/" (p.member) "/petname" } class="inline petname-form" {
                            input name="petname" value=[p.names.petname(&p.member)] maxlength="64" placeholder="Your name for them (only you see it)" aria-label="Your name for them";
                            button class="btn small" type="submit" id="save-petname" { "Save" }
                        }
                    }
                    p class="muted small" { "Follows " (view::plural(p.follows, "member", "members")) }
                    @if !is_me && matches!(p.status, MemberStatus::Member(_)) {
                        a class="btn small" href={ "/messages/" (p.member) } id="message-btn" { (icon("mail")) "Message" }
                    }
                    @if !is_me && matches!(p.status, MemberStatus::Member(_)) {
                        form method="post" action={ "/c/" (p.cid) "/follow" } {
                            input type="hidden" name="member" value=(p.member);
                            input type="hidden" name="on" value=(if p.following { "false" } else { "true" });
                            @if p.following {
                                button class="btn small" type="submit" id="follow-btn" { "Following ✓" }
                            } @else {
                                button class="btn primary small" type="submit" id="follow-btn" { "Follow" }
                            }
                        }
                    }
                    @if let Some(pr) = &p.profile {
                        @if !pr.bio.is_empty() { p class="bio" { (view::text(&pr.bio)) } }
                        @if !pr.links.is_empty() {
                            ul class="links" { @for l in &pr.links { li { (view::text(l)) } } }
                        }
                    }
                }
                div class="profile-score" {
                    @if is_me {
                        span class="muted small" { "Trust is computed from your point of view" }
                    } @else if let Some(t) = &p.trust {
                        div class="big" { "#" (t.rank) }
                        div class="muted small" { "in your trust ranking" }
                        div class="small" title=(format!("score {:.4}", t.score)) { (trust_words(t.score, p.top)) }
                    }
                }
            }
            (market)
            div class="two-col" {
                div {
                    @if is_me {
                        section class="card section" {
                            h2 { "Your profile in " (p.cname) }
                            @let pr = p.profile.clone().unwrap_or_default();
                            form class="form" method="post" action={ "/c/" (p.cid) "/profile" } {
                                label { span { "Display name" } input name="name" value=(pr.name) maxlength="100" placeholder="How others see you"; }
                                label { span { "About you" } textarea name="bio" rows="3" maxlength="2000" { (pr.bio) } }
                                label { span { "Links (one per line)" } textarea name="links" rows="2" class="mono" { (pr.links.join("\n")) } }
                                div class="avatar-field" {
                                    span { "Picture" }
                                    input type="hidden" name="avatar" value=(pr.avatar.map(|a| a.to_string()).unwrap_or_default());
                                    img class="avatar-img" id="avatar-preview" hidden[pr.avatar.is_none()] src=[pr.avatar.map(|a| format!("{}?thumb=1", crate::blobs::url(&a)))] alt="Your picture";
                                    label class="btn ghost small attach" hidden data-attach-max=(s.node.blobs().limits().max_blob_bytes) {
                                        input type="file" class="avatar-input" accept="image/png,image/jpeg,image/gif,image/webp" aria-label="Choose a picture";
                                        "Choose a picture"
                                    }
                                    @if pr.avatar.is_some() {
                                        label class="check" { input type="checkbox" id="avatar-remove" data-clears="avatar"; span { "No picture" } }
                                    }
                                    span class="attach-status small" role="status" aria-live="polite" {}
                                }
                                label class="check" { input type="checkbox" name="everywhere" value="on" checked id="profile-everywhere"; span { "Use this profile in all my communities" } }
                                div class="form-actions" { button class="btn primary" type="submit" id="save-profile" { "Save profile" } }
                            }
                        }
                    } @else {
                        section class="card section" id="endorse" {
                            h2 { (icon("star")) "Endorse " (name) }
                            p class="muted small" { "Endorsements are signed with your key and published in the community. They shape everyone's trust ranking, starting from their own viewpoint." }
                            @if let Some(e) = mine {
                                div class="notice ok" { "You endorse " (name) ": you " (weight_label(e.weight).replace("vouches", "vouch").replace("distrusts", "distrust").replace("withdrew their", "withdrew your")) "." }
                            }
                            @if p.holds_root {
                                form class="form" method="post" action={ "/c/" (p.cid) "/endorse" } {
                                    input type="hidden" name="member" value=(p.member);
                                    fieldset class="weights" {
                                        @let current = mine.map(|e| e.weight);
                                        @for (value, label, hint) in [("1", "Trust", "I know them and vouch for them"), ("0.5", "Some trust", "I know them a little"), ("-1", "Distrust", "Only filters them for me; never spreads")] {
                                            label class="choice" {
                                                input type="radio" name="weight" value=(value) checked[current.map(|c| format!("{c}")) == Some(value.to_string()) || (current.is_none() && value == "1")];
                                                span { strong { (label) } small { (hint) } }
                                            }
                                        }
                                        @if mine.is_some() {
                                            label class="choice" {
                                                input type="radio" name="weight" value="0";
                                                span { strong { "Revoke" } small { "Take back your endorsement" } }
                                            }
                                        }
                                    }
                                    label { span { "Note (optional)" } input name="note" maxlength="500" placeholder="Met at the meetup; great Rust mentor"; }
                                    div class="form-actions" { button class="btn primary" type="submit" id="endorse-btn" { "Save endorsement" } }
                                }
                            } @else {
                                p class="muted" { "This device does not hold your root key, which signs endorsements." }
                            }
                        }
                        @if let MemberStatus::Member(r) = &p.status {
                            (member_controls(&p.cid, &p.member, &r.to_string(), &p.custom_roles, p.powers))
                        }
                        @if let Some(w) = &p.why {
                            section class="card section" {
                                h2 { "Why this trust?" }
                                (why(w, &p.cid, &p.names))
                            }
                        }
                    }
                }
                div {
                    section class="card section" {
                        h2 { "Endorsed by" }
                        (endorsement_rows(&p.received, true, &p.cid, &p.names))
                    }
                    section class="card section" {
                        h2 { "Endorses" }
                        (endorsement_rows(&p.given, false, &p.cid, &p.names))
                    }
                }
            }
        },
    ))
}

fn endorsement_rows(list: &[EndorsementView], from: bool, cid: &str, names: &Names) -> Markup {
    html! {
        @if list.is_empty() { p class="muted small" { "Nobody yet." } }
        @for e in list {
            @let who = if from { &e.from } else { &e.to };
            div class="row-item" {
                a class="member-line" href={ "/c/" (cid) "/m/" (who) } {
                    (avatar(who, "sm"))
                    span { (names.of(who)) }
                    span class={ "pill " (if e.weight > 0.0 { "ok" } else { "warn" }) } { (weight_label(e.weight)) }
                    @if e.topic != "*" { span class="pill subtle" { (e.topic) } }
                }
                @if !e.note.is_empty() { div class="muted small note" { "“" (e.note) "”" } }
            }
        }
    }
}

/// `POST /c/{id}/profile`: my profile here, or (ticked by default) in every community I am
/// a member of: one profile, named once.
pub async fn save_profile(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<crate::dto::ProfileRequest>,
) -> Result<Redirect, PageError> {
    use crate::dto::IntoEdit;
    let everywhere = form.everywhere;
    let edit = form.into_edit()?;
    // This community first: its refusal is the page's error.
    s.node.edit(c, edit.clone()).await?;
    let mut others = 0usize;
    if everywhere {
        for other in s.node.status().await?.communities {
            let Ok(id) = other.id.parse::<CommunityId>() else {
                continue;
            };
            if id == c || !other.status.is_member() {
                continue;
            }
            match s.node.edit(id, edit.clone()).await {
                Ok(_) => others += 1,
                Err(e) => tracing::warn!(community = %id, "profile not written: {e}"),
            }
        }
    }
    let me = s.node.member();
    Ok(Redirect::to(&format!(
        "/c/{c}/m/{me}?saved={}",
        if others > 0 {
            "profile-everywhere"
        } else {
            "profile"
        }
    )))
}

/// `petname=` of the petname form.
#[derive(serde::Deserialize)]
pub struct PetnameForm {
    #[serde(default)]
    petname: String,
}

/// `POST /c/{id}/m/{member}/petname`: the name this member gives another, kept on this node
/// only (empty removes it).
pub async fn set_petname(
    State(s): State<AppState>,
    Community(c): Community,
    Member(m): Member,
    Form { form, .. }: Form<PetnameForm>,
) -> Result<Redirect, PageError> {
    if !s.prefs.set_petname(&m.to_string(), &form.petname) {
        return Err(HttpError::bad_request(
            "too many petnames (10,000)",
            "remove some you no longer need",
        )
        .into());
    }
    Ok(Redirect::to(&format!("/c/{c}/m/{m}?saved=petname")))
}

/// `POST /c/{id}/endorse` (weight 0 revokes).
pub async fn endorse(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<EndorseRequest>,
) -> Result<Redirect, PageError> {
    let to = format!("/c/{c}/m/{}", form.member.trim());
    let e = form.validate()?;
    s.node.endorse(c, e).await?;
    Ok(Redirect::to(&to))
}
