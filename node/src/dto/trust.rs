//! Trust from this member's point of view: rankings, why a member ranks where they do, and the
//! endorsements they rest on.

use qun_identity::MemberId;
use serde::{Deserialize, Serialize};

/// One member in a trust ranking.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustEntry {
    /// Rank, 1-based.
    pub rank: usize,
    /// Member.
    pub member: String,
    /// Score (sums to 1 over the graph).
    pub score: f64,
    /// Admitted by the trust flow.
    pub admitted: Option<bool>,
    /// Member of the community.
    pub is_member: bool,
}

/// Why a member is trusted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustWhy {
    /// Member.
    pub member: String,
    /// Score.
    pub score: f64,
    /// Admitted by the flow.
    pub admitted: Option<bool>,
    /// Top endorsers: member, weight, share of the score.
    pub endorsers: Vec<(String, f32, f64)>,
    /// Strongest paths from the viewer/founders: members along the path and strength.
    pub paths: Vec<(Vec<String>, f64)>,
}

/// An endorsement, for display.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndorsementView {
    /// Who endorses.
    pub from: String,
    /// Whom.
    pub to: String,
    /// Topic (`*` for general trust).
    pub topic: String,
    /// Weight in [-1, 1]; 0 is a revocation.
    pub weight: f64,
    /// When, ms.
    pub created: u64,
    /// A note.
    pub note: String,
}

/// Which endorsements to list: the latest per (from, to, topic), only those in force unless
/// `all`, only those given or received by `member` when set.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndorsementQuery {
    /// Only those given or received by this member.
    pub member: Option<MemberId>,
    /// Include revocations (weight 0) and expired endorsements.
    pub all: bool,
}
