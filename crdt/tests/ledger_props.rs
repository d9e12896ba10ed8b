//! Properties of the ledger under random concurrent operations on 3-7 members, each with two
//! devices on their own replicas (so a member's two devices can spend at once), some of them
//! attackers' replicas whose local checks are off (over-limit debits, debits from frozen
//! accounts), with partial syncs in between:
//!
//! * at every step, on every replica, the balances plus the open holds sum to exactly zero;
//! * once every replica holds every change, they all agree on every balance, hold, entry
//!   status (forks included) and proposal outcome, and replicas that received the same
//!   changes in other orders agree with them;
//! * no account ends below its credit limit.

use proptest::prelude::*;
use qun_crdt::ledger::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Capabilities, SecretIdentity};

const LIMIT: u64 = 20;

#[derive(Debug, Clone)]
enum Op {
    /// Member pays member an amount from one of its devices.
    Pay(usize, usize, u64),
    /// Member pledges to the proposal.
    Pledge(usize, u64),
    /// The recipient closes the proposal.
    Close,
    /// The founder unfreezes a member.
    Unfreeze(usize),
    /// Replica `a` sends everything it has to replica `b`.
    Sync(usize, usize),
}

/// `(op, device)`.
type Step = (Op, usize);

fn steps(n: usize) -> impl Strategy<Value = Vec<Step>> {
    let op = prop_oneof![
        5 => (0..n, 0..n, 1u64..16).prop_map(|(a, b, x)| Op::Pay(a, b, x)),
        4 => (0..n, 1u64..12).prop_map(|(a, x)| Op::Pledge(a, x)),
        1 => Just(Op::Close),
        1 => (0..n).prop_map(Op::Unfreeze),
        8 => (0..2 * n, 0..2 * n).prop_map(|(a, b)| Op::Sync(a, b)),
    ];
    let device = prop_oneof![4 => Just(0usize), 1 => Just(1usize)];
    prop::collection::vec((op, device), 1..60)
}

struct Net {
    g: CommunityGenesis,
    /// Member `i`'s devices are keys `2i` and `2i + 1`, on replicas `2i` and `2i + 1`.
    keys: Vec<SecretIdentity>,
    members: Vec<qun_identity::MemberId>,
    reps: Vec<Community>,
    fund: FundId,
    clock: u64,
}

impl Net {
    fn new(n: usize, attackers: &[bool]) -> Net {
        let roots: Vec<SecretIdentity> = (0..n).map(|i| key(60 + i as u8)).collect();
        let g = genesis(&roots[0], AdmissionPolicy::Open);
        let mut keys = Vec::new();
        let mut reps = Vec::new();
        for (i, r) in roots.iter().enumerate() {
            let phone = key_n(60 + i as u8, 7);
            reps.push(replica(&g, r));
            reps.push(replica(&g, &phone));
            keys.push(r.clone());
            keys.push(phone);
        }
        let members = roots.iter().map(|r| r.member_id()).collect();
        let t = |s: u64| T0.plus_millis(s * 1000);
        // Everyone joins and links its second device; the founder turns the ledger on and
        // proposes something for member 1.
        for i in 1..n {
            let join = Action::Join {
                cert: None,
                invitation: None,
                proof: None,
            };
            reps[2 * i]
                .edit(&roots[i], t(1), Edit::Govern(join))
                .unwrap();
        }
        {
            let mut all: Vec<&mut Community> = reps.iter_mut().collect();
            sync_mesh(&mut all);
        }
        for i in 0..n {
            let c = cert(&roots[i], &keys[2 * i + 1], Capabilities::ALL);
            reps[2 * i + 1]
                .edit(
                    &keys[2 * i + 1],
                    t(2),
                    Edit::Govern(Action::LinkDevice { cert: c }),
                )
                .unwrap();
        }
        let policy = LedgerPolicy {
            on: true,
            unit: "hours".into(),
            limit: CreditLimit::Fixed { amount: LIMIT },
        };
        reps[0]
            .edit(
                &roots[0],
                t(3),
                Edit::Govern(Action::LedgerPolicy { policy }),
            )
            .unwrap();
        let fund = FundId::new(roots[0].member_id(), "well").unwrap();
        reps[0]
            .edit(
                &roots[0],
                t(4),
                Edit::Govern(Action::FundPropose {
                    id: fund.clone(),
                    fund: Box::new(Fund {
                        title: "A well".into(),
                        description: String::new(),
                        goal: 10,
                        deadline: t(10_000),
                        recipient: roots[1 % n].member_id(),
                        vote: None,
                    }),
                }),
            )
            .unwrap();
        {
            let mut all: Vec<&mut Community> = reps.iter_mut().collect();
            sync_mesh(&mut all);
        }
        for (i, bad) in attackers.iter().enumerate().take(n) {
            if *bad {
                reps[2 * i].forge();
                reps[2 * i + 1].forge();
            }
        }
        Net {
            g,
            keys,
            members,
            reps,
            fund,
            clock: 100,
        }
    }

    fn act(&mut self, member: usize, device: usize, a: Action) {
        self.clock += 1;
        let r = 2 * member + device;
        let k = self.keys[r].clone();
        let _ = self.reps[r].edit(&k, T0.plus_millis(self.clock * 1000), Edit::Govern(a));
    }

    fn apply(&mut self, (op, device): &Step) {
        let n = self.members.len();
        match op {
            Op::Pay(a, b, x) if a != b => {
                let to = self.members[*b];
                self.act(
                    *a,
                    *device,
                    Action::Pay {
                        to,
                        amount: *x,
                        note: String::new(),
                        deal: None,
                    },
                );
            }
            Op::Pay(..) => {}
            Op::Pledge(a, x) => {
                let fund = self.fund.clone();
                self.act(*a, *device, Action::Pledge { fund, amount: *x });
            }
            Op::Close => {
                let fund = self.fund.clone();
                self.act(1 % n, *device, Action::FundClose { fund });
            }
            Op::Unfreeze(m) => {
                let member = self.members[*m];
                self.act(0, *device, Action::Unfreeze { member });
            }
            Op::Sync(a, b) if a != b => {
                let (a, b) = (*a % self.reps.len(), *b % self.reps.len());
                if a != b {
                    let src = std::mem::replace(&mut self.reps[a], replica(&self.g, &self.keys[a]));
                    sync_all(&src, &mut self.reps[b]);
                    self.reps[a] = src;
                }
            }
            Op::Sync(..) => {}
        }
    }
}

type Fingerprint = (
    Vec<(qun_identity::MemberId, i64, u64, bool)>,
    Vec<(Hash, book::PaymentStatus)>,
    Vec<Hold>,
    Vec<(FundId, FundOutcome, u64)>,
);

fn fingerprint(c: &mut Community) -> Fingerprint {
    let b = c.ledger_book();
    (
        b.accounts
            .iter()
            .map(|(m, a)| (*m, a.balance, a.held, a.frozen))
            .collect(),
        b.entries.iter().map(|e| (e.hash, e.status)).collect(),
        b.holds.clone(),
        b.funds
            .iter()
            .map(|(id, f)| (id.clone(), f.outcome.clone(), f.pledged))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_concurrent_ledger_operations_converge_and_never_create_money(
        (n, ops, attackers) in (3usize..=7).prop_flat_map(|n| (
            Just(n),
            steps(n),
            prop::collection::vec(prop::bool::weighted(0.5), n),
        ))
    ) {
        let mut net = Net::new(n, &attackers);
        for (k, s) in ops.iter().enumerate() {
            // Proposals close late enough for pledges to gather.
            if matches!(s.0, Op::Close) && k < 20 {
                continue;
            }
            net.apply(s);
            for r in net.reps.iter_mut() {
                prop_assert_eq!(r.ledger_book().imbalance(), 0);
            }
        }
        {
            let mut all: Vec<&mut Community> = net.reps.iter_mut().collect();
            sync_mesh(&mut all);
        }
        let first = fingerprint(&mut net.reps[0]);
        if std::env::var("LEDGER_COVERAGE").is_ok() {
            eprintln!("COVER {:?} {:?}", first.1.iter().map(|x| x.1).collect::<Vec<_>>(), first.3);
        }
        for r in net.reps.iter_mut().skip(1) {
            prop_assert_eq!(&fingerprint(r), &first);
        }
        // A fresh replica that receives everything in another order (newest replica first),
        // and one that resolves from scratch, agree.
        let mut fresh = replica(&net.g, &key(59));
        for r in net.reps.iter().rev() {
            sync_all(r, &mut fresh);
        }
        prop_assert_eq!(&fingerprint(&mut fresh), &first);
        resolve_from_scratch(&mut fresh);
        prop_assert_eq!(&fingerprint(&mut fresh), &first);
        for (m, balance, _, _) in &first.0 {
            prop_assert!(
                *balance >= -(LIMIT as i64),
                "{} ends at {} below its limit {}", m, balance, LIMIT
            );
        }
    }
}
