//! The ledger's book: how long folding it takes as a community's economy grows (a table
//! binary; one-shot timings).
//!
//! One governance document with 20 members who pay each other at random (1-5 units, fixed
//! limit 1,000, so every payment counts), all made in sequence (each payer has seen every
//! earlier payment: no forks). After every `STEP` payments the book is folded from nothing
//! (the cache is keyed by the heads, which just changed) and timed, with a member's statement.
//!
//! Run: `cargo bench -p qun-crdt --bench ledger` (`-- 1000` for fewer payments).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ReadDoc};
use qun_crdt::community::action::ChangeMeta;
use qun_crdt::ledger::{CreditLimit, LedgerPolicy};
use qun_crdt::test_utils::{T0, genesis, key, key_n, replica};
use qun_crdt::*;
use qun_identity::SecretIdentity;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

const MEMBERS: u32 = 20;
const STEP: usize = 1_000;

struct Hub {
    g: CommunityGenesis,
    c: Community,
    am: Automerge,
    t: u64,
}

impl Hub {
    fn act(&mut self, k: &SecretIdentity, a: &Action) {
        self.t += 1;
        self.am
            .set_actor(ActorId::from(&k.device_id().to_bytes()[..]));
        let hash = self.am.empty_commit(
            CommitOptions::default()
                .with_message(ChangeMeta::encode(a, &[]))
                .with_time(T0.plus_millis(self.t * 1000).as_millis() as i64),
        );
        let bytes = self
            .am
            .get_change_by_hash(&hash)
            .unwrap()
            .raw_bytes()
            .to_vec();
        let sig = k.sign_raw(&signing_message(&self.g.id(), &DocId::Governance, &hash));
        self.c.ingest(&DocId::Governance, &bytes, &sig).unwrap();
    }
}

fn main() {
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4_000);
    let founder = key(1);
    let g = genesis(&founder, AdmissionPolicy::Open);
    let c = replica(&g, &founder);
    let mut c = c;
    let am = Automerge::load(&c.export_doc(&DocId::Governance).unwrap()).unwrap();
    let mut hub = Hub { g, c, am, t: 0 };
    let mut keys = vec![founder.clone()];
    for i in 1..MEMBERS {
        let k = key_n(2, i);
        hub.act(
            &k,
            &Action::Join {
                cert: None,
                invitation: None,
                proof: None,
            },
        );
        keys.push(k);
    }
    hub.act(
        &founder,
        &Action::LedgerPolicy {
            policy: LedgerPolicy {
                on: true,
                unit: "hours".into(),
                limit: CreditLimit::Fixed { amount: 1_000 },
            },
        },
    );
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
    println!("| payments | fold the book (ms) | one statement after it (ms) | valid |");
    println!("|---:|---:|---:|---:|");
    for n in 1..=total {
        let a = rng.random_range(0..MEMBERS as usize);
        let mut b = rng.random_range(0..MEMBERS as usize);
        if b == a {
            b = (b + 1) % MEMBERS as usize;
        }
        let pay = Action::Pay {
            to: keys[b].member_id(),
            amount: rng.random_range(1..=5),
            note: String::new(),
            deal: None,
        };
        let k = keys[a].clone();
        hub.act(&k, &pay);
        if n % STEP == 0 || n == total {
            let _ = hub.c.state();
            let t0 = Instant::now();
            let book = hub.c.ledger_book();
            let fold = t0.elapsed();
            let t1 = Instant::now();
            let _ = hub.c.statement(&keys[0].member_id());
            let st = t1.elapsed();
            let valid = book
                .entries
                .iter()
                .filter(|e| e.status == ledger::book::PaymentStatus::Valid)
                .count();
            println!(
                "| {n} | {:.1} | {:.2} | {valid} |",
                fold.as_secs_f64() * 1e3,
                st.as_secs_f64() * 1e3
            );
        }
    }
}
