//! Images and attachments: content-addressed blobs.
//!
//! A blob is a byte string named by its blake3 hash (a [`ContentId`], text form `b…`). Posts
//! name theirs in `attachments` (and in their text as `![alt](/blob/<id>)`), profiles name an
//! avatar; the bytes themselves never enter a community document. They live in a
//! deduplicating store on each node ([`store`]) and travel between nodes on request
//! ([`wire`], protocol `/qun/blob/1`, driven by the runtime): a node that lacks a blob asks the
//! connected peers that share a community with it, one at a time, and keeps the answer only if
//! its bytes hash to the id asked for. A peer that sends other bytes (or a size over the limit)
//! is counted and never asked for that blob again.
//!
//! ```text
//! <data dir>/blobs/<2 hex>/<64 hex>   one file per blob, named by the hex of its blake3 hash
//! <data dir>/blobs/tmp/               writes in progress (fsync, then rename into place)
//! ```
//!
//! Limits (`[blobs]` in `config.toml`, [`BlobLimits`]): the largest blob, the store's total
//! budget, concurrent fetches, and the grace period before an unreferenced blob may be
//! collected ([`store::BlobStore::gc`]). What is served to a browser is decided from the bytes
//! ([`sniff`]): PNG, JPEG, GIF and WebP inline, everything else (SVG included) as a download.

pub mod sniff;
pub mod store;
pub mod thumb;
pub mod wire;

use crate::error::{Error, Result};
use qun_identity::ContentId;
use serde::{Deserialize, Serialize};

pub use store::{BlobCounters, BlobInfo, BlobStore, GcReport};

/// Largest blob by default, bytes (8 MiB).
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 8 * 1024 * 1024;
/// The store's total size by default, bytes (2 GiB).
pub const DEFAULT_BUDGET_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Largest blob any configuration may allow, bytes (64 MiB): a blob travels as one
/// request-response message and is held in memory while it is verified.
pub const MAX_BLOB_CEILING: u64 = 64 * 1024 * 1024;
/// Blobs fetched from peers at once, by default.
pub const DEFAULT_MAX_FETCHES: u32 = 8;
/// How long an unreferenced blob is kept by default before it may be collected, seconds (a
/// day: an image uploaded for a post not sent yet must survive until it is).
pub const DEFAULT_GC_GRACE_SECS: u64 = 24 * 3600;

/// Blob limits (`[blobs]` in `config.toml`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct BlobLimits {
    /// Largest blob stored, served or fetched, bytes.
    pub max_blob_bytes: u64,
    /// Most bytes the store holds in total; an upload or fetch beyond it is refused.
    pub budget_bytes: u64,
    /// Most blobs fetched from peers at once (more wait for a slot: the HTTP request fails
    /// with "busy" and the page asks again).
    pub max_fetches: u32,
    /// An unreferenced blob younger than this is never collected, seconds.
    pub gc_grace_secs: u64,
}

impl Default for BlobLimits {
    fn default() -> Self {
        BlobLimits {
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            budget_bytes: DEFAULT_BUDGET_BYTES,
            max_fetches: DEFAULT_MAX_FETCHES,
            gc_grace_secs: DEFAULT_GC_GRACE_SECS,
        }
    }
}

impl BlobLimits {
    /// The limits, if they make sense together: a blob of at least 1 byte and at most
    /// [`MAX_BLOB_CEILING`], a budget that holds at least one largest blob, one fetch at least.
    pub fn validated(self) -> Result<Self> {
        if self.max_blob_bytes == 0 || self.max_blob_bytes > MAX_BLOB_CEILING {
            return Err(Error::Config(format!(
                "[blobs] max_blob_bytes = {} must be between 1 and {MAX_BLOB_CEILING}",
                self.max_blob_bytes
            )));
        }
        if self.budget_bytes < self.max_blob_bytes {
            return Err(Error::Config(format!(
                "[blobs] budget_bytes = {} is smaller than max_blob_bytes = {}",
                self.budget_bytes, self.max_blob_bytes
            )));
        }
        if self.max_fetches == 0 {
            return Err(Error::Config(
                "[blobs] max_fetches must be at least 1".into(),
            ));
        }
        Ok(self)
    }
}

/// A test node's lie about its blobs (feature `test-utils`, see
/// `crate::handle::NodeHandle::blob_lie`).
#[cfg(feature = "test-utils")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobLie {
    /// Answer with the blob's bytes, one of them changed.
    FlipByte,
    /// Answer with a size larger than any blob the asker takes.
    HugeSize,
}

/// Where a node keeps its blobs and how much.
#[derive(Clone, Debug, Default)]
pub struct BlobSettings {
    /// The directory (`<data dir>/blobs`); `None` keeps blobs in memory (in-process test
    /// nodes that have no data directory).
    pub dir: Option<std::path::PathBuf>,
    /// The limits.
    pub limits: BlobLimits,
}

/// The address of a blob on the node's page and API.
pub fn url(id: &ContentId) -> String {
    format!("/blob/{id}")
}

/// The blob ids a post's text names as `/blob/<id>` (in order, each once, at most `max`):
/// what the composer inserted for an attached image.
pub fn ids_in_text(text: &str, max: usize) -> Vec<ContentId> {
    let mut out: Vec<ContentId> = Vec::new();
    for (i, _) in text.match_indices("/blob/") {
        if out.len() >= max {
            break;
        }
        let rest = &text[i + "/blob/".len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        match rest[..end].parse::<ContentId>() {
            Ok(id) if !out.contains(&id) => out.push(id),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_that_cannot_work_are_refused() {
        assert!(BlobLimits::default().validated().is_ok());
        let bad = [
            BlobLimits {
                max_blob_bytes: 0,
                ..Default::default()
            },
            BlobLimits {
                max_blob_bytes: MAX_BLOB_CEILING + 1,
                ..Default::default()
            },
            BlobLimits {
                budget_bytes: 1,
                ..Default::default()
            },
            BlobLimits {
                max_fetches: 0,
                ..Default::default()
            },
        ];
        for l in bad {
            assert!(l.validated().is_err(), "{l:?}");
        }
    }

    #[test]
    fn config_toml_sets_the_limits() {
        let cfg: crate::config::Config =
            toml::from_str("[blobs]\nmax_blob_bytes = 1048576\ngc_grace_secs = 60\n").unwrap();
        assert_eq!(cfg.blobs.max_blob_bytes, 1_048_576);
        assert_eq!(cfg.blobs.gc_grace_secs, 60);
        assert_eq!(cfg.blobs.budget_bytes, DEFAULT_BUDGET_BYTES);
        assert!(toml::from_str::<crate::config::Config>("[blobs]\nmax_bytes = 1\n").is_err());
        // A store refuses limits that cannot work.
        let bad = BlobLimits {
            max_blob_bytes: 0,
            ..Default::default()
        };
        assert!(matches!(BlobStore::open(None, bad), Err(Error::Config(_))));
    }

    #[test]
    fn ids_are_read_from_the_images_a_text_names() {
        let a = ContentId::of(b"a");
        let b = ContentId::of(b"b");
        let text = format!(
            "look ![cat]({}) and ![dog](/blob/{b}) again ![cat](/blob/{a}) /blob/nope",
            url(&a)
        );
        assert_eq!(ids_in_text(&text, 16), vec![a, b]);
        assert_eq!(ids_in_text(&text, 1), vec![a]);
        assert!(ids_in_text("no images", 16).is_empty());
    }
}
