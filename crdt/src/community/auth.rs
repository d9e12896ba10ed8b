//! Authorization: who may do what, judged in the governance state at the change's
//! dependencies. A pure function of (action, author device, change time, state): every node
//! decides the same whatever order changes arrive in.

use super::action::Action;
use super::genesis::CommunityGenesis;
use super::policy::{AdmissionPolicy, Perm, Role};
use crate::error::{Error, Result};
use crate::gov::index::{Register, WriteValue, counts_here};
use crate::gov::{DeviceLink, GovState, HideInfo};
use crate::ids::DocId;
use qun_identity::{
    Capabilities, DeviceCert, DeviceId, Endorsement, Invitation, Limits, MemberId, Revocation,
    Signed, Timestamp,
};

/// What an authorized change does to the governance index.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) writes: Vec<(Register, WriteValue)>,
    pub(crate) endorsement: Option<Signed<Endorsement>>,
}

/// The member a change acts for, and what its writes are.
#[derive(Debug)]
pub(crate) struct Authorized {
    pub(crate) member: MemberId,
    pub(crate) effects: Effects,
}

/// The capability a device needs for an action.
fn capability(a: &Action) -> Capabilities {
    match a {
        Action::Join { .. } | Action::Leave => Capabilities::NONE,
        Action::Endorse { .. } => Capabilities::ENDORSE,
        Action::Profile
        | Action::Follow { .. }
        | Action::Post { .. }
        | Action::Edit { .. }
        | Action::Delete { .. }
        | Action::React { .. } => Capabilities::CONTENT,
        _ => Capabilities::GOVERN,
    }
}

fn verify_cert(bytes: &[u8], device: &DeviceId, time: Timestamp) -> Result<Signed<DeviceCert>> {
    let cert = Signed::<DeviceCert>::from_bytes(bytes, &Limits::default(), time)?;
    if cert.value().device != *device {
        return Err(Error::decode("device cert", "certifies another device"));
    }
    Ok(cert)
}

fn link_of(cert: &Signed<DeviceCert>) -> DeviceLink {
    let v = cert.value();
    DeviceLink {
        member: v.member,
        capabilities: v.capabilities,
        not_before: v.not_before,
        expires: v.expires,
    }
}

/// The member `device` acts for at `time` in `st`, checking link validity and capability.
fn resolve(
    st: &GovState,
    genesis: &CommunityGenesis,
    device: &DeviceId,
    time: Timestamp,
    needed: Capabilities,
) -> Result<MemberId> {
    let as_member = MemberId(*device.key());
    // A member's root key acts for the member with every capability.
    if st.is_member(&as_member)
        || genesis.is_founder(&as_member)
        || st.removed.contains_key(&as_member)
        || st.requests.contains(&as_member)
    {
        return Ok(as_member);
    }
    let unauthorized = |reason: String| Error::Unauthorized {
        author: device.to_string(),
        action: "device",
        reason,
    };
    let link = if let Some(l) = st.devices.get(device) {
        l
    } else if let Some((l, from)) = st.revoked.get(device) {
        if time >= *from {
            return Err(unauthorized(format!("device revoked from {from}")));
        }
        l
    } else {
        // Not linked: the key can only act as a member root, for a member it is not (yet).
        return Ok(as_member);
    };
    if time < link.not_before || link.expires.is_some_and(|e| time >= e) {
        return Err(unauthorized(
            "device certificate not valid at the change's time".into(),
        ));
    }
    if !link.capabilities.contains(needed) {
        return Err(unauthorized(format!(
            "device lacks capability {needed} (has {})",
            link.capabilities
        )));
    }
    Ok(link.member)
}

/// Authorize `action`, made by `device` at `time`, in document `doc`, against state `st`.
pub(crate) fn authorize(
    genesis: &CommunityGenesis,
    st: &GovState,
    doc: &DocId,
    device: &DeviceId,
    time: Timestamp,
    action: &Action,
) -> Result<Authorized> {
    let tag = action.tag();
    let mut fx = Effects::default();
    // Who acts: joins and self-links carry their certificate; everything else resolves the
    // device in the state.
    let member = match action {
        Action::Join { cert: Some(c), .. } => {
            let cert = verify_cert(c, device, time)?;
            let m = cert.value().member;
            fx.writes
                .push((Register::Device(*device), WriteValue::Link(link_of(&cert))));
            m
        }
        Action::Join { cert: None, .. } => MemberId(*device.key()),
        Action::LinkDevice { cert } => {
            let cert = Signed::<DeviceCert>::from_bytes(cert, &Limits::default(), time)?;
            let m = if cert.value().device == *device {
                cert.value().member
            } else {
                resolve(st, genesis, device, time, Capabilities::GOVERN)?
            };
            if cert.value().member != m {
                return Err(Error::unauthorized(
                    &m,
                    tag,
                    "certificate is for another member",
                ));
            }
            fx.writes.push((
                Register::Device(cert.value().device),
                WriteValue::Link(link_of(&cert)),
            ));
            m
        }
        _ => resolve(st, genesis, device, time, capability(action))?,
    };
    let deny = |reason: &str| Err(Error::unauthorized(&member, tag, reason));
    let rank = |m: &MemberId| st.role(m).map(Role::rank).unwrap_or(0);

    // Document placement.
    match (action.is_governance(), doc) {
        (true, DocId::Governance) | (false, DocId::Content { .. }) => {}
        _ => return deny("action in the wrong document"),
    }
    // Only joins may come from outside.
    if !matches!(action, Action::Join { .. }) && !st.is_member(&member) {
        return deny("not a member");
    }

    match action {
        // Joining: not already in, not removed; the policy's evidence or spam gate holds.
        Action::Join { invitation, .. } => {
            if st.is_member(&member) {
                return deny("already a member");
            }
            if st.removed.contains_key(&member) {
                return deny("removed members need a moderator to admit them again");
            }
            let inv = match invitation {
                Some(b) => {
                    let inv = Signed::<Invitation>::from_bytes(b, &Limits::default(), time)?;
                    let v = inv.value();
                    if v.community != genesis.id().0 {
                        return deny("invitation is for another community");
                    }
                    if !v.admits(&member) {
                        return deny("invitation names someone else");
                    }
                    if !st.can(&v.inviter, Perm::Invite) {
                        return deny("inviter may not invite");
                    }
                    if inv.author() != v.inviter.key() {
                        return deny("invitation not signed by the inviter's root key");
                    }
                    Some(Box::new(inv))
                }
                None => None,
            };
            let endorsed = st.endorsements.latest().any(|e| {
                e.value().to == member
                    && counts_here(e.value(), &genesis.id())
                    && st.is_member(&e.value().from)
            });
            let gate = match st.policy {
                AdmissionPolicy::Open => true,
                AdmissionPolicy::Invite => inv.is_some(),
                AdmissionPolicy::Endorsements { .. } | AdmissionPolicy::TrustFlow { .. } => {
                    inv.is_some() || endorsed
                }
            };
            if !gate {
                return deny("the policy needs an invitation or an endorsement from a member");
            }
            fx.writes
                .push((Register::Membership(member), WriteValue::Request(inv)));
        }
        // Admitting: needs admit; the person is not in yet.
        Action::Admit { member: x } => {
            if !st.can(&member, Perm::Admit) {
                return deny("needs the admit permission");
            }
            if st.is_member(x) {
                return deny("already a member");
            }
            fx.writes
                .push((Register::Membership(*x), WriteValue::Admit));
        }
        // Removing: needs remove; only members of lower rank; never founders.
        Action::Remove { member: x, .. } => {
            if !st.can(&member, Perm::Remove) {
                return deny("needs the remove permission");
            }
            if !st.is_member(x) {
                return deny("not a member");
            }
            if genesis.is_founder(x) {
                return deny("founders cannot be removed");
            }
            if rank(&member) <= rank(x) {
                return deny("can only remove members of lower rank");
            }
            fx.writes
                .push((Register::Membership(*x), WriteValue::Remove));
            fx.writes
                .push((Register::Role(*x), WriteValue::Role(Role::Member)));
        }
        // Leaving: any member but founders.
        Action::Leave => {
            if genesis.is_founder(&member) {
                return deny("founders cannot leave");
            }
            fx.writes
                .push((Register::Membership(member), WriteValue::Leave));
            fx.writes
                .push((Register::Role(member), WriteValue::Role(Role::Member)));
        }
        // Roles: needs roles; target and role both rank below the actor; custom roles defined.
        Action::SetRole { member: x, role } => {
            if !st.can(&member, Perm::Roles) {
                return deny("needs the roles permission");
            }
            if !st.is_member(x) || genesis.is_founder(x) {
                return deny("target must be a non-founder member");
            }
            if rank(&member) <= rank(x) || rank(&member) <= role.rank() {
                return deny("can only assign roles below one's own to members below one's own");
            }
            if let Role::Custom(n) = role
                && !st.role_defs.contains_key(n)
            {
                return deny("undefined custom role");
            }
            fx.writes
                .push((Register::Role(*x), WriteValue::Role(role.clone())));
        }
        // Role definitions: needs roles.
        Action::DefineRole { name, perms } => {
            if !st.can(&member, Perm::Roles) {
                return deny("needs the roles permission");
            }
            fx.writes.push((
                Register::RoleDef(name.clone()),
                WriteValue::RoleDef(perms.clone()),
            ));
        }
        // Policy: needs policy.
        Action::SetPolicy { policy } => {
            if !st.can(&member, Perm::Policy) {
                return deny("needs the policy permission");
            }
            fx.writes
                .push((Register::Policy, WriteValue::Policy(policy.clone())));
        }
        // Name and description: needs meta.
        Action::SetMeta { name, description } => {
            if !st.can(&member, Perm::Meta) {
                return deny("needs the meta permission");
            }
            fx.writes.push((
                Register::Meta,
                WriteValue::Meta {
                    name: name.clone(),
                    description: description.clone(),
                },
            ));
        }
        // Channels: needs channels.
        Action::SetChannel { channel, settings } => {
            if !st.can(&member, Perm::Channels) {
                return deny("needs the channels permission");
            }
            fx.writes.push((
                Register::Channel(channel.clone()),
                WriteValue::Channel(settings.clone()),
            ));
        }
        // Device links were checked above (certificate signed by the member's root).
        Action::LinkDevice { .. } => {}
        // Revocations: signed by the member's own root, for its own device.
        Action::RevokeDevice { revocation } => {
            let rev = Signed::<Revocation>::from_bytes(revocation, &Limits::default(), time)?;
            if rev.value().member != member {
                return deny("revocation is for another member's device");
            }
            fx.writes.push((
                Register::Device(rev.value().device),
                WriteValue::Revoke {
                    from: rev.value().from,
                },
            ));
        }
        // Endorsements: by the acting member (root or its endorsing device), here or global.
        Action::Endorse { endorsement } => {
            let e = Signed::<Endorsement>::from_bytes(endorsement, &Limits::default(), time)?;
            let v = e.value();
            if v.from != member {
                return deny("endorsement is from another member");
            }
            let signer = DeviceId(*e.author());
            if *e.author() != *member.key()
                && resolve(st, genesis, &signer, v.created, Capabilities::ENDORSE)? != member
            {
                return deny("endorsement signed by a device of another member");
            }
            match v.scope {
                qun_identity::Scope::Global => {}
                qun_identity::Scope::Community(c) if c == genesis.id().0 => {}
                _ => return deny("endorsement is scoped to another community"),
            }
            fx.endorsement = Some(e);
        }
        // Moderation: needs hide.
        Action::Hide { post, reason } => {
            if !st.can(&member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            fx.writes.push((
                Register::Hide(post.clone()),
                WriteValue::Hide(HideInfo {
                    by: member,
                    reason: reason.clone(),
                }),
            ));
        }
        Action::Unhide { post } => {
            if !st.can(&member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            fx.writes
                .push((Register::Hide(post.clone()), WriteValue::Unhide));
        }
        // Own profile and follows: any member.
        Action::Profile | Action::Follow { .. } => {}
        // Posts: needs post; the channel exists, is open, and (if announce-only) the author
        // ranks as moderator.
        Action::Post { .. } | Action::Edit { .. } | Action::Delete { .. } => {
            let DocId::Content { channel, .. } = doc else {
                return deny("posts live in content documents");
            };
            if !st.can(&member, Perm::Post) {
                return deny("needs the post permission");
            }
            let Some(ch) = st.channels.get(channel) else {
                return deny("no such channel");
            };
            if ch.archived {
                return deny("channel is archived");
            }
            if ch.announce && matches!(action, Action::Post { .. }) && rank(&member) < 2 {
                return deny("announcement channel: moderators only");
            }
        }
        // Reactions: needs react; the channel exists and is open.
        Action::React { .. } => {
            let DocId::Content { channel, .. } = doc else {
                return deny("reactions live in content documents");
            };
            if !st.can(&member, Perm::React) {
                return deny("needs the react permission");
            }
            match st.channels.get(channel) {
                Some(ch) if !ch.archived => {}
                _ => return deny("no such open channel"),
            }
        }
    }
    Ok(Authorized {
        member,
        effects: fx,
    })
}
