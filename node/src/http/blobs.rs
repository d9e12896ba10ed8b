//! Images and attachments over HTTP (see [`crate::blobs`]):
//!
//! | route | |
//! |---|---|
//! | `POST /api/v1/blobs` | store the request body as a blob (at most `[blobs] max_blob_bytes`); answers `{id, url, size, type, inline}` |
//! | `POST /api/v1/blobs/gc` | remove blobs no post or profile names, older than the grace period; answers `{removed, freed, kept}` |
//! | `GET /blob/{id}` | the blob, fetched from peers first if it is not here; `?thumb=1` its thumbnail |
//!
//! Both need the token or the session cookie like everything else; an upload by cookie must
//! come from the page itself (the CSRF check of [`super::auth`]). The size is checked from
//! `Content-Length` before the body is read, and again while reading it, so an over-limit
//! upload is refused with a clear error before it is buffered. Blobs are served with the type
//! their bytes show ([`crate::blobs::sniff`]): PNG, JPEG, GIF and WebP inline; anything else
//! (SVG included) as `application/octet-stream` with `Content-Disposition: attachment`; always
//! with `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy.

use super::AppState;
use super::error::HttpError;
use super::extract::Json;
use crate::blobs::sniff::Kind;
use crate::error::Error;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use qun_identity::ContentId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Thumbnails kept in memory (they are made again when dropped).
pub const THUMB_CACHE: usize = 256;
/// An upload declared over the limit but at most this many times the limit is read (and
/// dropped) before the 413 answer, so the client sees the answer; a larger one is answered at
/// once (the client may then see its connection closed while it sends).
pub const DRAIN_FACTOR: u64 = 4;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/blobs", post(upload))
        .route("/api/v1/blobs/gc", post(gc))
        .route("/blob/{id}", get(serve))
}

/// What an upload answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Uploaded {
    /// The blob id (`b…`).
    pub id: String,
    /// Where the node serves it (`/blob/<id>`): what a post's Markdown names.
    pub url: String,
    /// Bytes.
    pub size: u64,
    /// The type it is served with.
    #[serde(rename = "type")]
    pub mime: String,
    /// Whether pages show it as an image.
    pub inline: bool,
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::io("blob store", std::io::Error::other(e))
}

async fn upload(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Uploaded>, HttpError> {
    let store = s.node.blobs().clone();
    let limit = store.limits().max_blob_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && let Err(e) = store.check_size(n)
    {
        // Answered without keeping any of it; a body not much larger is read to its end and
        // dropped first, so the client, still sending, reads the answer instead of a reset
        // connection.
        if n <= limit.saturating_mul(DRAIN_FACTOR) {
            let mut s = body.into_data_stream();
            while let Some(Ok(_)) = futures::StreamExt::next(&mut s).await {}
        }
        return Err(e.into());
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, cap)
        .await
        .map_err(|_| Error::BlobTooLarge {
            limit,
            actual: declared.unwrap_or(limit.saturating_add(1)),
        })?;
    if bytes.is_empty() {
        return Err(Error::Invalid {
            reason: "the file is empty".into(),
            hint: "choose a file with something in it",
        }
        .into());
    }
    let kind = Kind::of(&bytes);
    let size = bytes.len() as u64;
    let id = tokio::task::spawn_blocking(move || store.put(&bytes))
        .await
        .map_err(join_err)??;
    Ok(Json(Uploaded {
        id: id.to_string(),
        url: crate::blobs::url(&id),
        size,
        mime: kind.mime().into(),
        inline: kind.inline(),
    }))
}

async fn gc(State(s): State<AppState>) -> Result<Json<crate::blobs::GcReport>, HttpError> {
    Ok(Json(s.node.blobs_gc().await?))
}

/// `?thumb=1`.
#[derive(Debug, Deserialize)]
struct Serve {
    #[serde(default)]
    thumb: Option<String>,
}

/// A thumbnail's bytes and kind.
type Thumb = Arc<(Vec<u8>, Kind)>;

fn thumbs() -> &'static Mutex<BTreeMap<ContentId, Thumb>> {
    static T: OnceLock<Mutex<BTreeMap<ContentId, Thumb>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

/// The thumbnail of blob `id` (made from `bytes` unless cached); `None`: show the original.
fn thumbnail(id: ContentId, bytes: &[u8]) -> Option<Thumb> {
    let cache = thumbs();
    if let Some(t) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return Some(t.clone());
    }
    let t = Arc::new(crate::blobs::thumb::thumbnail(bytes).ok()??);
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= THUMB_CACHE {
        c.pop_first();
    }
    c.insert(id, t.clone());
    Some(t)
}

async fn serve(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Serve>,
) -> Result<Response, HttpError> {
    let path = format!("/blob/{id}");
    let id: ContentId = id.parse().map_err(|e: qun_identity::Error| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            format!("not a blob id: {e}"),
            "a blob id is 53 characters starting with b (as in a post's /blob/<id>)",
        )
        .for_path(&path)
    })?;
    let bytes = s
        .node
        .blob(id)
        .await
        .map_err(|e| HttpError::from(e).for_path(&path))?;
    let wants_thumb = q.thumb.is_some_and(|t| t != "0");
    let (body, kind) = match wants_thumb {
        true => {
            let b = bytes.clone();
            let t = tokio::task::spawn_blocking(move || thumbnail(id, &b))
                .await
                .map_err(|e| HttpError::from(join_err(e)).for_path(&path))?;
            match t {
                Some(t) => (t.0.clone(), t.1),
                None => {
                    let k = Kind::of(&bytes);
                    (bytes, k)
                }
            }
        }
        false => {
            let k = Kind::of(&bytes);
            (bytes, k)
        }
    };
    Ok(blob_response(&id, body, kind))
}

/// The response for a blob's bytes of kind `kind`.
fn blob_response(id: &ContentId, body: Vec<u8>, kind: Kind) -> Response {
    let disposition = if kind.inline() {
        "inline".to_string()
    } else {
        format!("attachment; filename=\"{id}\"")
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    // The id names the bytes: they never change.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_are_served_inline() {
        let id = ContentId::of(b"x");
        let svg = blob_response(&id, b"<svg onload=alert(1)>".to_vec(), Kind::Svg);
        let h = svg.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
        assert!(
            h[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let png = blob_response(&id, b"\x89PNG\r\n\x1a\n".to_vec(), Kind::Png);
        assert_eq!(png.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(png.headers()[header::CONTENT_DISPOSITION], "inline");
    }
}
