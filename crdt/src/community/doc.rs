//! One Automerge document of a community, with the bookkeeping validation needs: which changes
//! it holds and their signatures, each device's last sequence number, the governance heads
//! each content change cited, and which section of its slot each object belongs to.

use crate::error::{Error, Result};
use crate::ids::{CommunityId, DocId, Hash};
use crate::model::action::{Action, Section};
use crate::model::schema;
use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{ActorId, Automerge, Change, ExpandedChange, ReadDoc};
use qun_identity::{DeviceId, MemberId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where an object sits in its owner's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The slot map `d/<device>` itself.
    Slot,
    /// Inside a section of the slot.
    In(Section),
}

/// A change that passed validation, waiting to be applied to Automerge in a batch.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub(crate) change: Change,
}

/// A change's bytes and its signature.
pub(crate) type SignedBytes = (Vec<u8>, [u8; 64]);

/// What validity needs to know about a content change without reading it again.
#[derive(Debug, Clone)]
pub(crate) struct ContentMeta {
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    /// The member it acted for at the governance heads it cited.
    pub(crate) member: MemberId,
    pub(crate) cited: Arc<[Hash]>,
    pub(crate) action: Action,
}

/// Most stranded changes a document keeps (to count support for their side of a fork and to
/// apply them if it wins), and their bytes.
pub(crate) const MAX_KEPT: usize = 4_096;
/// ... in bytes.
pub(crate) const MAX_KEPT_BYTES: usize = 8 * 1024 * 1024;

/// A stranded change kept for its side of a fork.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sig: [u8; 64],
}

/// One side of a fork: a twin and what was built on it, and the devices (other than the
/// equivocating one) that built on it.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    pub(crate) root: Hash,
    pub(crate) closure: HashSet<Hash>,
    pub(crate) supporters: std::collections::BTreeSet<DeviceId>,
}

impl Side {
    /// Whether this side wins over `other`: more supporters, then the lower twin hash.
    pub(crate) fn beats(&self, other: &Side) -> bool {
        (self.supporters.len(), std::cmp::Reverse(self.root))
            > (other.supporters.len(), std::cmp::Reverse(other.root))
    }
}

/// A device's two changes with one sequence number in this document: the side applied to
/// Automerge and the side kept aside.
#[derive(Debug, Clone)]
pub(crate) struct Fork {
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    pub(crate) applied: Side,
    pub(crate) other: Side,
}

/// Bookkeeping of one accepted change (see [`DocState::stage`]).
pub(crate) struct Record {
    pub(crate) sig: [u8; 64],
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    pub(crate) meta: Option<ContentMeta>,
    pub(crate) created: Vec<((DeviceId, u64), Place)>,
}

/// A document and its bookkeeping.
pub(crate) struct DocState {
    pub(crate) id: DocId,
    pub(crate) am: Automerge,
    pub(crate) genesis: Hash,
    genesis_actor: ActorId,
    /// Signature of every change (the genesis has none), in application order.
    pub(crate) sigs: HashMap<Hash, [u8; 64]>,
    pub(crate) order: Vec<Hash>,
    /// Sum of the encoded sizes of the changes.
    pub(crate) bytes: usize,
    /// Last applied sequence number per device.
    seqs: HashMap<DeviceId, u64>,
    /// The change of each device and sequence number (to see equivocation).
    pub(crate) by_seq: HashMap<(DeviceId, u64), Hash>,
    /// Content changes: who wrote them, what they do, what they cited.
    pub(crate) meta: HashMap<Hash, ContentMeta>,
    /// Changes that lost an equivocation, and everything that depends on them: not applied.
    pub(crate) stranded: HashSet<Hash>,
    /// Stranded changes from known devices, kept for their side of a fork.
    pub(crate) kept: std::collections::BTreeMap<Hash, Kept>,
    pub(crate) kept_bytes: usize,
    /// Equivocations in this document and which side is applied.
    pub(crate) forks: Vec<Fork>,
    /// Objects created by each device, by op counter.
    places: HashMap<(DeviceId, u64), Place>,
    /// Validated changes not yet applied to `am`, and their positions by hash.
    staged: Vec<Staged>,
    staged_ix: HashMap<Hash, usize>,
}

impl std::fmt::Debug for DocState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocState")
            .field("id", &self.id)
            .field("changes", &self.order.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// The device key an actor id names (32 bytes, a valid ed25519 point).
pub(crate) fn actor_device(actor: &ActorId) -> Result<DeviceId> {
    let bytes: [u8; 32] = actor.to_bytes().try_into().map_err(|_| Error::BadActor {
        reason: format!("{} bytes, expected 32", actor.to_bytes().len()),
    })?;
    DeviceId::from_bytes(&bytes).map_err(|e| Error::BadActor {
        reason: e.to_string(),
    })
}

impl DocState {
    /// A document holding only its deterministic genesis; local edits are made as `device`.
    pub(crate) fn new(community: &CommunityId, id: DocId, device: &DeviceId) -> Self {
        let (mut am, genesis) = schema::doc_genesis(community, &id);
        am.set_actor(ActorId::from(&device.to_bytes()[..]));
        let genesis_actor = schema::genesis_actor(community, &id);
        DocState {
            id,
            am,
            genesis,
            genesis_actor,
            sigs: HashMap::new(),
            order: Vec::new(),
            bytes: 0,
            seqs: HashMap::new(),
            by_seq: HashMap::new(),
            meta: HashMap::new(),
            stranded: HashSet::new(),
            kept: std::collections::BTreeMap::new(),
            kept_bytes: 0,
            forks: Vec::new(),
            places: HashMap::new(),
            staged: Vec::new(),
            staged_ix: HashMap::new(),
        }
    }

    /// Whether the document holds (or has staged) a change.
    pub(crate) fn has(&self, h: &Hash) -> bool {
        *h == self.genesis || self.sigs.contains_key(h)
    }

    /// Current heads (applies staged changes first).
    pub(crate) fn heads(&mut self) -> Result<Vec<Hash>> {
        self.flush()?;
        Ok(self.am.get_heads())
    }

    /// The next sequence number a device must use.
    /// The device behind `actor` when Automerge does not have it registered here (nor will
    /// once the staged changes are applied); `None` for the document's genesis actor and for a
    /// device with a change in it.
    pub(crate) fn unregistered(&self, actor: &ActorId) -> Result<Option<DeviceId>> {
        if *actor == self.genesis_actor {
            return Ok(None);
        }
        let device = actor_device(actor)?;
        Ok((self.next_seq(&device) == 1).then_some(device))
    }

    pub(crate) fn next_seq(&self, d: &DeviceId) -> u64 {
        self.seqs.get(d).copied().unwrap_or(0) + 1
    }

    /// Governance heads a content change cited.
    pub(crate) fn cited(&self, h: &Hash) -> Option<&Arc<[Hash]>> {
        self.meta.get(h).map(|m| &m.cited)
    }

    /// Check that every operation of `ex` (by `device`, whose change writes `section`) stays
    /// inside the device's own slot and that section.
    pub(crate) fn check_ownership(
        &self,
        ex: &ExpandedChange,
        device: &DeviceId,
        section: Option<Section>,
    ) -> Result<Vec<((DeviceId, u64), Place)>> {
        let me = ActorId::from(&device.to_bytes()[..]);
        let who = device.to_string();
        let deny = |reason: String| Error::NotOwner {
            author: who.clone(),
            reason,
        };
        let Some(section) = section else {
            if ex.operations.is_empty() {
                return Ok(Vec::new());
            }
            return Err(deny(
                "this action carries no data, yet the change has operations".into(),
            ));
        };
        let own = |id: &OpId| id.1 == me;
        let mut created: Vec<((DeviceId, u64), Place)> = Vec::new();
        let start = ex.start_op.get();
        for (i, op) in ex.operations.iter().enumerate() {
            let counter = start + i as u64;
            for p in op.pred.iter() {
                if !own(p) {
                    return Err(deny(format!(
                        "op {i} overwrites another device's operation"
                    )));
                }
            }
            if let Key::Seq(ElementId::Id(e)) = &op.key
                && !own(e)
            {
                return Err(deny(format!(
                    "op {i} inserts after another device's element"
                )));
            }
            let place = match &op.obj {
                ObjectId::Root => return Err(deny(format!("op {i} writes the document root"))),
                ObjectId::Id(OpId(1, actor)) if *actor == self.genesis_actor => {
                    // The slots map: only the device's own key.
                    match &op.key {
                        Key::Map(k) if *k == who => Place::Slot,
                        _ => return Err(deny(format!("op {i} writes another device's slot"))),
                    }
                }
                ObjectId::Id(id) => {
                    if !own(id) {
                        return Err(deny(format!("op {i} writes an object of another device")));
                    }
                    let found = self
                        .places
                        .get(&(*device, id.0))
                        .copied()
                        .or_else(|| created.iter().find(|(k, _)| k.1 == id.0).map(|(_, p)| *p));
                    match found {
                        Some(p) => p,
                        None => {
                            return Err(deny(format!("op {i} writes an unknown object")));
                        }
                    }
                }
            };
            // The section an op lands in: inside the slot, the key names the section.
            let lands_in = match place {
                Place::Slot => match &op.key {
                    Key::Map(k) => Section::from_key(k),
                    Key::Seq(_) => None,
                },
                Place::In(s) => Some(s),
            };
            let is_slot_itself =
                matches!(op.obj, ObjectId::Id(OpId(1, ref a)) if *a == self.genesis_actor);
            if is_slot_itself {
                // Creating or replacing the slot map itself is allowed in any data action.
                if !matches!(op.action, OpType::Make(automerge::ObjType::Map)) {
                    return Err(deny(format!("op {i}: a slot must be a map")));
                }
                created.push(((*device, counter), Place::Slot));
                continue;
            }
            match lands_in {
                Some(s) if s == section => {}
                Some(s) => {
                    return Err(deny(format!(
                        "op {i} writes section {} but the action writes {}",
                        s.key(),
                        section.key()
                    )));
                }
                None => return Err(deny(format!("op {i} writes an unknown slot key"))),
            }
            if let OpType::Make(_) = op.action {
                created.push(((*device, counter), Place::In(section)));
            }
        }
        Ok(created)
    }

    /// Record a validated change and stage it for application (`staged`: not yet in `am`;
    /// otherwise a local change already made there).
    pub(crate) fn stage(&mut self, change: Change, rec: Record, staged: bool) {
        let h = change.hash();
        for f in &mut self.forks {
            if change.deps().iter().any(|d| f.applied.closure.contains(d)) {
                f.applied.closure.insert(h);
                if rec.device != f.device {
                    f.applied.supporters.insert(rec.device);
                }
            }
        }
        self.bytes += change.raw_bytes().len();
        self.sigs.insert(h, rec.sig);
        self.order.push(h);
        self.seqs.insert(rec.device, rec.seq);
        self.by_seq.insert((rec.device, rec.seq), h);
        if let Some(m) = rec.meta {
            self.meta.insert(h, m);
        }
        self.places.extend(rec.created);
        if staged {
            self.staged_ix.insert(h, self.staged.len());
            self.staged.push(Staged { change });
        }
    }

    /// Apply staged changes to Automerge in one call.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.staged_ix.clear();
        let batch: Vec<Change> = self.staged.drain(..).map(|s| s.change).collect();
        if self.am.apply_changes(batch.clone()).is_ok() {
            return Ok(());
        }
        // A change passed every check of ours yet Automerge refuses it (a crafted change,
        // deterministic: every node refuses the same one). Apply the batch one change at a
        // time so the others are not lost; the refused one stays recorded (and deduplicated)
        // but never reaches the document.
        for c in batch {
            let h = c.hash();
            if let Err(e) = self.am.apply_changes([c]) {
                tracing::warn!(doc = %self.id, change = %h, "automerge refused a validated change: {e}");
            }
        }
        Ok(())
    }

    /// A change with its signature, for sending to a peer.
    pub(crate) fn signed_change(&self, h: &Hash) -> Option<(Vec<u8>, [u8; 64])> {
        let sig = self.sigs.get(h)?;
        if let Some(s) = self.staged_ix.get(h).and_then(|i| self.staged.get(*i)) {
            return Some((s.change.raw_bytes().to_vec(), *sig));
        }
        let c = self.am.get_change_by_hash(h)?;
        Some((c.raw_bytes().to_vec(), *sig))
    }

    /// The changes not in the causal past of `have` (all of them for an empty `have`) with
    /// their signatures, in causal order, genesis excluded. Applies staged changes first.
    ///
    /// One pass over the document: Automerge rebuilds a change from its op set on every
    /// lookup, so fetching them one hash at a time would cost O(document) each.
    pub(crate) fn signed_changes_since(&mut self, have: &[Hash]) -> Result<Vec<SignedBytes>> {
        self.flush()?;
        let known: Vec<Hash> = have.iter().copied().filter(|h| self.has(h)).collect();
        Ok(self
            .am
            .get_changes(&known)
            .into_iter()
            .filter_map(|c| {
                let sig = self.sigs.get(&c.hash())?;
                Some((c.raw_bytes().to_vec(), *sig))
            })
            .collect())
    }

    /// Hashes of the changes not in the causal past of `have` (all of them for an empty
    /// `have`), in causal order, genesis excluded. Applies staged changes first.
    /// Some changes, newest first at doubling distances back in application order (the last,
    /// the second last, the fourth last...): at most `max`. A peer that knows any of them
    /// knows its whole past.
    pub(crate) fn sample(&self, max: usize) -> Vec<Hash> {
        let n = self.order.len();
        std::iter::successors(Some(1usize), |d| d.checked_mul(2))
            .take_while(|d| *d <= n)
            .take(max)
            .map(|d| self.order[n - d])
            .collect()
    }

    pub(crate) fn changes_since(&mut self, have: &[Hash]) -> Result<Vec<Hash>> {
        self.flush()?;
        let known: Vec<Hash> = have.iter().copied().filter(|h| self.has(h)).collect();
        Ok(self
            .am
            .get_changes(&known)
            .iter()
            .map(|c| c.hash())
            .filter(|h| *h != self.genesis)
            .collect())
    }
}

impl DocState {
    /// Keep a stranded change (bounded; `force` keeps a twin even when full). Returns whether it
    /// is kept.
    pub(crate) fn keep(&mut self, h: Hash, k: Kept, force: bool) -> bool {
        if self.kept.contains_key(&h) {
            return true;
        }
        if !force
            && (self.kept.len() >= MAX_KEPT || self.kept_bytes + k.bytes.len() > MAX_KEPT_BYTES)
        {
            return false;
        }
        self.kept_bytes += k.bytes.len();
        self.kept.insert(h, k);
        self.stranded.insert(h);
        true
    }

    /// Take a kept change out (it is being applied).
    pub(crate) fn unkeep(&mut self, h: &Hash) -> Option<Kept> {
        let k = self.kept.remove(h)?;
        self.kept_bytes -= k.bytes.len();
        self.stranded.remove(h);
        Some(k)
    }

    /// Every change of this document that has `root` in its causal past, `root` included.
    pub(crate) fn descendants(&mut self, root: Hash) -> Result<HashSet<Hash>> {
        self.flush()?;
        let mut out = HashSet::new();
        out.insert(root);
        // `get_changes` lists in causal order: a change's dependencies come before it.
        for c in self.am.get_changes(&[]) {
            if c.deps().iter().any(|d| out.contains(d)) {
                out.insert(c.hash());
            }
        }
        Ok(out)
    }

    /// The device that signed each of `hashes` held here.
    pub(crate) fn devices_of(&self, hashes: &HashSet<Hash>) -> Vec<DeviceId> {
        self.by_seq
            .iter()
            .filter(|(_, h)| hashes.contains(*h))
            .map(|((d, _), _)| *d)
            .collect()
    }

    /// A copy of this document without the changes in `drop` and everything that depends on
    /// them (they become stranded): what every node holds once an equivocation is resolved.
    /// Returns the copy and the hashes left out. Costs a pass over the document; equivocation
    /// is rare.
    pub(crate) fn without(
        &mut self,
        community: &CommunityId,
        drop: &HashSet<Hash>,
    ) -> Result<(DocState, HashSet<Hash>)> {
        self.flush()?;
        let local = actor_device(self.am.get_actor())?;
        let mut out = DocState::new(community, self.id.clone(), &local);
        out.stranded = self.stranded.clone();
        out.kept = self.kept.clone();
        out.kept_bytes = self.kept_bytes;
        out.forks = self.forks.clone();
        let mut dropped: HashSet<Hash> = HashSet::new();
        let mut kept: Vec<Change> = Vec::new();
        for c in self.am.get_changes(&[]) {
            let h = c.hash();
            if h == self.genesis {
                continue;
            }
            if drop.contains(&h) || c.deps().iter().any(|d| dropped.contains(d)) {
                dropped.insert(h);
                continue;
            }
            let (Some(sig), Ok(device)) = (self.sigs.get(&h), actor_device(c.actor_id())) else {
                continue;
            };
            let section = self
                .meta
                .get(&h)
                .map(|m| m.action.section())
                .unwrap_or_else(|| {
                    crate::model::action::ChangeMeta::decode(c.message())
                        .ok()
                        .and_then(|(a, _)| a.section())
                });
            let created = out
                .check_ownership(&c.decode(), &device, section)
                .unwrap_or_default();
            let rec = Record {
                sig: *sig,
                device,
                seq: c.seq(),
                meta: self.meta.get(&h).cloned(),
                created,
            };
            out.stage(c.clone(), rec, false);
            kept.push(c.clone());
        }
        out.am.apply_changes(kept)?;
        out.stranded.extend(dropped.iter().copied());
        Ok((out, dropped))
    }
}
