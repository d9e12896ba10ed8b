//! Ids and names typed by people or sent by clients, parsed once with an error that says what
//! a valid one looks like (the API answers 400 with this hint, the page shows it).

use crate::error::{Error, Result};
use qun_crdt::{AdmissionPolicy, ChannelId, CommunityId, PostId, Role};
use qun_identity::{DeviceId, MemberId};

/// A community id.
pub fn community(id: &str) -> Result<CommunityId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a community id: {id:?}"),
        hint: "ids look like b… (53 characters); see GET /api/v1/communities",
    })
}

/// A member id.
pub fn member(id: &str) -> Result<MemberId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a member id: {id:?}"),
        hint: "member ids look like z6Mk…",
    })
}

/// A post id.
pub fn post(id: &str) -> Result<PostId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a post id: {id:?}"),
        hint: "post ids look like <channel>/<window>/<key>",
    })
}

/// A channel id.
pub fn channel(id: &str) -> Result<ChannelId> {
    ChannelId::new(id).map_err(|e| Error::Invalid {
        reason: e.to_string(),
        hint: "channel ids are [a-z0-9-], e.g. general",
    })
}

/// A channel id derived from its title: lower-case ASCII letters and digits, other runs of
/// characters as one `-`, at most 32 bytes; a title with no ASCII letters or digits (`市场`)
/// gets `channel-` and 6 hex digits of its hash. `-2`, `-3`, … is added while `taken` says the
/// id is in use, so a new channel never overwrites one this node knows (two moderators who
/// create "Market" at once on two nodes both write `market`: the later write wins, as for any
/// channel setting).
pub fn channel_from_title(title: &str, taken: impl Fn(&str) -> bool) -> Result<ChannelId> {
    let mut slug = String::new();
    for c in title.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(24);
    let mut slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        let h = blake3::hash(title.trim().as_bytes()).to_hex();
        slug = format!("channel-{}", &h.as_str()[..6]);
    }
    let mut id = slug.clone();
    let mut n = 2u32;
    while taken(&id) {
        id = format!("{slug}-{n}");
        n += 1;
    }
    channel(&id)
}

/// A device id.
pub fn device(id: &str) -> Result<DeviceId> {
    id.parse().map_err(|_| Error::Invalid {
        reason: format!("not a device id: {id:?}"),
        hint: "device ids look like z6Mk…; `qun init --device` prints it on the new device",
    })
}

/// An admission policy: `open`, `invite`, `endorsements:K` or `trust-flow`.
pub fn policy(text: &str) -> Result<AdmissionPolicy> {
    text.parse().map_err(|e: qun_crdt::Error| Error::Invalid {
        reason: e.to_string(),
        hint: "policy: open, invite, endorsements:K or trust-flow",
    })
}

/// A role: `member`, `moderator` or a custom role.
pub fn role(text: &str) -> Result<Role> {
    text.parse().map_err(|e: qun_crdt::Error| Error::Invalid {
        reason: e.to_string(),
        hint: "roles: moderator, member, or a defined custom role",
    })
}

#[cfg(test)]
mod tests {
    use super::channel_from_title;

    #[test]
    fn channel_ids_from_titles() {
        let free = |_: &str| false;
        let id = |t: &str| channel_from_title(t, free).unwrap().to_string();
        assert_eq!(id("Market"), "market");
        assert_eq!(id("  Rust & Tea: Tuesdays!  "), "rust-tea-tuesdays");
        assert_eq!(id("Ça va?"), "a-va");
        assert!(id("市场").starts_with("channel-"), "{}", id("市场"));
        assert_ne!(id("市场"), id("集市"));
        assert!(id(&"x".repeat(100)).len() <= 32);
        let taken = |s: &str| s == "market" || s == "market-2";
        assert_eq!(
            channel_from_title("Market", taken).unwrap().to_string(),
            "market-3"
        );
    }
}
