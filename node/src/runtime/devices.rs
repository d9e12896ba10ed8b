//! A member's devices, on the device holding the root key: certify a new device (its device
//! code lists the communities to join) and revoke a lost one in every community (see
//! `crate::device` for the whole flow).

use super::driver::Driver;
use crate::device::DeviceCode;
use crate::error::{Error, Result};
use qun_crdt::{Action, CommunityId, Edit, MemberStatus};
use qun_identity::{Capabilities, DeviceCert, DeviceId, Revocation, Signed, Timestamp};

impl Driver {
    /// Certify `device` for this member and return the device code for the new device, with
    /// every community where we are a member. The new device announces the link itself when it
    /// catches up (a device link is signed by the device: its proof of possession).
    pub(super) fn link_device(&mut self, device: DeviceId, label: &str) -> Result<String> {
        let root = self
            .keys
            .root
            .clone()
            .ok_or_else(|| Error::Config("linking a device needs the root key".into()))?;
        let cert = DeviceCert {
            member: root.member_id(),
            device,
            capabilities: Capabilities::ALL,
            label: label.chars().take(60).collect(),
            not_before: Timestamp::from_millis(self.now().as_millis().saturating_sub(60_000)),
            expires: None,
        };
        let cert = Signed::sign(&root, cert)?.to_bytes();
        let communities = self.my_communities();
        Ok(DeviceCode {
            cert,
            communities,
            addrs: self.reachable_addrs().iter().map(|a| a.to_vec()).collect(),
        }
        .encode())
    }

    /// Revoke `device` in every community; returns how many.
    pub(super) fn revoke_device(&mut self, device: DeviceId, reason: &str) -> Result<usize> {
        let root = self
            .keys
            .root
            .clone()
            .ok_or_else(|| Error::Config("revoking a device needs the root key".into()))?;
        let rev = Revocation {
            member: root.member_id(),
            device,
            from: self.now(),
            reason: reason.chars().take(200).collect(),
        };
        let rev = Signed::sign(&root, rev)?.to_bytes();
        let mut n = 0;
        for c in self.my_communities() {
            self.edit(
                &c,
                Edit::Govern(Action::RevokeDevice {
                    revocation: rev.clone(),
                    cut: Default::default(),
                }),
            )?;
            n += 1;
        }
        Ok(n)
    }

    /// The communities where this member is a member.
    fn my_communities(&mut self) -> Vec<CommunityId> {
        let me = self.member;
        let ids: Vec<CommunityId> = self.repl.communities().copied().collect();
        ids.into_iter()
            .filter(|c| {
                self.repl
                    .community(c)
                    .is_some_and(|mut x| matches!(x.state().status(&me), MemberStatus::Member(_)))
            })
            .collect()
    }
}
