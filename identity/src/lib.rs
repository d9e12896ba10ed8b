//! Member identities for qun: ed25519 keys, signed envelopes, device delegation,
//! endorsements and invitations, backup phrases and encrypted keyfiles.
//!
//! Everything here is a pure function of its inputs (no clock reads, no network); only
//! [`keyfile`] touches the file system, and [`Timestamp::now`] is the one clock read, for
//! callers that want it.
//!
//! ```
//! use qun_identity::{Endorsement, Envelope, Limits, SecretIdentity, Signed, Timestamp, Weight};
//!
//! let alice = SecretIdentity::from_seed(&[1; 32]);
//! let bob = SecretIdentity::from_seed(&[2; 32]);
//! let now = Timestamp::from_millis(1_700_000_000_000);
//!
//! // Alice endorses Bob; the envelope travels as bytes.
//! let e = Endorsement::new(alice.member_id(), bob.member_id(), Weight::FULL, now);
//! let bytes = Signed::sign(&alice, e)?.to_bytes();
//!
//! // Anyone can check it: size limit, signature, kind, body rules, validity window.
//! let got: Signed<Endorsement> = Envelope::decode(&bytes, &Limits::default())?.verify(now)?;
//! assert_eq!(got.value().to, bob.member_id());
//! # Ok::<(), qun_identity::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, unreachable_pub)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod canonical;
pub mod consensus;
mod content;
pub mod device;
#[cfg(any(test, feature = "test-utils"))]
pub mod edge_sigs;
pub mod endorsement;
pub mod envelope;
mod error;
pub mod keyfile;
mod keys;
#[cfg(feature = "libp2p")]
mod libp2p;
pub mod phrase;
mod time;

pub use canonical::Limits;
pub use consensus::ConsensusKey;
pub use content::ContentId;
pub use device::{ActsFor, Attributed, Capabilities, Delegations, DeviceCert, Revocation};
pub use endorsement::{Endorsement, EndorsementBook, Invitation, Scope, Topic, Weight};
pub use envelope::{Envelope, Signed, SignedBody, domain_tag, verify_batch};
pub use error::{Error, Result};
pub use keyfile::{KdfParams, KeyBundle, Protection};
pub use keys::{DeviceId, MemberId, PublicIdentity, SecretIdentity, verify_raw};
pub use time::Timestamp;
