//! The signed genesis of a community; its hash is the community id.

use super::policy::AdmissionPolicy;
use crate::error::{Error, Result};
use crate::ids::CommunityId;
use qun_identity::{ContentId, Limits, MemberId, PublicIdentity, Signed, SignedBody, Timestamp};
use serde::{Deserialize, Serialize};

/// Longest community name, bytes.
pub const MAX_NAME: usize = 80;
/// Longest description, bytes.
pub const MAX_DESCRIPTION: usize = 2_000;
/// Most founders.
pub const MAX_FOUNDERS: usize = 16;
/// Default content window: one week. Each channel gets one content document per window.
pub const DEFAULT_WINDOW_MS: u64 = 7 * 24 * 3600 * 1000;
/// Shortest allowed window: one minute (tests and simulations use short windows).
pub const MIN_WINDOW_MS: u64 = 60 * 1000;

/// What a community starts from. Signed by its first founder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Display name.
    pub name: String,
    /// Description (markdown).
    pub description: String,
    /// Founders: permanent members with every permission. The first one signs the genesis.
    pub founders: Vec<MemberId>,
    /// The admission policy at the start.
    pub policy: AdmissionPolicy,
    /// Length of a content window, milliseconds.
    pub window_ms: u64,
    /// When it was created.
    pub created: Timestamp,
    /// Random, so two communities with the same name and founders differ.
    pub nonce: [u8; 16],
}

impl SignedBody for Genesis {
    const KIND: &'static str = "community-genesis";
    const VERSION: u16 = 1;
    const MAX_BODY_BYTES: usize = 4096;

    fn check(&self) -> qun_identity::Result<()> {
        let bad = |r: &str| {
            Err(qun_identity::Error::Invalid {
                what: "genesis",
                reason: r.to_string(),
            })
        };
        if self.name.trim().is_empty() || self.name.len() > MAX_NAME {
            return bad("name must be 1-80 bytes");
        }
        if self.description.len() > MAX_DESCRIPTION {
            return bad("description longer than 2000 bytes");
        }
        if self.founders.is_empty() || self.founders.len() > MAX_FOUNDERS {
            return bad("1 to 16 founders");
        }
        let mut f = self.founders.clone();
        f.sort();
        f.dedup();
        if f.len() != self.founders.len() {
            return bad("duplicate founder");
        }
        if self.window_ms < MIN_WINDOW_MS {
            return bad("window shorter than one minute");
        }
        if self.policy.check().is_err() {
            return bad("invalid admission policy");
        }
        Ok(())
    }

    fn required_signer(&self) -> Option<PublicIdentity> {
        self.founders.first().map(|m| *m.key())
    }
}

/// A verified genesis and the community id it defines.
#[derive(Clone, Debug)]
pub struct CommunityGenesis {
    signed: Signed<Genesis>,
    id: CommunityId,
}

impl CommunityGenesis {
    /// Wrap a freshly signed genesis.
    pub fn new(signed: Signed<Genesis>) -> Self {
        let id = CommunityId(signed.id());
        CommunityGenesis { signed, id }
    }

    /// Verify genesis bytes received from a peer against the id we expect.
    pub fn from_bytes(bytes: &[u8], expected: &CommunityId) -> Result<Self> {
        let got = CommunityId(ContentId::of(bytes));
        if got != *expected {
            return Err(Error::BadGenesis(format!(
                "hash {} is not community {}",
                got.short(),
                expected.short()
            )));
        }
        // Genesis validity does not depend on the time it is checked at.
        let signed = Signed::<Genesis>::from_bytes(bytes, &Limits::default(), Timestamp::MAX)
            .map_err(|e| Error::BadGenesis(e.to_string()))?;
        Ok(CommunityGenesis::new(signed))
    }

    /// The community id.
    pub fn id(&self) -> CommunityId {
        self.id
    }

    /// The genesis body.
    pub fn value(&self) -> &Genesis {
        self.signed.value()
    }

    /// The signed envelope bytes (what peers exchange).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.signed.to_bytes()
    }

    /// Whether `m` is a founder.
    pub fn is_founder(&self, m: &MemberId) -> bool {
        self.value().founders.contains(m)
    }

    /// The window a time falls in.
    pub fn window_of(&self, t: Timestamp) -> u32 {
        let w = t.as_millis() / self.value().window_ms;
        u32::try_from(w).unwrap_or(u32::MAX)
    }

    /// `[start, end)` of a window, milliseconds.
    pub fn window_range(&self, window: u32) -> (u64, u64) {
        let w = self.value().window_ms;
        let start = u64::from(window).saturating_mul(w);
        (start, start.saturating_add(w))
    }
}
