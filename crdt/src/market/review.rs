//! Reviews: what a party of a finished deal says about the other party. Only a deal that is
//! completed (or resolved) in the review's own causal past earns one, one per party per deal
//! (a later review by the same party replaces its earlier one).

use crate::error::{Error, Result};
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};

/// Longest review text, bytes.
pub const MAX_REVIEW_TEXT: usize = 2_000;

/// A review as it stands: about whom (the reviewer's counterpart in the deal), how many stars.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The reviewed member: the other party of the deal (never named by the reviewer, so a
    /// review cannot be pointed at anyone else).
    pub about: MemberId,
    /// 1-5.
    pub stars: u8,
    /// Free text.
    pub text: String,
}

/// Check a rating and its text.
pub fn check(stars: u8, text: &str) -> Result<()> {
    if !(1..=5).contains(&stars) {
        return Err(Error::MarketField {
            field: "stars",
            reason: format!("a review gives 1-5 stars, not {stars}"),
        });
    }
    if text.len() > MAX_REVIEW_TEXT {
        return Err(Error::TooLarge {
            what: "review text",
            limit: MAX_REVIEW_TEXT,
            actual: text.len(),
        });
    }
    Ok(())
}
