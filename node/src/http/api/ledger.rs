//! The ledger under `/api/v1/communities/{id}/ledger` (issue 16): my statement, the totals,
//! the book's entries; the policy, payments (with `deal`: escrow), unfreezing; proposals (list,
//! create, pledge, close, vote) and bounties (list, create, and each step by path: claim,
//! submit, accept, reject, cancel). The core's verdict is the only authorization: a refused
//! edit is a 403 naming the rule ("over the credit limit …", "the ledger is off"), a request
//! that does not parse a 400 with a hint.

use super::ApiResult;
use crate::dto::ledger::BOUNTY_STEPS;
use crate::dto::{
    BountyOut, BountyRequest, BountyStepRequest, EditDone, FundOut, IntoEdit, LedgerCreated,
    LedgerEntries, LedgerPolicyRequest, PledgeRequest, ProposalRequest, Wallet, parse,
};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{Community, Json, Query};
use axum::extract::State;
use axum::http::StatusCode;
use qun_crdt::ledger::FundOutcome;
use qun_crdt::ledger::view::Totals;
use qun_crdt::{Action, CommunityId, Edit};
use serde::Deserialize;

/// `?member=`.
#[derive(Deserialize)]
pub(super) struct MemberQuery {
    /// Whose statement (default: mine).
    #[serde(default)]
    member: String,
}

/// `GET …/ledger/statement?member=`: a wallet (mine by default): balance, limit and why,
/// available, open holds, history newest first (each line with whether it counts and how
/// safe it is).
pub(super) async fn statement(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<MemberQuery>,
) -> ApiResult<Wallet> {
    let who = match q.member.trim() {
        "" => None,
        w => Some(parse::member(w)?),
    };
    Ok(Json(s.node.wallet(c, who).await?))
}

/// `GET …/ledger/totals`.
pub(super) async fn totals(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Totals> {
    Ok(Json(s.node.ledger_totals(c).await?))
}

/// `GET …/ledger/entries`: every debit with its status, open holds, settlements.
pub(super) async fn entries(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<LedgerEntries> {
    Ok(Json(s.node.ledger_entries(c).await?))
}

/// Set the policy, keeping what the request leaves empty.
pub async fn set_policy(
    s: &AppState,
    c: CommunityId,
    r: LedgerPolicyRequest,
) -> crate::Result<EditDone> {
    let current = s.node.wallet(c, None).await?.policy;
    let edit = r.into_edit_with(current.as_ref())?;
    s.node.edit(c, edit).await
}

/// `POST …/ledger/policy {enabled?, unit?, limit?}`: turn the ledger on or off, name the
/// unit, set the limit (`N` or `trust:MAX`).
pub(super) async fn policy(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<LedgerPolicyRequest>,
) -> ApiResult<EditDone> {
    Ok(Json(set_policy(&s, c, r).await?))
}

/// `GET …/ledger/proposals`: every proposal with its money, tally in words, and my pledges,
/// vote and weight.
pub(super) async fn proposals(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<FundOut>> {
    Ok(Json(s.node.proposals(c).await?))
}

/// Make a proposal; its id.
pub async fn propose(
    s: &AppState,
    c: CommunityId,
    r: ProposalRequest,
) -> crate::Result<LedgerCreated> {
    let (id, edit) = r.into_edit_as(s.node.member(), s.node.now().as_millis())?;
    let done = s.node.edit(c, edit).await?;
    Ok(LedgerCreated {
        id: id.to_string(),
        hash: done.hash,
    })
}

/// `POST …/ledger/proposals {key?, title, description?, goal, deadline?, recipient?, vote?,
/// quorum?, threshold?, cap?}` → 201 `{id, hash}`.
pub(super) async fn create_proposal(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<ProposalRequest>,
) -> Result<(StatusCode, Json<LedgerCreated>), HttpError> {
    Ok((StatusCode::CREATED, Json(propose(&s, c, r).await?)))
}

/// Pledge to a proposal. A pledge to a proposal already closed here is refused before it is
/// made (the book would void it: it is not in the close's past), with the rule in words.
pub async fn pledge(s: &AppState, c: CommunityId, r: PledgeRequest) -> crate::Result<EditDone> {
    let edit = r.into_edit()?;
    if let Edit::Govern(Action::Pledge { fund, .. }) = &edit
        && let Some(p) = s
            .node
            .proposals(c)
            .await?
            .iter()
            .find(|p| p.view.id == *fund)
        && p.view.outcome != FundOutcome::Open
    {
        return Err(crate::Error::Crdt(qun_crdt::Error::Unauthorized {
            author: s.node.member().to_string(),
            action: "fund.pledge",
            reason: "the proposal is closed: a pledge after its close would be void".into(),
        }));
    }
    s.node.edit(c, edit).await
}

/// `POST …/ledger/proposals/pledge {proposal, amount}`.
pub(super) async fn pledge_to(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<PledgeRequest>,
) -> ApiResult<EditDone> {
    Ok(Json(pledge(&s, c, r).await?))
}

/// `GET …/ledger/bounties`.
pub(super) async fn bounties(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<BountyOut>> {
    Ok(Json(s.node.bounties(c).await?))
}

/// Offer a bounty; its id.
pub async fn offer_bounty(
    s: &AppState,
    c: CommunityId,
    r: BountyRequest,
) -> crate::Result<LedgerCreated> {
    let (id, edit) = r.into_edit_as(s.node.member(), s.node.now().as_millis())?;
    let done = s.node.edit(c, edit).await?;
    Ok(LedgerCreated {
        id: id.to_string(),
        hash: done.hash,
    })
}

/// `POST …/ledger/bounties {key?, title, description?, reward, several?}` → 201 `{id, hash}`.
pub(super) async fn create_bounty(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<BountyRequest>,
) -> Result<(StatusCode, Json<LedgerCreated>), HttpError> {
    Ok((StatusCode::CREATED, Json(offer_bounty(&s, c, r).await?)))
}

/// `POST …/ledger/bounties/{step} {bounty, work?, claimant?}`, the step from the path
/// (`BOUNTY_STEPS[S]`).
pub(super) async fn bounty_step<const S: usize>(
    State(s): State<AppState>,
    Community(c): Community,
    Json(mut r): Json<BountyStepRequest>,
) -> ApiResult<EditDone> {
    r.step = BOUNTY_STEPS[S].to_string();
    let edit = r.into_edit()?;
    Ok(Json(s.node.edit(c, edit).await?))
}

/// `GET …/ledger/motions`: every motion with its tally in words and whether it was enacted.
pub(super) async fn motions(
    State(s): State<AppState>,
    Community(c): Community,
) -> ApiResult<Vec<crate::dto::MotionOut>> {
    Ok(Json(s.node.motions(c).await?))
}

/// `POST …/ledger/motions {key?, action, reason?}` → 201 `{id, hash}`: put a governance change
/// (as a change message carries it) to a vote.
pub(super) async fn propose_motion(
    State(s): State<AppState>,
    Community(c): Community,
    Json(r): Json<crate::dto::MotionRequest>,
) -> Result<(StatusCode, Json<LedgerCreated>), HttpError> {
    let (id, edit) = r.into_edit_as(s.node.member(), s.node.now().as_millis())?;
    let done = s.node.edit(c, edit).await?;
    Ok((
        StatusCode::CREATED,
        Json(LedgerCreated {
            id: id.to_string(),
            hash: done.hash,
        }),
    ))
}
