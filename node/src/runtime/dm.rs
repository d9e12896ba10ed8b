//! Direct messages on the node (issue 17; docs/privacy.md, "Direct messages on the node"):
//! the node's [`DmDevice`] and its pickle, the request-response protocol `/qun/dm/1`, the
//! mailbox this node keeps for offline members, and the conversations kept on disk.
//!
//! The protocol (postcard-encoded [`DmRequest`] → [`DmResponse`], length-prefixed like
//! `/qun/sync/1`):
//!
//! | request | answer |
//! |---|---|
//! | `Bundles` | this device's signed prekey bundle and the bundles it cached of members the asker shares a community with, each with the device certificate |
//! | `Deliver { to, envelope, sender }` | `Delivered` (we are `to` and read it), `Stored` (kept for `to`), or `Refused`; `sender` is the sending device's bundle, so the recipient knows the device before it reads |
//! | `Fetch` | `Mail { envelopes, bundles, more }`: what the mailbox holds for the asker's member and was not given to the asking device yet, with the senders' bundles |
//!
//! Every request is authenticated first, before anything the asker's bytes make us do: the
//! peer id is the device key (noise proved it), and the device must be linked, unrevoked, to
//! a current member of a community this node is a member of. Anyone else gets
//! `Refused(NotAMember)` without the request being decoded. A bundle is accepted only when the
//! governance state of a shared community links its device to the member its certificate
//! names (and no community revoked it), then [`verify_bundle`] checks the device's signature
//! and the certificate. The mailbox keeps, for a recipient that shares a community with the
//! sender, only envelopes the connected sender's own device made (its `sender_device`), so the
//! per-sender bound counts what a sender really sent; it holds ciphertext only, bounded per
//! sender, per recipient and in total, and forgets it after [`MAILBOX_TTL_MS`]. Kept in
//! memory: a restart of the holder drops what it held (the sender's node tries other holders
//! only at the time of sending).
//!
//! The driver asks each connected member's node for its bundles every [`BUNDLE_REFRESH`] and
//! for mail every [`FETCH_INTERVAL`] (sooner after a refusal, at once while `more`). A send
//! to a member none of whose devices is known yet waits up to [`SEND_WAIT`] for bundles.

use super::command::Reply;
use super::driver::Driver;
use crate::dto::{Conversation, DmMessage, DmSent, NodeEvent};
use crate::error::{Error, Result};
use libp2p::PeerId;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use qun_crdt::CommunityId;
use qun_dm::{DmDevice, FanOut, PickleKey, VerifiedBundle, verify_bundle};
use qun_identity::keyfile::KeyBundle;
use qun_identity::{DeviceCert, DeviceId, MemberId, Signed, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// How often the driver looks at its DM peers (asks for bundles and mail when due).
pub const DM_TICK: Duration = Duration::from_secs(1);
/// How often a connected member's node is asked for bundles.
pub const BUNDLE_REFRESH: Duration = Duration::from_secs(60);
/// How often a connected member's node is asked for mail.
pub const FETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Wait after a refused or failed request before asking that peer again.
pub const RETRY: Duration = Duration::from_secs(2);
/// How long `qun dm send` waits for a bundle of a member none of whose devices is known.
pub const SEND_WAIT: Duration = Duration::from_secs(8);
/// Sends waiting for bundles at once; more are refused.
pub const MAX_WAITING_SENDS: usize = 32;
/// One-time keys published in this device's bundle: the most a bundle holds, because bundles
/// are cached and handed out by co-members, and two senders that pick the same key from one
/// bundle lose the second one's message (docs/privacy.md §7); more keys, fewer collisions.
pub const ONE_TIME_KEYS: usize = qun_dm::bundle::MAX_ONE_TIME_KEYS;
/// Bundles of other devices this node caches (and serves to members it shares a community
/// with).
pub const MAX_CACHED_BUNDLES: usize = 1024;
/// Bundles in one answer (each at most `qun_dm::bundle::MAX_BUNDLE_BYTES` plus a certificate).
pub const MAX_BUNDLES_PER_ANSWER: usize = 48;
/// Envelopes the mailbox holds for one recipient member.
pub const MAILBOX_PER_RECIPIENT: usize = 64;
/// Envelopes the mailbox holds from one sending device for one recipient.
pub const MAILBOX_PER_SENDER: usize = 16;
/// Bytes the mailbox holds for one recipient member.
pub const MAILBOX_BYTES_PER_RECIPIENT: usize = 2 * 1024 * 1024;
/// Bytes the mailbox holds in all.
pub const MAILBOX_TOTAL_BYTES: usize = 32 * 1024 * 1024;
/// How long the mailbox keeps an envelope, ms (7 days).
pub const MAILBOX_TTL_MS: u64 = 7 * 24 * 3600 * 1000;
/// Bytes of envelopes in one `Mail` answer (the rest comes with `more`).
pub const MAX_MAIL_BYTES: usize = 1024 * 1024;
/// Largest `/qun/dm/1` message: a `Mail` answer of [`MAX_MAIL_BYTES`] plus one envelope, or a
/// full `Bundles` answer.
pub const MAX_DM_WIRE_BYTES: usize = MAX_MAIL_BYTES + qun_dm::envelope::MAX_ENVELOPE_BYTES + 4096;
/// Connected holders an envelope for a member with an unconnected device is handed to.
pub const MAX_HOLDERS: usize = 3;
/// Envelopes for us from a device not known yet (its link or bundle has not arrived), kept to
/// read again on each [`DM_TICK`] for [`LATER_FOR`]: a mailbox hands an envelope to a device
/// once.
pub const MAX_LATER: usize = 256;
/// How long such an envelope is tried again.
pub const LATER_FOR: Duration = Duration::from_secs(600);
/// Messages kept per conversation (the oldest go first).
pub const MAX_MESSAGES_PER_CONVERSATION: usize = 10_000;
/// Domain of the pickle key's derivation from the device's secret key.
pub const PICKLE_KEY_CONTEXT: &str = "qun 2026 dm pickle key v1";

const DEVICE_FILE: &str = "device.pickle";
const CONVERSATIONS_FILE: &str = "conversations.json";

/// A request of `/qun/dm/1`.
#[derive(Debug, Serialize, Deserialize)]
enum DmRequest {
    /// Your device's bundle, and those you cached of members we share a community with.
    Bundles,
    /// An envelope for `to`: read it if you are `to`, else keep it for `to`.
    Deliver {
        /// The recipient member.
        to: MemberId,
        /// The fan-out envelope's bytes.
        envelope: Vec<u8>,
        /// The sending device's own bundle.
        sender: Option<CertifiedBundle>,
    },
    /// What your mailbox holds for my member and my device has not fetched yet.
    Fetch,
}

/// A signed prekey bundle with the device certificate it is checked against.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CertifiedBundle {
    /// The member's root-signed certificate for the device.
    cert: Vec<u8>,
    /// The bundle, signed by the device.
    bundle: Vec<u8>,
}

/// An answer of `/qun/dm/1`.
#[derive(Debug, Serialize, Deserialize)]
enum DmResponse {
    /// Bundles (the answerer's own first).
    Bundles(Vec<CertifiedBundle>),
    /// The recipient read the envelope.
    Delivered,
    /// The envelope is kept for its recipient.
    Stored,
    /// Held envelopes; ask again when `more`.
    Mail {
        /// Envelope bytes.
        envelopes: Vec<Vec<u8>>,
        /// The bundles of their senders' devices that this node holds.
        bundles: Vec<CertifiedBundle>,
        /// Whether more are held.
        more: bool,
    },
    /// Not done, and why.
    Refused(Refusal),
}

/// Why a DM request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Refusal {
    /// The asking device is not a linked device of a member of a community we are in.
    NotAMember,
    /// The request or envelope does not decode, or is not the sender's own.
    Malformed,
    /// We are the recipient and could not read it.
    Unreadable,
    /// The recipient shares no community with the sender here.
    NoCommonCommunity,
    /// The mailbox holds as much as it may for this sender or recipient.
    MailboxFull,
    /// This node has no DM device (no device certificate).
    Unavailable,
}

/// Who is who, from the governance state of the communities this node is a member of.
#[derive(Debug, Default)]
pub(super) struct Directory {
    /// Linked, unrevoked devices of current members, and their member.
    devices: BTreeMap<DeviceId, MemberId>,
    /// Devices revoked (or expired) in any of those communities.
    revoked: BTreeSet<DeviceId>,
    /// Current members and the communities they are in.
    communities: BTreeMap<MemberId, BTreeSet<CommunityId>>,
}

impl Directory {
    /// Whether `a` and `b` are both members of one community this node is in.
    fn share(&self, a: &MemberId, b: &MemberId) -> bool {
        match (self.communities.get(a), self.communities.get(b)) {
            (Some(x), Some(y)) => !x.is_disjoint(y),
            _ => false,
        }
    }
}

/// One envelope the mailbox holds.
struct Held {
    to: MemberId,
    from: DeviceId,
    hash: [u8; 32],
    bytes: Vec<u8>,
    expires: Timestamp,
    /// Devices of `to` it was handed to.
    given: BTreeSet<DeviceId>,
}

/// Envelopes kept for members whose devices are not connected (ciphertext only, bounded).
#[derive(Default)]
pub(super) struct Mailbox {
    held: VecDeque<Held>,
    bytes: usize,
}

impl Mailbox {
    fn expire(&mut self, now: Timestamp) {
        self.held.retain(|h| h.expires > now);
        self.bytes = self.held.iter().map(|h| h.bytes.len()).sum();
    }

    /// Keep `bytes` for `to`; `Ok(false)` when held already.
    fn put(
        &mut self,
        to: MemberId,
        from: DeviceId,
        bytes: Vec<u8>,
        now: Timestamp,
    ) -> std::result::Result<bool, Refusal> {
        self.expire(now);
        let hash = *blake3::hash(&bytes).as_bytes();
        if self.held.iter().any(|h| h.hash == hash && h.to == to) {
            return Ok(false);
        }
        let (mut count, mut size, mut from_sender) = (0, 0, 0);
        for h in self.held.iter().filter(|h| h.to == to) {
            count += 1;
            size += h.bytes.len();
            if h.from == from {
                from_sender += 1;
            }
        }
        if count >= MAILBOX_PER_RECIPIENT
            || from_sender >= MAILBOX_PER_SENDER
            || size + bytes.len() > MAILBOX_BYTES_PER_RECIPIENT
            || self.bytes + bytes.len() > MAILBOX_TOTAL_BYTES
        {
            return Err(Refusal::MailboxFull);
        }
        self.bytes += bytes.len();
        self.held.push_back(Held {
            to,
            from,
            hash,
            bytes,
            expires: Timestamp::from_millis(now.as_millis().saturating_add(MAILBOX_TTL_MS)),
            given: BTreeSet::new(),
        });
        Ok(true)
    }

    /// What `device` of `to` has not been given yet, up to [`MAX_MAIL_BYTES`]; whether more is
    /// left.
    fn take(
        &mut self,
        to: &MemberId,
        device: &DeviceId,
        now: Timestamp,
    ) -> (Vec<Vec<u8>>, BTreeSet<DeviceId>, bool) {
        self.expire(now);
        let (mut out, mut size, mut more) = (Vec::new(), 0, false);
        let mut senders = BTreeSet::new();
        for h in self
            .held
            .iter_mut()
            .filter(|h| h.to == *to && !h.given.contains(device))
        {
            if size + h.bytes.len() > MAX_MAIL_BYTES {
                more = true;
                break;
            }
            size += h.bytes.len();
            h.given.insert(*device);
            senders.insert(h.from);
            out.push(h.bytes.clone());
        }
        (out, senders, more)
    }

    /// Every byte string held (tests scan them for plaintext).
    #[cfg(feature = "test-utils")]
    pub(super) fn held(&self) -> Vec<Vec<u8>> {
        self.held.iter().map(|h| h.bytes.clone()).collect()
    }
}

/// One conversation on disk.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Conv {
    member: Option<MemberId>,
    messages: Vec<DmMessage>,
    /// Messages `..read` were read.
    read: usize,
}

/// A peer's DM state (connected peers only).
#[derive(Debug)]
struct PeerState {
    next_bundles: Instant,
    next_fetch: Instant,
    bundles_busy: bool,
    fetch_busy: bool,
}

/// What an outbound request asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Bundles,
    Fetch,
    Deliver,
}

/// A send waiting for the recipient's bundles.
struct Waiting {
    to: MemberId,
    text: String,
    reply: Reply<Result<DmSent>>,
    until: Instant,
}

/// The node's direct-message state, owned by the driver.
pub(crate) struct Dm {
    /// This device's Olm account and sessions (`None`: no device certificate, DMs off).
    device: Option<DmDevice>,
    key: PickleKey,
    /// Where the pickle and the conversations are written (`None`: memory only).
    dir: Option<PathBuf>,
    /// Conversations by the other member's id (text).
    convs: BTreeMap<String, Conv>,
    /// Verified bundles of other devices: the bytes, their member, their creation time.
    cache: BTreeMap<DeviceId, (CertifiedBundle, MemberId, Timestamp)>,
    /// Our last published bundle and the unused one-time keys it was made with.
    own: Option<(CertifiedBundle, usize)>,
    peers: HashMap<PeerId, PeerState>,
    pending: HashMap<OutboundRequestId, (PeerId, Asked)>,
    waiting: Vec<Waiting>,
    /// Envelopes for us from devices not known yet, and until when to try them again.
    later: VecDeque<(Vec<u8>, Instant)>,
    /// Envelopes kept for others.
    pub(super) mailbox: Mailbox,
}

/// The pickle key: `blake3::derive_key(PICKLE_KEY_CONTEXT, device secret seed)`. Whoever can
/// read the keyfile's device key can read the pickle; nobody else.
fn pickle_key(keys: &KeyBundle) -> PickleKey {
    PickleKey::from_bytes(blake3::derive_key(PICKLE_KEY_CONTEXT, &*keys.device.seed()))
}

/// Write `bytes` to `path`, readable by this user only, replacing it atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Read `path` if it exists.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("read {}", path.display()), e)),
    }
}

impl Dm {
    /// Load (or make) this device's DM state; `dir` is `<data dir>/dm`, `None` for a node in
    /// memory only. A pickle or conversations file that does not open is set aside
    /// (`….damaged`): a new Olm account is made (peers fetch its bundle again; envelopes made
    /// for the old one are lost).
    pub(crate) fn open(dir: Option<PathBuf>, keys: &KeyBundle, member: MemberId) -> Result<Dm> {
        let key = pickle_key(keys);
        let mut device = keys
            .device_cert
            .is_some()
            .then(|| DmDevice::new(member, keys.device.device_id()));
        let mut convs = BTreeMap::new();
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)
                .map_err(|e| Error::io(format!("create {}", d.display()), e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
            }
            let p = d.join(DEVICE_FILE);
            if let Some(bytes) = read_if_exists(&p)?
                && device.is_some()
            {
                match DmDevice::from_pickle(&bytes, &key) {
                    Ok(dev) if dev.device() == keys.device.device_id() => device = Some(dev),
                    Ok(_) => crate::http::files::set_aside(
                        &p,
                        "it is another device's",
                        "a new DM account was made",
                    ),
                    Err(e) => crate::http::files::set_aside(
                        &p,
                        &e.to_string(),
                        "a new DM account was made; messages sent to the old one are lost",
                    ),
                }
            }
            let p = d.join(CONVERSATIONS_FILE);
            if let Some(bytes) = read_if_exists(&p)? {
                match serde_json::from_slice(&bytes) {
                    Ok(c) => convs = c,
                    Err(e) => crate::http::files::set_aside(
                        &p,
                        &e.to_string(),
                        "the direct messages received so far are not shown",
                    ),
                }
            }
        }
        let dm = Dm {
            device,
            key,
            dir,
            convs,
            cache: BTreeMap::new(),
            own: None,
            peers: HashMap::new(),
            pending: HashMap::new(),
            waiting: Vec::new(),
            later: VecDeque::new(),
            mailbox: Mailbox::default(),
        };
        dm.save_device()?;
        Ok(dm)
    }

    /// Write the pickle (before anything made with the new ratchet state leaves the node).
    fn save_device(&self) -> Result<()> {
        let (Some(d), Some(dev)) = (&self.dir, &self.device) else {
            return Ok(());
        };
        let p = d.join(DEVICE_FILE);
        write_private(&p, &dev.pickle(&self.key))
            .map_err(|e| Error::io(format!("write {}", p.display()), e))
    }

    fn save_convs(&self) -> Result<()> {
        let Some(d) = &self.dir else {
            return Ok(());
        };
        let p = d.join(CONVERSATIONS_FILE);
        let bytes = serde_json::to_vec(&self.convs)
            .map_err(|e| Error::io("encode conversations", std::io::Error::other(e)))?;
        write_private(&p, &bytes).map_err(|e| Error::io(format!("write {}", p.display()), e))
    }

    /// Add a message to the conversation with `member`; `false` when it was there already.
    fn add(&mut self, member: MemberId, m: DmMessage) -> bool {
        let c = self.convs.entry(member.to_string()).or_default();
        c.member = Some(member);
        if c.messages
            .iter()
            .any(|x| x.device == m.device && x.seq == m.seq)
        {
            return false;
        }
        let mine = m.from_me;
        c.messages.push(m);
        if mine && c.read + 1 == c.messages.len() {
            c.read = c.messages.len();
        }
        if c.messages.len() > MAX_MESSAGES_PER_CONVERSATION {
            c.messages.remove(0);
            c.read = c.read.saturating_sub(1);
        }
        true
    }

    /// The devices of `member` this device has a bundle of.
    #[cfg(feature = "test-utils")]
    pub(super) fn devices_of(&self, member: &MemberId) -> Vec<DeviceId> {
        self.device
            .as_ref()
            .map(|d| d.devices_of(member))
            .unwrap_or_default()
    }

    fn peer(&mut self, p: PeerId) -> &mut PeerState {
        let now = Instant::now();
        self.peers.entry(p).or_insert(PeerState {
            next_bundles: now,
            next_fetch: now,
            bundles_busy: false,
            fetch_busy: false,
        })
    }
}

/// Accept a bundle only for a device the governance state links to the member its certificate
/// names, then check its signature and the certificate ([`verify_bundle`]).
fn check_bundle(
    cb: &CertifiedBundle,
    dir: &Directory,
    now: Timestamp,
) -> std::result::Result<VerifiedBundle, String> {
    let cert = Signed::<DeviceCert>::from_bytes_untimed(
        &cb.cert,
        &qun_identity::canonical::Limits::default(),
    )
    .map_err(|e| e.to_string())?;
    let v = cert.value();
    if dir.devices.get(&v.device) != Some(&v.member) {
        return Err("the device is not linked to this member in a community we share".into());
    }
    verify_bundle(&cb.bundle, &cert, &dir.revoked, now).map_err(|e| e.to_string())
}

impl Driver {
    /// Who is who in the communities this node is a member of.
    pub(super) fn dm_directory(&mut self) -> Directory {
        let mut dir = Directory::default();
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        for c in ids {
            let Some(mut r) = self.repl.community(&c) else {
                continue;
            };
            let st = r.state();
            if !st.is_member(&self.member) {
                continue;
            }
            for m in st.members.keys() {
                dir.communities.entry(*m).or_default().insert(c);
            }
            for (d, l) in &st.devices {
                if st.is_member(&l.member) {
                    dir.devices.insert(*d, l.member);
                }
            }
            dir.revoked.extend(st.revoked.keys().copied());
        }
        for d in &dir.revoked {
            dir.devices.remove(d);
        }
        dir
    }

    /// Tell the DM device about revocations the governance state knows.
    fn dm_revocations(&mut self, dir: &Directory) {
        let Some(dev) = self.dm.device.as_mut() else {
            return;
        };
        let mut changed = false;
        for d in &dir.revoked {
            if !dev.is_revoked(d) {
                dev.revoke(*d);
                changed = true;
            }
        }
        if changed && let Err(e) = self.dm.save_device() {
            warn!("direct messages: {e}");
        }
    }

    fn dm_ask(&mut self, peer: PeerId, req: &DmRequest, asked: Asked) -> bool {
        let Ok(bytes) = postcard::to_allocvec(req) else {
            return false;
        };
        let id = self.swarm.behaviour_mut().dm.send_request(&peer, bytes);
        self.dm.pending.insert(id, (peer, asked));
        true
    }

    /// Every [`DM_TICK`]: expire the mailbox and waiting sends, and ask connected members'
    /// nodes for bundles and mail when due.
    pub(super) fn dm_tick(&mut self) {
        let now = self.now();
        self.dm.mailbox.expire(now);
        self.dm_retry_waiting();
        if !self.dm.later.is_empty() {
            let t = Instant::now();
            let later = std::mem::take(&mut self.dm.later);
            for (envelope, until) in later {
                // A failure puts it back (with a new deadline): keep the old one instead.
                let before = self.dm.later.len();
                if !self.dm_open(&envelope, now) && self.dm.later.len() > before {
                    self.dm.later.pop_back();
                    if until > t {
                        self.dm.later.push_back((envelope, until));
                    }
                }
            }
        }
        if self.dm.device.is_none() {
            return;
        }
        let connected: BTreeSet<PeerId> = self.swarm.connected_peers().copied().collect();
        self.dm.peers.retain(|p, _| connected.contains(p));
        if connected.is_empty() {
            return;
        }
        let dir = self.dm_directory();
        self.dm_revocations(&dir);
        let t = Instant::now();
        for p in connected {
            let known = DeviceId::from_peer_id(&p).is_ok_and(|d| dir.devices.contains_key(&d));
            if !known {
                continue;
            }
            let st = self.dm.peer(p);
            let bundles = !st.bundles_busy && st.next_bundles <= t;
            let fetch = !st.fetch_busy && st.next_fetch <= t;
            if bundles {
                st.bundles_busy = true;
            }
            if fetch {
                st.fetch_busy = true;
            }
            if bundles {
                self.dm_ask(p, &DmRequest::Bundles, Asked::Bundles);
            }
            if fetch {
                self.dm_ask(p, &DmRequest::Fetch, Asked::Fetch);
            }
        }
    }

    /// A `/qun/dm/1` event.
    pub(super) fn on_dm(&mut self, ev: request_response::Event<Vec<u8>, Vec<u8>>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.dm_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => self.dm_response(peer, request_id, response),
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, "dm request failed: {error}");
                if let Some((_, asked)) = self.dm.pending.remove(&request_id) {
                    self.dm_done(peer, asked, false, false);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "inbound dm request failed: {error}");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// A request of ours ended: clear its flag and schedule the next one.
    fn dm_done(&mut self, peer: PeerId, asked: Asked, ok: bool, more: bool) {
        let t = Instant::now();
        let st = self.dm.peer(peer);
        let next = if more {
            t
        } else if !ok {
            t + RETRY
        } else if asked == Asked::Bundles {
            t + BUNDLE_REFRESH
        } else {
            t + FETCH_INTERVAL
        };
        match asked {
            Asked::Bundles => {
                st.bundles_busy = false;
                st.next_bundles = next;
            }
            Asked::Fetch => {
                st.fetch_busy = false;
                st.next_fetch = next;
            }
            Asked::Deliver => {}
        }
    }

    fn dm_request(&mut self, peer: PeerId, bytes: Vec<u8>, channel: ResponseChannel<Vec<u8>>) {
        let now = self.now();
        let dir = self.dm_directory();
        let device = DeviceId::from_peer_id(&peer).ok();
        let sender = device.and_then(|d| dir.devices.get(&d).copied());
        let resp = match (device, sender) {
            _ if self.dm.device.is_none() => DmResponse::Refused(Refusal::Unavailable),
            (Some(device), Some(sender)) => match postcard::from_bytes::<DmRequest>(&bytes) {
                Ok(req) => self.dm_serve(req, device, sender, &dir, now),
                Err(_) => DmResponse::Refused(Refusal::Malformed),
            },
            _ => DmResponse::Refused(Refusal::NotAMember),
        };
        debug!(%peer, ?resp, "dm request answered");
        let Ok(bytes) = postcard::to_allocvec(&resp) else {
            return;
        };
        let _ = self.swarm.behaviour_mut().dm.send_response(channel, bytes);
    }

    fn dm_serve(
        &mut self,
        req: DmRequest,
        device: DeviceId,
        sender: MemberId,
        dir: &Directory,
        now: Timestamp,
    ) -> DmResponse {
        match req {
            DmRequest::Bundles => {
                let mut out = Vec::new();
                if let Some(own) = self.dm_own_bundle(now) {
                    out.push(own);
                }
                for (d, (cb, m, _)) in &self.dm.cache {
                    if out.len() >= MAX_BUNDLES_PER_ANSWER {
                        break;
                    }
                    if *d != device && dir.devices.get(d) == Some(m) && dir.share(m, &sender) {
                        out.push(cb.clone());
                    }
                }
                DmResponse::Bundles(out)
            }
            DmRequest::Deliver {
                to,
                envelope,
                sender: bundle,
            } if to == self.member => {
                self.dm_revocations(dir);
                self.dm_learn(bundle.into_iter().collect(), dir, now);
                let read = self.dm_open(&envelope, now);
                // Copies for our other devices: keep them until those devices fetch them (a
                // sender connected to this device only reaches them this way; the sender's
                // bundle is in the cache, handed over with them).
                if let Ok(f) = FanOut::decode(&envelope)
                    && f.sender_device == device
                    && f.items.len() > 1
                {
                    let _ = self.dm.mailbox.put(to, device, envelope, now);
                }
                if read {
                    DmResponse::Delivered
                } else {
                    DmResponse::Refused(Refusal::Unreadable)
                }
            }
            DmRequest::Deliver {
                to,
                envelope,
                sender: bundle,
            } => {
                if !dir.share(&to, &sender) {
                    return DmResponse::Refused(Refusal::NoCommonCommunity);
                }
                // Kept to hand over with the envelope (the recipient needs it to read).
                self.dm_learn(bundle.into_iter().collect(), dir, now);
                match FanOut::decode(&envelope) {
                    Ok(f) if f.sender_device == device => {
                        match self.dm.mailbox.put(to, device, envelope, now) {
                            Ok(_) => DmResponse::Stored,
                            Err(r) => DmResponse::Refused(r),
                        }
                    }
                    _ => DmResponse::Refused(Refusal::Malformed),
                }
            }
            DmRequest::Fetch => {
                let (envelopes, senders, more) = self.dm.mailbox.take(&sender, &device, now);
                let bundles = senders
                    .iter()
                    .filter_map(|d| self.dm.cache.get(d).map(|(cb, _, _)| cb.clone()))
                    .collect();
                DmResponse::Mail {
                    envelopes,
                    bundles,
                    more,
                }
            }
        }
    }

    /// This device's bundle, published again when its unused one-time keys changed.
    fn dm_own_bundle(&mut self, now: Timestamp) -> Option<CertifiedBundle> {
        let cert = self.keys.device_cert.clone()?;
        let dev = self.dm.device.as_mut()?;
        let unused = dev.unused_one_time_keys();
        if let Some((cb, n)) = &self.dm.own
            && *n == unused
            && unused >= ONE_TIME_KEYS / 2
        {
            return Some(cb.clone());
        }
        let signed = match dev.publish_bundle(&self.keys.device, ONE_TIME_KEYS, now) {
            Ok(s) => s,
            Err(e) => {
                warn!("direct messages: cannot publish a bundle: {e}");
                return None;
            }
        };
        let unused = dev.unused_one_time_keys();
        if let Err(e) = self.dm.save_device() {
            warn!("direct messages: {e}");
            return None;
        }
        let cb = CertifiedBundle {
            cert,
            bundle: signed.to_bytes(),
        };
        self.dm.own = Some((cb.clone(), unused));
        Some(cb)
    }

    /// Read an envelope meant for this member; `true` when read (or read before).
    fn dm_open(&mut self, envelope: &[u8], now: Timestamp) -> bool {
        let Some(dev) = self.dm.device.as_mut() else {
            return false;
        };
        let got = match dev.decrypt(envelope) {
            Ok(g) => g,
            Err(qun_dm::Error::UnknownSender { .. }) => {
                // Its sender's device link or bundle has not reached us yet: try again later.
                if self.dm.later.len() < MAX_LATER {
                    self.dm
                        .later
                        .push_back((envelope.to_vec(), Instant::now() + LATER_FOR));
                }
                debug!("direct message from a device not known yet: kept to read later");
                let dir = self.dm_directory();
                self.dm_ask_all_bundles(&dir);
                return false;
            }
            Err(qun_dm::Error::UnknownOneTimeKey) => {
                debug!("direct message not read: its one-time key was taken; repairing");
                self.dm_unwedge(envelope, now);
                return false;
            }
            Err(e) => {
                debug!("direct message not read: {e}");
                return false;
            }
        };
        if let Err(e) = self.dm.save_device() {
            warn!("direct messages: {e}");
        }
        if got.is_repair() {
            return true;
        }
        let from_me = got.from_member == self.member;
        let added = self.dm.add(
            got.conversation,
            DmMessage {
                device: got.from_device,
                seq: got.id.seq,
                from_me,
                sent_at: got.sent_at,
                received_at: now,
                text: String::from_utf8_lossy(&got.body).into_owned(),
            },
        );
        if added {
            if let Err(e) = self.dm.save_convs() {
                warn!("direct messages: {e}");
            }
            self.emit(NodeEvent::DirectMessage {
                conversation: got.conversation.to_string(),
            });
        }
        true
    }

    fn dm_response(&mut self, peer: PeerId, id: OutboundRequestId, bytes: Vec<u8>) {
        let Some((_, asked)) = self.dm.pending.remove(&id) else {
            return;
        };
        let now = self.now();
        match (asked, postcard::from_bytes::<DmResponse>(&bytes)) {
            (Asked::Bundles, Ok(DmResponse::Bundles(b))) => {
                self.dm_done(peer, asked, true, false);
                let dir = self.dm_directory();
                self.dm_learn(b, &dir, now);
                self.dm_retry_waiting();
            }
            (
                Asked::Fetch,
                Ok(DmResponse::Mail {
                    envelopes,
                    bundles,
                    more,
                }),
            ) => {
                self.dm_done(peer, asked, true, more && !envelopes.is_empty());
                if !envelopes.is_empty() {
                    let dir = self.dm_directory();
                    self.dm_revocations(&dir);
                    self.dm_learn(bundles, &dir, now);
                }
                for e in &envelopes {
                    self.dm_open(e, now);
                }
            }
            (Asked::Deliver, Ok(r)) => debug!(%peer, ?r, "dm delivery"),
            (asked, r) => {
                debug!(%peer, ?asked, ?r, "dm request refused");
                self.dm_done(peer, asked, false, false);
            }
        }
    }

    /// Take the verified bundles among `bundles`.
    fn dm_learn(&mut self, bundles: Vec<CertifiedBundle>, dir: &Directory, now: Timestamp) {
        let mine = self.keys.device.device_id();
        let mut changed = false;
        for cb in bundles.into_iter().take(MAX_BUNDLES_PER_ANSWER) {
            let vb = match check_bundle(&cb, dir, now) {
                Ok(vb) => vb,
                Err(e) => {
                    debug!("bundle refused: {e}");
                    continue;
                }
            };
            if vb.device() == mine {
                continue;
            }
            if let Some(dev) = self.dm.device.as_mut() {
                match dev.add_peer(&vb) {
                    Ok(c) => changed |= c,
                    Err(e) => debug!("bundle not taken: {e}"),
                }
            }
            let created = vb.bundle().created;
            let newer = match self.dm.cache.get(&vb.device()) {
                Some((_, _, t)) => created > *t,
                None => self.dm.cache.len() < MAX_CACHED_BUNDLES,
            };
            if newer {
                self.dm
                    .cache
                    .insert(vb.device(), (cb, vb.member(), created));
            }
        }
        if changed && let Err(e) = self.dm.save_device() {
            warn!("direct messages: {e}");
        }
    }

    /// Send the waiting messages whose bundles arrived; fail those waiting too long.
    fn dm_retry_waiting(&mut self) {
        let t = Instant::now();
        for w in std::mem::take(&mut self.dm.waiting) {
            match self.dm_try_send(w.to, &w.text, false) {
                Ok(Some(sent)) => {
                    let _ = w.reply.send(Ok(sent));
                }
                Ok(None) if w.until > t => self.dm.waiting.push(w),
                Ok(None) => {
                    let _ = w.reply.send(Err(no_keys(&w.to)));
                }
                Err(e) => {
                    let _ = w.reply.send(Err(e));
                }
            }
        }
    }

    /// `qun dm send`: answered once sent, or after [`SEND_WAIT`] without a known device.
    pub(super) fn dm_send(&mut self, to: MemberId, text: String, reply: Reply<Result<DmSent>>) {
        match self.dm_try_send(to, &text, true) {
            Ok(Some(sent)) => {
                let _ = reply.send(Ok(sent));
            }
            Ok(None) if self.dm.waiting.len() < MAX_WAITING_SENDS => {
                self.dm.waiting.push(Waiting {
                    to,
                    text,
                    reply,
                    until: Instant::now() + SEND_WAIT,
                });
            }
            Ok(None) => {
                let _ = reply.send(Err(no_keys(&to)));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Encrypt and send; `Ok(None)` when no device of `to` is known yet (bundles were asked
    /// for when `ask`).
    fn dm_try_send(&mut self, to: MemberId, text: &str, ask: bool) -> Result<Option<DmSent>> {
        if text.trim().is_empty() {
            return Err(Error::Invalid {
                reason: "the message is empty".into(),
                hint: "write something",
            });
        }
        if text.len() > qun_dm::envelope::MAX_BODY_BYTES {
            return Err(Error::Invalid {
                reason: format!(
                    "the message has {} bytes; at most {} are sent",
                    text.len(),
                    qun_dm::envelope::MAX_BODY_BYTES
                ),
                hint: "send a shorter message",
            });
        }
        if self.dm.device.is_none() {
            return Err(Error::Invalid {
                reason: "this device has no certificate from its member's root key".into(),
                hint: "direct messages need a device linked with `qun device link`",
            });
        }
        let dir = self.dm_directory();
        if !dir.share(&to, &self.member) {
            return Err(Error::Invalid {
                reason: format!("{} is not a member of a community you are in", to.short()),
                hint: "direct messages go to members of a community you share",
            });
        }
        self.dm_revocations(&dir);
        let now = self.now();
        let mine = self.keys.device.device_id();
        let Some(dev) = self.dm.device.as_mut() else {
            return Ok(None);
        };
        if dev.devices_of(&to).is_empty() {
            if ask {
                self.dm_ask_all_bundles(&dir);
            }
            return Ok(None);
        }
        let sent = dev.encrypt(to, text.as_bytes(), now).map_err(dm_err)?;
        self.dm.save_device()?;
        self.dm.add(
            to,
            DmMessage {
                device: mine,
                seq: sent.id.seq,
                from_me: true,
                sent_at: now,
                received_at: now,
                text: text.to_string(),
            },
        );
        self.dm.save_convs()?;
        if !sent.unreachable.is_empty() {
            self.dm_ask_all_bundles(&dir);
        }
        let (direct, stored) = self.dm_route(&sent, to, &dir, now);
        Ok(Some(DmSent {
            seq: sent.id.seq,
            devices: sent.recipients.len(),
            direct,
            stored,
        }))
    }

    /// Hand `sent` to each recipient device that is connected and, for members with a device
    /// not connected, to up to [`MAX_HOLDERS`] connected co-members' nodes to keep; how many
    /// copies went each way.
    fn dm_route(
        &mut self,
        sent: &qun_dm::Sent,
        to: MemberId,
        dir: &Directory,
        now: Timestamp,
    ) -> (usize, usize) {
        let bytes = sent.envelope.to_bytes();
        let own = self.dm_own_bundle(now);
        let connected: BTreeSet<PeerId> = self.swarm.connected_peers().copied().collect();
        let (mut direct, mut stored) = (0, 0);
        let mut absent = BTreeSet::new();
        let mut sent_to = BTreeSet::new();
        for d in &sent.recipients {
            let member = dir.devices.get(d).copied().unwrap_or(to);
            match d.to_peer_id() {
                Ok(p) if connected.contains(&p) => {
                    let req = DmRequest::Deliver {
                        to: member,
                        envelope: bytes.clone(),
                        sender: own.clone(),
                    };
                    if self.dm_ask(p, &req, Asked::Deliver) {
                        direct += 1;
                        sent_to.insert(p);
                    }
                }
                _ => {
                    absent.insert(member);
                }
            }
        }
        for m in absent {
            let holders: Vec<PeerId> = connected
                .iter()
                .filter(|p| {
                    DeviceId::from_peer_id(p)
                        .ok()
                        .and_then(|d| dir.devices.get(&d))
                        .is_some_and(|pm| dir.share(pm, &m))
                        && !sent_to.contains(*p)
                })
                .take(MAX_HOLDERS)
                .copied()
                .collect();
            for p in holders {
                let req = DmRequest::Deliver {
                    to: m,
                    envelope: bytes.clone(),
                    sender: own.clone(),
                };
                if self.dm_ask(p, &req, Asked::Deliver) {
                    stored += 1;
                }
            }
        }
        (direct, stored)
    }

    /// A session another sender's took the one-time key of cannot be read: send the sending
    /// device the repair (`DmDevice::unwedge`), so its next messages reach us. What it sent on
    /// the broken session is lost (docs/privacy.md §7).
    fn dm_unwedge(&mut self, envelope: &[u8], now: Timestamp) {
        let Ok(f) = FanOut::decode(envelope) else {
            return;
        };
        let dir = self.dm_directory();
        let Some(member) = dir.devices.get(&f.sender_device).copied() else {
            return;
        };
        let Some(dev) = self.dm.device.as_mut() else {
            return;
        };
        match dev.unwedge(f.sender_device, now) {
            Ok(sent) => {
                if let Err(e) = self.dm.save_device() {
                    warn!("direct messages: {e}");
                    return;
                }
                let (direct, stored) = self.dm_route(&sent, member, &dir, now);
                debug!(device = %f.sender_device, direct, stored, "sent a session repair");
            }
            Err(e) => debug!("no session repair: {e}"),
        }
    }

    /// Ask every connected member's node for bundles now (unless a request is in flight).
    fn dm_ask_all_bundles(&mut self, dir: &Directory) {
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for p in connected {
            if !DeviceId::from_peer_id(&p).is_ok_and(|d| dir.devices.contains_key(&d)) {
                continue;
            }
            let st = self.dm.peer(p);
            if st.bundles_busy {
                continue;
            }
            st.bundles_busy = true;
            self.dm_ask(p, &DmRequest::Bundles, Asked::Bundles);
        }
    }

    /// `qun dm list`: conversations, the latest first.
    pub(super) fn dm_conversations(&mut self) -> Result<Vec<Conversation>> {
        let names = self.dm_names();
        let mut out: Vec<Conversation> = self
            .dm
            .convs
            .values()
            .filter_map(|c| {
                let member = c.member?;
                let last = c.messages.last()?;
                Some(Conversation {
                    member,
                    name: names.get(&member).cloned(),
                    messages: c.messages.len(),
                    unread: c
                        .messages
                        .iter()
                        .skip(c.read)
                        .filter(|m| !m.from_me)
                        .count(),
                    last_at: last.sent_at,
                })
            })
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.last_at));
        Ok(out)
    }

    /// `qun dm read`: the conversation with `member`, oldest first; marks it read.
    pub(super) fn dm_read(&mut self, member: MemberId) -> Result<Vec<DmMessage>> {
        let Some(c) = self.dm.convs.get_mut(&member.to_string()) else {
            return Ok(Vec::new());
        };
        let changed = c.read != c.messages.len();
        c.read = c.messages.len();
        let out = c.messages.clone();
        if changed {
            self.dm.save_convs()?;
        }
        Ok(out)
    }

    /// Display names of members, from the communities this node holds.
    fn dm_names(&mut self) -> BTreeMap<MemberId, String> {
        let mut names = BTreeMap::new();
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        for c in ids {
            let Some(mut r) = self.repl.community(&c) else {
                continue;
            };
            if let Ok(ps) = r.profiles() {
                for (m, p) in ps {
                    if !p.name.is_empty() {
                        names.entry(m).or_insert(p.name);
                    }
                }
            }
        }
        names
    }
}

fn dm_err(e: qun_dm::Error) -> Error {
    Error::Invalid {
        reason: format!("the message could not be encrypted: {e}"),
        hint: "try again in a moment (the recipient's keys are fetched again)",
    }
}

fn no_keys(to: &MemberId) -> Error {
    Error::Invalid {
        reason: format!(
            "no device of {} is known yet: neither it nor a peer that knows its keys is connected",
            to.short()
        ),
        hint: "try again once connected to the member or to another member of a community you share",
    }
}
