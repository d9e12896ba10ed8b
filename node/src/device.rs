//! A member's second device.
//!
//! 1. On the new device: `qun init --device` makes a device key only (no root) and prints its
//!    device id.
//! 2. On a device holding the root key: `qun device link <device id>` signs a certificate for
//!    it, announces the link (`device.link`) in every community, and prints a device code
//!    (`qund1…`: certificate, communities, addresses to dial).
//! 3. On the new device: `qun device add <code>` stores the certificate in its keyfile and
//!    queues the communities to join; `qun up` then catches up, announces the link itself
//!    (`device.link`, signed by the device: proof of possession) and acts as the same member.
//!
//! Linking and revoking run on the node (`crate::runtime`); this module has the device code and
//! the steps on the new device's data directory.
//!
//! `qun device revoke <device id>` announces a root-signed revocation: whatever the device
//! wrote that this node had not seen stops counting (docs/authorization.md); losing a
//! device never loses the identity (the backup phrase restores the root).

use crate::config::DataDir;
use crate::error::{Error, Result};
use crate::keystore::{self, Passphrase};
use libp2p::Multiaddr;
use qun_crdt::CommunityId;
use qun_identity::keyfile::KeyBundle;
use qun_identity::{DeviceCert, DeviceId, Limits, Signed};
use serde::{Deserialize, Serialize};

/// Prefix of device codes.
pub const PREFIX: &str = "qund1";

/// What a new device needs: its certificate, the communities to join, where to find them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCode {
    /// The root-signed certificate.
    pub cert: Vec<u8>,
    /// Communities the member belongs to.
    pub communities: Vec<CommunityId>,
    /// Addresses of the linking device.
    pub addrs: Vec<Vec<u8>>,
}

impl DeviceCode {
    /// Text form.
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}{}",
            bs58::encode(postcard::to_allocvec(self).unwrap_or_default()).into_string()
        )
    }

    /// Parse the text form.
    pub fn decode(s: &str) -> Result<Self> {
        let s = s.trim();
        // base58 decoding is quadratic: refuse long input before decoding it.
        if s.len() > crate::invite::MAX_CODE_LEN {
            return Err(Error::BadInvite("too long".into()));
        }
        let body = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| Error::BadInvite(format!("a device code starts with {PREFIX}")))?;
        let bytes = bs58::decode(body).into_vec().map_err(|_| {
            Error::BadInvite("it has characters no device code has (0, O, I, l)".into())
        })?;
        let (code, rest) = postcard::take_from_bytes::<DeviceCode>(&bytes).map_err(|e| {
            tracing::debug!("device code does not decode: {e}");
            Error::BadInvite("it is cut off or altered (part of it is missing or changed)".into())
        })?;
        if !rest.is_empty() || code.communities.len() > 1024 || code.addrs.len() > 16 {
            return Err(Error::BadInvite("malformed device code".into()));
        }
        Ok(code)
    }
}

/// A keyfile with a device key only (waiting for `device add`).
pub fn init_device(dir: &DataDir, pass: &Passphrase) -> Result<DeviceId> {
    if dir.keyfile().exists() {
        return Err(Error::Config(format!(
            "an identity already exists at {}",
            dir.keyfile().display()
        )));
    }
    let device = qun_identity::SecretIdentity::generate()?;
    let id = device.device_id();
    let b = KeyBundle {
        root: None,
        device,
        device_cert: None,
    };
    keystore::save(&dir.keyfile(), &b, pass)?;
    Ok(id)
}

/// Store a device code's certificate in the keyfile and queue its communities for joining
/// (the node must not be running).
pub fn add_device(dir: &DataDir, code: &str, pass: Option<&str>) -> Result<DeviceCode> {
    let code = DeviceCode::decode(code)?;
    let mut b = keystore::open(&dir.keyfile(), pass)?;
    let cert =
        Signed::<DeviceCert>::from_bytes(&code.cert, &Limits::default(), crate::clock::now())?;
    if cert.value().device != b.device.device_id() {
        return Err(Error::BadInvite(
            "this device code certifies another device".into(),
        ));
    }
    if b.root.is_some() {
        return Err(Error::Config(
            "this data directory holds a root key already; use a fresh one (`qun init --device`)"
                .into(),
        ));
    }
    b.device_cert = Some(code.cert.clone());
    let pass = match pass
        .map(str::to_string)
        .or_else(|| std::env::var(keystore::PASSPHRASE_ENV).ok())
    {
        Some(p) if !p.is_empty() => Passphrase::Given(p),
        _ => {
            let bytes = qun_identity::keyfile::read(&dir.keyfile())?;
            if qun_identity::keyfile::is_encrypted(&bytes)? {
                return Err(Error::Config(
                    "set QUN_PASSPHRASE to re-seal the encrypted keyfile".into(),
                ));
            }
            Passphrase::None
        }
    };
    keystore::save(&dir.keyfile(), &b, &pass)?;
    let mut store = crate::store::sled::SledStore::open(&dir.store())?;
    for c in &code.communities {
        crate::store::Store::set_joining(&mut store, c, Some(None))?;
    }
    let mut cfg = crate::config::Config::load(&dir.config())?;
    for a in &code.addrs {
        if let Ok(m) = Multiaddr::try_from(a.clone()) {
            let s = m.to_string();
            if !cfg.dial.contains(&s) {
                cfg.dial.push(s);
            }
        }
    }
    cfg.save(&dir.config())?;
    Ok(code)
}
