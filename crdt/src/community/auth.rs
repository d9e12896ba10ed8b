//! Authorization: may this device do this action, in this governance state? A pure function of
//! (action, signing device, state, document): no clock is read and the change's own timestamp
//! is never used for a rule, so no author can date its way around a rule.
//!
//! Called twice for every change: at ingest against the *raw* state at its dependencies
//! (whether it may enter the DAG at all: a stable, arrival-order-independent test), and by
//! `validity` against the *resolved* state, where revocations void what their target wrote
//! concurrently (see docs/authorization.md).

use super::equivocation;
use crate::error::{Error, Result};
use crate::gov::flow::endorsers_of;
use crate::gov::index::{ExpireKey, Perms, Register, Revokes, Target, WriteValue};
use crate::gov::{DeviceLink, GovState, HideInfo};
use crate::ids::DocId;
use crate::model::action::{Action, ExpireTarget};
use crate::model::genesis::CommunityGenesis;
use crate::model::policy::{AdmissionPolicy, Perm, Role};
use qun_identity::{
    Capabilities, DeviceCert, DeviceId, Endorsement, Invitation, Limits, MemberId, Revocation,
    Scope, Signed,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What an admitted change is and does.
#[derive(Debug, Default)]
pub(crate) struct Authorized {
    /// The member it acts for.
    pub(crate) member: Option<MemberId>,
    /// Governance writes.
    pub(crate) writes: Vec<(Register, WriteValue)>,
    /// An endorsement it publishes.
    pub(crate) endorsement: Option<Signed<Endorsement>>,
    /// For a join with an invitation: `(inviter, nonce)`.
    pub(crate) invitation: Option<(MemberId, [u8; 16])>,
    /// What it revokes.
    pub(crate) revokes: Option<Revokes>,
    /// Equivocation evidence it carries.
    pub(crate) evidence: Option<crate::gov::index::Evidence>,
}

impl Authorized {
    /// The acting member.
    pub(crate) fn member(&self, device: &DeviceId) -> MemberId {
        self.member.unwrap_or(MemberId(*device.key()))
    }
}

/// The capability a device needs for an action.
fn capability(a: &Action) -> Capabilities {
    match a {
        Action::Join { .. } | Action::Leave | Action::Equivocation { .. } => Capabilities::NONE,
        Action::Endorse { .. } => Capabilities::ENDORSE,
        Action::Profile
        | Action::Follow { .. }
        | Action::Post { .. }
        | Action::Edit { .. }
        | Action::Delete { .. }
        | Action::React { .. } => Capabilities::CONTENT,
        // A member's own trading is content; the market policy and moderation govern.
        Action::MarketPolicy { .. } | Action::ListingHide { .. } | Action::ListingUnhide { .. } => {
            Capabilities::GOVERN
        }
        a if a.is_market() => Capabilities::CONTENT,
        // A member's own money is content; the ledger's policy and unfreezing govern.
        Action::LedgerPolicy { .. } | Action::Unfreeze { .. } | Action::VotePolicy { .. } => {
            Capabilities::GOVERN
        }
        a if a.is_ledger() => Capabilities::CONTENT,
        _ => Capabilities::GOVERN,
    }
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

/// A device certificate that proves itself: root-signed, and for the signing device (the
/// change's own signature by that device is the proof of possession).
fn own_cert(bytes: &[u8], device: &DeviceId) -> Result<Signed<DeviceCert>> {
    let cert = Signed::<DeviceCert>::from_bytes_untimed(bytes, &Limits::default())?;
    if cert.value().device != *device {
        return Err(Error::decode(
            "device cert",
            "certifies another device: a device links itself (its signature is the proof of possession)",
        ));
    }
    Ok(cert)
}

/// Most devices (linked or revoked) one member may have: bounds what a removal's cut must list.
pub(crate) const MAX_DEVICES_PER_MEMBER: usize = 16;

/// Refuse a link of `device` to `member` when the key is already someone else's, or when the
/// member has its bound of devices.
fn check_link_free(st: &GovState, device: &DeviceId, member: &MemberId) -> Result<()> {
    let taken_by = st
        .devices
        .get(device)
        .or_else(|| st.revoked.get(device))
        .map(|l| l.member);
    if taken_by.is_some_and(|m| m != *member) {
        return Err(Error::unauthorized(
            member,
            "device.link",
            "the device is already linked to another member",
        ));
    }
    let as_member = MemberId(*device.key());
    if as_member != *member
        && (st.is_member(&as_member)
            || st.removed.contains_key(&as_member)
            || st.requests.contains(&as_member))
    {
        return Err(Error::unauthorized(
            member,
            "device.link",
            "the key is another member's root key",
        ));
    }
    if st.revoked.contains_key(device) {
        return Err(Error::unauthorized(
            member,
            "device.link",
            "the device was revoked",
        ));
    }
    let known = st.devices.contains_key(device);
    let count = st
        .devices
        .values()
        .chain(st.revoked.values())
        .filter(|l| l.member == *member)
        .count();
    if !known && count >= MAX_DEVICES_PER_MEMBER {
        return Err(Error::unauthorized(
            member,
            "device.link",
            format!("a member has at most {MAX_DEVICES_PER_MEMBER} devices"),
        ));
    }
    Ok(())
}

/// The member `device` acts for in `st`, checking revocation and capability.
fn resolve(st: &GovState, device: &DeviceId, needed: Capabilities) -> Result<MemberId> {
    let as_member = MemberId(*device.key());
    let member = st.member_of(device);
    if member == as_member {
        // A root key acts for its member with every capability (or for nobody yet).
        return Ok(member);
    }
    let unauthorized = |reason: String| Error::Unauthorized {
        author: device.to_string(),
        action: "device",
        reason,
    };
    if st.revoked.contains_key(device) {
        return Err(unauthorized("device revoked".into()));
    }
    let Some(link) = st.devices.get(device) else {
        return Ok(as_member);
    };
    if !link.capabilities.contains(needed) {
        return Err(unauthorized(format!(
            "device lacks capability {needed} (has {})",
            link.capabilities
        )));
    }
    Ok(link.member)
}

/// The permissions `role` would take away from `m` in `st` (rank-gated powers count as the
/// permissions they use).
fn dropped_perms(st: &GovState, m: &MemberId, role: &Role) -> BTreeSet<Perm> {
    let old = st.perms(m);
    let new = st.role_perms(role);
    old.difference(&new).copied().collect()
}

/// Authorize `action`, signed by `device`, in document `doc`, against state `st`.
pub(crate) fn authorize(
    genesis: &CommunityGenesis,
    st: &GovState,
    doc: &DocId,
    device: &DeviceId,
    action: &Action,
) -> Result<Authorized> {
    authorize_as(genesis, st, doc, device, action, None)
}

/// [`authorize`], or, with `enacting`, the action a passed motion carries, with that
/// founder's authority and no vote needed (docs/ledger.md, "Votes on governance").
fn authorize_as(
    genesis: &CommunityGenesis,
    st: &GovState,
    doc: &DocId,
    device: &DeviceId,
    action: &Action,
    enacting: Option<MemberId>,
) -> Result<Authorized> {
    let tag = action.tag();
    let community = genesis.id();
    let mut fx = Authorized::default();
    // Who acts: joins and self-links carry their certificate; everything else resolves the
    // device in the state.
    let member = if let Some(f) = enacting {
        f
    } else {
        match action {
            Action::Join { cert: Some(c), .. } | Action::LinkDevice { cert: c } => {
                let cert = own_cert(c, device)?;
                let m = cert.value().member;
                check_link_free(st, device, &m)?;
                fx.writes
                    .push((Register::Device(*device), WriteValue::Link(link_of(&cert))));
                m
            }
            Action::Join { cert: None, .. } => {
                // A key that is (or was) another member's device cannot become a member itself
                // (its writes would be attributed to the new member).
                if st.devices.contains_key(device) || st.revoked.contains_key(device) {
                    return Err(Error::Unauthorized {
                        author: device.to_string(),
                        action: "member.join",
                        reason: "this key is a device of a member".into(),
                    });
                }
                MemberId(*device.key())
            }
            _ => resolve(st, device, capability(action))?,
        }
    };
    fx.member = Some(member);
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
    // What the community decides by vote is made only by enacting a motion.
    if enacting.is_none()
        && st
            .ledger
            .voting
            .as_ref()
            .is_some_and(|v| v.needs_vote(action))
    {
        return deny("the community decides this by vote: propose it as a motion");
    }

    match action {
        // Joining: not in, not removed. The policy at the join's dependencies decides, once:
        // admitted (a member from then on) or a request a moderator can admit.
        Action::Join {
            invitation, proof, ..
        } => {
            if st.is_member(&member) {
                return deny("already a member");
            }
            if st.removed.contains_key(&member) {
                return deny("removed members need a moderator to admit them again");
            }
            let inv = match invitation {
                Some(b) => {
                    let inv = Signed::<Invitation>::from_bytes_untimed(b, &Limits::default())?;
                    let v = inv.value();
                    if v.community != community.0 {
                        return deny("invitation is for another community");
                    }
                    v.check_use(&member, proof.as_ref())?;
                    if !st.can(&v.inviter, Perm::Invite) {
                        return deny("inviter may not invite");
                    }
                    if st.expired_invitations.contains(&(v.inviter, v.nonce)) {
                        return deny("invitation expired");
                    }
                    if v.invitee.is_none()
                        && st
                            .used_invitations
                            .get(&v.nonce)
                            .is_some_and(|o| *o != member)
                    {
                        return deny("invitation already used");
                    }
                    fx.invitation = Some((v.inviter, v.nonce));
                    Some(inv)
                }
                None => None,
            };
            let via = inv
                .as_ref()
                .filter(|i| i.value().invitee.is_none())
                .map(|i| i.value().nonce);
            let endorsers = endorsers_of(st, &member, &community).len();
            let admitted = match &st.policy {
                AdmissionPolicy::Open => true,
                AdmissionPolicy::Invite => inv.is_some(),
                AdmissionPolicy::Endorsements { k } => endorsers >= usize::from(*k),
                AdmissionPolicy::TrustFlow { capacities } => crate::gov::flow::admitted(
                    st,
                    &genesis.value().founders,
                    &community,
                    capacities,
                )
                .contains(&member),
            };
            let value = if admitted {
                WriteValue::Admit { via }
            } else if inv.is_some() || endorsers > 0 {
                WriteValue::Request
            } else {
                return deny("the policy needs an invitation or an endorsement from a member");
            };
            if !admitted && st.requests.contains(&member) {
                return deny("already asked; the policy does not admit yet");
            }
            fx.writes.push((Register::Membership(member), value));
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
                .push((Register::Membership(*x), WriteValue::Admit { via: None }));
        }
        // Removing: needs remove; only members of lower rank; never founders. Voids what the
        // member wrote concurrently (governance by causality, content beyond the cut).
        Action::Remove {
            member: x,
            cut,
            reason,
        } => {
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
            fx.writes.push((
                Register::Membership(*x),
                WriteValue::Remove(crate::gov::HideInfo {
                    by: member,
                    reason: reason.clone(),
                }),
            ));
            fx.writes
                .push((Register::Role(*x), WriteValue::Role(Role::Member)));
            fx.revokes = Some(Revokes {
                target: Target::Members(vec![*x]),
                perms: Perms::All,
                cut: Some(Arc::new(cut.clone())),
                trade: false,
            });
        }
        // Leaving: any member but founders (voluntary: voids nothing).
        Action::Leave => {
            if genesis.is_founder(&member) {
                return deny("founders cannot leave");
            }
            fx.writes
                .push((Register::Membership(member), WriteValue::Leave));
            fx.writes
                .push((Register::Role(member), WriteValue::Role(Role::Member)));
        }
        // Roles: needs roles; target and role both rank below the actor; custom roles defined
        // and granting nothing the actor lacks. A role that takes permissions away revokes them.
        Action::SetRole {
            member: x,
            role,
            cut,
        } => {
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
            if !st.role_perms(role).is_subset(&st.perms(&member)) {
                return deny("a role cannot grant permissions its granter lacks");
            }
            let dropped = dropped_perms(st, x, role);
            // A role-limited market policy that lets the member trade now and not with the
            // new role: the role change takes the right to trade too.
            let trade = st.market.policy.allows(st, x) && !st.market.policy.allows_role(role);
            if !dropped.is_empty() || trade {
                fx.revokes = Some(Revokes {
                    target: Target::Members(vec![*x]),
                    perms: Perms::Some(dropped),
                    cut: Some(Arc::new(cut.clone())),
                    trade,
                });
            }
            fx.writes
                .push((Register::Role(*x), WriteValue::Role(role.clone())));
        }
        // Role definitions: needs roles; grants nothing the definer lacks. Taking permissions
        // from a role revokes them from its holders (in governance).
        Action::DefineRole { name, perms } => {
            if !st.can(&member, Perm::Roles) {
                return deny("needs the roles permission");
            }
            if !perms.is_subset(&st.perms(&member)) {
                return deny("a role cannot grant permissions its definer lacks");
            }
            if let Some(old) = st.role_defs.get(name) {
                let dropped: BTreeSet<Perm> = old.difference(perms).copied().collect();
                let holders: Vec<MemberId> = st
                    .members
                    .iter()
                    .filter(|(_, r)| matches!(r, Role::Custom(n) if n == name))
                    .map(|(m, _)| *m)
                    .collect();
                if !dropped.is_empty() && !holders.is_empty() {
                    fx.revokes = Some(Revokes {
                        target: Target::Members(holders),
                        perms: Perms::Some(dropped),
                        cut: None,
                        trade: false,
                    });
                }
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
        // Device links were checked above (root-signed certificate, signed by the device).
        Action::LinkDevice { .. } => {}
        // Revocations: signed by the member's own root, for a device linked to it.
        Action::RevokeDevice { revocation, cut } => {
            let rev = Signed::<Revocation>::from_bytes_untimed(revocation, &Limits::default())?;
            let d = rev.value().device;
            if rev.value().member != member {
                return deny("revocation is for another member's device");
            }
            let linked = st
                .devices
                .get(&d)
                .or_else(|| st.revoked.get(&d))
                .is_some_and(|l| l.member == member);
            if !linked {
                return deny("no such device of this member");
            }
            fx.writes.push((Register::Device(d), WriteValue::Revoke));
            fx.revokes = Some(Revokes {
                target: Target::Device(d),
                perms: Perms::All,
                cut: Some(Arc::new(cut.clone())),
                trade: false,
            });
        }
        // Expiry: once the signed object names an expiry (published when the author's clock
        // passes it; the time itself is never checked here), by the object's own member or a
        // member who may remove members — what an expiry voids is what its author claims not
        // to have seen, the trust placed in a revoker.
        Action::Expire { target, cut } => match target {
            ExpireTarget::Device { device: d } => {
                let Some(link) = st.devices.get(d).filter(|l| l.expires.is_some()) else {
                    return deny("no linked device with an expiry");
                };
                if link.member != member && !st.can(&member, Perm::Remove) {
                    return deny("only its member or a moderator expires a device");
                }
                fx.writes.push((Register::Device(*d), WriteValue::Revoke));
                fx.revokes = Some(Revokes {
                    target: Target::Device(*d),
                    perms: Perms::All,
                    cut: Some(Arc::new(cut.clone())),
                    trade: false,
                });
            }
            ExpireTarget::Invitation { nonce } => {
                // The inviter retires its own invitation (only it knows the unused ones).
                fx.writes.push((
                    Register::Expired(ExpireKey::Invitation(member, *nonce)),
                    WriteValue::Expired,
                ));
                fx.revokes = Some(Revokes {
                    target: Target::Invitation(member, *nonce),
                    perms: Perms::All,
                    cut: None,
                    trade: false,
                });
            }
            ExpireTarget::Endorsement { id } => {
                let Some(e) = st
                    .endorsements
                    .latest()
                    .find(|e| e.id() == *id && e.value().expires.is_some())
                else {
                    return deny("no endorsement with an expiry");
                };
                if e.value().from != member && !st.can(&member, Perm::Remove) {
                    return deny("only its author or a moderator expires an endorsement");
                }
                fx.writes.push((
                    Register::Expired(ExpireKey::Endorsement(*id)),
                    WriteValue::Expired,
                ));
            }
        },
        // Evidence of equivocation: any member who holds both signed changes.
        Action::Equivocation {
            doc: d,
            a,
            a_sig,
            b,
            b_sig,
        } => {
            fx.evidence = Some(equivocation::verify_evidence(
                &community, d, a, a_sig, b, b_sig,
            )?);
        }
        // Endorsements: by the acting member (root or its endorsing device), here or global.
        Action::Endorse { endorsement } => {
            let e = Signed::<Endorsement>::from_bytes_untimed(endorsement, &Limits::default())?;
            let v = e.value();
            if v.from != member {
                return deny("endorsement is from another member");
            }
            let signer = DeviceId(*e.author());
            if *e.author() != *member.key()
                && resolve(st, &signer, Capabilities::ENDORSE)? != member
            {
                return deny("endorsement signed by a device of another member");
            }
            match v.scope {
                Scope::Global => {}
                Scope::Community(c) if c == community.0 => {}
                _ => return deny("endorsement is scoped to another community"),
            }
            fx.endorsement = Some(e);
        }
        // Moderation: needs hide, and a hide in place can be replaced or undone only by its
        // author or a member of at least its author's rank (a moderator cannot unhide what the
        // founder hid). Whose post it is is not known here (governance does not read content):
        // a hide by someone ranking below the post's author is ignored by the view instead.
        Action::Hide { post, reason } => {
            if !st.can(&member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            if let Some(h) = st.hidden.get(post)
                && h.by != member
                && rank(&member) < rank(&h.by)
            {
                return deny("hidden by a member of higher rank");
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
            if let Some(h) = st.hidden.get(post)
                && h.by != member
                && rank(&member) < rank(&h.by)
            {
                return deny("hidden by a member of higher rank");
            }
            fx.writes
                .push((Register::Hide(post.clone()), WriteValue::Unhide));
        }
        // Pinning: needs hide (moderation).
        Action::Pin { post, on } => {
            if !st.can(&member, Perm::Hide) {
                return deny("needs the hide permission");
            }
            fx.writes
                .push((Register::Pin(post.clone()), WriteValue::Pin(*on)));
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
        // The market: its rules per action are in `market::auth` (docs/market.md).
        Action::MarketPolicy { .. }
        | Action::ListingSet { .. }
        | Action::ListingHide { .. }
        | Action::ListingUnhide { .. }
        | Action::DealPropose(_)
        | Action::DealAccept { .. }
        | Action::DealDeliver { .. }
        | Action::DealComplete { .. }
        | Action::DealDispute { .. }
        | Action::DealResolve { .. }
        | Action::DealCancel { .. }
        | Action::Review { .. } => {
            let (writes, revokes) = crate::market::auth::authorize(st, &member, action)?;
            fx.writes.extend(writes);
            fx.revokes = revokes;
        }
        // Enacting a motion: its vote passes at the enactment's dependencies; it then does
        // what its action does, with a founder's authority.
        Action::MotionEnact { id, cut } => {
            let Some(m) = st.ledger.motions.get(id) else {
                return deny("no such motion");
            };
            if st.ledger.enacted.contains(id) {
                return deny("the motion is enacted already");
            }
            let votes = st
                .ledger
                .votes
                .iter()
                .filter(|((f, _), _)| f == id)
                .map(|((_, v), c)| (*v, *c))
                .collect();
            let tally = crate::ledger::Tally::count(genesis, st, &m.rule, &votes);
            if !tally.passed {
                return deny(&format!("the vote has not passed: {}", tally.explain()));
            }
            let Some(founder) = genesis
                .value()
                .founders
                .iter()
                .find(|f| st.is_member(f))
                .copied()
            else {
                return deny("no founder is a member");
            };
            let mut inner = m.action.clone();
            if let Action::Remove { cut: c, .. } | Action::SetRole { cut: c, .. } = &mut inner {
                *c = cut.clone();
            }
            let done = authorize_as(genesis, st, doc, device, &inner, Some(founder))?;
            fx.writes.extend(done.writes);
            fx.writes
                .push((Register::Enacted(id.clone()), WriteValue::Enacted));
            fx.revokes = done.revokes;
        }
        // The ledger: its rules per action are in `ledger::auth` (docs/ledger.md).
        Action::LedgerPolicy { .. }
        | Action::Pay { .. }
        | Action::Unfreeze { .. }
        | Action::FundPropose { .. }
        | Action::Pledge { .. }
        | Action::FundClose { .. }
        | Action::Vote { .. }
        | Action::BountyCreate { .. }
        | Action::BountyClaim { .. }
        | Action::BountySubmit { .. }
        | Action::BountyAccept { .. }
        | Action::BountyReject { .. }
        | Action::BountyCancel { .. }
        | Action::VotePolicy { .. }
        | Action::MotionPropose { .. } => {
            fx.writes
                .extend(crate::ledger::auth::authorize(st, &member, action)?);
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
    Ok(fx)
}
