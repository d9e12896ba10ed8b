//! A device's DM state: its Olm account, the peer devices it knows from verified bundles, and
//! one or more Olm sessions with each.
//!
//! [`DmDevice::encrypt`] makes one [`FanOut`] for every known, unrevoked device of the
//! recipient member and every other device of the sender, starting a session from a device's
//! bundle (a pre-key message) where it has none. [`DmDevice::decrypt`] opens the copy addressed
//! to this device. No IO and no clock: time is an argument. vodozemac draws key material from
//! the operating system's RNG (it takes no RNG argument), so runs are not bit-reproducible.

use crate::bundle::{MAX_ONE_TIME_KEYS, PrekeyBundle, VerifiedBundle};
use crate::envelope::{FanOut, Item, Kind, MAX_BODY_BYTES, MAX_RECIPIENTS, Payload};
use crate::error::{Error, Result};
use qun_identity::{ContentId, DeviceId, MemberId, SecretIdentity, Signed, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use vodozemac::Curve25519PublicKey;
use vodozemac::olm::{
    Account, DecryptionError, OlmMessage, Session, SessionConfig, SessionCreationError,
};

/// Most Olm sessions kept per peer device (two appear when both sides start one at once).
pub const MAX_SESSIONS_PER_DEVICE: usize = 4;
/// Most one-time keys of a peer device remembered as used by us (so a re-published bundle
/// never makes us use one twice).
pub const MAX_USED_KEYS_PER_DEVICE: usize = 256;

/// The id of a message: its sending device and that device's counter. The same on every
/// device that receives a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId {
    /// The sending device.
    pub device: DeviceId,
    /// The device's message counter.
    pub seq: u64,
}

/// What [`DmDevice::encrypt`] made.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The envelope to deliver (to the recipient's devices and our own other devices).
    pub envelope: FanOut,
    /// The message's id.
    pub id: MessageId,
    /// The devices the envelope holds a copy for.
    pub recipients: Vec<DeviceId>,
    /// Known devices with no session and no key left: fetch their fresh bundles.
    pub unreachable: Vec<DeviceId>,
}

/// A decrypted message. Its `Debug` shows the body's length, never the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Received {
    /// The message's id.
    pub id: MessageId,
    /// Who sent it.
    pub from_member: MemberId,
    /// The sending device.
    pub from_device: DeviceId,
    /// The other member of the conversation, seen from this device: the sender, or the
    /// recipient when one of our own devices sent it.
    pub conversation: MemberId,
    /// When the sender says it sent it (its claim).
    pub sent_at: Timestamp,
    /// The message; empty for a session repair ([`DmDevice::unwedge`]), which is not shown.
    pub body: Vec<u8>,
}

impl Received {
    /// Whether this is a session repair rather than a message: the sender could not read a
    /// session we started, so re-send what we sent it recently.
    pub fn is_repair(&self) -> bool {
        self.body.is_empty()
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("id", &self.id)
            .field("from_member", &self.from_member)
            .field("conversation", &self.conversation)
            .field("sent_at", &self.sent_at)
            .field("body", &format_args!("<{}b>", self.body.len()))
            .finish()
    }
}

/// A peer device as we know it from its latest verified bundle.
pub(crate) struct Peer {
    pub(crate) member: MemberId,
    pub(crate) identity_key: [u8; 32],
    pub(crate) created: Timestamp,
    pub(crate) bundle_id: ContentId,
    /// Its one-time keys we have not used.
    pub(crate) one_time_keys: Vec<[u8; 32]>,
    pub(crate) fallback_key: Option<[u8; 32]>,
    /// Its one-time keys we used, oldest first.
    pub(crate) used_keys: Vec<[u8; 32]>,
    /// Sessions with it, preferred (last to decrypt, else newest) first.
    pub(crate) sessions: Vec<Session>,
}

impl Peer {
    fn reachable(&self) -> bool {
        !self.sessions.is_empty() || !self.one_time_keys.is_empty() || self.fallback_key.is_some()
    }

    /// Take one of its one-time keys, starting at a position derived from our identity key and
    /// the bundle, so that two senders reading one bundle rarely pick the same key.
    fn take_one_time_key(&mut self, our_key: &[u8; 32]) -> Option<[u8; 32]> {
        if self.one_time_keys.is_empty() {
            return None;
        }
        let h = ContentId::of_parts(&[b"qun-dm-otk-v1", our_key, self.bundle_id.as_bytes()]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&h.as_bytes()[..8]);
        let ix = (u64::from_le_bytes(first) % self.one_time_keys.len() as u64) as usize;
        let key = self.one_time_keys.remove(ix);
        if self.used_keys.len() >= MAX_USED_KEYS_PER_DEVICE {
            self.used_keys.remove(0);
        }
        self.used_keys.push(key);
        Some(key)
    }

    fn promote(&mut self, ix: usize) {
        if ix > 0 && ix < self.sessions.len() {
            let s = self.sessions.remove(ix);
            self.sessions.insert(0, s);
        }
    }

    fn add_session(&mut self, session: Session) {
        self.sessions.insert(0, session);
        self.sessions.truncate(MAX_SESSIONS_PER_DEVICE);
    }
}

/// One device's end of direct messaging.
pub struct DmDevice {
    pub(crate) member: MemberId,
    pub(crate) device: DeviceId,
    pub(crate) account: Account,
    /// One-time keys we published and nobody has used yet.
    pub(crate) published: BTreeSet<[u8; 32]>,
    pub(crate) fallback: Option<[u8; 32]>,
    pub(crate) next_seq: u64,
    pub(crate) peers: BTreeMap<DeviceId, Peer>,
    pub(crate) revoked: BTreeSet<DeviceId>,
}

impl fmt::Debug for DmDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DmDevice")
            .field("member", &self.member)
            .field("device", &self.device)
            .field("peers", &self.peers.len())
            .field("revoked", &self.revoked.len())
            .finish()
    }
}

impl DmDevice {
    /// A new account (fresh Olm identity key) for `device`, acting for `member`.
    pub fn new(member: MemberId, device: DeviceId) -> Self {
        DmDevice {
            member,
            device,
            account: Account::new(),
            published: BTreeSet::new(),
            fallback: None,
            next_seq: 0,
            peers: BTreeMap::new(),
            revoked: BTreeSet::new(),
        }
    }

    /// The member this device acts for.
    pub fn member(&self) -> MemberId {
        self.member
    }

    /// This device.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The Olm curve25519 identity key.
    pub fn identity_key(&self) -> [u8; 32] {
        self.account.curve25519_key().to_bytes()
    }

    /// Sign a bundle with the device key: the identity key, the published one-time keys not
    /// used yet topped up to `keys` (at most [`MAX_ONE_TIME_KEYS`]), and a fallback key.
    pub fn publish_bundle(
        &mut self,
        key: &SecretIdentity,
        keys: usize,
        now: Timestamp,
    ) -> Result<Signed<PrekeyBundle>> {
        if key.device_id() != self.device {
            return Err(Error::WrongKey {
                expected: self.device,
                given: key.device_id(),
            });
        }
        let want = keys.min(MAX_ONE_TIME_KEYS);
        if self.published.len() < want {
            let r = self
                .account
                .generate_one_time_keys(want - self.published.len());
            for k in r.removed {
                self.published.remove(&k.to_bytes());
            }
            self.published
                .extend(r.created.iter().map(|k| k.to_bytes()));
        }
        if self.fallback.is_none() {
            self.rotate_fallback_key();
        }
        self.account.mark_keys_as_published();
        let bundle = PrekeyBundle {
            member: self.member,
            device: self.device,
            identity_key: self.identity_key(),
            one_time_keys: self.published.iter().copied().collect(),
            fallback_key: self.fallback,
            created: now,
        };
        Ok(Signed::sign(key, bundle)?)
    }

    /// Replace the fallback key (the previous one still opens sessions until the next
    /// rotation); publish a bundle afterwards.
    pub fn rotate_fallback_key(&mut self) {
        self.account.generate_fallback_key();
        self.fallback = self
            .account
            .fallback_key()
            .values()
            .next()
            .map(|k| k.to_bytes());
    }

    /// How many published one-time keys are still unused (publish more when low).
    pub fn unused_one_time_keys(&self) -> usize {
        self.published.len()
    }

    /// Learn a peer device (another member's, or one of our own other devices) from its
    /// verified bundle. Returns whether anything changed: an older or equal bundle of a known
    /// device is ignored. A changed identity key (the device made a new account) drops the
    /// sessions with it.
    pub fn add_peer(&mut self, bundle: &VerifiedBundle) -> Result<bool> {
        let b = bundle.bundle();
        if b.device == self.device {
            return Err(Error::OwnDevice);
        }
        if self.revoked.contains(&b.device) {
            return Err(Error::Revoked { device: b.device });
        }
        if let Some(p) = self.peers.get_mut(&b.device) {
            if p.member != b.member {
                return Err(Error::NotCertified {
                    reason: "the device is known for another member",
                });
            }
            if b.created <= p.created {
                return Ok(false);
            }
            if p.identity_key != b.identity_key {
                p.sessions.clear();
                p.used_keys.clear();
                p.identity_key = b.identity_key;
            }
            p.created = b.created;
            p.bundle_id = bundle.id();
            p.one_time_keys = b
                .one_time_keys
                .iter()
                .filter(|k| !p.used_keys.contains(k))
                .copied()
                .collect();
            p.fallback_key = b.fallback_key;
            return Ok(true);
        }
        self.peers.insert(
            b.device,
            Peer {
                member: b.member,
                identity_key: b.identity_key,
                created: b.created,
                bundle_id: bundle.id(),
                one_time_keys: b.one_time_keys.clone(),
                fallback_key: b.fallback_key,
                used_keys: Vec::new(),
                sessions: Vec::new(),
            },
        );
        Ok(true)
    }

    /// The revocation of `device` is known: forget its keys and sessions, encrypt nothing to
    /// it from now on, refuse its bundles and its messages.
    pub fn revoke(&mut self, device: DeviceId) {
        self.revoked.insert(device);
        self.peers.remove(&device);
    }

    /// Whether `device` is known to be revoked.
    pub fn is_revoked(&self, device: &DeviceId) -> bool {
        self.revoked.contains(device)
    }

    /// Drop the sessions with `device` (a session that no longer works); the next message to
    /// it starts a new one from its bundle.
    pub fn forget_sessions(&mut self, device: &DeviceId) {
        if let Some(p) = self.peers.get_mut(device) {
            p.sessions.clear();
        }
    }

    /// The known, unrevoked devices of `member`.
    pub fn devices_of(&self, member: &MemberId) -> Vec<DeviceId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.member == *member)
            .map(|(d, _)| *d)
            .collect()
    }

    /// Encrypt `body` for every known device of `to` and every other device of ours.
    ///
    /// Fails without changing anything when the body is too large, when there are more than
    /// [`MAX_RECIPIENTS`] devices, or when no device of `to` (or, writing to ourselves, no
    /// other device of ours) can be reached.
    pub fn encrypt(&mut self, to: MemberId, body: &[u8], now: Timestamp) -> Result<Sent> {
        if body.is_empty() {
            return Err(Error::EmptyBody);
        }
        let targets: Vec<DeviceId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.member == to || p.member == self.member)
            .map(|(d, _)| *d)
            .collect();
        self.seal(to, targets, body, now)
    }

    /// Repair a session `device` started with us that we cannot read (`decrypt` answered
    /// [`Error::UnknownOneTimeKey`]: another sender had taken its one-time key): an empty
    /// message to that device alone, on a session it can read. Once it reads it, its next
    /// messages go on that session. What it sent on the broken one is lost and must be sent
    /// again (not done here).
    pub fn unwedge(&mut self, device: DeviceId, now: Timestamp) -> Result<Sent> {
        if self.revoked.contains(&device) {
            return Err(Error::Revoked { device });
        }
        let member = self
            .peers
            .get(&device)
            .map(|p| p.member)
            .ok_or(Error::UnknownSender { device })?;
        self.seal(member, vec![device], &[], now)
    }

    /// Encrypt `body` for `targets`, as a message in the conversation with `to`.
    fn seal(
        &mut self,
        to: MemberId,
        targets: Vec<DeviceId>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Sent> {
        if body.len() > MAX_BODY_BYTES {
            return Err(Error::TooLarge {
                what: "message body",
                limit: MAX_BODY_BYTES,
                actual: body.len(),
            });
        }
        let (reachable, mut unreachable): (Vec<DeviceId>, Vec<DeviceId>) = targets
            .into_iter()
            .partition(|d| self.peers.get(d).is_some_and(Peer::reachable));
        if !reachable
            .iter()
            .any(|d| self.peers.get(d).is_some_and(|p| p.member == to))
        {
            return Err(Error::NoDevices { member: to });
        }
        if reachable.len() > MAX_RECIPIENTS {
            return Err(Error::TooLarge {
                what: "envelope recipients",
                limit: MAX_RECIPIENTS,
                actual: reachable.len(),
            });
        }
        let seq = self.next_seq;
        let our_key = self.identity_key();
        let mut items = Vec::with_capacity(reachable.len());
        let mut recipients = Vec::with_capacity(reachable.len());
        for d in reachable {
            let Some(peer) = self.peers.get_mut(&d) else {
                continue;
            };
            if peer.sessions.is_empty() {
                let Some(otk) = peer.take_one_time_key(&our_key).or(peer.fallback_key) else {
                    unreachable.push(d);
                    continue;
                };
                match self.account.create_outbound_session(
                    SessionConfig::version_1(),
                    Curve25519PublicKey::from_bytes(peer.identity_key),
                    Curve25519PublicKey::from_bytes(otk),
                ) {
                    Ok(s) => peer.add_session(s),
                    Err(_) => {
                        // A certified device published a key no shared secret can come
                        // from; nothing can be sent to it with this bundle.
                        unreachable.push(d);
                        continue;
                    }
                }
            }
            let payload = Payload {
                from_member: self.member,
                from_device: self.device,
                to_member: to,
                recipient: d,
                seq,
                sent_at: now,
                body: body.to_vec(),
                padding: Vec::new(),
            }
            .encode_padded();
            let Some(session) = peer.sessions.first_mut() else {
                unreachable.push(d);
                continue;
            };
            let Ok(message) = session.encrypt(&payload) else {
                unreachable.push(d);
                continue;
            };
            let (kind, bytes) = match &message {
                OlmMessage::PreKey(m) => (Kind::PreKey, m.to_bytes()),
                OlmMessage::Normal(m) => (Kind::Normal, m.to_bytes()),
            };
            items.push(Item::new(peer.identity_key, kind, bytes));
            recipients.push(d);
        }
        // Every device of `to` may have published keys no session can start from.
        if !recipients
            .iter()
            .any(|d| self.peers.get(d).is_some_and(|p| p.member == to))
        {
            return Err(Error::NoDevices { member: to });
        }
        self.next_seq += 1;
        unreachable.sort();
        Ok(Sent {
            envelope: FanOut::new(self.device, our_key, items),
            id: MessageId {
                device: self.device,
                seq,
            },
            recipients,
            unreachable,
        })
    }

    /// Decrypt the copy of an envelope addressed to this device.
    pub fn decrypt(&mut self, bytes: &[u8]) -> Result<Received> {
        let envelope = FanOut::decode(bytes)?;
        self.decrypt_envelope(&envelope)
    }

    /// [`DmDevice::decrypt`] for an envelope already decoded.
    pub fn decrypt_envelope(&mut self, envelope: &FanOut) -> Result<Received> {
        let our_key = self.identity_key();
        let item = envelope.item_for(&our_key).ok_or(Error::NotForUs)?;
        let sender = envelope.sender_device;
        if self.revoked.contains(&sender) {
            return Err(Error::Revoked { device: sender });
        }
        let peer = self
            .peers
            .get_mut(&sender)
            .ok_or(Error::UnknownSender { device: sender })?;
        if peer.identity_key != envelope.sender_key {
            return Err(Error::SenderKeyMismatch { device: sender });
        }
        let kind = match item.kind() {
            Kind::PreKey => 0,
            Kind::Normal => 1,
        };
        let message = OlmMessage::from_parts(kind, &item.ciphertext)
            .map_err(|e| Error::decode("olm message", e))?;
        let plaintext = match message {
            OlmMessage::PreKey(m) => {
                if m.identity_key().to_bytes() != peer.identity_key {
                    return Err(Error::SenderKeyMismatch { device: sender });
                }
                let id = m.session_id();
                if let Some(ix) = peer.sessions.iter().position(|s| s.session_id() == id) {
                    let pt = peer
                        .sessions
                        .get_mut(ix)
                        .ok_or(Error::Decrypt {
                            reason: "session vanished".into(),
                        })?
                        .decrypt(&OlmMessage::PreKey(m))
                        .map_err(decryption_error)?;
                    peer.promote(ix);
                    pt
                } else {
                    let sender_key = Curve25519PublicKey::from_bytes(peer.identity_key);
                    let r = self
                        .account
                        .create_inbound_session(SessionConfig::version_1(), sender_key, &m)
                        .map_err(creation_error)?;
                    self.published.remove(&m.one_time_key().to_bytes());
                    peer.add_session(r.session);
                    r.plaintext
                }
            }
            OlmMessage::Normal(m) => {
                let message = OlmMessage::Normal(m);
                let mut first_err = None;
                let mut found = None;
                for (ix, s) in peer.sessions.iter_mut().enumerate() {
                    match s.decrypt(&message) {
                        Ok(pt) => {
                            found = Some((ix, pt));
                            break;
                        }
                        Err(e) => {
                            let e = decryption_error(e);
                            // A used-up key says more than a MAC that does not fit another
                            // session.
                            if first_err.is_none() || matches!(e, Error::Replayed { .. }) {
                                first_err = Some(e);
                            }
                        }
                    }
                }
                match found {
                    Some((ix, pt)) => {
                        peer.promote(ix);
                        pt
                    }
                    None => {
                        return Err(first_err.unwrap_or(Error::Decrypt {
                            reason: "no session with this device".into(),
                        }));
                    }
                }
            }
        };
        let p = Payload::decode(&plaintext)?;
        if p.from_device != sender {
            return Err(Error::Misbound {
                reason: "sender device",
            });
        }
        if p.from_member != peer.member {
            return Err(Error::Misbound {
                reason: "sender member",
            });
        }
        if p.recipient != self.device {
            return Err(Error::Misbound {
                reason: "recipient device",
            });
        }
        let conversation = if p.from_member == self.member {
            p.to_member
        } else if p.to_member == self.member {
            p.from_member
        } else {
            return Err(Error::Misbound {
                reason: "recipient member",
            });
        };
        Ok(Received {
            id: MessageId {
                device: sender,
                seq: p.seq,
            },
            from_member: p.from_member,
            from_device: p.from_device,
            conversation,
            sent_at: p.sent_at,
            body: p.body,
        })
    }
}

fn decryption_error(e: DecryptionError) -> Error {
    match e {
        DecryptionError::MissingMessageKey(index) => Error::Replayed { index },
        e => Error::Decrypt {
            reason: e.to_string(),
        },
    }
}

fn creation_error(e: SessionCreationError) -> Error {
    match e {
        SessionCreationError::MissingOneTimeKey(_) => Error::UnknownOneTimeKey,
        SessionCreationError::Decryption(e) => decryption_error(e),
        e => Error::Session {
            reason: e.to_string(),
        },
    }
}
