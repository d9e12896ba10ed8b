//! Who may read a community: anyone when it is open; otherwise its members (their roots and
//! linked devices), those who asked to join, and whoever shows an invitation it may use (or,
//! under an endorsement or trust-flow policy, an endorsement by a member). The community id
//! alone no longer reads a community.

use super::Community;
use crate::gov::flow::endorsers_of;
use crate::model::policy::AdmissionPolicy;
use qun_identity::{DeviceCert, DeviceId, Invitation, Limits, MemberId, Signed};

impl Community {
    /// Whether the device `device` (authenticated by the connection) may read this community,
    /// given what it showed: an invitation with its proof of possession, and its certificate
    /// when it is not a root key.
    pub fn may_read(
        &mut self,
        device: &DeviceId,
        invitation: Option<&[u8]>,
        proof: Option<&[u8]>,
        cert: Option<&[u8]>,
    ) -> bool {
        let st = self.state();
        if st.policy == AdmissionPolicy::Open {
            return true;
        }
        let m = st.member_of(device);
        if st.revoked.contains_key(device) {
            return false;
        }
        if st.is_member(&m) || st.requests.contains(&m) {
            return true;
        }
        // Who the device says it acts for: its own root, or the member of its certificate (a
        // member's new device reads before it has linked itself).
        let member = match cert {
            Some(c) => match Signed::<DeviceCert>::from_bytes_untimed(c, &Limits::default()) {
                Ok(c) if c.value().device == *device => c.value().member,
                _ => return false,
            },
            None => MemberId(*device.key()),
        };
        if st.removed.contains_key(&member) {
            // Removed: only a moderator's admission lets it in again.
            return false;
        }
        if cert.is_some()
            && st.is_member(&member)
            && st.devices.get(device).is_none_or(|l| l.member == member)
        {
            return true;
        }
        if let Some(inv) = invitation {
            let Ok(inv) = Signed::<Invitation>::from_bytes_untimed(inv, &Limits::default()) else {
                return false;
            };
            let v = inv.value();
            let proof: Option<[u8; 64]> = proof.and_then(|p| p.try_into().ok());
            return v.community == self.id().0
                && v.check_use(&member, proof.as_ref()).is_ok()
                && st.can(&v.inviter, crate::model::policy::Perm::Invite)
                && !st.expired_invitations.contains(&(v.inviter, v.nonce));
        }
        matches!(
            st.policy,
            AdmissionPolicy::Endorsements { .. } | AdmissionPolicy::TrustFlow { .. }
        ) && !endorsers_of(&st, &member, &self.id()).is_empty()
    }
}
