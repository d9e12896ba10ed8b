//! The cast and helpers of the market tests: one replica per member, changes moved between
//! them explicitly, and changes crafted the way an attacker makes them (any action, any
//! dependencies, signed by its own key or carrying someone else's signature), which honest
//! replicas then judge through the real `Community::ingest` path.
#![allow(dead_code)]

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ReadDoc};
use qun_crdt::community::action::ChangeMeta;
use qun_crdt::market::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{MemberId, SecretIdentity, Timestamp};

/// Founder (and, in deals, often the arbiter's superior).
pub const F: usize = 0;
/// Seller: owns the offer.
pub const A: usize = 1;
/// Buyer.
pub const B: usize = 2;
/// Arbiter.
pub const R: usize = 3;
/// Another member (the attacker in most tests).
pub const X: usize = 4;

/// Five members on five replicas of one open community.
pub struct World {
    pub g: CommunityGenesis,
    pub keys: Vec<SecretIdentity>,
    pub reps: Vec<Community>,
    clock: u64,
}

/// A crafted change: bytes and hash (sign separately).
pub struct Crafted {
    pub bytes: Vec<u8>,
    pub hash: Hash,
}

impl World {
    /// F founds; A, B, R, X join; everyone holds everything.
    pub fn new() -> Self {
        let keys: Vec<SecretIdentity> = (1..=5).map(key).collect();
        let g = genesis(&keys[F], AdmissionPolicy::Open);
        let reps = keys.iter().map(|k| replica(&g, k)).collect();
        let mut w = World {
            g,
            keys,
            reps,
            clock: 0,
        };
        for i in [A, B, R, X] {
            w.act(
                i,
                Action::Join {
                    cert: None,
                    invitation: None,
                    proof: None,
                },
            )
            .unwrap();
        }
        w.mesh();
        w
    }

    /// The next second.
    pub fn now(&mut self) -> Timestamp {
        self.clock += 1;
        T0.plus_millis(self.clock * 1000)
    }

    pub fn id(&self, i: usize) -> MemberId {
        self.keys[i].member_id()
    }

    /// Member `i` makes a governance action on its own replica (its honest node's rules apply).
    pub fn act(&mut self, i: usize, a: Action) -> Result<LocalChange> {
        let now = self.now();
        let k = self.keys[i].clone();
        self.reps[i].edit(&k, now, Edit::Govern(a))
    }

    /// Move everything `from` holds to `to`.
    pub fn sync(&mut self, from: usize, to: usize) {
        let src = std::mem::replace(&mut self.reps[from], replica(&self.g, &self.keys[from]));
        sync_all(&src, &mut self.reps[to]);
        self.reps[from] = src;
    }

    /// Everyone holds everything.
    pub fn mesh(&mut self) {
        let mut refs: Vec<&mut Community> = self.reps.iter_mut().collect();
        sync_mesh(&mut refs);
    }

    /// A governance change carrying `a`, made at replica `on`'s governance heads with the
    /// actor of `actor`'s key, without any local rule (what an attacker's node can make).
    pub fn craft(&mut self, on: usize, actor: &SecretIdentity, a: &Action) -> Crafted {
        let saved = self.reps[on].export_doc(&DocId::Governance).unwrap();
        let mut am = Automerge::load(&saved).unwrap();
        am.set_actor(ActorId::from(&actor.device_id().to_bytes()[..]));
        let now = self.now();
        let hash = am.empty_commit(
            CommitOptions::default()
                .with_message(ChangeMeta::encode(a, &[]))
                .with_time(now.as_millis() as i64),
        );
        let bytes = am.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec();
        Crafted { bytes, hash }
    }

    /// `signer`'s signature over a governance change of this community.
    pub fn sign(&self, signer: &SecretIdentity, hash: &Hash) -> [u8; 64] {
        signer.sign_raw(&signing_message(&self.g.id(), &DocId::Governance, hash))
    }

    /// Member `i` crafts `a` at its replica's heads, signs it, and offers it to replica `to`.
    pub fn attack(&mut self, i: usize, a: &Action, to: usize) -> Result<Ingested> {
        let k = self.keys[i].clone();
        let c = self.craft(i, &k, a);
        let sig = self.sign(&k, &c.hash);
        self.reps[to].ingest(&DocId::Governance, &c.bytes, &sig)
    }

    /// A opens an offer `key` of `quantity` on its replica; returns its id.
    pub fn offer(&mut self, i: usize, key: &str, quantity: u32) -> ListingId {
        let id = ListingId::new(self.id(i), key).unwrap();
        self.act(
            i,
            Action::ListingSet {
                id: id.clone(),
                listing: listing(ListingKind::Offer, key, quantity).into(),
            },
        )
        .unwrap();
        id
    }

    /// Member `i` proposes deal `key` on `listing` (quantity 1, price 10) with `arbiter`.
    pub fn propose(
        &mut self,
        i: usize,
        key: &str,
        on: &ListingId,
        arbiter: Option<usize>,
    ) -> Result<DealId> {
        let deal = DealId::new(self.id(i), key).unwrap();
        let arbiter = arbiter.map(|a| self.id(a));
        self.act(i, propose_action(&deal, on, arbiter))?;
        Ok(deal)
    }

    /// A deal between seller A and buyer B (proposed by B on A's offer), accepted, with R as
    /// arbiter when `arbiter`; everyone holds it.
    pub fn accepted_deal(&mut self, key: &str, arbiter: bool) -> DealId {
        let l = self.offer(A, &format!("l-{key}"), 5);
        self.mesh();
        let d = self.propose(B, key, &l, arbiter.then_some(R)).unwrap();
        self.mesh();
        self.act(A, Action::DealAccept { deal: d.clone() }).unwrap();
        self.mesh();
        d
    }

    /// An accepted deal taken to `completed` (delivered by A, completed by B).
    pub fn completed_deal(&mut self, key: &str) -> DealId {
        let d = self.accepted_deal(key, true);
        self.act(A, Action::DealDeliver { deal: d.clone() })
            .unwrap();
        self.mesh();
        self.act(B, Action::DealComplete { deal: d.clone() })
            .unwrap();
        self.mesh();
        d
    }

    /// The status of a deal on every replica (they must agree).
    pub fn status_everywhere(&mut self, d: &DealId) -> Option<DealStatus> {
        let all: Vec<Option<DealStatus>> = self
            .reps
            .iter_mut()
            .map(|c| c.deal(d).map(|v| v.status))
            .collect();
        assert!(
            all.windows(2).all(|w| w[0] == w[1]),
            "replicas disagree: {all:?}"
        );
        all[0]
    }
}

/// A listing with everything else at its simplest.
pub fn listing(kind: ListingKind, title: &str, quantity: u32) -> Listing {
    Listing {
        kind,
        title: title.into(),
        description: "**fresh**".into(),
        price: Price::Amount { amount: 10 },
        quantity,
        images: vec![],
        tags: vec!["food".into()],
        location: "market square".into(),
        status: ListingStatus::Open,
    }
}

pub fn propose_action(deal: &DealId, on: &ListingId, arbiter: Option<MemberId>) -> Action {
    Action::DealPropose(Box::new(Proposal {
        deal: deal.clone(),
        listing: on.clone(),
        quantity: 1,
        price: 10,
        terms: "cash on pickup".into(),
        arbiter,
    }))
}

/// The rule a refusal names (panics on anything but an authorization or state-machine error).
pub fn rule(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Unauthorized { reason, .. }) => reason,
        Err(e @ Error::DealTransition { .. }) => e.to_string(),
        other => panic!("expected a refusal by a market rule, got {other:?}"),
    }
}
