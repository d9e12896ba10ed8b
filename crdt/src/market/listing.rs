//! Listings: what a member offers or asks for in its shop, with the limits every node checks
//! before a listing is admitted.

use crate::error::{Error, Result};
use crate::limits::Limits;
use qun_identity::ContentId;
use serde::{Deserialize, Serialize};

/// Longest listing title, bytes.
pub const MAX_TITLE: usize = 200;
/// Longest listing description (Markdown, stored as text), bytes.
pub const MAX_DESCRIPTION: usize = 8 * 1024;
/// Most images (blob hashes) on a listing.
pub const MAX_IMAGES: usize = 8;
/// Most tags on a listing.
pub const MAX_TAGS: usize = 10;
/// Longest tag, bytes.
pub const MAX_TAG: usize = 32;
/// Longest location text, bytes.
pub const MAX_LOCATION: usize = 200;
/// Largest quantity a listing or deal may name.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// An offer (the owner sells) or a request (the owner buys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingKind {
    /// The owner sells: whoever proposes a deal on it is the buyer.
    Offer,
    /// The owner buys: whoever proposes a deal on it is the seller.
    Request,
}

/// A price in the community's unit, or open to negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Price {
    /// An amount per unit, in the community's unit.
    Amount {
        /// How much.
        amount: u64,
    },
    /// To be agreed in the deal.
    Negotiable,
}

/// Whether a listing takes deals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Takes proposals.
    Open,
    /// Held for someone: takes no new proposals.
    Reserved,
    /// Done: takes no new proposals.
    Closed,
}

/// A listing as its owner writes it (the whole listing is written each time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Offer or request.
    pub kind: ListingKind,
    /// Title, 1-200 bytes.
    pub title: String,
    /// Markdown text, at most 8 KiB.
    #[serde(default)]
    pub description: String,
    /// Price per unit.
    pub price: Price,
    /// How many, 1 to 1,000,000.
    pub quantity: u32,
    /// Images: blake3 ids of blobs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ContentId>,
    /// Tags: `[a-z0-9-]`, 1-32 bytes each, at most 10, no duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Where (free text).
    #[serde(default)]
    pub location: String,
    /// Open, reserved or closed.
    pub status: ListingStatus,
}

fn field(field: &'static str, reason: &str) -> Error {
    Error::MarketField {
        field,
        reason: reason.to_string(),
    }
}

/// Check a tag: 1-32 of `[a-z0-9-]`.
pub fn check_tag(t: &str) -> Result<()> {
    let ok = !t.is_empty()
        && t.len() <= MAX_TAG
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(field("tag", "tags are 1-32 of [a-z0-9-]"))
    }
}

/// Check a quantity: 1 to [`MAX_QUANTITY`].
pub(crate) fn check_quantity(q: u32) -> Result<()> {
    if q == 0 {
        return Err(field("quantity", "at least 1"));
    }
    Limits::check("quantity", MAX_QUANTITY as usize, q as usize)
}

impl Listing {
    /// Rules on the listing's own fields (sizes and formats).
    pub fn check(&self) -> Result<()> {
        if self.title.trim().is_empty() {
            return Err(field("title", "a listing needs a title"));
        }
        Limits::check("listing title", MAX_TITLE, self.title.len())?;
        Limits::check(
            "listing description",
            MAX_DESCRIPTION,
            self.description.len(),
        )?;
        Limits::check("listing location", MAX_LOCATION, self.location.len())?;
        Limits::check("listing images", MAX_IMAGES, self.images.len())?;
        Limits::check("listing tags", MAX_TAGS, self.tags.len())?;
        check_quantity(self.quantity)?;
        for (i, t) in self.tags.iter().enumerate() {
            check_tag(t)?;
            if self.tags[..i].contains(t) {
                return Err(field("tag", "duplicate tag"));
            }
        }
        Ok(())
    }

    /// Whether the listing matches a search: every tag given, and the text (case-insensitive)
    /// in its title, description or tags.
    pub fn matches(&self, text: Option<&str>, tags: &[String]) -> bool {
        if !tags.iter().all(|t| self.tags.contains(t)) {
            return false;
        }
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => true,
            Some(t) => {
                let t = t.to_lowercase();
                self.title.to_lowercase().contains(&t)
                    || self.description.to_lowercase().contains(&t)
                    || self.tags.iter().any(|x| x.contains(&t))
            }
        }
    }
}
