//! Members ranked by trust from my point of view (with "why"), a member's profile, endorsing.

use super::manage::{Powers, member_controls};
use super::view::{self, Names, Nav, avatar, badge, icon, page};
use super::{Form, PageError, back_to, govern, on_driver};
use crate::api::ApiState;
use crate::api::routes::{
    EndorsementView, community as parse_community, endorsement_list, member as parse_member,
};
use crate::driver::Driver;
use crate::ops::{TrustEntry, TrustWhy};
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::{Action, CommunityId, Edit, MemberStatus, Perm, Profile};
use qun_identity::MemberId;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Members whose "why" is computed on the members page (the rest link to their profile).
pub const EXPLAINED: usize = 100;

struct Row {
    member: String,
    role: String,
    bio: String,
    trust: Option<TrustEntry>,
    why: Option<TrustWhy>,
}

struct MembersData {
    nav: Nav,
    cid: String,
    name: String,
    me: String,
    rows: Vec<Row>,
    requests: Vec<String>,
    can_admit: bool,
    names: Names,
}

fn not_found(c: &CommunityId) -> crate::Error {
    crate::Error::NotFound(format!("community {c}"))
}

fn read_members(d: &mut Driver, c: &CommunityId) -> crate::Result<MembersData> {
    let me = d.member;
    let names = view::names(d, c);
    let members = d.members(c)?;
    let ranking: BTreeMap<String, TrustEntry> = d
        .trust(c, usize::MAX)?
        .into_iter()
        .map(|t| (t.member.clone(), t))
        .collect();
    let mut comm = d.repl.community(c).ok_or_else(|| not_found(c))?;
    let st = comm.state();
    let name = st.name.clone();
    let requests = st.requests.iter().map(|m| m.to_string()).collect();
    let can_admit = st.can(&me, Perm::Admit);
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
    for r in rows.iter_mut().take(EXPLAINED) {
        if r.member == me.to_string() {
            continue;
        }
        if let Ok(m) = r.member.parse::<MemberId>() {
            r.why = d.trust_why(c, &m).ok();
        }
    }
    let cur = view::current(d, c, None, "members");
    let nav = Nav::read(d, cur);
    Ok(MembersData {
        nav,
        cid: c.to_string(),
        name,
        me: me.to_string(),
        rows,
        requests,
        can_admit,
        names,
    })
}

/// `GET /c/{id}/members`.
pub async fn members(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let m = on_driver(&s, move |d| read_members(d, &c)).await?;
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
                            a class="member-line" href={ "/c/" (m.cid) "/m/" (r) } { (avatar(r, &m.names.of(r), "sm")) span { (m.names.of(r)) } }
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
                        a href={ "/c/" (m.cid) "/m/" (r.member) } { (avatar(&r.member, &name, "md")) }
                        div class="member-main" {
                            div class="member-line" {
                                a class="author" href={ "/c/" (m.cid) "/m/" (r.member) } { (name) }
                                @if is_me && m.names.is_named(&r.member) { span class="pill subtle" { "you" } }
                                @if r.role != "member" { span class={ "pill role-" (r.role) } { (r.role) } }
                                @if let Some(Some(false)) = r.trust.as_ref().map(|t| t.admitted) { span class="pill warn" { "not admitted by trust flow" } }
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
                                span class="small muted" { (format!("{:.1}", t.score * 100.0)) }
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
                            a href={ "/c/" (cid) "/m/" (from) } { (avatar(from, &names.of(from), "xs")) (names.of(from)) }
                            span class="muted small" { " " (weight_label(f64::from(*weight))) " · " (format!("{:.0}%", share * 100.0)) " of the score" }
                        }
                    }
                }
            }
            @if !w.paths.is_empty() {
                div class="small muted" { "Strongest paths" }
                ul class="paths" {
                    @for (path, strength) in &w.paths {
                        li {
                            @for (i, m) in path.iter().enumerate() {
                                @if i > 0 { span class="arrow" { "→" } }
                                span class="hop" { (names.of(m)) }
                            }
                            span class="muted small" { " (" (format!("{strength:.3}")) ")" }
                        }
                    }
                }
            }
        }
    }
}

fn weight_label(w: f64) -> String {
    if w >= 0.99 {
        "trusts fully".into()
    } else if w > 0.0 {
        format!("trusts {w:+.1}")
    } else if w == 0.0 {
        "revoked".into()
    } else {
        format!("distrusts {w:+.1}")
    }
}

struct ProfileData {
    nav: Nav,
    cid: String,
    cname: String,
    member: String,
    me: String,
    profile: Option<Profile>,
    status: MemberStatus,
    trust: Option<TrustEntry>,
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

fn read_profile(d: &mut Driver, c: &CommunityId, m: &MemberId) -> crate::Result<ProfileData> {
    let me = d.member;
    let names = view::names(d, c);
    let trust = d
        .trust(c, usize::MAX)?
        .into_iter()
        .find(|t| t.member == m.to_string());
    let why = if *m == me {
        None
    } else {
        d.trust_why(c, m).ok()
    };
    let list = endorsement_list(d, c, Some(*m), false)?;
    let ms = m.to_string();
    let (received, given): (Vec<_>, Vec<_>) = list.into_iter().partition(|e| e.to == ms);
    let powers = Powers::of(d, c);
    let mut comm = d.repl.community(c).ok_or_else(|| not_found(c))?;
    let following = comm.follows(&me)?.contains(m);
    let follows = comm.follows(m)?.len();
    let profile = comm.profile(m)?;
    let st = comm.state();
    let custom_roles = st.role_defs.keys().cloned().collect();
    let status = st.status(m);
    let cname = st.name.clone();
    let cur = view::current(d, c, None, "members");
    let nav = Nav::read(d, cur);
    Ok(ProfileData {
        nav,
        cid: c.to_string(),
        cname,
        member: ms,
        me: me.to_string(),
        profile,
        status,
        trust,
        why,
        received,
        given,
        names,
        holds_root: d.keys.root.is_some(),
        powers,
        custom_roles,
        following,
        follows,
    })
}

/// `GET /c/{id}/m/{member}`.
pub async fn profile(
    State(s): State<ApiState>,
    Path((id, m)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let m = parse_member(&m)?;
    let p = on_driver(&s, move |d| read_profile(d, &c, &m)).await?;
    let name = p.names.of(&p.member);
    let is_me = p.member == p.me;
    let mine = p.received.iter().find(|e| e.from == p.me && e.topic == "*");
    let role = match &p.status {
        MemberStatus::Member(r) => r.to_string(),
        MemberStatus::Requested => "asked to join".into(),
        MemberStatus::Removed(_) => "removed".into(),
        MemberStatus::Outsider => "not a member".into(),
    };
    Ok(page(
        &name,
        &p.nav,
        html! {
            div class="profile-head card" {
                (avatar(&p.member, &name, "xl"))
                div class="profile-main" {
                    h1 { (name) @if is_me && p.names.is_named(&p.member) { " " span class="pill subtle" { "you" } } }
                    div class="member-line" {
                        span class={ "pill role-" (role) } { (role) }
                        span class="muted small" { "in " a href={ "/c/" (p.cid) } { (p.cname) } }
                    }
                    p class="mono small muted" { (p.member) }
                    p class="muted small" { "Follows " (view::plural(p.follows, "member", "members")) }
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
                        div class="small" { (format!("{:.1}", t.score * 100.0)) " trust" }
                    }
                }
            }
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
                                div class="form-actions" { button class="btn primary" type="submit" id="save-profile" { "Save profile" } }
                            }
                        }
                    } @else {
                        section class="card section" id="endorse" {
                            h2 { (icon("star")) "Endorse " (name) }
                            p class="muted small" { "Endorsements are signed with your key and published in the community. They shape everyone's trust ranking, starting from their own viewpoint." }
                            @if let Some(e) = mine {
                                div class="notice ok" { "You endorse " (name) " (" (weight_label(e.weight)) ")." }
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
                    (avatar(who, &names.of(who), "sm"))
                    span { (names.of(who)) }
                    span class={ "pill " (if e.weight > 0.0 { "ok" } else { "warn" }) } { (weight_label(e.weight)) }
                    @if e.topic != "*" { span class="pill subtle" { (e.topic) } }
                }
                @if !e.note.is_empty() { div class="muted small note" { "“" (e.note) "”" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct EndorseForm {
    member: String,
    weight: f64,
    #[serde(default)]
    note: String,
}

/// `POST /c/{id}/endorse` (weight 0 revokes).
pub async fn endorse(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<EndorseForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let m = parse_member(&f.member)?;
    let note = f.note.trim().to_string();
    let weight = f.weight;
    on_driver(&s, move |d| d.endorse(&c, m, weight, "*", &note)).await?;
    Ok(Redirect::to(&format!("/c/{id}/m/{}", f.member)))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    links: String,
}

/// `POST /c/{id}/profile`.
pub async fn set_profile(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<ProfileForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let p = Profile {
        name: f.name.trim().to_string(),
        bio: f.bio.trim().to_string(),
        avatar: None,
        links: f
            .links
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    };
    let me = on_driver(&s, move |d| {
        d.edit(&c, Edit::Profile(p))?;
        Ok(d.member)
    })
    .await?;
    Ok(Redirect::to(&format!("/c/{id}/m/{me}")))
}

#[derive(Deserialize)]
pub struct AdmitForm {
    member: String,
    back: Option<String>,
}

/// `POST /c/{id}/admit`.
pub async fn admit(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<AdmitForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let m = parse_member(&f.member)?;
    govern(&s, c, Action::Admit { member: m }).await?;
    Ok(back_to(f.back.as_deref(), format!("/c/{id}/members")))
}

#[derive(Deserialize)]
pub struct FollowForm {
    member: String,
    on: bool,
}

/// `POST /c/{id}/follow` (`on=false` unfollows).
pub async fn follow(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<FollowForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let m = parse_member(&f.member)?;
    let on = f.on;
    on_driver(&s, move |d| d.edit(&c, Edit::Follow { member: m, on })).await?;
    Ok(Redirect::to(&format!("/c/{id}/m/{}", f.member)))
}
