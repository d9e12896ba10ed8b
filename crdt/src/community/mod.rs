//! A community: its genesis, its governance document and index, and its content documents,
//! with a typed API for reading ([`view`]) and writing ([`edit`]). No caller touches raw
//! Automerge paths.

pub(crate) mod access;
pub use crate::gov::flow;
pub use crate::model::{action, cut, genesis, policy, schema};
pub(crate) mod apply;
pub(crate) mod auth;
pub(crate) mod authentic;
pub(crate) mod doc;
pub mod edit;
pub(crate) mod equivocation;
mod reader;
pub(crate) mod validity;
pub mod view;

use crate::error::Result;
use crate::gov::index::View;
use crate::gov::{GovIndex, GovState};
use crate::ids::{CommunityId, DocId, Hash};
use crate::limits::Limits;
use action::Action;
use doc::DocState;
use genesis::CommunityGenesis;
use qun_identity::DeviceId;
use std::collections::{BTreeMap, HashMap, HashSet};

pub use reader::CommunityReader;

/// What to make again for a change of ours that an equivocation stranded.
#[derive(Debug, Clone, PartialEq)]
pub enum Reissue {
    /// A governance action (carries everything).
    Govern(Action),
    /// A data edit, rebuilt from what the stranded change wrote.
    Edit(edit::Edit),
}

/// Void content changes of a document, cached by validity version and document length.
type VoidCache = HashMap<DocId, (u64, usize, Arc<HashSet<Hash>>)>;
use std::sync::Arc;

/// Most content documents one community may hold (channels × windows). Windows are bounded
/// below by the genesis and above by the clock (see `Community::observe_time`), so only a
/// community with very many channels or a very old one reaches this.
pub const MAX_CONTENT_DOCS: usize = 100_000;
/// How many windows ahead of this node's clock a content change may be and still be taken
/// (clocks differ; beyond this it is "not yet" and comes again by sync once its time comes).
pub const FUTURE_WINDOWS: u32 = 1;
/// How many windows before the community's genesis a content change may be: the founder's
/// clock may be ahead of a member's (a member a day behind, near a window boundary, writes
/// into the window before the genesis's). Windows stay bounded below by a fact every node
/// shares.
pub const PAST_WINDOWS: u32 = 1;
/// Most device keys kept decompressed (see `Community::keys`); the cache starts over when full.
pub(crate) const MAX_CACHED_KEYS: usize = 16_384;

/// One community as this node holds it.
pub struct Community {
    pub(crate) genesis: CommunityGenesis,
    /// The local device: the actor of local edits.
    pub(crate) device: DeviceId,
    pub(crate) gov: DocState,
    pub(crate) content: BTreeMap<DocId, DocState>,
    pub(crate) index: GovIndex,
    pub(crate) limits: Limits,
    frontiers: HashSet<Arc<[Hash]>>,
    /// Device keys that signed a valid change, by actor bytes, decompressed once: point
    /// decompression costs a third of an ed25519 verification, and a key is checked twice per
    /// change otherwise (actor parse, verification).
    pub(crate) keys: HashMap<[u8; 32], (DeviceId, qun_identity::ConsensusKey)>,
    /// Threads a batch's signatures are checked on (see `authentic`).
    verify_threads: usize,
    /// Equivocation evidence seen here, waiting to be published as governance actions.
    pub(crate) evidence_out: Vec<Action>,
    /// The latest time the driver told us (bounds content windows from above).
    pub(crate) clock: Option<qun_identity::Timestamp>,
    /// Changes a fork's flip brought in (to persist and report).
    pub(crate) flipped_in: Vec<(DocId, apply::Accepted, Vec<u8>, [u8; 64])>,
    /// This node's own changes stranded by an equivocation, and what to make again for each.
    pub(crate) stranded_own: Vec<(DocId, Hash, Option<Reissue>)>,
    void_cache: VoidCache,
    /// The ledger's book at `(heads, validity version)` (see `ledger::book`).
    pub(crate) book: Option<crate::ledger::CachedBook>,
    /// Tests only: an attacker's replica, whose edits skip the checks that only keep an honest
    /// node from making what peers refuse (see [`Community::forge`]).
    #[cfg(any(test, feature = "test-utils"))]
    pub(crate) forging: bool,
}

impl std::fmt::Debug for Community {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Community")
            .field("id", &self.genesis.id())
            .field("gov", &self.gov)
            .field("content_docs", &self.content.len())
            .finish()
    }
}

impl Community {
    /// An empty community (genesis only), edited locally as `device`.
    pub fn new(genesis: CommunityGenesis, device: DeviceId, limits: Limits) -> Self {
        let id = genesis.id();
        let gov = DocState::new(&id, DocId::Governance, &device);
        let index = GovIndex::new(genesis.clone(), gov.genesis);
        Community {
            genesis,
            device,
            gov,
            content: BTreeMap::new(),
            index,
            limits,
            frontiers: HashSet::new(),
            keys: HashMap::new(),
            verify_threads: 1,
            evidence_out: Vec::new(),
            clock: None,
            stranded_own: Vec::new(),
            flipped_in: Vec::new(),
            void_cache: HashMap::new(),
            book: None,
            #[cfg(any(test, feature = "test-utils"))]
            forging: false,
        }
    }

    /// Tests only: make this replica an attacker's, whose edits skip the local checks that
    /// keep an honest node from making changes its peers refuse (content window bounds), so a
    /// test can offer such changes to honest replicas.
    #[cfg(any(test, feature = "test-utils"))]
    pub fn forge(&mut self) -> &mut Self {
        self.forging = true;
        self
    }

    /// Whether local checks are skipped (never outside tests).
    fn forging(&self) -> bool {
        #[cfg(any(test, feature = "test-utils"))]
        return self.forging;
        #[cfg(not(any(test, feature = "test-utils")))]
        false
    }

    /// The first content window a change may use (see [`PAST_WINDOWS`]).
    pub fn first_window(&self) -> u32 {
        self.genesis
            .window_of(self.genesis.value().created)
            .saturating_sub(PAST_WINDOWS)
    }

    /// The community id.
    pub fn id(&self) -> CommunityId {
        self.genesis.id()
    }

    /// The genesis.
    pub fn genesis(&self) -> &CommunityGenesis {
        &self.genesis
    }

    /// Governance state at the current heads, with revocations resolved: what counts.
    pub fn state(&mut self) -> Arc<GovState> {
        self.ensure_validity();
        self.index.current(View::Resolved)
    }

    /// Governance state at the current heads counting every admitted change (what peers
    /// judge a new change of ours against).
    pub fn raw_state(&mut self) -> Arc<GovState> {
        self.index.current(View::Raw)
    }

    /// Tell the community what time it is (the replicator does, on every input): content
    /// changes for windows more than [`FUTURE_WINDOWS`] ahead of it are "not yet".
    pub fn observe_time(&mut self, now: qun_identity::Timestamp) {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
    }

    /// Changes that a fork's flip brought into the documents since the last call: `(doc,
    /// what went in, bytes, signature)`, to persist and report like any accepted change.
    pub fn take_flipped_in(&mut self) -> Vec<(DocId, apply::Accepted, Vec<u8>, [u8; 64])> {
        std::mem::take(&mut self.flipped_in)
    }

    /// Equivocation evidence found here since the last call (governance actions to publish).
    pub fn take_evidence(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.evidence_out)
    }

    /// This node's own changes that an equivocation stranded since the last call, and the
    /// edit that makes each again on the winning side (when it can be made again).
    pub fn take_stranded_own(&mut self) -> Vec<(DocId, Hash, Option<Reissue>)> {
        std::mem::take(&mut self.stranded_own)
    }

    /// Whether a join by this node's device would be an admission (not only a request) at the
    /// current heads.
    pub(crate) fn would_admit(&mut self, join: &Action) -> bool {
        let st = self.index.current(View::Raw);
        auth::authorize(&self.genesis, &st, &DocId::Governance, &self.device, join).is_ok_and(|a| {
            a.writes.iter().any(|(r, v)| {
                matches!(r, crate::gov::index::Register::Membership(_))
                    && matches!(v, crate::gov::index::WriteValue::Admit { .. })
            })
        })
    }

    /// Forget cached content validity (tests).
    #[cfg(any(test, feature = "test-utils"))]
    pub(crate) fn void_cache_clear(&mut self) {
        self.void_cache.clear();
    }

    /// Whether a change counts once revocations are resolved (false for unknown changes).
    pub fn is_valid(&mut self, doc: &DocId, h: &Hash) -> bool {
        match doc {
            DocId::Governance => self.gov_valid(h),
            _ => self.has_change(doc, h) && !self.void_content(doc).contains(h),
        }
    }

    /// The documents held, governance first.
    pub fn docs(&self) -> Vec<DocId> {
        std::iter::once(DocId::Governance)
            .chain(self.content.keys().cloned())
            .collect()
    }

    /// Heads of a document (empty for a document not held).
    pub fn heads(&mut self, doc: &DocId) -> Result<Vec<Hash>> {
        match self.doc_mut(doc) {
            Some(d) => d.heads(),
            None => Ok(Vec::new()),
        }
    }

    /// Number of changes held in a document (genesis excluded).
    pub fn change_count(&self, doc: &DocId) -> usize {
        self.doc_ref(doc).map(|d| d.order.len()).unwrap_or(0)
    }

    /// Total changes held.
    pub fn total_changes(&self) -> usize {
        self.gov.order.len() + self.content.values().map(|d| d.order.len()).sum::<usize>()
    }

    /// Whether a document holds a change.
    pub fn has_change(&self, doc: &DocId, h: &Hash) -> bool {
        self.doc_ref(doc).is_some_and(|d| d.has(h))
    }

    /// A signed change held in a document: `(change bytes, signature)`.
    pub fn signed_change(&self, doc: &DocId, h: &Hash) -> Option<(Vec<u8>, [u8; 64])> {
        self.doc_ref(doc)?.signed_change(h)
    }

    /// Changes of `doc` not in the causal past of `have`, in causal order.
    pub fn changes_since(&mut self, doc: &DocId, have: &[Hash]) -> Result<Vec<Hash>> {
        match self.doc_mut(doc) {
            Some(d) => d.changes_since(have),
            None => Ok(Vec::new()),
        }
    }

    /// Changes of `doc` not in the causal past of `have` with their signatures, in causal
    /// order, fetched in one pass (see `DocState::signed_changes_since`).
    /// Some changes of `doc` at doubling distances from its newest (see `DocState::sample`).
    pub(crate) fn sample(&self, doc: &DocId, max: usize) -> Vec<Hash> {
        self.doc_ref(doc).map(|d| d.sample(max)).unwrap_or_default()
    }

    pub(crate) fn signed_changes_since(
        &mut self,
        doc: &DocId,
        have: &[Hash],
    ) -> Result<Vec<doc::SignedBytes>> {
        match self.doc_mut(doc) {
            Some(d) => d.signed_changes_since(have),
            None => Ok(Vec::new()),
        }
    }

    /// Every change, in an order in which they can be ingested again (governance first, then
    /// each content document in application order).
    pub fn all_changes(&self) -> Vec<(DocId, Hash)> {
        std::iter::once(&self.gov)
            .chain(self.content.values())
            .flat_map(|d| d.order.iter().map(move |h| (d.id.clone(), *h)))
            .collect()
    }

    /// Apply all staged changes to their Automerge documents.
    pub fn flush(&mut self) -> Result<()> {
        self.gov.flush()?;
        for d in self.content.values_mut() {
            d.flush()?;
        }
        Ok(())
    }

    /// The whole community as bytes: each document saved by Automerge, framed (for export).
    pub fn export(&mut self) -> Result<Vec<(DocId, Vec<u8>)>> {
        self.flush()?;
        Ok(std::iter::once(&self.gov)
            .chain(self.content.values())
            .map(|d| (d.id.clone(), d.am.save()))
            .collect())
    }

    /// One document saved by Automerge (for export and inspection).
    pub fn export_doc(&mut self, doc: &DocId) -> Result<Vec<u8>> {
        match self.doc_mut(doc) {
            Some(d) => {
                d.flush()?;
                Ok(d.am.save())
            }
            None => Err(crate::error::Error::edit(
                "export",
                format!("no document {doc}"),
            )),
        }
    }

    pub(crate) fn doc_ref(&self, doc: &DocId) -> Option<&DocState> {
        match doc {
            DocId::Governance => Some(&self.gov),
            _ => self.content.get(doc),
        }
    }

    pub(crate) fn doc_mut(&mut self, doc: &DocId) -> Option<&mut DocState> {
        match doc {
            DocId::Governance => Some(&mut self.gov),
            _ => self.content.get_mut(doc),
        }
    }

    /// Share equal cited-head lists between changes.
    pub(crate) fn intern(&mut self, heads: Vec<Hash>) -> Arc<[Hash]> {
        let a: Arc<[Hash]> = heads.into();
        if let Some(x) = self.frontiers.get(&a) {
            return x.clone();
        }
        self.frontiers.insert(a.clone());
        a
    }
}
