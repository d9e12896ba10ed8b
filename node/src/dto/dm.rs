//! Direct messages as the API, the page and the CLI see them (see `crate::runtime::dm` and
//! docs/privacy.md): conversations with unread counts, the messages of one conversation, and
//! what sending did.

use qun_identity::{DeviceId, MemberId, Timestamp};
use serde::{Deserialize, Serialize};

/// One conversation: the other member, how many messages it holds and how many are unread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The other member (this member itself for notes to its own devices).
    pub member: MemberId,
    /// Their name in a community both are in, when they chose one.
    pub name: Option<String>,
    /// Messages kept, both ways.
    pub messages: usize,
    /// Messages received since the conversation was last read.
    pub unread: usize,
    /// When the last message was sent (the sender's claim), ms since the epoch.
    pub last_at: Timestamp,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmMessage {
    /// The sending device.
    pub device: DeviceId,
    /// The sending device's counter: with `device`, the message's id on every device.
    pub seq: u64,
    /// Whether this member wrote it (on this device or another of its devices).
    pub from_me: bool,
    /// When the sender says it sent it.
    pub sent_at: Timestamp,
    /// When this node stored it.
    pub received_at: Timestamp,
    /// The text.
    pub text: String,
}

/// What `qun dm send` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmSent {
    /// The message's counter on this device.
    pub seq: u64,
    /// Devices the envelope holds a copy for (the recipient's and our other ones).
    pub devices: usize,
    /// Copies sent straight to a connected device.
    pub direct: usize,
    /// Copies handed to connected common peers to keep for devices not connected.
    pub stored: usize,
}

/// A message to send (the API's body and the page's form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendDm {
    /// The text.
    pub text: String,
}
