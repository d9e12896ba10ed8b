//! Home (communities), create, join, settings.

use super::view::{self, Nav, badge, icon, page, short_id};
use crate::dto::{
    CommunitySummary, CreateCommunity, IdentityInfo, JoinRequest, MemberStatus, PeerInfo, Status,
};
use crate::error::Error;
use crate::http::AppState;
use crate::http::error::{HttpError, PageError};
use crate::http::extract::{Form, Query};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// The role of a member, else the status, in words.
fn role_label(status: &MemberStatus) -> String {
    match status {
        MemberStatus::Member(role) => role.to_string(),
        other => other.to_string(),
    }
}

fn policy_label(policy: &str) -> String {
    match policy {
        "open" => "Open to anyone with a code".into(),
        "invite" => "Invitation only".into(),
        "trust-flow" => "Admission by trust flow".into(),
        p => match p.strip_prefix("endorsements:") {
            Some(k) => format!("Needs {k} endorsements"),
            None => p.to_string(),
        },
    }
}

/// `GET /`.
pub async fn home(State(s): State<AppState>) -> Result<Markup, PageError> {
    let status = s.node.status().await?;
    let nav = Nav::new(&status, None);
    Ok(page(
        "Communities",
        &nav,
        html! {
            header class="page-head" {
                div {
                    h1 { "Your communities" }
                    p class="muted" { "Small, flat, self-organising groups. Everything lives on members' own devices." }
                }
                div class="head-actions" {
                    a class="btn" href="/join" { (icon("join")) "Join" }
                    a class="btn primary" href="/new" { (icon("plus")) "New community" }
                }
            }
            @if status.communities.is_empty() && status.joining.is_empty() {
                div class="empty" {
                    h2 { "Welcome to qun" }
                    p { "You are not in any community yet. Start one and invite people, or paste an invite code someone gave you." }
                    div class="empty-actions" {
                        a class="btn primary" href="/new" { (icon("plus")) "Create a community" }
                        a class="btn" href="/join" { (icon("join")) "Join with a code" }
                    }
                }
            }
            div class="cards" {
                @for c in &status.communities { (card(c)) }
                @for j in status.joins.iter().filter(|j| status.joining.contains(&j.id)) {
                    a class="card community-card" href={ "/c/" (j.id) } {
                        div class="card-top" {
                            span class="badge joining" { "…" }
                            div {
                                h3 { "Joining…" }
                                p class="muted mono" { (short_id(&j.id)) }
                            }
                        }
                        p class="muted join-stage" { (super::community::join_stage(&j.progress)) }
                    }
                }
            }
        },
    ))
}

fn card(c: &CommunitySummary) -> Markup {
    html! {
        a class="card community-card" href={ "/c/" (c.id) } {
            div class="card-top" {
                (badge(&c.id, &c.name))
                div {
                    h3 { (c.name) }
                    p class="muted" { (policy_label(&c.policy)) }
                }
            }
            div class="stats" {
                span { (view::plural(c.members, "member", "members")) }
                span { (view::plural(c.peers, "node", "nodes")) " connected" }
                span class={ "pill " (if c.status.is_member() { "ok" } else { "warn" }) } { (role_label(&c.status)) }
            }
        }
    }
}

/// `GET /new`.
pub async fn new_form(State(s): State<AppState>) -> Result<Markup, PageError> {
    let nav = Nav::new(&s.node.status().await?, None).on("new");
    Ok(page(
        "New community",
        &nav,
        html! {
            div class="narrow" {
                header class="page-head" { div { h1 { "New community" } p class="muted" { "You will be its founder. Founders hold every permission and decide who may join." } } }
                form class="card form" method="post" action="/new" {
                    label { span { "Name" } input name="name" required maxlength="100" placeholder="Rust Meetup Berlin" autofocus; }
                    label { span { "Description" } textarea name="description" rows="3" maxlength="2000" placeholder="What is this community about?" {} }
                    fieldset {
                        legend { "Who may join" }
                        label class="choice" { input type="radio" name="policy" value="invite" checked; span { strong { "Invitation only" } small { "People join with a code a member gives them." } } }
                        label class="choice" { input type="radio" name="policy" value="open"; span { strong { "Open" } small { "Anyone who finds the community may join." } } }
                        label class="choice" { input type="radio" name="policy" value="endorsements:2"; span { strong { "Endorsed" } small { "Newcomers need two endorsements from members." } } }
                        label class="choice" { input type="radio" name="policy" value="trust-flow"; span { strong { "Trust flow" } small { "Admission follows the web of trust from the founders (Sybil-resistant)." } } }
                    }
                    div class="form-actions" {
                        a class="btn ghost" href="/" { "Cancel" }
                        button class="btn primary" type="submit" { "Create community" }
                    }
                }
            }
        },
    ))
}

/// `POST /new`.
pub async fn create(
    State(s): State<AppState>,
    Form { form, .. }: Form<CreateCommunity>,
) -> Result<Redirect, PageError> {
    let (name, description, policy) = form.validate()?;
    let id = s.node.create_community(&name, &description, policy).await?;
    Ok(Redirect::to(&format!("/c/{id}")))
}

/// `GET /join`.
pub async fn join_form(
    State(s): State<AppState>,
    Query(q): Query<CodeQuery>,
) -> Result<Markup, PageError> {
    let nav = Nav::new(&s.node.status().await?, None).on("join");
    Ok(join_page(&nav, q.code.as_deref().unwrap_or(""), None))
}

/// `/join?code=…` (an invite link may also carry the code after `#`, which the page's script
/// reads: that part never reaches any server).
#[derive(serde::Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: Option<String>,
}

/// The join page: the code as typed and, after a failed attempt, why it failed and what to do.
fn join_page(nav: &Nav, code: &str, error: Option<(&str, &str)>) -> Markup {
    page(
        "Join",
        nav,
        html! {
            div class="narrow" {
                header class="page-head" { div { h1 { "Join a community" } p class="muted" { "Paste the invite code a member gave you. It starts with " code { "qun1" } "." } } }
                @if let Some((error, hint)) = error {
                    div class="notice error" id="join-error" role="alert" {
                        strong { (error) } " " (hint)
                    }
                }
                form class="card form" method="post" action="/join" {
                    label { span { "Invite code" } textarea name="code" id="join-code" rows="5" required class="mono" placeholder="qun1…" autofocus data-from-fragment="qun1" { (code) } }
                    div class="form-actions" {
                        a class="btn ghost" href="/" { "Cancel" }
                        button class="btn primary" type="submit" { "Join" }
                    }
                }
            }
        },
    )
}

/// `POST /join`. A code that does not work shows the join page again with the code as typed
/// and the reason, in the member's terms.
pub async fn join(
    State(s): State<AppState>,
    Form { form, .. }: Form<JoinRequest>,
) -> Result<Response, PageError> {
    match s.node.join(&form.code).await {
        Ok(id) => Ok(Redirect::to(&format!("/c/{id}")).into_response()),
        Err(e @ (Error::BadInvite(_) | Error::Invalid { .. })) => {
            let nav = Nav::new(&s.node.status().await?, None).on("join");
            let text = e.to_string();
            let body = join_page(&nav, form.code.trim(), Some((&text, e.hint())));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// What the settings page shows.
struct Settings {
    nav: Nav,
    identity: IdentityInfo,
    status: Status,
    peers: Vec<PeerInfo>,
    /// The node's clock, ms.
    now: u64,
    /// Whether showing the backup phrase asks for the passphrase (else a confirmation).
    encrypted: bool,
    /// This browser's login.
    login: super::account::Login,
    /// Whether the login section was just saved.
    saved: bool,
}

/// The settings, and the backup phrase of the root key held in memory when asked for
/// (`Some(None)`: no root key here). Asking must have been checked first.
async fn read_settings(
    s: &AppState,
    headers: &HeaderMap,
    with_phrase: bool,
) -> Result<(Settings, Option<Option<String>>), PageError> {
    let encrypted = s
        .keyfile
        .as_deref()
        .and_then(crate::keystore::is_encrypted)
        .unwrap_or(false);
    let phrase = match with_phrase {
        true => Some(s.node.backup_phrase().await?),
        false => None,
    };
    let status = s.node.status().await?;
    let st = Settings {
        nav: Nav::new(&status, None).on("settings"),
        identity: s.node.identity().await?,
        status,
        peers: s.node.peers().await?,
        now: s.node.now().as_millis(),
        encrypted,
        login: super::account::Login::of(s, headers),
        saved: false,
    };
    Ok((st, phrase))
}

/// `GET /settings`.
pub async fn settings(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Result<Markup, PageError> {
    let (mut st, _) = read_settings(&s, &headers, false).await?;
    st.saved = q.saved.as_deref() == Some("login");
    Ok(settings_page(&st, PhraseView::Hidden))
}

/// `?saved=login`: the settings page after a save.
#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// The backup-phrase form: the keyfile's passphrase, or the confirmation for a keyfile that
/// has none.
#[derive(Deserialize, Default)]
pub struct PhraseForm {
    #[serde(default)]
    passphrase: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
}

/// Checks run one at a time (each costs a full key derivation when the keyfile is encrypted).
static PHRASE_CHECK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `POST /settings/backup-phrase`: the settings page with the phrase shown, once the keyfile's
/// passphrase was typed again (or, for a keyfile without one, showing it was confirmed).
pub async fn backup_phrase(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form { form: f, .. }: Form<PhraseForm>,
) -> Result<Response, PageError> {
    use crate::keystore::{PhraseRequest, check_phrase_request};
    let req = PhraseRequest {
        passphrase: f.passphrase,
        confirm_unencrypted: f.confirm.is_some_and(|c| !c.is_empty()),
    };
    let keyfile = s.keyfile.clone();
    let checked = {
        let _one = PHRASE_CHECK.lock().await;
        tokio::task::spawn_blocking(move || {
            check_phrase_request(keyfile.as_deref(), &req).map(|_| ())
        })
        .await
        .map_err(|e| {
            HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
                "try again",
            )
        })?
    };
    let refused = match checked {
        Ok(()) => None,
        Err(Error::PhraseRefused(r @ crate::keystore::PhraseRefusal::WrongPassphrase)) => {
            Some((StatusCode::FORBIDDEN, r.to_string()))
        }
        Err(Error::PhraseRefused(r)) => Some((StatusCode::BAD_REQUEST, r.to_string())),
        Err(e) => return Err(e.into()),
    };
    let (st, phrase) = read_settings(&s, &headers, refused.is_none()).await?;
    if let Some((status, why)) = refused {
        return Ok((status, settings_page(&st, PhraseView::Refused(&why))).into_response());
    }
    match phrase.flatten() {
        Some(p) => Ok(settings_page(&st, PhraseView::Shown(&p)).into_response()),
        None => Err(HttpError::new(
            StatusCode::NOT_FOUND,
            "this device does not hold your root key",
            "show the backup phrase on the device that does",
        )
        .into()),
    }
}

/// What the backup-phrase section shows.
enum PhraseView<'a> {
    /// The form.
    Hidden,
    /// The form, with why the last try was refused.
    Refused(&'a str),
    /// The words.
    Shown(&'a str),
}

fn settings_page(st: &Settings, phrase: PhraseView<'_>) -> Markup {
    let id = &st.identity;
    let now = st.now;
    page(
        "Settings",
        &st.nav,
        html! {
            header class="page-head" { div { h1 { "Settings" } p class="muted" { "Your identity, devices and this node." } } }
            section class="card section" id="identity" {
                h2 { (icon("key")) "Identity" }
                dl class="facts" {
                    dt { "Member id" } dd class="mono" { (id.member) }
                    dt { "This device" } dd class="mono" { (id.device) }
                    dt { "Peer id" } dd class="mono" { (id.peer_id) }
                    dt { "Root key" } dd { @if id.holds_root { "held by this device" } @else { "not on this device (it acts through its certificate)" } }
                }
            }
            (super::account::section(&st.login, st.saved))
            section class="card section" id="devices" {
                h2 { (icon("shield")) "Devices" }
                @if let Some(c) = &id.device_cert {
                    div class="row-item" {
                        div { strong { (if c.label.is_empty() { "this device" } else { c.label.as_str() }) } " " span class="pill ok" { "this device" } }
                        div class="muted mono small" { (c.device) }
                        div class="muted small" { "may: " (c.capabilities) " · certified " (view::time(c.not_before, now))
                            @if let Some(e) = c.expires { " · expires " (view::iso(e)) } }
                    }
                }
                @let others: Vec<_> = id.community_devices.iter().filter(|d| d.device != id.device).collect();
                @for d in &others {
                    div class="row-item" {
                        div class="mono small" { (d.device) }
                        div class="muted small" { "in " (short_id(&d.community)) " · may: " (d.capabilities)
                            @if d.revoked { " · " span class="pill warn" { "revoked" } } }
                    }
                }
                @if id.device_cert.is_none() && others.is_empty() {
                    p class="muted" { "This node signs with your root key directly; no other devices are linked." }
                }
                p class="muted small" { "Add a device: on it run " code { "qun init --device" } ", then here " code { "qun device link <its device id>" } ", then on it " code { "qun device add <the code>" } ". If every device is lost, " code { "qun init --restore" } " brings your identity back from the backup phrase." }
            }
            section class="card section" id="backup" {
                h2 { (icon("key")) "Backup phrase" }
                @if let PhraseView::Shown(p) = phrase {
                    div class="notice warn" { strong { "Keep this secret. " } "Anyone who has these words controls your identity. Write them on paper, store them offline, and close this page." }
                    ol class="phrase" id="phrase" {
                        @for w in p.split_whitespace() { li { (w) } }
                    }
                } @else {
                    p { "The 24 words restore your identity on a new device if this one is lost." }
                    p class="muted small" { "Only reveal them where nobody can look over your shoulder." }
                    @if let PhraseView::Refused(why) = phrase {
                        div class="notice error" id="phrase-refused" { (why) }
                    }
                    form method="post" action="/settings/backup-phrase" {
                        @if st.encrypted {
                            label { span { "Passphrase of your keyfile (again)" } input type="password" name="passphrase" id="phrase-passphrase" autocomplete="current-password" required; }
                        } @else {
                            label class="check" { input type="checkbox" name="confirm" value="yes" id="phrase-confirm" required; span { "My keyfile has no passphrase, so anyone using this computer can see these words. Show them anyway." } }
                        }
                        div class="form-actions" {
                            button class="btn danger" type="submit" id="show-phrase" { "Show backup phrase" }
                        }
                    }
                }
            }
            section class="card section" id="network" {
                h2 { (icon("users")) "Network" }
                dl class="facts" {
                    dt { "Connected peers" } dd { (st.status.connected_peers) }
                    dt { "Listening on" } dd { @for a in &st.status.listen_addrs { div class="mono small" { (a) } } }
                    @if !st.status.relays.is_empty() {
                        dt { "Relays" } dd { @for a in &st.status.relays { div class="mono small" { (a) } } }
                    }
                    dt { "DHT servers" } dd { (st.status.dht_servers) }
                }
                @if !st.peers.is_empty() {
                    table class="table" {
                        thead { tr { th { "Peer" } th { "Score" } th { "Shared communities" } } }
                        tbody {
                            @for p in &st.peers {
                                tr {
                                    td class="mono small" { (short_id(&p.peer_id)) }
                                    td { (p.score.map(|s| format!("{s:.1}")).unwrap_or_else(|| "–".into())) }
                                    td { (p.communities.len()) }
                                }
                            }
                        }
                    }
                }
                @if let Some(e) = &st.status.store_error {
                    div class="notice error" { "Storage failed: " (e) ". This node no longer accepts changes." }
                }
            }
            section class="card section" id="export" {
                h2 { (icon("download")) "Export" }
                p class="muted" { "Download a community's documents (Automerge, base64 in JSON) to keep or inspect." }
                @for c in &st.status.communities {
                    div class="row-item split" {
                        span { (badge(&c.id, &c.name)) " " (c.name) }
                        a class="btn small" href={ "/api/v1/communities/" (c.id) "/export" } download={ (c.name) ".json" } { (icon("download")) "Export" }
                    }
                }
                @if st.status.communities.is_empty() { p class="muted" { "Nothing to export yet." } }
            }
        },
    )
}
