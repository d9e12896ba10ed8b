//! The driver's side of blobs: fetching a blob from peers (`/qun/blob/1`), serving ours, and
//! the set of blobs the node's communities still name (for garbage collection).
//!
//! | swarm / handle | here |
//! |---|---|
//! | `Command::FetchBlob` | [`Driver::fetch_blob`]: join a fetch in progress, or start one |
//! | `send_request` → `Fetches::by_request` | ask the next candidate peer |
//! | response / `OutboundFailure` | [`Driver::on_blob_response`] / [`Driver::on_blob_failure`] |
//! | inbound request → `send_response` | [`Driver::serve_blob`] |
//!
//! Fetching: the candidates are the connected peers subscribed to the topic of a community we
//! hold (each asked with that community), one at a time in peer-id order, skipping those that
//! were asked already in this fetch and those that sent bad bytes for this blob before. A
//! response is kept only if it decodes within the size limit and its bytes hash to the id
//! asked for; then it is written to the store and every waiter is answered. Reading, hashing
//! and writing blobs run on tokio's blocking pool (at most [`MAX_SERVING`] reads and
//! `max_fetches` writes at once) and report back as [`BlobIo`], so the driver's loop never
//! waits on the disk. A peer whose answer
//! fails that is counted (`BlobCounters::corrupt`), reported as a `Rejected` event and never
//! asked for this blob again; the next candidate is asked. "Not found", "refused", "busy" and
//! failures of the stream move on to the next candidate too. At most
//! `BlobLimits::max_fetches` blobs are fetched at once (up to [`MAX_QUEUED`] more wait for a
//! slot), with at most [`MAX_WAITERS`] requests waiting on each.
//!
//! Serving: only to a peer subscribed to the topic of the community it names, which we hold
//! (a community's id is its read capability: a peer that knows it may read its posts, and so
//! the images they name); every blob served is read back from the store and verified first.

use super::command::Reply;
use super::driver::Driver;
use crate::blobs::wire::{BlobRequest, BlobResponse};
use crate::dto::NodeEvent;
use crate::error::{Error, Result};
use libp2p::PeerId;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use qun_crdt::CommunityId;
use qun_identity::ContentId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Most requests waiting on one blob's fetch.
pub const MAX_WAITERS: usize = 64;
/// Most fetches waiting for a slot (a page with many images not here yet asks for all of
/// them at once); more are refused.
pub const MAX_QUEUED: usize = 256;
/// Most blobs for which the peers that sent bad bytes are remembered (the oldest entry goes).
pub const MAX_BAD_BLOBS: usize = 4096;
/// Most blob requests of peers being read from disk at once; more are answered `Busy`.
pub const MAX_SERVING: usize = 8;
/// Capacity of the channel on which disk work reports back to the driver (each message is one
/// of at most [`MAX_SERVING`] reads or `max_fetches` writes in flight, so it never fills).
pub const BLOB_IO_QUEUE: usize = 256;

/// Disk work done off the driver's task, reported back to it.
pub(crate) enum BlobIo {
    /// A blob read (and verified) to answer a peer.
    Read {
        peer: PeerId,
        blob: ContentId,
        channel: ResponseChannel<Vec<u8>>,
        found: Result<Option<Vec<u8>>>,
    },
    /// A fetched blob verified and written (or refused).
    Stored {
        peer: PeerId,
        blob: ContentId,
        result: Result<()>,
    },
}

#[cfg(feature = "test-utils")]
pub(crate) use crate::blobs::BlobLie;

/// One blob being fetched.
struct Fetch {
    waiters: Vec<Reply<Result<()>>>,
    /// Peers asked in this fetch.
    tried: BTreeSet<PeerId>,
}

/// Blob fetches in progress and what peers did wrong.
pub(crate) struct Fetches {
    active: BTreeMap<ContentId, Fetch>,
    /// Fetches waiting for a slot, first come first served.
    queued: std::collections::VecDeque<(ContentId, Reply<Result<()>>)>,
    by_request: HashMap<OutboundRequestId, ContentId>,
    /// Requests of peers being read from disk.
    serving: usize,
    /// Where disk work reports back (`super::driver` selects on the receiver).
    pub(super) io_tx: mpsc::Sender<BlobIo>,
    pub(super) io_rx: mpsc::Receiver<BlobIo>,
    /// Per blob, the peers that answered it with bad bytes (never asked for it again).
    bad: BTreeMap<ContentId, BTreeSet<PeerId>>,
    /// The lie this (test) node tells when serving.
    #[cfg(feature = "test-utils")]
    pub(super) lie: Option<BlobLie>,
}

impl Default for Fetches {
    fn default() -> Self {
        let (io_tx, io_rx) = mpsc::channel(BLOB_IO_QUEUE);
        Fetches {
            active: BTreeMap::new(),
            queued: Default::default(),
            by_request: HashMap::new(),
            serving: 0,
            io_tx,
            io_rx,
            bad: BTreeMap::new(),
            #[cfg(feature = "test-utils")]
            lie: None,
        }
    }
}

/// Run `work` on the blocking pool and send what it made to the driver.
fn off_driver(tx: &mpsc::Sender<BlobIo>, work: impl FnOnce() -> BlobIo + Send + 'static) {
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        // The driver holds the receiver for as long as it runs; a send fails only once it
        // stopped, and then nobody waits for the answer.
        let _ = tx.blocking_send(work());
    });
}

impl Driver {
    /// The communities we hold whose topic `peer` is subscribed to.
    fn shared_communities(&self, peer: &PeerId) -> Vec<CommunityId> {
        let held: BTreeSet<CommunityId> = self.repl.communities().copied().collect();
        let mut out: Vec<CommunityId> = self
            .swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .filter(|(p, _)| *p == peer)
            .flat_map(|(_, topics)| topics.into_iter().cloned().collect::<Vec<_>>())
            .filter_map(|t| self.topics.community_of(&t))
            .filter(|c| held.contains(c))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Make sure blob `id` is in the store: answered `Ok` once it is (at once if it was).
    pub(super) fn fetch_blob(&mut self, id: ContentId, reply: Reply<Result<()>>) {
        if self.blobs.contains(&id) {
            let _ = reply.send(Ok(()));
            return;
        }
        if let Some(f) = self.fetches.active.get_mut(&id) {
            if f.waiters.len() >= MAX_WAITERS {
                let _ = reply.send(Err(unavailable(&id, "too many requests wait for it")));
            } else {
                f.waiters.push(reply);
            }
            return;
        }
        let max = self.blobs.limits().max_fetches as usize;
        if self.fetches.active.len() >= max {
            if self.fetches.queued.len() >= MAX_QUEUED {
                let _ = reply.send(Err(unavailable(
                    &id,
                    &format!("{max} files are being fetched and {MAX_QUEUED} wait already"),
                )));
            } else {
                self.fetches.queued.push_back((id, reply));
            }
            return;
        }
        self.fetches.active.insert(
            id,
            Fetch {
                waiters: vec![reply],
                tried: BTreeSet::new(),
            },
        );
        self.blob_ask_next(id);
    }

    /// Ask the next candidate peer for `id`, or end the fetch when there is none.
    fn blob_ask_next(&mut self, id: ContentId) {
        let Some(f) = self.fetches.active.get(&id) else {
            return;
        };
        let bad = self.fetches.bad.get(&id);
        let mut peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        peers.sort();
        let is_bad = |p: &PeerId| bad.is_some_and(|b| b.contains(p));
        let skipped = peers
            .iter()
            .filter(|p| !f.tried.contains(p) && is_bad(p))
            .count();
        let next = peers
            .into_iter()
            .filter(|p| !f.tried.contains(p) && !is_bad(p))
            .find_map(|p| self.shared_communities(&p).first().map(|c| (p, *c)));
        let tried = f.tried.len();
        let Some((peer, community)) = next else {
            let reason = match (tried, skipped) {
                (0, 0) => "no connected peer shares a community with this node".to_string(),
                (t, 0) => format!("none of the {t} peers asked had it"),
                (t, s) => format!(
                    "none of the {t} peers asked had it; {s} others sent bad bytes for it before and are not asked again"
                ),
            };
            self.blob_done(id, Err(unavailable(&id, &reason)));
            return;
        };
        debug!(blob = %id.short(), %peer, "asking a peer for a blob");
        let req = self.swarm.behaviour_mut().blobs.send_request(
            &peer,
            BlobRequest {
                community,
                blob: id,
            }
            .encode(),
        );
        self.fetches.by_request.insert(req, id);
        if let Some(f) = self.fetches.active.get_mut(&id) {
            f.tried.insert(peer);
        }
    }

    /// End the fetch of `id`, answering everyone waiting on it; the next queued fetch takes
    /// its slot.
    fn blob_done(&mut self, id: ContentId, res: Result<()>) {
        let Some(f) = self.fetches.active.remove(&id) else {
            return;
        };
        for w in f.waiters {
            let r = match &res {
                Ok(()) => Ok(()),
                Err(e) => Err(copy_err(&id, e)),
            };
            let _ = w.send(r);
        }
        let max = self.blobs.limits().max_fetches as usize;
        while self.fetches.active.len() < max {
            let Some((next, reply)) = self.fetches.queued.pop_front() else {
                break;
            };
            // Answered at once when it is here now or ends at once; else it takes the slot.
            self.fetch_blob(next, reply);
        }
    }

    /// `peer` sent bad bytes for `id`: counted, reported, never asked for it again.
    fn blob_bad_peer(&mut self, id: ContentId, peer: PeerId, why: String) {
        warn!(blob = %id.short(), %peer, "a peer sent a bad blob: {why}");
        self.blobs.counters.corrupt.fetch_add(1, Ordering::Relaxed);
        if !self.fetches.bad.contains_key(&id) && self.fetches.bad.len() >= MAX_BAD_BLOBS {
            self.fetches.bad.pop_first();
        }
        self.fetches.bad.entry(id).or_default().insert(peer);
        self.emit(NodeEvent::Rejected {
            community: None,
            peer: peer.to_string(),
            error: format!("blob {id}: {why}"),
        });
    }

    /// A peer answered a blob request.
    pub(super) fn on_blob_response(
        &mut self,
        peer: PeerId,
        request_id: OutboundRequestId,
        bytes: Vec<u8>,
    ) {
        let Some(id) = self.fetches.by_request.remove(&request_id) else {
            return;
        };
        let max = self.blobs.limits().max_blob_bytes;
        match BlobResponse::decode(&bytes, max) {
            Err(e) => self.blob_bad_peer(id, peer, e.to_string()),
            Ok(BlobResponse::Found(b)) => {
                // Hashed and written on the blocking pool; the answer comes back as
                // `BlobIo::Stored` (see `on_blob_io`).
                let store = self.blobs.clone();
                off_driver(&self.fetches.io_tx, move || BlobIo::Stored {
                    peer,
                    blob: id,
                    result: store.put_verified(&id, &b),
                });
                return;
            }
            Ok(other) => debug!(blob = %id.short(), %peer, "blob request answered {other:?}"),
        }
        self.blob_ask_next(id);
    }

    /// Disk work for blobs is done.
    pub(super) fn on_blob_io(&mut self, io: BlobIo) {
        match io {
            BlobIo::Stored { peer, blob, result } => match result {
                Ok(()) => {
                    self.blobs.counters.fetched.fetch_add(1, Ordering::Relaxed);
                    debug!(blob = %blob.short(), %peer, "blob fetched, verified and stored");
                    self.blob_done(blob, Ok(()));
                }
                Err(Error::BlobMismatch { actual, .. }) => {
                    self.blob_bad_peer(blob, peer, format!("the bytes sent hash to {actual}"));
                    self.blob_ask_next(blob);
                }
                // Ours (budget, disk): no other peer would do better.
                Err(e) => self.blob_done(blob, Err(e)),
            },
            BlobIo::Read {
                peer,
                blob,
                channel,
                found,
            } => {
                self.fetches.serving = self.fetches.serving.saturating_sub(1);
                let resp = match found {
                    Ok(Some(b)) => {
                        self.blobs.counters.served.fetch_add(1, Ordering::Relaxed);
                        BlobResponse::Found(b)
                    }
                    Ok(None) => BlobResponse::NotFound,
                    Err(e) => {
                        warn!(blob = %blob.short(), "reading a blob to serve it: {e}");
                        BlobResponse::NotFound
                    }
                };
                debug!(%peer, blob = %blob.short(), ?resp, "blob request");
                self.respond_blob(channel, resp);
            }
        }
    }

    fn respond_blob(&mut self, channel: ResponseChannel<Vec<u8>>, resp: BlobResponse) {
        let bytes = self.lie_about(resp);
        let _ = self
            .swarm
            .behaviour_mut()
            .blobs
            .send_response(channel, bytes);
    }

    /// A blob request failed (timeout, closed stream, or a response over the size limit,
    /// which the codec refuses before reading it: that peer is counted as bad).
    pub(super) fn on_blob_failure(
        &mut self,
        peer: PeerId,
        request_id: OutboundRequestId,
        error: &request_response::OutboundFailure,
    ) {
        let Some(id) = self.fetches.by_request.remove(&request_id) else {
            return;
        };
        match error {
            request_response::OutboundFailure::Io(e)
                if e.kind() == std::io::ErrorKind::InvalidData =>
            {
                self.blob_bad_peer(id, peer, e.to_string())
            }
            e => debug!(blob = %id.short(), %peer, "blob request failed: {e}"),
        }
        self.blob_ask_next(id);
    }

    /// Answer a peer's blob request.
    pub(super) fn serve_blob(
        &mut self,
        peer: PeerId,
        request: &[u8],
        channel: ResponseChannel<Vec<u8>>,
    ) {
        let req = match BlobRequest::decode(request) {
            Ok(r) => r,
            Err(e) => {
                // Dropping the channel closes the stream unanswered.
                debug!(%peer, "bad blob request: {e}");
                return;
            }
        };
        if !self.shared_communities(&peer).contains(&req.community) {
            debug!(%peer, blob = %req.blob.short(), "blob request from a peer not sharing the community: refused");
            self.respond_blob(channel, BlobResponse::Refused);
            return;
        }
        if self.fetches.serving >= MAX_SERVING {
            self.respond_blob(channel, BlobResponse::Busy);
            return;
        }
        // Read and verified on the blocking pool; answered in `on_blob_io`.
        self.fetches.serving += 1;
        let store = self.blobs.clone();
        let blob = req.blob;
        off_driver(&self.fetches.io_tx, move || BlobIo::Read {
            peer,
            blob,
            channel,
            found: store.get(&blob),
        });
    }

    #[cfg(feature = "test-utils")]
    fn lie_about(&self, resp: BlobResponse) -> Vec<u8> {
        match (self.fetches.lie, resp) {
            (Some(BlobLie::FlipByte), BlobResponse::Found(mut b)) => {
                if let Some(x) = b.first_mut() {
                    *x ^= 0x55;
                }
                BlobResponse::Found(b).encode()
            }
            (Some(BlobLie::HugeSize), BlobResponse::Found(b)) => {
                let mut out = BlobResponse::Found(b).encode();
                if let Some(size) = out.get_mut(2..10) {
                    size.copy_from_slice(&u64::MAX.to_be_bytes());
                }
                out
            }
            (_, r) => r.encode(),
        }
    }

    #[cfg(not(feature = "test-utils"))]
    fn lie_about(&self, resp: BlobResponse) -> Vec<u8> {
        resp.encode()
    }

    /// Every blob a post or a profile in the communities held here names: what garbage
    /// collection keeps. Read from the valid state (deleted posts name nothing).
    pub(super) fn blob_refs(&mut self) -> Result<BTreeSet<ContentId>> {
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        let mut out = BTreeSet::new();
        for c in ids {
            let Some(mut comm) = self.repl.community(&c) else {
                continue;
            };
            for p in comm.profiles()?.values() {
                out.extend(p.avatar);
            }
            for d in comm.docs() {
                if let qun_crdt::DocId::Content { channel, window } = d {
                    for p in comm.window_posts(&channel, window)? {
                        if p.deleted {
                            continue;
                        }
                        out.extend(p.attachments.iter().copied());
                        out.extend(crate::blobs::ids_in_text(&p.text, usize::MAX));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn unavailable(id: &ContentId, reason: &str) -> Error {
    Error::BlobUnavailable {
        id: id.to_string(),
        reason: reason.to_string(),
    }
}

/// The same answer for each waiter (errors are not `Clone`).
fn copy_err(id: &ContentId, e: &Error) -> Error {
    match e {
        Error::BlobBudget { budget, used, size } => Error::BlobBudget {
            budget: *budget,
            used: *used,
            size: *size,
        },
        Error::BlobTooLarge { limit, actual } => Error::BlobTooLarge {
            limit: *limit,
            actual: *actual,
        },
        Error::BlobUnavailable { reason, .. } => unavailable(id, reason),
        other => unavailable(id, &other.to_string()),
    }
}
