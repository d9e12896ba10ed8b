//! Extractors whose rejections are [`HttpError`]s like every other error (axum's own answer
//! with plain text): JSON bodies, forms (with the page's `back` field), query strings, and the
//! ids in paths (`{id}` a community, `{member}` a member), parsed with a hint.

use super::error::HttpError;
use crate::dto::parse;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use qun_crdt::CommunityId;
use qun_identity::MemberId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A JSON body (`Content-Type: application/json`, at most [`super::MAX_BODY_BYTES`]), or a
/// JSON response.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn too_large() -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "request body larger than {} KiB",
            super::MAX_BODY_BYTES / 1024
        ),
        "send less: a post's text is at most 16 KiB",
    )
}

fn json_rejection(e: JsonRejection) -> HttpError {
    let status = e.status();
    let text = e.body_text();
    let hint = match &e {
        JsonRejection::MissingJsonContentType(_) => "send `Content-Type: application/json`",
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON",
        JsonRejection::JsonDataError(_) => {
            "a field is missing or has the wrong type; see the endpoint list in the README"
        }
        _ => "check the request body",
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    HttpError::new(status, text, hint)
}

/// A query string.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(query_rejection(e).for_path(parts.uri.path())),
        }
    }
}

fn query_rejection(e: QueryRejection) -> HttpError {
    HttpError::new(
        StatusCode::BAD_REQUEST,
        e.body_text(),
        "check the query parameters; see the endpoint list in the README",
    )
}

/// The page's own fields of a form: where it returns to (`back`, a path on this site) and its
/// idempotency key (`nonce`, random per rendered form: sending the form twice edits once).
#[derive(Deserialize)]
struct FormMeta {
    #[serde(default)]
    back: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// A form body (`application/x-www-form-urlencoded`) read as `T`, and the page's `back` and
/// `nonce` fields; a rejection is an error page.
pub struct Form<T> {
    /// The form.
    pub form: T,
    /// Where to go afterwards, if the form says.
    pub back: Option<String>,
    /// The form's idempotency key, if it has one.
    pub nonce: Option<String>,
}

impl<S, T> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large().page()
            } else {
                form_rejection(e.body_text())
            }
        })?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes)
            .map_err(|e| form_rejection(format!("Failed to deserialize form body: {e}")))?;
        let meta = serde_urlencoded::from_bytes::<FormMeta>(&bytes).ok();
        let (back, nonce) = meta.map_or((None, None), |m| (m.back, m.nonce));
        Ok(Form { form, back, nonce })
    }
}

fn form_rejection(text: String) -> HttpError {
    HttpError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        text,
        "go back, check the form and send it again",
    )
    .page()
}

/// The path parameter `name`, or a 400 naming it.
fn param(params: &RawPathParams, name: &str, path: &str) -> Result<String, HttpError> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| {
            HttpError::bad_request(format!("no {name} in the path"), "check the address")
                .for_path(path)
        })
}

/// The request's path and its parameter `name`, with the address hint on failure.
async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<(String, String), HttpError> {
    let path = parts.uri.path().to_string();
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| HttpError::bad_request(e.body_text(), "check the address").for_path(&path))?;
    let value = param(&params, name, &path)?;
    Ok((path, value))
}

/// The community `{id}` of the path.
pub struct Community(pub CommunityId);

impl<S: Send + Sync> FromRequestParts<S> for Community {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (path, id) = path_param(parts, state, "id").await?;
        parse::community(&id)
            .map(Community)
            .map_err(|e| HttpError::from(e).for_path(&path))
    }
}

/// The member `{member}` of the path.
pub struct Member(pub MemberId);

impl<S: Send + Sync> FromRequestParts<S> for Member {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (path, m) = path_param(parts, state, "member").await?;
        parse::member(&m)
            .map(Member)
            .map_err(|e| HttpError::from(e).for_path(&path))
    }
}
