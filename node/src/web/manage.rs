//! Running a community from the page: name and description, admission policy, channels,
//! custom roles (`/c/{id}/manage`), and a member's role or removal (from their profile).
//!
//! Each form becomes one governance action signed by this node's device. The page only
//! offers what this member's role allows; the replication core still decides, and a refused
//! change comes back as an error page naming the reason.

use super::view::{self, Nav, badge, enc, icon, page};
use super::{Form, PageError, govern, on_driver};
use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::api::routes::{channel as parse_channel, community as parse_community, member};
use crate::driver::Driver;
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::{Action, AdmissionPolicy, ChannelSettings, ChannelView, CommunityId, Perm, Role};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// What this member may change in a community, from its governance state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Powers {
    pub meta: bool,
    pub policy: bool,
    pub channels: bool,
    pub roles: bool,
    pub remove: bool,
}

impl Powers {
    /// Read from a community's state for `d`'s member.
    pub fn of(d: &mut Driver, c: &CommunityId) -> Powers {
        let me = d.member;
        let Some(mut comm) = d.repl.community(c) else {
            return Powers::default();
        };
        let st = comm.state();
        Powers {
            meta: st.can(&me, Perm::Meta),
            policy: st.can(&me, Perm::Policy),
            channels: st.can(&me, Perm::Channels),
            roles: st.can(&me, Perm::Roles),
            remove: st.can(&me, Perm::Remove),
        }
    }

    /// Anything the manage page can change.
    pub fn any(&self) -> bool {
        self.meta || self.policy || self.channels || self.roles
    }
}

struct ManageData {
    nav: Nav,
    cid: String,
    name: String,
    description: String,
    policy: AdmissionPolicy,
    channels: Vec<ChannelView>,
    roles: BTreeMap<String, BTreeSet<Perm>>,
    powers: Powers,
}

fn read(d: &mut Driver, c: &CommunityId) -> crate::Result<ManageData> {
    let powers = Powers::of(d, c);
    let mut comm = d
        .repl
        .community(c)
        .ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
    let channels = comm.channels();
    let st = comm.state();
    let (name, description, policy, roles) = (
        st.name.clone(),
        st.description.clone(),
        st.policy.clone(),
        st.role_defs.clone(),
    );
    let cur = view::current(d, c, None, "manage");
    Ok(ManageData {
        nav: Nav::read(d, cur),
        cid: c.to_string(),
        name,
        description,
        policy,
        channels,
        roles,
        powers,
    })
}

/// Words for a permission.
fn perm_label(p: Perm) -> &'static str {
    match p {
        Perm::Post => "Post",
        Perm::React => "React",
        Perm::Invite => "Invite people",
        Perm::Admit => "Admit join requests",
        Perm::Remove => "Remove members",
        Perm::Hide => "Hide posts",
        Perm::Channels => "Manage channels",
        Perm::Roles => "Assign roles",
        Perm::Policy => "Change the admission policy",
        Perm::Meta => "Rename the community",
    }
}

/// The form value of a permission (its serde name).
fn perm_key(p: Perm) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// `GET /c/{id}/manage`.
pub async fn manage(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let m = on_driver(&s, move |d| read(d, &c)).await?;
    let p = m.powers;
    let policy = m.policy.name();
    let k = match &m.policy {
        AdmissionPolicy::Endorsements { k } => *k,
        _ => 2,
    };
    Ok(page(
        &format!("Manage {}", m.name),
        &m.nav,
        html! {
            header class="page-head" {
                div class="community-title" {
                    (badge(&m.cid, &m.name))
                    div {
                        h1 { "Manage " (m.name) }
                        p class="muted" { "Each change is signed by you and checked by every member's node against your role." }
                    }
                }
                div class="head-actions" {
                    a class="btn" href={ "/c/" (m.cid) } { (icon("back")) "Posts" }
                }
            }
            @if !p.any() {
                div class="notice warn" { "Your role does not let you change this community's settings." }
            }
            div class="two-col" {
                div {
                    @if p.channels {
                        section class="card section" id="channels" {
                            h2 { (icon("hash")) "Channels" }
                            @for ch in &m.channels {
                                details class="row-item channel-edit" {
                                    summary {
                                        strong { "#" (ch.id) } " " (ch.title)
                                        @if ch.announce { " " span class="pill subtle" { "announcements" } }
                                        @if ch.archived { " " span class="pill warn" { "archived" } }
                                    }
                                    (channel_form(&m.cid, Some(ch)))
                                }
                            }
                            h3 class="sub" { "New channel" }
                            (channel_form(&m.cid, None))
                        }
                    }
                    @if p.roles {
                        section class="card section" id="roles" {
                            h2 { (icon("users")) "Custom roles" }
                            p class="muted small" { "Founders, moderators and members are built in. A custom role gets exactly the permissions you tick; give it to members from their profile." }
                            @for (name, perms) in &m.roles {
                                div class="row-item" {
                                    strong { (name) }
                                    span class="muted small" {
                                        @for (i, q) in perms.iter().enumerate() { @if i > 0 { ", " } (perm_label(*q)) }
                                    }
                                }
                            }
                            form class="form" method="post" action={ "/c/" (m.cid) "/manage/role" } {
                                label { span { "Role name" } input name="name" required maxlength="32" pattern="[a-z0-9][a-z0-9-]*" placeholder="e.g. seller"; }
                                fieldset class="perms" {
                                    legend { "Permissions" }
                                    @for q in Perm::ALL {
                                        label class="check" {
                                            input type="checkbox" name="perm" value=(perm_key(q)) checked[matches!(q, Perm::Post | Perm::React)];
                                            span { (perm_label(q)) }
                                        }
                                    }
                                }
                                div class="form-actions" { button class="btn primary" type="submit" id="define-role" { "Save role" } }
                            }
                        }
                    }
                }
                div {
                    @if p.meta {
                        section class="card section" id="about" {
                            h2 { "Name and description" }
                            form class="form" method="post" action={ "/c/" (m.cid) "/manage/meta" } {
                                label { span { "Name" } input name="name" value=(m.name) required maxlength="100"; }
                                label { span { "Description" } textarea name="description" rows="3" maxlength="2000" { (m.description) } }
                                div class="form-actions" { button class="btn primary" type="submit" id="save-meta" { "Save" } }
                            }
                        }
                    }
                    @if p.policy {
                        section class="card section" id="policy" {
                            h2 { (icon("shield")) "Who can join" }
                            form class="form" method="post" action={ "/c/" (m.cid) "/manage/policy" } {
                                fieldset {
                                    @for (value, label, hint) in [
                                        ("open", "Open", "Anyone with an invite code joins at once"),
                                        ("invite", "Invitation only", "A signed invitation admits; otherwise a moderator admits by hand"),
                                        ("endorsements", "Endorsements", "Newcomers need endorsements from members"),
                                        ("trust-flow", "Trust flow", "Admitted when enough trust flows to them from the founders (Sybil-resistant)"),
                                    ] {
                                        label class="choice" {
                                            input type="radio" name="policy" value=(value) checked[policy == value || (value == "endorsements" && policy.starts_with("endorsements:"))];
                                            span { strong { (label) } small { (hint) } }
                                        }
                                    }
                                }
                                label { span { "Endorsements needed (for “Endorsements”)" } input type="number" name="k" min="1" max="100" value=(k); }
                                div class="form-actions" { button class="btn primary" type="submit" id="save-policy" { "Save policy" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn channel_form(cid: &str, ch: Option<&ChannelView>) -> Markup {
    html! {
        form class="form" method="post" action={ "/c/" (cid) "/manage/channel" } {
            @if let Some(ch) = ch {
                input type="hidden" name="id" value=(ch.id);
            } @else {
                label { span { "Channel id" } input name="id" required maxlength="32" pattern="[a-z0-9][a-z0-9-]*" placeholder="e.g. market"; }
            }
            label { span { "Title" } input name="title" value=[ch.map(|c| c.title.as_str())] maxlength="100" placeholder="Market"; }
            label { span { "What it is for" } input name="description" value=[ch.map(|c| c.description.as_str())] maxlength="500"; }
            label class="check" { input type="checkbox" name="announce" value="on" checked[ch.is_some_and(|c| c.announce)]; span { "Announcements: only founders and moderators post" } }
            @if ch.is_some() {
                label class="check" { input type="checkbox" name="archived" value="on" checked[ch.is_some_and(|c| c.archived)]; span { "Archived: closed to new posts, hidden from the sidebar" } }
            }
            div class="form-actions" {
                button class="btn primary" type="submit" { @if ch.is_some() { "Save channel" } @else { "Create channel" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ChannelForm {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    announce: Option<String>,
    archived: Option<String>,
}

/// `POST /c/{id}/manage/channel`: create or change a channel.
pub async fn set_channel(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<ChannelForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let ch = parse_channel(f.id.trim())?;
    let title = match f.title.trim() {
        "" => ch.to_string(),
        t => t.to_string(),
    };
    let settings = ChannelSettings {
        title,
        description: f.description.trim().to_string(),
        announce: f.announce.is_some(),
        archived: f.archived.is_some(),
    };
    let target = ch.clone();
    govern(
        &s,
        c,
        Action::SetChannel {
            channel: target,
            settings,
        },
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/c/{id}?channel={}",
        enc(ch.as_str())
    )))
}

#[derive(Deserialize)]
pub struct MetaForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /c/{id}/manage/meta`.
pub async fn set_meta(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<MetaForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let name = f.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("the name is empty", "give the community a name").into());
    }
    let description = f.description.trim().to_string();
    govern(&s, c, Action::SetMeta { name, description }).await?;
    Ok(Redirect::to(&format!("/c/{id}/manage")))
}

#[derive(Deserialize)]
pub struct PolicyForm {
    policy: String,
    k: Option<u32>,
}

/// `POST /c/{id}/manage/policy`.
pub async fn set_policy(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<PolicyForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let text = match f.policy.as_str() {
        "endorsements" => format!("endorsements:{}", f.k.unwrap_or(2)),
        p => p.to_string(),
    };
    let policy: AdmissionPolicy = text.parse().map_err(|e: qun_crdt::Error| {
        ApiError::bad_request(
            e.to_string(),
            "choose open, invitation only, endorsements (at least 1) or trust flow",
        )
    })?;
    govern(&s, c, Action::SetPolicy { policy }).await?;
    Ok(Redirect::to(&format!("/c/{id}/manage")))
}

/// `perm=post&perm=react…`: repeated keys, which `serde_urlencoded` cannot gather into a
/// list, so the role form is read as pairs.
type Pairs = Vec<(String, String)>;

/// `POST /c/{id}/manage/role`: define (or redefine) a custom role.
pub async fn define_role(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let mut name = String::new();
    let mut perms = BTreeSet::new();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => name = v.trim().to_string(),
            "perm" => {
                let p: Perm = serde_json::from_value(serde_json::Value::String(v.clone()))
                    .map_err(|_| {
                        ApiError::bad_request(
                            format!("unknown permission {v:?}"),
                            "tick permissions from the list",
                        )
                    })?;
                perms.insert(p);
            }
            _ => {}
        }
    }
    // The core's own check of a custom role name (built-in names are refused).
    Role::custom(&name).map_err(|e| {
        ApiError::bad_request(
            e.to_string(),
            "use lowercase letters, digits and dashes, not a built-in role",
        )
    })?;
    govern(&s, c, Action::DefineRole { name, perms }).await?;
    Ok(Redirect::to(&format!("/c/{id}/manage#roles")))
}

/// The role and removal controls on a member's profile.
pub fn member_controls(
    cid: &str,
    member: &str,
    role: &str,
    custom: &[String],
    powers: Powers,
) -> Markup {
    html! {
        @if (powers.roles || powers.remove) && role != "founder" {
            section class="card section" id="manage-member" {
                h2 { (icon("shield")) "Manage" }
                @if powers.roles {
                    form class="form inline-form" method="post" action={ "/c/" (cid) "/role" } {
                        input type="hidden" name="member" value=(member);
                        label { span { "Role" }
                            select name="role" id="role-select" {
                                @for r in ["member", "moderator"].into_iter().chain(custom.iter().map(String::as_str)) {
                                    option value=(r) selected[r == role] { (r) }
                                }
                            }
                        }
                        div class="form-actions" { button class="btn" type="submit" id="set-role" { "Change role" } }
                    }
                }
                @if powers.remove {
                    form class="form" method="post" action={ "/c/" (cid) "/remove" } {
                        input type="hidden" name="member" value=(member);
                        label { span { "Reason (shown to members)" } input name="reason" maxlength="500" placeholder="Spam"; }
                        div class="form-actions" { button class="btn danger" type="submit" id="remove-member" { "Remove from the community" } }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    member: String,
    role: String,
}

/// `POST /c/{id}/role`.
pub async fn set_role(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let m = member(&f.member)?;
    let role: Role = f.role.parse().map_err(|e: qun_crdt::Error| {
        ApiError::bad_request(e.to_string(), "pick a role from the list")
    })?;
    govern(
        &s,
        c,
        Action::SetRole {
            member: m,
            role,
            cut: Default::default(),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/c/{id}/m/{}", f.member)))
}

#[derive(Deserialize)]
pub struct RemoveForm {
    member: String,
    #[serde(default)]
    reason: String,
}

/// `POST /c/{id}/remove`.
pub async fn remove(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Result<Redirect, PageError> {
    let c = parse_community(&id)?;
    let m = member(&f.member)?;
    let reason = f.reason.trim().to_string();
    govern(
        &s,
        c,
        Action::Remove {
            member: m,
            reason,
            cut: Default::default(),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/c/{id}/members")))
}
