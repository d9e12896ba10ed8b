//! The fan-out envelope: one Olm message per recipient device, and the payload inside each.
//!
//! Wire form (postcard, strict, see [`crate::codec`]):
//!
//! ```text
//! FanOut  { version: u8 = 1, sender_device: [u8; 32], sender_key: [u8; 32], items: [Item] }
//! Item    { recipient_key: [u8; 32], kind: u8 (0 pre-key, 1 normal), ciphertext: bytes }
//! Payload { from_member, from_device, to_member, recipient, seq, sent_at, body, padding }
//! ```
//!
//! The envelope is addressed by the recipients' curve25519 identity keys and is not signed: Olm
//! authenticates each message to the sender's identity key, and the payload repeats who sent
//! it to whom so a message cannot be re-wrapped under another device. Payloads are padded to a
//! multiple of [`PAD_TO`] bytes.

use crate::codec;
use crate::error::{Error, Result};
use qun_identity::{DeviceId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Format version of the fan-out envelope.
pub const VERSION: u8 = 1;
/// Largest envelope accepted, in bytes; checked before anything is parsed.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;
/// Largest message body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most recipient devices in one envelope.
pub const MAX_RECIPIENTS: usize = 64;
/// Payloads are padded to a multiple of this many bytes, so sizes tell little.
pub const PAD_TO: usize = 256;
/// Largest payload, in bytes (body, header and padding).
pub(crate) const MAX_PAYLOAD_BYTES: usize = MAX_BODY_BYTES + 2 * PAD_TO;
/// Largest Olm message in one item, in bytes: the payload plus Olm's header, MAC and block
/// padding, with room to spare.
pub const MAX_ITEM_BYTES: usize = MAX_PAYLOAD_BYTES + 256;

/// Which kind of Olm message an item carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Starts a session (carries the sender's identity, base and one-time keys).
    PreKey,
    /// A message of an established session.
    Normal,
}

impl Kind {
    fn to_u8(self) -> u8 {
        match self {
            Kind::PreKey => 0,
            Kind::Normal => 1,
        }
    }
}

/// One recipient device's Olm message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The recipient device's curve25519 identity key.
    pub recipient_key: [u8; 32],
    kind: u8,
    /// The Olm message bytes.
    pub ciphertext: Vec<u8>,
}

impl Item {
    /// An item (the ciphertext is not checked here; its recipient parses it).
    pub fn new(recipient_key: [u8; 32], kind: Kind, ciphertext: Vec<u8>) -> Self {
        Item {
            recipient_key,
            kind: kind.to_u8(),
            ciphertext,
        }
    }

    /// The kind of Olm message (checked when the envelope was decoded).
    pub fn kind(&self) -> Kind {
        if self.kind == 0 {
            Kind::PreKey
        } else {
            Kind::Normal
        }
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("kind", &self.kind())
            .field("ciphertext", &format_args!("<{}b>", self.ciphertext.len()))
            .finish()
    }
}

/// A message for several devices: the recipient member's and the sender's other devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanOut {
    version: u8,
    /// The sending device (its qun device key).
    pub sender_device: DeviceId,
    /// The sending device's curve25519 identity key.
    pub sender_key: [u8; 32],
    /// One Olm message per recipient device, in the order of their identity keys.
    pub items: Vec<Item>,
}

impl FanOut {
    /// An envelope of `items`, sorted by recipient key (as [`FanOut::decode`] requires).
    pub fn new(sender_device: DeviceId, sender_key: [u8; 32], mut items: Vec<Item>) -> Self {
        items.sort_by_key(|i| i.recipient_key);
        FanOut {
            version: VERSION,
            sender_device,
            sender_key,
            items,
        }
    }

    /// Decode untrusted bytes: size first, strict postcard, version, at most
    /// [`MAX_RECIPIENTS`] items with distinct, ascending recipient keys, known kinds, and no
    /// item over [`MAX_ITEM_BYTES`]. The Olm messages themselves are parsed only by their
    /// recipient.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let f: FanOut = codec::decode("envelope", bytes, MAX_ENVELOPE_BYTES)?;
        if f.version != VERSION {
            return Err(Error::decode(
                "envelope",
                format!("unknown version {}", f.version),
            ));
        }
        if f.items.is_empty() {
            return Err(Error::decode("envelope", "no recipients"));
        }
        if f.items.len() > MAX_RECIPIENTS {
            return Err(Error::TooLarge {
                what: "envelope recipients",
                limit: MAX_RECIPIENTS,
                actual: f.items.len(),
            });
        }
        if !f
            .items
            .windows(2)
            .all(|w| w[0].recipient_key < w[1].recipient_key)
        {
            return Err(Error::decode(
                "envelope",
                "recipient keys not strictly ascending",
            ));
        }
        for item in &f.items {
            if item.kind > 1 {
                return Err(Error::decode(
                    "envelope",
                    format!("unknown kind {}", item.kind),
                ));
            }
            if item.ciphertext.len() > MAX_ITEM_BYTES {
                return Err(Error::TooLarge {
                    what: "envelope item",
                    limit: MAX_ITEM_BYTES,
                    actual: item.ciphertext.len(),
                });
            }
        }
        Ok(f)
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// The item addressed to the device with identity key `key`.
    pub fn item_for(&self, key: &[u8; 32]) -> Option<&Item> {
        self.items
            .binary_search_by(|i| i.recipient_key.cmp(key))
            .ok()
            .and_then(|ix| self.items.get(ix))
    }
}

/// What one device's Olm message decrypts to (no `Debug`: it holds the plaintext).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub(crate) from_member: MemberId,
    pub(crate) from_device: DeviceId,
    /// The other party of the conversation from the sender's side: the recipient member (also
    /// in the copies for the sender's own devices).
    pub(crate) to_member: MemberId,
    /// The device this copy is for.
    pub(crate) recipient: DeviceId,
    /// The sender device's message counter: `(from_device, seq)` names the message.
    pub(crate) seq: u64,
    pub(crate) sent_at: Timestamp,
    pub(crate) body: Vec<u8>,
    /// Zeros, so the encoded payload is a multiple of [`PAD_TO`] bytes.
    pub(crate) padding: Vec<u8>,
}

impl Payload {
    /// Encode with padding to a multiple of [`PAD_TO`].
    pub(crate) fn encode_padded(mut self) -> Vec<u8> {
        self.padding.clear();
        let base = codec::encode(&self).len(); // with a one-byte zero length for padding
        for pad in 0..2 * PAD_TO {
            let len = base - 1 + varint_len(pad) + pad;
            if len.is_multiple_of(PAD_TO) {
                self.padding = vec![0; pad];
                break;
            }
        }
        codec::encode(&self)
    }

    /// Decode a decrypted payload strictly; padding must be zeros.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let p: Payload = codec::decode("payload", bytes, MAX_PAYLOAD_BYTES)?;
        if p.body.len() > MAX_BODY_BYTES {
            return Err(Error::TooLarge {
                what: "message body",
                limit: MAX_BODY_BYTES,
                actual: p.body.len(),
            });
        }
        if p.padding.iter().any(|b| *b != 0) || p.padding.len() >= 2 * PAD_TO {
            return Err(Error::decode("payload", "bad padding"));
        }
        Ok(p)
    }
}

/// Length of postcard's varint encoding of `n`.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use qun_identity::SecretIdentity;

    #[test]
    fn payloads_are_padded_to_a_multiple() {
        let m = SecretIdentity::from_seed(&[1; 32]);
        let d = SecretIdentity::from_seed(&[2; 32]);
        for n in [0usize, 1, 100, 127, 128, 255, 256, 1000, 5000] {
            let p = Payload {
                from_member: m.member_id(),
                from_device: d.device_id(),
                to_member: m.member_id(),
                recipient: d.device_id(),
                seq: 7,
                sent_at: Timestamp::from_millis(1),
                body: vec![9; n],
                padding: Vec::new(),
            };
            let bytes = p.clone().encode_padded();
            assert_eq!(bytes.len() % PAD_TO, 0, "body {n}");
            let back = Payload::decode(&bytes).unwrap();
            assert_eq!(back.body, p.body);
        }
    }
}
