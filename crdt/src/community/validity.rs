//! Validity: which admitted changes count once revocations are resolved.
//!
//! Admission (`apply`) judges a change at its own dependencies, which its author chose. That is
//! necessary, not sufficient: a removed moderator can sign changes whose dependencies predate
//! its removal. So a valid revocation of authority (removal, a role change that drops
//! permissions, device revocation or expiry, invitation expiry) *voids* every write of its
//! target that is not in its causal past and not in its causal future (the future is judged by
//! admission, where the revocation is visible): the concurrent ones, whatever dependencies and
//! timestamps they claim. Content writes are judged against the revocation's cut.
//!
//! Voiding cascades through re-authorization: a change is valid only if it is authorized in
//! the *resolved* state at its dependencies (void changes left out), so what a void write
//! granted (an admission, a role) is void too unless granted independently.
//!
//! Revocations can void each other (two moderators removing each other concurrently, a
//! thief's device removing members while its owner revokes it). They are decided one at a
//! time, each pass re-judging everything with the revocations decided so far:
//!
//! 1. among valid, undecided revocations that would void something, prefer one no other
//!    candidate threatens (voids it or something in its causal past);
//! 2. among those (or all, in a cycle), the highest rank of the revoker wins, then the earlier
//!    founder in the genesis, then the lower change hash;
//! 3. its victims are voided; its causal past (and itself) can no longer be voided by a later
//!    decision, so a decided revocation stays valid.
//!
//! Each step decides one revocation, so this ends after at most one step per revocation, and
//! it reads only the set of changes: every node decides the same, whatever it received first.
//! Equivocation evidence voids the device's writes in its document from the fork on, first.

use super::Community;
use super::auth::authorize;
use crate::gov::bitset::BitSet;
use crate::gov::index::{
    ChangeInfo, GovIndex, Ix, Perms, Register, Revokes, Target, Validity, View, WriteValue,
};
use crate::ids::{DocId, Hash};
use crate::model::action::Action;
use crate::model::policy::{Perm, Role};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// The permission an action exercises (what a revocation of that permission voids).
pub(crate) fn needs(a: &Action) -> Option<Perm> {
    match a {
        Action::Admit { .. } => Some(Perm::Admit),
        Action::Remove { .. } => Some(Perm::Remove),
        Action::SetRole { .. } | Action::DefineRole { .. } => Some(Perm::Roles),
        Action::SetPolicy { .. } => Some(Perm::Policy),
        Action::SetMeta { .. } => Some(Perm::Meta),
        Action::SetChannel { .. } => Some(Perm::Channels),
        Action::Hide { .. }
        | Action::Unhide { .. }
        | Action::Pin { .. }
        | Action::ListingHide { .. }
        | Action::ListingUnhide { .. } => Some(Perm::Hide),
        Action::MarketPolicy { .. } | Action::LedgerPolicy { .. } | Action::VotePolicy { .. } => {
            Some(Perm::Policy)
        }
        Action::Unfreeze { .. } => Some(Perm::Remove),
        Action::Post { .. } | Action::Edit { .. } | Action::Delete { .. } => Some(Perm::Post),
        Action::React { .. } => Some(Perm::React),
        _ => None,
    }
}

fn perms_hit(p: &Perms, need: Option<Perm>) -> bool {
    match p {
        Perms::All => true,
        Perms::Some(set) => need.is_some_and(|n| set.contains(&n)),
    }
}

/// Whether revocation `rv` is against a change with this author, device, action and invitation.
pub(crate) fn hits(
    rv: &Revokes,
    member: &qun_identity::MemberId,
    device: &qun_identity::DeviceId,
    action: &Action,
    invitation: Option<(qun_identity::MemberId, [u8; 16])>,
) -> bool {
    match &rv.target {
        Target::Members(ms) => {
            (ms.contains(member)
                && (perms_hit(&rv.perms, needs(action)) || (rv.trade && action.is_trade())))
                || invitation.is_some_and(|(i, _)| {
                    ms.contains(&i) && perms_hit(&rv.perms, Some(Perm::Invite))
                })
        }
        Target::Device(d) => d == device,
        Target::Invitation(m, n) => invitation == Some((*m, *n)),
    }
}

fn revokes_of(ix: &GovIndex, i: Ix) -> Option<&Revokes> {
    ix.nodes[i as usize].info.as_ref()?.revokes.as_ref()
}

/// Registers an authorization of `info` reads (`None`: it may read anything). Every action
/// resolves its device (the device's link, and the key's own standing as a member) and its
/// member's standing and role; role definitions are covered by `dirty_all`.
fn reads(info: &ChangeInfo) -> Option<Vec<Register>> {
    let mut r = vec![
        Register::Membership(info.member),
        Register::Role(info.member),
        Register::Device(info.device),
        Register::Membership(qun_identity::MemberId(*info.device.key())),
    ];
    match &*info.action {
        Action::Admit { member } => r.push(Register::Membership(*member)),
        Action::Remove { member, .. } | Action::SetRole { member, .. } => {
            r.push(Register::Membership(*member));
            r.push(Register::Role(*member));
        }
        Action::Join { .. }
        | Action::LinkDevice { .. }
        | Action::RevokeDevice { .. }
        | Action::Expire { .. }
        | Action::Endorse { .. }
        | Action::DefineRole { .. } => return None,
        Action::Post { .. }
        | Action::Edit { .. }
        | Action::Delete { .. }
        | Action::React { .. } => {
            return None;
        }
        // The market reads listings, deals and the market policy (and the parties' standing).
        a if a.is_market() => return None,
        // The ledger reads its policy, proposals, bounties and deals.
        a if a.is_ledger() => return None,
        _ => {}
    }
    Some(r)
}

/// Whether the resolved state may judge this change differently from the raw one.
fn affected(info: &ChangeInfo, dirty: &BTreeSet<Register>, dirty_all: bool) -> bool {
    if dirty.is_empty() && !dirty_all {
        return false;
    }
    if dirty_all {
        return true;
    }
    match reads(info) {
        None => true,
        Some(r) => r.iter().any(|x| dirty.contains(x)),
    }
}

/// Mark what a void or overridden change wrote as dirty.
fn dirty_from(ix: &GovIndex, i: Ix, v: &mut Validity) {
    let n = &ix.nodes[i as usize];
    for w in &ix.writes[n.writes.start as usize..n.writes.end as usize] {
        match (&w.register, &w.value) {
            (Register::Policy | Register::RoleDef(_), _)
            | (_, WriteValue::Admit { via: Some(_) }) => v.dirty_all = true,
            _ => {}
        }
        v.dirty.insert(w.register.clone());
    }
    if n.info.as_ref().is_some_and(|x| x.endorsement.is_some()) {
        v.dirty_all = true;
    }
}

/// One topological pass over the nodes of `mask` (all when `None`): every change valid as
/// admitted unless void (`x`) or refused by the resolved state at its dependencies. Changes
/// whose authorization reads nothing a revocation or a contested write touched are not
/// re-judged: every resolution agrees on them.
fn pass(
    ix: &mut GovIndex,
    genesis: &crate::model::genesis::CommunityGenesis,
    x: &BitSet,
    contested: &BitSet,
    mask: Option<&BitSet>,
) -> Validity {
    let mut v = Validity {
        invalid: x.clone(),
        contested: contested.clone(),
        ..Validity::default()
    };
    for i in x.iter().chain(contested.iter()) {
        dirty_from(ix, i, &mut v);
    }
    for r in ix.revocations.clone() {
        if mask.is_none_or(|m| m.contains(r)) {
            dirty_from(ix, r, &mut v);
        }
    }
    for i in 1..ix.nodes.len() as Ix {
        if v.invalid.contains(i) || mask.is_some_and(|m| !m.contains(i)) {
            continue;
        }
        let Some(info) = ix.nodes[i as usize].info.clone() else {
            continue;
        };
        if !affected(&info, &v.dirty, v.dirty_all) {
            continue;
        }
        let deps = ix.nodes[i as usize].deps.clone();
        let anc = ix.ancestors_ix(&deps);
        let st = ix.state_over(&anc, &v);
        match authorize(genesis, &st, &DocId::Governance, &info.device, &info.action) {
            Err(_) => {
                v.invalid.insert(i);
                dirty_from(ix, i, &mut v);
            }
            Ok(auth) => {
                let range = ix.nodes[i as usize].writes.clone();
                let stored = &ix.writes[range.start as usize..range.end as usize];
                let same_regs = stored.len() == auth.writes.len()
                    && stored
                        .iter()
                        .zip(&auth.writes)
                        .all(|(a, (r, _))| a.register == *r);
                if !same_regs {
                    v.invalid.insert(i);
                    dirty_from(ix, i, &mut v);
                    continue;
                }
                let mut changed = false;
                for (k, (_, value)) in auth.writes.into_iter().enumerate() {
                    let wi = range.start + k as u32;
                    if ix.writes[wi as usize].value != value {
                        v.overrides.insert(wi, value);
                        changed = true;
                    }
                }
                if changed {
                    dirty_from(ix, i, &mut v);
                }
            }
        }
    }
    v
}

/// The governance changes revocation `r` voids: its target's writes concurrent with it (within
/// `mask`).
fn victims(ix: &GovIndex, r: Ix, anc: &BitSet, desc: &BitSet, mask: Option<&BitSet>) -> BitSet {
    let mut out = BitSet::with_capacity(ix.nodes.len());
    let Some(rv) = revokes_of(ix, r) else {
        return out;
    };
    let mut consider = |list: Option<&Vec<Ix>>| {
        for &c in list.into_iter().flatten() {
            if c == r || anc.contains(c) || desc.contains(c) || mask.is_some_and(|m| !m.contains(c))
            {
                continue;
            }
            if let Some(info) = &ix.nodes[c as usize].info
                && hits(
                    rv,
                    &info.member,
                    &info.device,
                    &info.action,
                    info.invitation,
                )
            {
                out.insert(c);
            }
        }
    };
    match &rv.target {
        Target::Members(ms) => {
            for m in ms {
                consider(ix.by_member.get(m));
            }
            for ((inviter, _), list) in &ix.by_invitation {
                if ms.contains(inviter) {
                    consider(Some(list));
                }
            }
        }
        Target::Device(d) => consider(ix.by_device.get(d)),
        Target::Invitation(m, n) => consider(ix.by_invitation.get(&(*m, *n))),
    }
    out
}

/// `(rank desc, founder position, hash)`: smaller sorts first, wins first.
type Priority = (std::cmp::Reverse<u8>, usize, Hash);

/// The priority of revocation `r` among candidates.
fn priority(
    ix: &mut GovIndex,
    genesis: &crate::model::genesis::CommunityGenesis,
    v: &Validity,
    r: Ix,
) -> Priority {
    let node = &ix.nodes[r as usize];
    let hash = node.hash;
    let deps = node.deps.clone();
    let member = node.info.as_ref().map(|i| i.member);
    let anc = ix.ancestors_ix(&deps);
    let st = ix.state_over(&anc, v);
    let rank = member
        .and_then(|m| st.role(&m).map(Role::rank))
        .unwrap_or(0);
    let founder = member
        .and_then(|m| genesis.value().founders.iter().position(|f| *f == m))
        .unwrap_or(usize::MAX);
    (std::cmp::Reverse(rank), founder, hash)
}

/// Resolve every revocation of the index (of the nodes in `mask`, an ancestor-closed set, when
/// given): see the module doc.
pub(crate) fn resolve(
    ix: &mut GovIndex,
    genesis: &crate::model::genesis::CommunityGenesis,
    mask: Option<&BitSet>,
    inapplicable: &BitSet,
) -> Validity {
    let n = ix.nodes.len();
    let inside = |i: Ix| mask.is_none_or(|m| m.contains(i));
    let mut equivocations: BTreeMap<(DocId, qun_identity::DeviceId), u64> = BTreeMap::new();
    for e in ix.evidence.clone() {
        if !inside(e) || inapplicable.contains(e) {
            continue;
        }
        if let Some(ev) = ix.nodes[e as usize]
            .info
            .as_ref()
            .and_then(|i| i.evidence.clone())
        {
            let s = equivocations.entry((ev.doc, ev.device)).or_insert(ev.seq);
            *s = (*s).min(ev.seq);
        }
    }
    let mut x = BitSet::with_capacity(n);
    for ((doc, dev), seq) in &equivocations {
        if doc.is_governance() {
            for &i in ix.by_device.get(dev).into_iter().flatten() {
                if inside(i)
                    && ix.nodes[i as usize]
                        .info
                        .as_ref()
                        .is_some_and(|f| f.seq >= *seq)
                {
                    x.insert(i);
                }
            }
        }
    }
    let mut decided: BTreeSet<Ix> = BTreeSet::new();
    let mut protected = BitSet::with_capacity(n);
    let revocations: Vec<Ix> = ix
        .revocations
        .iter()
        .copied()
        .filter(|r| inside(*r))
        .collect();
    let mut cones: BTreeMap<Ix, (Arc<BitSet>, Arc<BitSet>)> = BTreeMap::new();
    // Every change some revocation would void if nothing protected it, and every change
    // equivocation evidence voids: what resolutions of different pasts can judge differently.
    let mut contested = x.clone();
    let mut raw_victims: BTreeMap<Ix, BitSet> = BTreeMap::new();
    for &r in &revocations {
        let a = ix.ancestors_ix(&[r]);
        let d = Arc::new(ix.descendants(r));
        let vic = victims(ix, r, &a, &d, mask);
        contested.union_with(&vic);
        cones.insert(r, (a, d));
        raw_victims.insert(r, vic);
    }
    loop {
        let mut v = pass(ix, genesis, &x, &contested, mask);
        let mut cands: Vec<(Ix, BitSet)> = Vec::new();
        for &r in &revocations {
            if v.invalid.contains(r) || decided.contains(&r) {
                continue;
            }
            let Some(vic) = raw_victims.get(&r) else {
                continue;
            };
            let mut left = BitSet::with_capacity(n);
            for c in vic.iter() {
                if !protected.contains(c) && !x.contains(c) {
                    left.insert(c);
                }
            }
            if !left.is_empty() {
                cands.push((r, left));
            }
        }
        if cands.is_empty() {
            v.revocations = revocations
                .iter()
                .copied()
                .filter(|r| !v.invalid.contains(*r))
                .collect();
            v.equivocations = equivocations;
            v.protected = protected;
            return v;
        }
        let threatened =
            |r: Ix, cands: &[(Ix, BitSet)], cones: &BTreeMap<Ix, (Arc<BitSet>, Arc<BitSet>)>| {
                let anc = cones.get(&r).map(|c| c.0.clone());
                cands.iter().any(|(o, vic)| {
                    *o != r
                        && (vic.contains(r)
                            || anc
                                .as_ref()
                                .is_some_and(|a| vic.iter().any(|c| a.contains(c))))
                })
            };
        let free: Vec<Ix> = cands
            .iter()
            .map(|(r, _)| *r)
            .filter(|r| !threatened(*r, &cands, &cones))
            .collect();
        // Candidates no other candidate threatens are decided together (in any order they
        // would void the same: none touches another's past); a cycle of threats is broken by
        // priority, one revocation at a time.
        let picks: Vec<Ix> = if free.is_empty() {
            let mut best: Option<(Ix, Priority)> = None;
            for (r, _) in &cands {
                let p = priority(ix, genesis, &v, *r);
                if best.as_ref().is_none_or(|(_, b)| p < *b) {
                    best = Some((*r, p));
                }
            }
            best.map(|(r, _)| vec![r]).unwrap_or_default()
        } else {
            free
        };
        if picks.is_empty() {
            return v;
        }
        for pick in picks {
            decided.insert(pick);
            if let Some((_, vic)) = cands.iter().find(|(r, _)| *r == pick) {
                x.union_with(vic);
            }
            if let Some((anc, _)) = cones.get(&pick) {
                protected.union_with(anc);
            }
            protected.insert(pick);
        }
    }
}

impl Community {
    /// The state a change with these governance dependencies is admitted against: revocations
    /// resolved over its own causal past only, which is all its author could know. It depends
    /// on nothing else, so every node admits the same changes whatever else it has seen.
    pub(crate) fn admission_state(&mut self, frontier: &[Hash]) -> Arc<crate::GovState> {
        self.ensure_validity();
        let f = self.index.ixs(frontier);
        let heads = self.index.ixs(self.index.heads());
        if f == heads {
            return self.index.state_at_ix(&f, View::Resolved);
        }
        let anc = self.index.ancestors_ix(&f);
        let v = self.index.validity();
        if !v.contested.iter().any(|c| anc.contains(c)) {
            // Nothing in this past is contested: resolving it voids nothing.
            return self.index.state_at_ix(&f, View::Raw);
        }
        let genesis = self.genesis.clone();
        let skip = self.inapplicable_evidence();
        self.index.cached_state(&f, u64::MAX, |ix| {
            let sub = resolve(ix, &genesis, Some(&anc), &skip);
            ix.state_over(&anc, &sub)
        })
    }

    /// Evidence nodes that do not count here: some dependency of one of the twins is not
    /// applied in its document (a twin built on a stranded side — such as a change its author
    /// made again after its first version was stranded — is no evidence against its author).
    /// Evidence about a content document this node does not hold counts (it matters only once
    /// the document is here).
    pub(crate) fn inapplicable_evidence(&self) -> BitSet {
        let mut out = BitSet::default();
        for &e in &self.index.evidence {
            let Some(ev) = self.index.nodes[e as usize]
                .info
                .as_ref()
                .and_then(|i| i.evidence.as_ref())
            else {
                continue;
            };
            let applied = match &ev.doc {
                DocId::Governance => ev
                    .deps
                    .iter()
                    .all(|d| self.index.contains(d) && !self.gov.stranded.contains(d)),
                doc => match self.content.get(doc) {
                    Some(d) => ev.deps.iter().all(|h| d.has(h) && !d.stranded.contains(h)),
                    None => true,
                },
            };
            if !applied {
                out.insert(e);
            }
        }
        out
    }

    /// Judge one governance change `i` against the resolved state at its dependencies under
    /// `v`, recording it as void or overridden there; returns whether anything changed.
    fn rejudge(&mut self, i: Ix, v: &mut Validity) -> bool {
        let Some(info) = self.index.nodes[i as usize].info.clone() else {
            return false;
        };
        if v.invalid.contains(i) || !affected(&info, &v.dirty, v.dirty_all) {
            return false;
        }
        let deps = self.index.nodes[i as usize].deps.clone();
        let anc = self.index.ancestors_ix(&deps);
        let st = self.index.state_over(&anc, v);
        let verdict = authorize(
            &self.genesis,
            &st,
            &DocId::Governance,
            &info.device,
            &info.action,
        );
        let range = self.index.nodes[i as usize].writes.clone();
        let stored: Vec<WriteValue> = self.index.writes[range.start as usize..range.end as usize]
            .iter()
            .map(|w| w.value.clone())
            .collect();
        match verdict {
            Ok(auth)
                if auth.writes.len() == stored.len()
                    && auth
                        .writes
                        .iter()
                        .map(|(r, _)| r)
                        .eq(self.index.writes[range.start as usize..range.end as usize]
                            .iter()
                            .map(|w| &w.register)) =>
            {
                let mut changed = false;
                for (k, ((_, value), old)) in auth.writes.into_iter().zip(&stored).enumerate() {
                    if value != *old {
                        v.overrides.insert(range.start + k as u32, value);
                        changed = true;
                    }
                }
                if !changed {
                    return false;
                }
            }
            _ => {
                v.invalid.insert(i);
                v.revocations.retain(|r| *r != i);
            }
        }
        dirty_from(&self.index, i, v);
        true
    }

    /// Extend a fresh validity with one new governance change instead of resolving everything
    /// again: a change that is no revocation's victim cannot change others' validity (nothing
    /// depends on it yet), so only its own is judged. A new revocation joins the list content
    /// cuts are read from; if it voids something concurrent, and none of that is a revocation
    /// or in the past of a decided one, it is decided at once and only the future of what it
    /// voids is judged again. Anything else needs the full resolution.
    pub(crate) fn extend_validity(&mut self, i: Ix) {
        if self.index.stale {
            return;
        }
        let Some(info) = self.index.nodes[i as usize].info.clone() else {
            return;
        };
        let mut v = (*self.index.validity()).clone();
        let before = v.version;
        let mut changed = self.rejudge(i, &mut v);
        if info.revokes.is_some() && !v.invalid.contains(i) {
            let anc = self.index.ancestors_ix(&[i]);
            let desc = self.index.descendants(i);
            let vic = victims(&self.index, i, &anc, &desc, None);
            let fresh: Vec<Ix> = vic.iter().filter(|c| !v.invalid.contains(*c)).collect();
            let simple = fresh.iter().all(|c| {
                !v.protected.contains(*c)
                    && self.index.nodes[*c as usize]
                        .info
                        .as_ref()
                        .is_some_and(|x| x.revokes.is_none() && x.evidence.is_none())
            });
            if !simple {
                self.index.stale = true;
                return;
            }
            v.revocations.push(i);
            dirty_from(&self.index, i, &mut v);
            v.protected.union_with(&anc);
            let mut future = BitSet::with_capacity(self.index.nodes.len());
            for c in &fresh {
                v.invalid.insert(*c);
                v.contested.insert(*c);
                dirty_from(&self.index, *c, &mut v);
                future.union_with(&self.index.descendants(*c));
            }
            for j in future.iter() {
                self.rejudge(j, &mut v);
            }
            changed = true;
        }
        if changed {
            v.version = before + 1;
            self.index.set_validity(v);
        }
    }

    /// Recompute validity if the index changed in a way that may matter.
    pub(crate) fn ensure_validity(&mut self) {
        if !self.index.stale {
            return;
        }
        let old = self.index.validity();
        let skip = self.inapplicable_evidence();
        let mut v = resolve(&mut self.index, &self.genesis, None, &skip);
        let same = v.invalid == old.invalid
            && v.overrides == old.overrides
            && v.revocations == old.revocations
            && v.equivocations == old.equivocations;
        v.version = if same { old.version } else { old.version + 1 };
        if !same {
            self.index.clear_states();
        }
        self.index.set_validity(v);
    }

    /// Content changes of `doc` that do not count once revocations are resolved: beyond a
    /// valid revocation's cut without citing it, by an equivocating device from the fork on,
    /// or refused by the resolved state at the governance heads they cite.
    pub(crate) fn void_content(&mut self, doc: &DocId) -> Arc<HashSet<Hash>> {
        self.ensure_validity();
        let v = self.index.validity();
        let len = self.content.get(doc).map(|d| d.order.len()).unwrap_or(0);
        if let Some((ver, n, set)) = self.void_cache.get(doc)
            && *ver == v.version
            && *n == len
        {
            return set.clone();
        }
        let mut void = HashSet::new();
        let relevant_equiv = v.equivocations.keys().any(|(d, _)| d == doc);
        if !v.revocations.is_empty() || relevant_equiv || !v.is_clean() {
            let revs: Vec<(Revokes, Arc<BitSet>)> = v
                .revocations
                .iter()
                .filter_map(|r| {
                    let rv = revokes_of(&self.index, *r)?.clone();
                    Some((rv, Arc::new(self.index.descendants(*r))))
                })
                .collect();
            let metas: Vec<(Hash, super::doc::ContentMeta)> = self
                .content
                .get(doc)
                .map(|d| d.meta.iter().map(|(h, m)| (*h, m.clone())).collect())
                .unwrap_or_default();
            for (h, m) in metas {
                if v.equivocations
                    .get(&(doc.clone(), m.device))
                    .is_some_and(|s| m.seq >= *s)
                {
                    void.insert(h);
                    continue;
                }
                let cut_void = revs.iter().any(|(rv, desc)| {
                    hits(rv, &m.member, &m.device, &m.action, None)
                        && !m
                            .cited
                            .iter()
                            .any(|c| self.index.ix(c).is_some_and(|i| desc.contains(i)))
                        && rv
                            .cut
                            .as_ref()
                            .is_some_and(|c| c.beyond(&m.device, doc, m.seq))
                });
                if cut_void {
                    void.insert(h);
                    continue;
                }
                let channel = match doc {
                    DocId::Content { channel, .. } => Some(Register::Channel(channel.clone())),
                    DocId::Governance => None,
                };
                let touched = v.dirty_all
                    || [
                        Some(Register::Membership(m.member)),
                        Some(Register::Role(m.member)),
                        Some(Register::Device(m.device)),
                        channel,
                    ]
                    .into_iter()
                    .flatten()
                    .any(|r| v.dirty.contains(&r));
                if touched {
                    let st = self.index.state_at(&m.cited, View::Resolved);
                    if authorize(&self.genesis, &st, doc, &m.device, &m.action).is_err() {
                        void.insert(h);
                    }
                }
            }
        }
        let set = Arc::new(void);
        self.void_cache
            .insert(doc.clone(), (v.version, len, set.clone()));
        set
    }

    /// Whether a governance change counts once revocations are resolved.
    pub(crate) fn gov_valid(&mut self, h: &Hash) -> bool {
        self.ensure_validity();
        match self.index.ix(h) {
            Some(i) => !self.index.validity().invalid.contains(i),
            None => false,
        }
    }
}
