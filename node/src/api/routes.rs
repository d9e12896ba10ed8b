//! JSON endpoints under `/api/v1`. Each handler runs one closure on the driver.

use super::ApiState;
use super::error::ApiError;
use super::extract::{Json, Query};
use crate::driver::Driver;
use crate::ops::EditDone;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use qun_crdt::{
    Action, AdmissionPolicy, ChannelId, ChannelSettings, CommunityId, Edit, PostId, Profile, Role,
};
use qun_identity::{MemberId, Timestamp};
use serde::{Deserialize, Serialize};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Run `f` on the driver.
pub async fn run<T, F>(state: &ApiState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Driver) -> crate::Result<T> + Send + 'static,
{
    Ok(Json(state.node.with(f).await??))
}

pub(crate) fn community(id: &str) -> Result<CommunityId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(
            format!("not a community id: {id:?}"),
            "ids look like b… (53 characters); see GET /api/v1/communities",
        )
    })
}

pub(crate) fn member(id: &str) -> Result<MemberId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(
            format!("not a member id: {id:?}"),
            "member ids look like z6Mk…",
        )
    })
}

pub(crate) fn post_id(id: &str) -> Result<PostId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(
            format!("not a post id: {id:?}"),
            "post ids look like <channel>/<window>/<key>",
        )
    })
}

pub(crate) fn channel(id: &str) -> Result<ChannelId, ApiError> {
    ChannelId::new(id).map_err(|e| {
        ApiError::bad_request(e.to_string(), "channel ids are [a-z0-9-], e.g. general")
    })
}

/// The API routes.
pub fn router(_state: ApiState) -> Router<ApiState> {
    Router::new()
        .route("/login", get(login))
        .route("/api/v1/status", get(status))
        .route("/api/v1/identity", get(identity))
        .route("/api/v1/login-link", post(login_link))
        .route("/api/v1/peers", get(peers))
        .route("/api/v1/events", get(super::sse::events))
        .route("/api/v1/communities", get(communities).post(create))
        .route("/api/v1/devices/link", post(device_link))
        .route("/api/v1/devices/revoke", post(device_revoke))
        .route("/api/v1/join", post(join))
        .route(
            "/api/v1/communities/{id}/join",
            get(join_status).delete(join_cancel),
        )
        .route("/api/v1/communities/{id}", get(community_info))
        .route("/api/v1/communities/{id}/invite", post(invite))
        .route(
            "/api/v1/communities/{id}/channels",
            get(channels).post(set_channel),
        )
        .route("/api/v1/communities/{id}/posts", get(posts).post(new_post))
        .route("/api/v1/communities/{id}/thread", get(thread))
        .route("/api/v1/communities/{id}/posts/edit", post(edit_post))
        .route("/api/v1/communities/{id}/posts/delete", post(delete_post))
        .route("/api/v1/communities/{id}/posts/react", post(react))
        .route("/api/v1/communities/{id}/posts/hide", post(hide))
        .route("/api/v1/communities/{id}/posts/unhide", post(unhide))
        .route("/api/v1/communities/{id}/members", get(members))
        .route("/api/v1/communities/{id}/members/admit", post(admit))
        .route("/api/v1/communities/{id}/members/remove", post(remove))
        .route("/api/v1/communities/{id}/members/role", post(set_role))
        .route(
            "/api/v1/communities/{id}/profile",
            get(my_profile).put(set_profile),
        )
        .route("/api/v1/communities/{id}/profile/{member}", get(profile))
        .route("/api/v1/communities/{id}/follows", get(follows))
        .route("/api/v1/communities/{id}/follow", post(follow))
        .route("/api/v1/communities/{id}/policy", post(set_policy))
        .route("/api/v1/communities/{id}/endorse", post(endorse))
        .route("/api/v1/communities/{id}/endorsements", get(endorsements))
        .route("/api/v1/communities/{id}/trust", get(trust))
        .route("/api/v1/communities/{id}/trust/{member}", get(trust_why))
        .route("/api/v1/communities/{id}/export", get(export))
}

#[derive(Deserialize)]
struct LoginQuery {
    code: String,
}

/// `GET /login?code=…`: trade the one-time code for a session cookie.
async fn login(State(state): State<ApiState>, Query(q): Query<LoginQuery>) -> Response {
    match state.auth.login(&q.code) {
        Ok(session) => {
            let cookie = format!(
                "{}={session}; HttpOnly; SameSite=Strict; Path=/",
                super::auth::COOKIE
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = cookie.parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(super::auth::LoginRefused::Expired) => crate::web::login_needed(
            "this login link has expired: a link works for 10 minutes after it is made",
            "run `qun login` for a new link (it prints one that works for the next 10 minutes)",
        ),
        Err(super::auth::LoginRefused::Invalid) => crate::web::login_needed(
            "this login link was used already or is wrong",
            "run `qun login` for a new link",
        ),
    }
}

#[derive(Serialize)]
struct LoginLink {
    path: String,
}

/// `POST /api/v1/login-link`: a fresh one-time login path (for `qun login`).
async fn login_link(State(s): State<ApiState>) -> Json<LoginLink> {
    Json(LoginLink {
        path: format!("/login?code={}", s.auth.renew_login_code()),
    })
}

async fn status(State(s): State<ApiState>) -> ApiResult<crate::ops::Status> {
    run(&s, |d| Ok(d.status())).await
}

async fn identity(State(s): State<ApiState>) -> ApiResult<crate::ops::IdentityInfo> {
    run(&s, |d| Ok(d.identity())).await
}

async fn peers(State(s): State<ApiState>) -> ApiResult<Vec<crate::ops::PeerInfo>> {
    run(&s, |d| Ok(d.peers())).await
}

async fn communities(State(s): State<ApiState>) -> ApiResult<Vec<crate::ops::CommunitySummary>> {
    run(&s, |d| Ok(d.status().communities)).await
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    #[serde(default)]
    description: String,
    /// `open`, `invite`, `endorsements:K`, `trust-flow`.
    #[serde(default = "default_policy")]
    policy: String,
}

fn default_policy() -> String {
    "invite".into()
}

#[derive(Serialize)]
struct Created {
    id: String,
}

async fn create(
    State(s): State<ApiState>,
    Json(b): Json<CreateBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let policy: AdmissionPolicy = b.policy.parse().map_err(|e: qun_crdt::Error| {
        ApiError::bad_request(
            e.to_string(),
            "policy: open, invite, endorsements:K or trust-flow",
        )
    })?;
    let Json(id) = run(&s, move |d| {
        d.create_community(&b.name, &b.description, policy)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

#[derive(Deserialize)]
struct JoinBody {
    code: String,
}

/// `GET /api/v1/communities/{id}/join`: where our join stands (404 when none is running).
async fn join_status(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<crate::ops::JoinInfo> {
    let c = community(&id)?;
    run(&s, move |d| {
        d.joins()
            .into_iter()
            .find(|j| j.id == c.to_string())
            .ok_or_else(|| crate::error::Error::NotFound(format!("no join of {c} in progress")))
    })
    .await
}

/// `DELETE /api/v1/communities/{id}/join`: stop joining.
async fn join_cancel(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<serde_json::Value> {
    let c = community(&id)?;
    run(&s, move |d| {
        d.cancel_join(&c)
            .map(|had| serde_json::json!({ "cancelled": had }))
    })
    .await
}

async fn join(State(s): State<ApiState>, Json(b): Json<JoinBody>) -> ApiResult<Created> {
    run(&s, move |d| {
        d.join(&b.code).map(|c| Created { id: c.to_string() })
    })
    .await
}

#[derive(Serialize)]
struct CommunityInfo {
    #[serde(flatten)]
    summary: crate::ops::CommunitySummary,
    description: String,
    channels: Vec<qun_crdt::ChannelView>,
    founders: Vec<String>,
}

async fn community_info(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<CommunityInfo> {
    let c = community(&id)?;
    run(&s, move |d| {
        let summary = d
            .summary(&c)
            .ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
        let mut comm = d.community(&c)?;
        Ok(CommunityInfo {
            summary,
            description: comm.state().description.clone(),
            channels: comm.channels(),
            founders: comm
                .genesis()
                .value()
                .founders
                .iter()
                .map(|f| f.to_string())
                .collect(),
        })
    })
    .await
}

#[derive(Deserialize)]
struct InviteBody {
    invitee: Option<String>,
    /// Validity in hours (default 7 days).
    valid_hours: Option<u64>,
}

#[derive(Serialize)]
struct Code {
    code: String,
}

async fn invite(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<InviteBody>,
) -> ApiResult<Code> {
    let c = community(&id)?;
    let invitee = b.invitee.as_deref().map(member).transpose()?;
    let valid = Some(b.valid_hours.unwrap_or(24 * 7).saturating_mul(3_600_000));
    run(&s, move |d| {
        d.invite(&c, invitee, valid).map(|code| Code { code })
    })
    .await
}

async fn channels(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<qun_crdt::ChannelView>> {
    let c = community(&id)?;
    run(&s, move |d| Ok(d.community(&c)?.channels())).await
}

#[derive(Deserialize)]
struct ChannelBody {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    announce: bool,
    #[serde(default)]
    archived: bool,
}

async fn set_channel(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<ChannelBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let ch = channel(&b.id)?;
    let settings = ChannelSettings {
        title: b.title,
        description: b.description,
        announce: b.announce,
        archived: b.archived,
    };
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::Govern(Action::SetChannel {
                channel: ch,
                settings,
            }),
        )
    })
    .await
}

#[derive(Deserialize)]
struct PostsQuery {
    #[serde(default = "general")]
    channel: String,
    #[serde(default = "default_limit")]
    limit: usize,
    /// Only posts created before this time (ms), for paging.
    before: Option<u64>,
    /// Only posts by members I follow.
    #[serde(default)]
    following: bool,
}

fn general() -> String {
    "general".into()
}

fn default_limit() -> usize {
    50
}

async fn posts(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<PostsQuery>,
) -> ApiResult<Vec<qun_crdt::PostView>> {
    let c = community(&id)?;
    let ch = channel(&q.channel)?;
    let limit = q.limit.min(500);
    let before = q.before.map(Timestamp::from_millis);
    run(&s, move |d| {
        if q.following {
            d.posts_following(&c, &ch, limit, before)
        } else {
            d.posts(&c, &ch, limit, before)
        }
    })
    .await
}

#[derive(Deserialize)]
struct FollowsQuery {
    /// Whose follows (default: mine).
    member: Option<String>,
}

#[derive(Serialize)]
struct Follows {
    member: String,
    follows: Vec<String>,
}

async fn follows(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<FollowsQuery>,
) -> ApiResult<Follows> {
    let c = community(&id)?;
    let who = q.member.as_deref().map(member).transpose()?;
    run(&s, move |d| {
        let m = who.unwrap_or(d.member);
        let follows = d.community(&c)?.follows(&m)?;
        Ok(Follows {
            member: m.to_string(),
            follows: follows.iter().map(|f| f.to_string()).collect(),
        })
    })
    .await
}

#[derive(Deserialize)]
struct FollowBody {
    member: String,
    /// Follow (default) or unfollow.
    #[serde(default = "yes")]
    on: bool,
}

async fn follow(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<FollowBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let m = member(&b.member)?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::Follow {
                member: m,
                on: b.on,
            },
        )
    })
    .await
}

#[derive(Deserialize)]
struct ThreadQuery {
    post: String,
}

async fn thread(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> ApiResult<Vec<qun_crdt::PostView>> {
    let c = community(&id)?;
    let p = post_id(&q.post)?;
    run(&s, move |d| d.thread(&c, &p)).await
}

#[derive(Deserialize)]
struct NewPost {
    #[serde(default = "general")]
    channel: String,
    text: String,
    reply_to: Option<String>,
}

async fn new_post(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<NewPost>,
) -> Result<(StatusCode, Json<EditDone>), ApiError> {
    let c = community(&id)?;
    let ch = channel(&b.channel)?;
    let reply_to = b.reply_to.as_deref().map(post_id).transpose()?;
    let Json(done) = run(&s, move |d| {
        d.edit(
            &c,
            Edit::Post {
                channel: ch,
                text: b.text,
                reply_to,
                attachments: vec![],
            },
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

#[derive(Deserialize)]
struct PostText {
    post: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
}

async fn edit_post(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PostText>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let p = post_id(&b.post)?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::EditPost {
                post: p,
                text: b.text,
            },
        )
    })
    .await
}

async fn delete_post(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PostText>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let p = post_id(&b.post)?;
    run(&s, move |d| d.edit(&c, Edit::DeletePost { post: p })).await
}

async fn hide(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PostText>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let p = post_id(&b.post)?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::Govern(Action::Hide {
                post: p,
                reason: b.reason,
            }),
        )
    })
    .await
}

async fn unhide(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PostText>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let p = post_id(&b.post)?;
    run(&s, move |d| {
        d.edit(&c, Edit::Govern(Action::Unhide { post: p }))
    })
    .await
}

#[derive(Deserialize)]
struct ReactBody {
    post: String,
    emoji: String,
    #[serde(default = "yes")]
    on: bool,
}

fn yes() -> bool {
    true
}

async fn react(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<ReactBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let p = post_id(&b.post)?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::React {
                post: p,
                emoji: b.emoji,
                on: b.on,
            },
        )
    })
    .await
}

async fn members(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<qun_crdt::MemberView>> {
    let c = community(&id)?;
    run(&s, move |d| d.members(&c)).await
}

#[derive(Deserialize)]
struct MemberBody {
    member: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    role: String,
}

async fn admit(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<MemberBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let m = member(&b.member)?;
    run(&s, move |d| {
        d.edit(&c, Edit::Govern(Action::Admit { member: m }))
    })
    .await
}

async fn remove(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<MemberBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let m = member(&b.member)?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::Govern(Action::Remove {
                member: m,
                reason: b.reason,
                cut: Default::default(),
            }),
        )
    })
    .await
}

async fn set_role(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<MemberBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let m = member(&b.member)?;
    let role: Role = b.role.parse().map_err(|e: qun_crdt::Error| {
        ApiError::bad_request(
            e.to_string(),
            "roles: moderator, member, or a defined custom role",
        )
    })?;
    run(&s, move |d| {
        d.edit(
            &c,
            Edit::Govern(Action::SetRole {
                member: m,
                role,
                cut: Default::default(),
            }),
        )
    })
    .await
}

async fn my_profile(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Option<Profile>> {
    let c = community(&id)?;
    run(&s, move |d| {
        let me = d.member;
        Ok(d.community(&c)?.profile(&me)?)
    })
    .await
}

async fn profile(
    State(s): State<ApiState>,
    Path((id, m)): Path<(String, String)>,
) -> ApiResult<Option<Profile>> {
    let c = community(&id)?;
    let m = member(&m)?;
    run(&s, move |d| Ok(d.community(&c)?.profile(&m)?)).await
}

async fn set_profile(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(p): Json<Profile>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    run(&s, move |d| d.edit(&c, Edit::Profile(p))).await
}

#[derive(Deserialize)]
struct PolicyBody {
    policy: String,
}

async fn set_policy(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<PolicyBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let policy: AdmissionPolicy = b.policy.parse().map_err(|e: qun_crdt::Error| {
        ApiError::bad_request(
            e.to_string(),
            "policy: open, invite, endorsements:K or trust-flow",
        )
    })?;
    run(&s, move |d| {
        d.edit(&c, Edit::Govern(Action::SetPolicy { policy }))
    })
    .await
}

#[derive(Deserialize)]
struct EndorseBody {
    member: String,
    #[serde(default = "one")]
    weight: f64,
    #[serde(default = "star")]
    topic: String,
    #[serde(default)]
    note: String,
}

fn one() -> f64 {
    1.0
}

fn star() -> String {
    "*".into()
}

async fn endorse(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Json(b): Json<EndorseBody>,
) -> ApiResult<EditDone> {
    let c = community(&id)?;
    let m = member(&b.member)?;
    if !(-1.0..=1.0).contains(&b.weight) {
        return Err(ApiError::bad_request(
            format!("weight {} is outside [-1, 1]", b.weight),
            "1 trusts fully, 0.5 somewhat, 0 revokes, -1 distrusts",
        ));
    }
    run(&s, move |d| d.endorse(&c, m, b.weight, &b.topic, &b.note)).await
}

/// An endorsement, for display.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndorsementView {
    /// Who endorses.
    pub from: String,
    /// Whom.
    pub to: String,
    /// Topic (`*` for general trust).
    pub topic: String,
    /// Weight in [-1, 1]; 0 is a revocation.
    pub weight: f64,
    /// When, ms.
    pub created: u64,
    /// A note.
    pub note: String,
}

/// The endorsements published in a community: the latest per (from, to, topic); only those in
/// force unless `all`; only those given or received by `who` when set.
pub fn endorsement_list(
    d: &mut Driver,
    c: &CommunityId,
    who: Option<MemberId>,
    all: bool,
) -> crate::Result<Vec<EndorsementView>> {
    let mut comm = d.community(c)?;
    let t = crate::clock::now();
    Ok(comm
        .state()
        .endorsements
        .latest()
        .filter(|e| all || (!e.value().is_revocation() && e.valid_at(t)))
        .filter(|e| who.is_none_or(|m| e.value().from == m || e.value().to == m))
        .map(|e| {
            let v = e.value();
            EndorsementView {
                from: v.from.to_string(),
                to: v.to.to_string(),
                topic: v.topic.to_string(),
                weight: v.weight.as_f64(),
                created: v.created.as_millis(),
                note: v.note.clone(),
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct EndorsementsQuery {
    /// Only those given or received by this member.
    member: Option<String>,
    /// Include revocations (weight 0) and expired endorsements.
    #[serde(default)]
    all: bool,
}

async fn endorsements(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<EndorsementsQuery>,
) -> ApiResult<Vec<EndorsementView>> {
    let c = community(&id)?;
    let who = q.member.as_deref().map(member).transpose()?;
    run(&s, move |d| endorsement_list(d, &c, who, q.all)).await
}

#[derive(Deserialize)]
struct TrustQuery {
    #[serde(default = "default_limit")]
    top: usize,
}

async fn trust(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<TrustQuery>,
) -> ApiResult<Vec<crate::ops::TrustEntry>> {
    let c = community(&id)?;
    let top = q.top.min(1000);
    run(&s, move |d| d.trust(&c, top)).await
}

async fn trust_why(
    State(s): State<ApiState>,
    Path((id, m)): Path<(String, String)>,
) -> ApiResult<crate::ops::TrustWhy> {
    let c = community(&id)?;
    let m = member(&m)?;
    match s.node.with(move |d| d.trust_why(&c, &m)).await? {
        Ok(w) => Ok(Json(w)),
        Err(crate::Error::NotFound(what)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            "nobody has endorsed this member and they are not a member of the community",
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct ExportDoc {
    doc: String,
    /// Automerge bytes, base64.
    automerge: String,
}

async fn export(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<Vec<ExportDoc>> {
    let c = community(&id)?;
    run(&s, move |d| {
        Ok(d.export(&c)?
            .into_iter()
            .map(|(doc, b)| ExportDoc {
                doc,
                automerge: data_encoding::BASE64.encode(&b),
            })
            .collect())
    })
    .await
}

#[derive(Deserialize)]
struct DeviceBody {
    device: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    reason: String,
}

fn device_id(s: &str) -> Result<qun_identity::DeviceId, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request(
            format!("not a device id: {s:?}"),
            "device ids look like z6Mk…; `qun init --device` prints it on the new device",
        )
    })
}

/// `POST /api/v1/devices/link {device, label}` → `{code}`.
async fn device_link(
    State(s): State<ApiState>,
    Json(b): Json<DeviceBody>,
) -> ApiResult<serde_json::Value> {
    let d = device_id(&b.device)?;
    run(&s, move |drv| {
        drv.link_device(d, &b.label)
            .map(|code| serde_json::json!({ "code": code }))
    })
    .await
}

/// `POST /api/v1/devices/revoke {device, reason}` → `{communities}`.
async fn device_revoke(
    State(s): State<ApiState>,
    Json(b): Json<DeviceBody>,
) -> ApiResult<serde_json::Value> {
    let d = device_id(&b.device)?;
    run(&s, move |drv| {
        drv.revoke_device(d, &b.reason)
            .map(|n| serde_json::json!({ "communities": n }))
    })
    .await
}
