//! Expiry as an action. Time is never a rule of validity (docs/authorization.md): a device
//! certificate or an endorsement that names an expiry is retired by an `expire` governance
//! action, which the item's own member or a moderator publishes once its clock passes the
//! time. Each node waits a spread derived from its device and the item, so usually one node
//! publishes it and the others find it done.

use super::*;
use crate::model::action::ExpireTarget;

/// How often a member node looks for expired items.
pub const EXPIRY_CHECK_MS: u64 = 60_000;
/// Nodes publish an expiry between 0 and this long after its time (spread by device and item).
pub const EXPIRY_SPREAD_MS: u64 = 60_000;
/// Most expiry actions one check publishes.
const MAX_EXPIRIES_PER_CHECK: usize = 16;

impl<P: Peer> Replicator<P> {
    /// This node's wait past an item's expiry before it publishes the expiry.
    fn spread(&self, item: &[u8]) -> u64 {
        let mut h = blake3::Hasher::new();
        h.update(b"qun-expiry-spread-v1");
        h.update(&self.key.device_id().to_bytes());
        h.update(item);
        let b = h.finalize();
        let mut n = [0u8; 8];
        n.copy_from_slice(&b.as_bytes()[..8]);
        u64::from_le_bytes(n) % EXPIRY_SPREAD_MS
    }

    /// Publish expiry actions for what has expired in community `id` (as a member).
    pub(super) fn publish_expiries(&mut self, now: Timestamp, id: &CommunityId) {
        if !matches!(self.status_of(id), MemberStatus::Member(_)) {
            return;
        }
        let Some(e) = self.communities.get_mut(id) else {
            return;
        };
        let st = e.community.state();
        let me = self.member;
        let moderator = st.can(&me, crate::Perm::Remove);
        let mut due: Vec<(Timestamp, Vec<u8>, ExpireTarget)> = Vec::new();
        for (d, link) in st
            .devices
            .iter()
            .filter(|(_, l)| moderator || l.member == me)
        {
            if let Some(at) = link.expires {
                due.push((
                    at,
                    d.to_bytes().to_vec(),
                    ExpireTarget::Device { device: *d },
                ));
            }
        }
        for en in st
            .endorsements
            .latest()
            .filter(|e| moderator || e.value().from == me)
        {
            if let Some(at) = en.value().expires {
                let id = en.id();
                due.push((at, id.0.to_vec(), ExpireTarget::Endorsement { id }));
            }
        }
        let mut actions: Vec<Action> = due
            .into_iter()
            .filter(|(at, item, _)| {
                now.as_millis() >= at.as_millis().saturating_add(self.spread(item))
            })
            .map(|(_, _, target)| Action::Expire {
                target,
                cut: Default::default(),
            })
            .collect();
        actions.truncate(MAX_EXPIRIES_PER_CHECK);
        for a in actions {
            if let Err(error) = self.edit(now, id, Edit::Govern(a)) {
                tracing::debug!(community = %id, "could not publish an expiry: {error}");
            }
        }
    }
}
