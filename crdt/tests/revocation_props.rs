//! Property: random interleavings of removals, device revocations, role changes, joins and
//! writes on 3–7 replicas (members and their second devices, syncing with each other now and
//! then, so changes are concurrent in many ways) always converge to the same state, and no
//! write concurrent with a valid revocation of its author or device survives.

use proptest::prelude::*;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Capabilities, Revocation, SecretIdentity, Signed, Timestamp};

#[derive(Debug, Clone)]
enum Op {
    /// A replica posts.
    Post(usize),
    /// The founder (0) or a moderator removes member `1..`.
    Remove(usize, usize),
    /// The founder promotes or demotes a member.
    Role(usize, bool),
    /// A member's root revokes its second device.
    Revoke(usize),
    /// A replica endorses a member.
    Endorse(usize, usize),
    /// A moderator hides the newest post it sees.
    Hide(usize),
    /// A member leaves.
    Leave(usize),
    /// Replica `a` takes in everything replica `b` has.
    Sync(usize, usize),
}

fn ops(replicas: usize, members: usize) -> impl Strategy<Value = Vec<Op>> {
    let r = 0..replicas;
    let m = 1..=members;
    let op = prop_oneof![
        4 => r.clone().prop_map(Op::Post),
        2 => (0..=members, m.clone()).prop_map(|(a, b)| Op::Remove(a, b)),
        2 => (m.clone(), any::<bool>()).prop_map(|(a, up)| Op::Role(a, up)),
        1 => m.clone().prop_map(Op::Revoke),
        1 => (r.clone(), m.clone()).prop_map(|(a, b)| Op::Endorse(a, b)),
        1 => r.clone().prop_map(Op::Hide),
        1 => m.prop_map(Op::Leave),
        5 => (r.clone(), r).prop_map(|(a, b)| Op::Sync(a, b)),
    ];
    prop::collection::vec(op, 5..40)
}

struct Net {
    /// 0: founder; 1..=n: member roots; n+1..=2n: their second devices.
    keys: Vec<SecretIdentity>,
    reps: Vec<Community>,
    members: usize,
}

impl Net {
    fn new(members: usize) -> Net {
        let f = key(1);
        let g = genesis(&f, AdmissionPolicy::Open);
        let mut keys = vec![f];
        for i in 0..members {
            keys.push(key(10 + i as u8));
        }
        for i in 0..members {
            keys.push(key(40 + i as u8));
        }
        let mut reps: Vec<Community> = keys.iter().map(|k| replica(&g, k)).collect();
        let t = T0.plus_millis(1);
        for i in 1..=members {
            let k = keys[i].clone();
            reps[i]
                .edit(
                    &k,
                    t,
                    Edit::Govern(join_action(&k.member_id(), None, None, None)),
                )
                .unwrap();
            let (root, dev) = (keys[i].clone(), keys[members + i].clone());
            let d = members + i;
            let (l, r) = reps.split_at_mut(d);
            sync_all(&l[i], &mut r[0]);
            reps[d]
                .edit(
                    &dev,
                    t,
                    Edit::Govern(Action::LinkDevice {
                        cert: cert(&root, &dev, Capabilities::ALL),
                    }),
                )
                .unwrap();
        }
        let mut net = Net {
            keys,
            reps,
            members,
        };
        net.mesh();
        net
    }

    fn mesh(&mut self) {
        let mut refs: Vec<&mut Community> = self.reps.iter_mut().collect();
        sync_mesh(&mut refs);
    }

    fn root_of(&self, i: usize) -> usize {
        if i > self.members {
            i - self.members
        } else {
            i
        }
    }

    fn run(&mut self, op: &Op, step: u64) {
        let t = T0.plus_millis(1_000 * (step + 2));
        let edit = |net: &mut Net, i: usize, e: Edit| {
            let k = net.keys[i].clone();
            let _ = net.reps[i].edit(&k, t, e);
        };
        match op {
            Op::Post(i) => edit(self, *i, post("general", &format!("post {step} by {i}"))),
            Op::Remove(a, b) => {
                let member = self.keys[*b].member_id();
                let a = if *a == 0 { 0 } else { *a };
                edit(
                    self,
                    a,
                    Edit::Govern(Action::Remove {
                        member,
                        reason: "test".into(),
                        cut: Default::default(),
                    }),
                );
            }
            Op::Role(b, up) => {
                let member = self.keys[*b].member_id();
                let role = if *up { Role::Moderator } else { Role::Member };
                edit(
                    self,
                    0,
                    Edit::Govern(Action::SetRole {
                        member,
                        role,
                        cut: Default::default(),
                    }),
                );
            }
            Op::Revoke(b) => {
                let root = self.keys[*b].clone();
                let dev = self.keys[self.members + *b].clone();
                let rev = Revocation {
                    member: root.member_id(),
                    device: dev.device_id(),
                    from: Timestamp::ZERO,
                    reason: "lost".into(),
                };
                let rev = Signed::sign(&root, rev).unwrap().to_bytes();
                edit(
                    self,
                    *b,
                    Edit::Govern(Action::RevokeDevice {
                        revocation: rev,
                        cut: Default::default(),
                    }),
                );
            }
            Op::Endorse(a, b) => {
                let from = self.keys[self.root_of(*a)].member_id();
                let signer = self.keys[*a].clone();
                let e = qun_identity::Endorsement {
                    from,
                    to: self.keys[*b].member_id(),
                    topic: qun_identity::Topic::general(),
                    scope: qun_identity::Scope::Global,
                    weight: qun_identity::Weight::FULL,
                    created: t,
                    expires: None,
                    note: String::new(),
                };
                let Ok(signed) = Signed::sign(&signer, e) else {
                    return; // a member cannot endorse itself
                };
                let bytes = signed.to_bytes();
                edit(
                    self,
                    *a,
                    Edit::Govern(Action::Endorse { endorsement: bytes }),
                );
            }
            Op::Hide(i) => {
                let newest = self.reps[*i]
                    .posts(&ChannelId::general(), 1, None)
                    .ok()
                    .and_then(|p| p.first().map(|p| p.id.clone()));
                if let Some(p) = newest {
                    edit(
                        self,
                        *i,
                        Edit::Govern(Action::Hide {
                            post: p,
                            reason: "test".into(),
                        }),
                    );
                }
            }
            Op::Leave(b) => edit(self, *b, Edit::Govern(Action::Leave)),
            Op::Sync(a, b) if a != b => {
                let (a, b) = (*a, *b);
                let (to, from) = if a < b {
                    let (l, r) = self.reps.split_at_mut(b);
                    (&mut l[a], &r[0])
                } else {
                    let (l, r) = self.reps.split_at_mut(a);
                    (&mut r[0], &l[b])
                };
                sync_all(from, to);
            }
            Op::Sync(..) => {}
        }
    }
}

/// The fingerprint replicas must agree on.
fn fingerprint(c: &mut Community) -> String {
    let st = c.state();
    let mut posts = c.posts(&ChannelId::general(), 1_000, None).unwrap();
    posts.sort_by(|a, b| a.id.cmp(&b.id));
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        all_heads(c),
        st.members,
        st.removed.keys().collect::<Vec<_>>(),
        st.devices.keys().collect::<Vec<_>>(),
        st.revoked.keys().collect::<Vec<_>>(),
        st.hidden,
        posts
            .iter()
            .map(|p| (&p.id, &p.text, p.hidden.is_some()))
            .collect::<Vec<_>>()
    )
}

/// No write concurrent with a valid revocation of its author (or device) counts.
fn check_revocations(c: &mut Community) -> Result<(), TestCaseError> {
    let gov = gov_facts(c);
    let content = content_facts(c);
    for r in gov.iter().filter(|r| r.valid) {
        let Some((member, device, cut)) = &r.revokes_all else {
            continue;
        };
        let targets = |m: &qun_identity::MemberId, d: &qun_identity::DeviceId| {
            member.as_ref() == Some(m) || device.as_ref() == Some(d)
        };
        for w in gov
            .iter()
            .filter(|w| w.hash != r.hash && targets(&w.member, &w.device))
        {
            let concurrent =
                !gov_precedes(c, &w.hash, &r.hash) && !gov_precedes(c, &r.hash, &w.hash);
            prop_assert!(
                !(concurrent && w.valid),
                "governance write {} concurrent with revocation {} survived",
                w.hash,
                r.hash
            );
        }
        for k in content.iter().filter(|k| targets(&k.member, &k.device)) {
            let follows = k
                .cited
                .iter()
                .any(|h| *h == r.hash || gov_precedes(c, &r.hash, h));
            if !follows && cut.beyond(&k.device, &k.doc, k.seq) {
                prop_assert!(
                    !k.valid,
                    "content write {} beyond the cut of revocation {} survived",
                    k.hash,
                    r.hash
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("QUN_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    #[test]
    fn revocations_converge_and_void_concurrent_writes(
        (members, script) in (1usize..=3).prop_flat_map(|m| (Just(m), ops(2 * m + 1, m)))
    ) {
        let mut net = Net::new(members);
        for (i, op) in script.iter().enumerate() {
            net.run(op, i as u64);
        }
        net.mesh();
        let fp = fingerprint(&mut net.reps[0]);
        for i in 1..net.reps.len() {
            prop_assert_eq!(&fingerprint(&mut net.reps[i]), &fp, "replica {} differs", i);
        }
        check_revocations(&mut net.reps[0])?;
        // The incremental validity every replica kept agrees with resolving from scratch.
        resolve_from_scratch(&mut net.reps[0]);
        prop_assert_eq!(&fingerprint(&mut net.reps[0]), &fp, "from scratch differs");
        if std::env::var("QUN_PROPTEST_STATS").is_ok() {
            let g = gov_facts(&mut net.reps[0]);
            let c = content_facts(&mut net.reps[0]);
            eprintln!(
                "STATS gov {} void {} content {} void {}",
                g.len(),
                g.iter().filter(|x| !x.valid).count(),
                c.len(),
                c.iter().filter(|x| !x.valid).count()
            );
        }
    }
}
