//! Notifications: what others did that concerns this member (a reply to its post, a mention,
//! a reaction), as `GET /api/v1/notifications`, `qun notifications` and the page show them.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// A reply to one of my posts.
    Reply,
    /// A post that mentions me (`@my name`).
    Mention,
    /// A reaction to one of my posts.
    Reaction,
}

/// One notification.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notification {
    /// Stable id (the same event always has the same id), for marking it read.
    pub id: String,
    /// What happened.
    pub kind: NotificationKind,
    /// Community id.
    pub community: String,
    /// Community name.
    pub community_name: String,
    /// Channel id.
    pub channel: String,
    /// The post: the reply, the mentioning post, or my post that was reacted to.
    pub post: String,
    /// Who (member id).
    pub by: String,
    /// Their display name (or a short id).
    pub by_name: String,
    /// The start of the post's text.
    pub excerpt: String,
    /// The reaction, for reactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// When (the post's time on its author's clock, never later than this node's; for a
    /// reaction, the time of the post reacted to), Unix ms.
    pub at: u64,
    /// Not marked read yet.
    #[serde(default)]
    pub unread: bool,
}

/// `GET /api/v1/notifications`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notifications {
    /// How many are unread.
    pub unread: usize,
    /// Unread per community id.
    pub unread_by_community: std::collections::BTreeMap<String, usize>,
    /// Newest first.
    pub items: Vec<Notification>,
}

/// `POST /api/v1/notifications/read`: mark these ids read (all shown ones when absent).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MarkRead {
    /// Ids from [`Notification::id`].
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}

/// Whether `text` mentions a member called `name` (display name) with id `id`: `@` then the
/// name (case does not matter; spaces in the name may be left out) or the first 8 or more
/// characters of the id, followed by the end or something that is not a letter or digit.
pub fn mentions(text: &str, name: Option<&str>, id: &str) -> bool {
    let mut forms: Vec<String> = Vec::new();
    if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
        let n = n.to_lowercase();
        forms.push(n.split_whitespace().collect::<String>());
        forms.push(n);
    }
    let bounded = |rest: &str| rest.chars().next().is_none_or(|c| !c.is_alphanumeric());
    for (i, _) in text.match_indices('@').take(MAX_ATS) {
        // `ada@example.org` is an address, not a mention.
        if text[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        // What follows, bounded.
        let after: String = text[i + 1..].chars().take(MAX_NAME_CHARS + 1).collect();
        let lower = after.to_lowercase();
        if forms
            .iter()
            .any(|f| lower.strip_prefix(f.as_str()).is_some_and(bounded))
        {
            return true;
        }
        // An id prefix, as typed (ids are case-sensitive).
        let typed: String = after
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if typed.len() >= 8 && id.starts_with(&typed) {
            return true;
        }
    }
    false
}

/// Most `@`s of one text looked at (a post of 64 KiB of `@` costs no more than 32).
const MAX_ATS: usize = 32;

/// Longest display name compared in a mention (characters).
const MAX_NAME_CHARS: usize = 100;

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mention_forms() {
        let id = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let n = Some("Ada Lovelace");
        assert!(mentions("thanks @Ada Lovelace!", n, id));
        assert!(mentions("@adalovelace see this", n, id));
        assert!(mentions("cc @z6MkhaXgBZ", n, id));
        assert!(!mentions("cc @z6Mkha", n, id), "too short an id prefix");
        assert!(!mentions("@Ada Lovelaces", n, id));
        assert!(!mentions("Ada Lovelace without the at", n, id));
        assert!(!mentions("mail ada@lovelace.example", n, id));
        assert!(mentions("@ada", Some("Ada"), id));
        assert!(!mentions("@adam", Some("Ada"), id));
        assert!(!mentions("@", None, id));
        assert!(mentions("Straße @ÄDA", Some("äda"), id));
        assert!(!mentions(
            "write to ada@lovelace.example",
            Some("Lovelace"),
            id
        ));
    }
}
