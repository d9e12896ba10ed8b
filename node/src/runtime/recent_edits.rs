//! Edits made once per idempotency key: a form sent twice (a double click, a reload after a
//! post, a retry after a timeout) carries the same key, and the second time the node answers
//! with the first result instead of making the edit again. Keys are chosen by the local API's
//! clients (the page puts a random one in each form it renders; JSON clients send an
//! `Idempotency-Key` header); the last [`MAX_RECENT_EDITS`] are kept, in memory only (a
//! restart forgets them, as it ends every form in flight). A key is bound to the edit it was
//! first used for: the same key with a different edit (a form restored by the browser's Back
//! button and filled in again) makes the new edit.

use crate::dto::EditDone;
use qun_crdt::CommunityId;
use std::collections::{HashMap, VecDeque};

/// Most keys remembered.
pub const MAX_RECENT_EDITS: usize = 1024;
/// Longest key accepted (bytes).
pub const MAX_KEY_LEN: usize = 128;

/// What identifies an edit for [`RecentEdits`]: a hash of its contents.
pub fn fingerprint(edit: &qun_crdt::Edit) -> [u8; 32] {
    *blake3::hash(format!("{edit:?}").as_bytes()).as_bytes()
}

/// The results of the last edits made with a key.
#[derive(Default)]
pub(crate) struct RecentEdits {
    done: HashMap<(CommunityId, String), ([u8; 32], EditDone)>,
    order: VecDeque<(CommunityId, String)>,
}

impl RecentEdits {
    /// The result of the edit `edit` made with `key` in `c`, if it is still remembered.
    pub fn get(&self, c: &CommunityId, key: &str, edit: &[u8; 32]) -> Option<&EditDone> {
        self.done
            .get(&(*c, key.to_string()))
            .filter(|(e, _)| e == edit)
            .map(|(_, d)| d)
    }

    /// Remember the result of the edit `edit` made with `key`, forgetting the oldest beyond
    /// the bound.
    pub fn insert(&mut self, c: CommunityId, key: String, edit: [u8; 32], done: EditDone) {
        if self.done.insert((c, key.clone()), (edit, done)).is_none() {
            self.order.push_back((c, key));
        }
        while self.order.len() > MAX_RECENT_EDITS {
            if let Some(old) = self.order.pop_front() {
                self.done.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_keys_only() {
        let c = CommunityId(qun_identity::ContentId::of(b"c"));
        let done = |i: usize| EditDone {
            hash: i.to_string(),
            post: None,
        };
        let (e, f) = ([1; 32], [2; 32]);
        let mut r = RecentEdits::default();
        for i in 0..MAX_RECENT_EDITS + 10 {
            r.insert(c, format!("k{i}"), e, done(i));
        }
        assert!(r.get(&c, "k0", &e).is_none());
        assert!(r.get(&c, "k9", &e).is_none());
        assert_eq!(r.get(&c, "k10", &e).map(|d| d.hash.as_str()), Some("10"));
        // Another community, or another edit under the same key: not the same edit.
        let other = CommunityId(qun_identity::ContentId::of(b"d"));
        assert!(r.get(&other, "k10", &e).is_none());
        assert!(r.get(&c, "k10", &f).is_none());
        // The same key again keeps one entry, bound to the newer edit.
        r.insert(c, "k10".into(), f, done(0));
        assert_eq!(r.order.len(), MAX_RECENT_EDITS);
        assert_eq!(r.get(&c, "k10", &f).map(|d| d.hash.as_str()), Some("0"));
    }
}
