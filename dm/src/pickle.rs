//! Saving and restoring a [`DmDevice`].
//!
//! The Olm account and every session are vodozemac pickles encrypted under a [`PickleKey`]
//! (vodozemac's own format: AES-256-CBC and HMAC-SHA-256 over JSON). The rest of the state —
//! which peer devices are known, their unused one-time keys, our message counter, revoked
//! devices — is a strictly decoded postcard snapshot around them, **not encrypted**: store it
//! where the node keeps its secrets, or seal it (see docs/privacy.md, "Persistence").

use crate::codec;
use crate::device::{DmDevice, MAX_SESSIONS_PER_DEVICE, MAX_USED_KEYS_PER_DEVICE, Peer};
use crate::error::{Error, Result};
use qun_identity::{ContentId, DeviceId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use vodozemac::olm::{Account, AccountPickle, Session, SessionPickle};
use zeroize::Zeroizing;

/// Format version of the snapshot.
const VERSION: u8 = 1;
/// Largest snapshot accepted, in bytes; checked before anything is parsed.
pub const MAX_PICKLE_BYTES: usize = 64 * 1024 * 1024;

/// The 32-byte key pickles are encrypted under (kept with the node's keys).
pub struct PickleKey(Zeroizing<[u8; 32]>);

impl PickleKey {
    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PickleKey(Zeroizing::new(bytes))
    }

    fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for PickleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PickleKey(..)")
    }
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u8,
    member: MemberId,
    device: DeviceId,
    account: String,
    published: Vec<[u8; 32]>,
    fallback: Option<[u8; 32]>,
    next_seq: u64,
    peers: Vec<PeerSnapshot>,
    revoked: Vec<DeviceId>,
}

#[derive(Serialize, Deserialize)]
struct PeerSnapshot {
    device: DeviceId,
    member: MemberId,
    identity_key: [u8; 32],
    created: Timestamp,
    bundle_id: [u8; 32],
    one_time_keys: Vec<[u8; 32]>,
    fallback_key: Option<[u8; 32]>,
    used_keys: Vec<[u8; 32]>,
    sessions: Vec<String>,
}

fn strictly_ascending<T: Ord>(v: &[T]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

fn bad(reason: &str) -> Error {
    Error::Pickle {
        what: "device state",
        reason: reason.to_string(),
    }
}

impl DmDevice {
    /// The device's state as bytes, with the account and sessions encrypted under `key`.
    pub fn pickle(&self, key: &PickleKey) -> Vec<u8> {
        let snapshot = Snapshot {
            version: VERSION,
            member: self.member,
            device: self.device,
            account: self.account.pickle().encrypt(key.bytes()),
            published: self.published.iter().copied().collect(),
            fallback: self.fallback,
            next_seq: self.next_seq,
            peers: self
                .peers
                .iter()
                .map(|(d, p)| PeerSnapshot {
                    device: *d,
                    member: p.member,
                    identity_key: p.identity_key,
                    created: p.created,
                    bundle_id: *p.bundle_id.as_bytes(),
                    one_time_keys: p.one_time_keys.clone(),
                    fallback_key: p.fallback_key,
                    used_keys: p.used_keys.clone(),
                    sessions: p
                        .sessions
                        .iter()
                        .map(|s| s.pickle().encrypt(key.bytes()))
                        .collect(),
                })
                .collect(),
            revoked: self.revoked.iter().copied().collect(),
        };
        codec::encode(&snapshot)
    }

    /// Restore a device from [`DmDevice::pickle`]'s bytes: size first, strict decoding, then
    /// the vodozemac pickles opened with `key` (a wrong key is an error, never a panic).
    pub fn from_pickle(bytes: &[u8], key: &PickleKey) -> Result<Self> {
        let s: Snapshot = codec::decode("device state", bytes, MAX_PICKLE_BYTES)?;
        if s.version != VERSION {
            return Err(bad("unknown version"));
        }
        if !strictly_ascending(&s.published) || !strictly_ascending(&s.revoked) {
            return Err(bad("keys or devices out of order"));
        }
        let account =
            AccountPickle::from_encrypted(&s.account, key.bytes()).map_err(|e| Error::Pickle {
                what: "account",
                reason: e.to_string(),
            })?;
        let mut peers = BTreeMap::new();
        let mut last: Option<DeviceId> = None;
        for p in s.peers {
            if last.is_some_and(|l| l >= p.device) {
                return Err(bad("peers out of order"));
            }
            last = Some(p.device);
            if p.device == s.device || s.revoked.contains(&p.device) {
                return Err(bad("a peer that is this device or revoked"));
            }
            if p.sessions.len() > MAX_SESSIONS_PER_DEVICE
                || p.used_keys.len() > MAX_USED_KEYS_PER_DEVICE
            {
                return Err(bad("too many sessions or used keys"));
            }
            let mut sessions = Vec::with_capacity(p.sessions.len());
            for text in &p.sessions {
                let pickle = SessionPickle::from_encrypted(text, key.bytes()).map_err(|e| {
                    Error::Pickle {
                        what: "session",
                        reason: e.to_string(),
                    }
                })?;
                sessions.push(Session::from_pickle(pickle));
            }
            peers.insert(
                p.device,
                Peer {
                    member: p.member,
                    identity_key: p.identity_key,
                    created: p.created,
                    bundle_id: ContentId(p.bundle_id),
                    one_time_keys: p.one_time_keys,
                    fallback_key: p.fallback_key,
                    used_keys: p.used_keys,
                    sessions,
                },
            );
        }
        Ok(DmDevice {
            member: s.member,
            device: s.device,
            account: Account::from_pickle(account),
            published: s.published.into_iter().collect::<BTreeSet<_>>(),
            fallback: s.fallback,
            next_seq: s.next_seq,
            peers,
            revoked: s.revoked.into_iter().collect(),
        })
    }
}
