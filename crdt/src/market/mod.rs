//! The community market (issue 15): every member's shop of listings (offers and requests),
//! signed deals between a buyer and a seller with an optional arbiter, and reviews that only a
//! finished deal can earn. `docs/market.md` is the specification.
//!
//! Everything here is a *message-only governance action* (like roles, moderation and
//! endorsements): the action carries all its data, the governance index folds it into
//! registers, and authorization reads the market as it stood at the change's own dependencies.
//! That is what makes the market's rules the same on every node and unforgeable:
//!
//! * a deal transition is judged against the deal's state in its own causal past, so a
//!   transition that does not cite the state it leaves is refused (backdating gains nothing);
//! * revocation wins and cascades (docs/authorization.md): a removed member's concurrent
//!   listings, proposals, transitions and reviews are void, and so is what was built on them;
//! * concurrent transitions of one deal resolve by one rule every node applies
//!   ([`deal::concurrency_rank`]).
//!
//! Modules: [`listing`] (shops and their limits), [`deal`] (the state machine), [`review`],
//! `auth` (the rules per action) and [`view`] (pure reads over valid changes).

pub(crate) mod auth;
pub mod deal;
pub mod listing;
pub mod review;
pub mod view;

use crate::error::{Error, Result};
use crate::gov::{GovState, HideInfo};
use crate::model::policy::Role;
use qun_identity::MemberId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use deal::{DealState, DealStatus, DealTerms, Outcome, Proposal, Step};
pub use listing::{Listing, ListingKind, ListingStatus, Price};
pub use review::Review;
pub use view::{DealEvent, DealView, ListingQuery, ListingView, ReviewEdge, ReviewView};

/// Longest listing or deal key, bytes.
pub const MAX_MARKET_KEY: usize = 40;
/// Most listings one member may have that are not closed (a closed one can be reopened only
/// while the member is under this bound).
pub const MAX_OPEN_LISTINGS: usize = 200;
/// Most roles a role-limited market policy may name.
pub const MAX_POLICY_ROLES: usize = 16;

/// Check a listing or deal key: 1-40 of `[a-z0-9-]`.
pub(crate) fn check_key(what: &'static str, key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= MAX_MARKET_KEY
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::MarketField {
            field: what,
            reason: format!("key must be 1-{MAX_MARKET_KEY} of [a-z0-9-]"),
        })
    }
}

macro_rules! market_id {
    ($(#[$doc:meta])* $name:ident, $who:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            /// The member the id belongs to (only that member may create it).
            pub $who: MemberId,
            /// Its key, chosen by that member: 1-40 of `[a-z0-9-]`.
            pub key: String,
        }

        impl $name {
            /// A checked id.
            pub fn new($who: MemberId, key: &str) -> Result<Self> {
                check_key($what, key)?;
                Ok($name { $who, key: key.to_string() })
            }

            /// Rules on the id's own fields.
            pub fn check(&self) -> Result<()> {
                check_key($what, &self.key)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", self.$who, self.key)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({}/{})"), self.$who.short(), self.key)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            /// `<member>/<key>`.
            fn from_str(s: &str) -> Result<Self> {
                let (m, k) = s.split_once('/').ok_or_else(|| Error::MarketField {
                    field: $what,
                    reason: "expected <member>/<key>".into(),
                })?;
                $name::new(m.parse()?, k)
            }
        }
    };
}

market_id!(
    /// A listing: its owner and a key the owner chose. Only the owner writes it.
    ListingId,
    owner,
    "listing id"
);
market_id!(
    /// A deal: the member who proposed it and a key the proposer chose.
    DealId,
    proposer,
    "deal id"
);

/// Who may trade (list, propose and accept deals): policy as data, changed by the `policy`
/// permission (`market.policy`). A community without a market policy has an open market.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum MarketPolicy {
    /// Every member.
    #[default]
    Open,
    /// Nobody: the market is off. Deals already accepted can still finish.
    Off,
    /// Members holding one of these roles.
    Roles {
        /// The roles.
        roles: BTreeSet<Role>,
    },
}

impl MarketPolicy {
    /// Rules of the policy itself.
    pub fn check(&self) -> Result<()> {
        match self {
            MarketPolicy::Roles { roles } if roles.is_empty() => Err(Error::MarketField {
                field: "market policy",
                reason: "name at least one role (or turn the market off)".into(),
            }),
            MarketPolicy::Roles { roles } if roles.len() > MAX_POLICY_ROLES => {
                Err(Error::TooLarge {
                    what: "market policy roles",
                    limit: MAX_POLICY_ROLES,
                    actual: roles.len(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether a member holding `role` may trade under this policy.
    pub fn allows_role(&self, role: &Role) -> bool {
        match self {
            MarketPolicy::Open => true,
            MarketPolicy::Off => false,
            MarketPolicy::Roles { roles } => roles.contains(role),
        }
    }

    /// Whether member `m` may trade under this policy in `st`.
    pub fn allows(&self, st: &GovState, m: &MemberId) -> bool {
        match (self, st.role(m)) {
            (_, None) => false,
            (MarketPolicy::Open, Some(_)) => true,
            (MarketPolicy::Off, Some(_)) => false,
            (MarketPolicy::Roles { roles }, Some(r)) => roles.contains(r),
        }
    }
}

impl fmt::Display for MarketPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarketPolicy::Open => f.write_str("open"),
            MarketPolicy::Off => f.write_str("off"),
            MarketPolicy::Roles { roles } => {
                let names: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
                write!(f, "roles:{}", names.join(","))
            }
        }
    }
}

impl FromStr for MarketPolicy {
    type Err = Error;
    /// `open`, `off`, `roles:ROLE[,ROLE...]`.
    fn from_str(s: &str) -> Result<Self> {
        let p = match s {
            "open" => MarketPolicy::Open,
            "off" => MarketPolicy::Off,
            other => match other.strip_prefix("roles:") {
                Some(list) => MarketPolicy::Roles {
                    roles: list
                        .split(',')
                        .map(|r| r.trim().parse())
                        .collect::<Result<_>>()?,
                },
                None => {
                    return Err(Error::MarketField {
                        field: "market policy",
                        reason: "use open, off or roles:ROLE[,ROLE...]".into(),
                    });
                }
            },
        };
        p.check()?;
        Ok(p)
    }
}

/// The market at one frontier of the governance document (part of [`GovState`]).
#[derive(Clone, Debug, Default)]
pub struct MarketState {
    /// Who may trade.
    pub policy: MarketPolicy,
    /// Every listing as its owner last wrote it (owners that are no longer members included;
    /// views leave them out).
    pub listings: BTreeMap<ListingId, Arc<Listing>>,
    /// Listings hidden by a moderator.
    pub hidden: BTreeMap<ListingId, HideInfo>,
    /// Every deal in its current state.
    pub deals: BTreeMap<DealId, Arc<DealState>>,
    /// Reviews: `(deal, reviewer)` → the reviewer's latest review of that deal.
    pub reviews: BTreeMap<(DealId, MemberId), Arc<Review>>,
}

impl MarketState {
    /// The hide in force on a listing: a hide by someone ranking below the listing's owner
    /// (in `st`) hides nothing (moderation by rank, docs/authorization.md rule 10).
    pub fn hide_of(&self, st: &GovState, id: &ListingId) -> Option<&HideInfo> {
        let rank = |m: &MemberId| st.role(m).map(Role::rank).unwrap_or(0);
        self.hidden
            .get(id)
            .filter(|h| rank(&h.by) >= rank(&id.owner))
    }
}
