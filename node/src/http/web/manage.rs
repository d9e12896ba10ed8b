//! Running a community from the page: name and description, admission policy, channels,
//! custom roles (`/c/{id}/manage`), and a member's role or removal (from their profile).
//!
//! Each form becomes one governance action signed by this node's device. The page only
//! offers what this member's role allows; the replication core still decides, and a refused
//! change comes back as an error page naming the reason.

use super::view::{Current, Nav, badge, icon, page};
use crate::dto::CommunityView;
use crate::http::AppState;
use crate::http::error::{HttpError, PageError};
use crate::http::extract::{Community, Form};
use axum::extract::State;
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::{Action, AdmissionPolicy, ChannelView, CommunityId, Edit, Perm, Role};
use std::collections::{BTreeMap, BTreeSet};

/// What this member may change in a community, from its governance state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Powers {
    /// Rename the community.
    pub meta: bool,
    /// Change the admission policy.
    pub policy: bool,
    /// Manage channels.
    pub channels: bool,
    /// Define and assign roles.
    pub roles: bool,
    /// Remove members.
    pub remove: bool,
}

impl Powers {
    /// This member's, in the community of `v`.
    pub fn of(v: &CommunityView) -> Powers {
        Powers {
            meta: v.can(Perm::Meta),
            policy: v.can(Perm::Policy),
            channels: v.can(Perm::Channels),
            roles: v.can(Perm::Roles),
            remove: v.can(Perm::Remove),
        }
    }

    /// Anything the manage page can change.
    pub fn any(&self) -> bool {
        self.meta || self.policy || self.channels || self.roles
    }
}

/// What the manage page shows.
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

async fn read(s: &AppState, c: CommunityId) -> crate::Result<ManageData> {
    let v = s.node.community_view(c).await?;
    let status = s.node.status().await?;
    Ok(ManageData {
        nav: Nav::new(&status, Some(Current::of(&v, None, "manage"))),
        cid: c.to_string(),
        name: v.summary.name.clone(),
        description: v.description.clone(),
        powers: Powers::of(&v),
        policy: v.policy,
        channels: v.channels,
        roles: v.role_defs,
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
    State(s): State<AppState>,
    Community(c): Community,
) -> Result<Markup, PageError> {
    let m = read(&s, c).await?;
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
                                label { span { "Role name" } input name="name" required maxlength="32" pattern="[a-z0-9][a-z0-9\\-]*" placeholder="e.g. seller"; }
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
        form class="form" method="post" action={ "/c/" (cid) "/manage/channel" @if ch.is_none() { "/new" } } {
            @if let Some(ch) = ch {
                input type="hidden" name="id" value=(ch.id);
            }
            label { span { "Title" } input name="title" value=[ch.map(|c| c.title.as_str())] maxlength="100" placeholder="Market" required[ch.is_none()]; }
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

/// `perm=post&perm=react…`: repeated keys, which `serde_urlencoded` cannot gather into a
/// list, so the role form is read as pairs.
type Pairs = Vec<(String, String)>;

/// `POST /c/{id}/manage/channel/new`: a new channel from its title (the id is derived from it,
/// and never one in use: a new channel does not overwrite another).
pub async fn new_channel(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, nonce, .. }: Form<crate::dto::ChannelRequest>,
) -> Result<Redirect, PageError> {
    let mut form = form;
    let v = s.node.community_view(c).await?;
    let taken = |id: &str| v.channels.iter().any(|ch| ch.id.as_str() == id);
    if form.title.trim().is_empty() {
        return Err(HttpError::bad_request(
            "a new channel needs a title",
            "type a title, e.g. Market",
        )
        .into());
    }
    form.id = crate::dto::parse::channel_from_title(&form.title, taken)?.to_string();
    let to = format!("/c/{c}?channel={}", super::view::enc(&form.id));
    let edit = crate::dto::IntoEdit::into_edit(form)?;
    match nonce.filter(|n| !n.is_empty()) {
        Some(key) => s.node.edit_once(c, key, edit).await?,
        None => s.node.edit(c, edit).await?,
    };
    Ok(Redirect::to(&to))
}

/// `POST /c/{id}/manage/role`: define (or redefine) a custom role.
pub async fn define_role(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form: pairs, .. }: Form<Pairs>,
) -> Result<Redirect, PageError> {
    let mut name = String::new();
    let mut perms = BTreeSet::new();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => name = v.trim().to_string(),
            "perm" => {
                let p: Perm = serde_json::from_value(serde_json::Value::String(v.clone()))
                    .map_err(|_| {
                        HttpError::bad_request(
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
        HttpError::bad_request(
            e.to_string(),
            "use lowercase letters, digits and dashes, not a built-in role",
        )
    })?;
    s.node
        .edit(c, Edit::Govern(Action::DefineRole { name, perms }))
        .await?;
    Ok(Redirect::to(&format!("/c/{c}/manage?saved=roles#roles")))
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
                    form class="form" method="post" action={ "/c/" (cid) "/remove" } data-confirm="Remove this member from the community? Being admitted again is the community's decision." {
                        input type="hidden" name="member" value=(member);
                        label { span { "Reason (shown to members)" } input name="reason" maxlength="500" placeholder="Spam"; }
                        div class="form-actions" { button class="btn danger" type="submit" id="remove-member" { "Remove from the community" } }
                    }
                }
            }
        }
    }
}
