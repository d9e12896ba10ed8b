//! Attacks on authorization, written the way an attacker works: an author chooses its
//! dependencies and its timestamps, keeps stale copies, copies signed bytes it has seen, signs
//! twice with one sequence number. Each test shows the attack fails on every replica, whatever
//! order the changes arrive in, and that the community stays usable for honest members.
//!
//! Cast: `f` founder, `m` moderator (the attacker, or a victim of theft), `v` an honest
//! member, `s` a Sybil or outsider.

use qun_crdt::community::action::ExpireTarget;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{
    Capabilities, DeviceCert, Endorsement, Revocation, Scope, SecretIdentity, Signed, Timestamp,
    Topic, Weight,
};

fn t(s: u64) -> Timestamp {
    T0.plus_millis(s * 1000)
}

fn gov(a: Action) -> Edit {
    Edit::Govern(a)
}

fn join_open(c: &mut Community, k: &SecretIdentity, at: Timestamp) {
    c.edit(k, at, gov(join_action(&k.member_id(), None, None, None)))
        .unwrap();
}

/// Move changes between every pair until nothing new goes in anywhere.
fn mesh(cs: &mut [&mut Community]) {
    loop {
        let mut moved = 0;
        for i in 0..cs.len() {
            for j in 0..cs.len() {
                if i != j {
                    let (a, b) = if i < j {
                        let (l, r) = cs.split_at_mut(j);
                        (&*l[i], &mut *r[0])
                    } else {
                        let (l, r) = cs.split_at_mut(i);
                        (&*r[0], &mut *l[j])
                    };
                    moved += sync_all(a, b);
                }
            }
        }
        if moved == 0 {
            return;
        }
    }
}

fn texts(c: &mut Community) -> Vec<String> {
    c.posts(&ChannelId::general(), 100, None)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect()
}

/// Everything a view shows that matters for these attacks.
fn fingerprint(c: &mut Community) -> String {
    let st = c.state();
    let mut posts = c.posts(&ChannelId::general(), 100, None).unwrap();
    posts.sort_by(|a, b| a.id.cmp(&b.id));
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        st.members,
        st.removed.keys().collect::<Vec<_>>(),
        st.channels,
        st.hidden,
        st.devices.keys().collect::<Vec<_>>(),
        posts
            .iter()
            .map(|p| (&p.id, &p.text, p.hidden.is_some(), &p.reactions))
            .collect::<Vec<_>>()
    )
}

fn endorse(
    c: &mut Community,
    from: &SecretIdentity,
    to: &qun_identity::MemberId,
    at: Timestamp,
    expires: Option<Timestamp>,
) -> LocalChange {
    endorse_as(c, from, from, &from.member_id(), to, at, expires)
}

/// An endorsement from `member`, signed by `signer` (its root or a device), made on `c` by
/// `editor`.
fn endorse_as(
    c: &mut Community,
    editor: &SecretIdentity,
    signer: &SecretIdentity,
    member: &qun_identity::MemberId,
    to: &qun_identity::MemberId,
    at: Timestamp,
    expires: Option<Timestamp>,
) -> LocalChange {
    let e = Endorsement {
        from: *member,
        to: *to,
        topic: Topic::general(),
        scope: Scope::Community(c.id().0),
        weight: Weight::FULL,
        created: at,
        expires,
        note: String::new(),
    };
    c.edit(
        editor,
        at,
        gov(Action::Endorse {
            endorsement: Signed::sign(signer, e).unwrap().to_bytes(),
        }),
    )
    .unwrap()
}

struct World {
    g: CommunityGenesis,
    f: SecretIdentity,
    m: SecretIdentity,
    v: SecretIdentity,
    cf: Community,
    cm: Community,
    cv: Community,
}

/// An open community: founder, a moderator, an honest member who has posted.
fn world() -> World {
    let (f, m, v) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut cf = replica(&g, &f);
    let mut cm = replica(&g, &m);
    let mut cv = replica(&g, &v);
    for (c, k, n) in [(&mut cm, &m, 1u8), (&mut cv, &v, 2u8)] {
        let inv = named_invitation(&g, &f, &k.member_id(), [n; 16]);
        join_with(c, k, &inv, None, t(1)).unwrap();
        sync_all(c, &mut cf);
    }
    cf.edit(
        &f,
        t(2),
        gov(Action::SetRole {
            member: m.member_id(),
            role: Role::Moderator,
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cm, &mut cv]);
    cv.edit(&v, t(3), post("general", "hello from v")).unwrap();
    mesh(&mut [&mut cf, &mut cm, &mut cv]);
    World {
        g,
        f,
        m,
        v,
        cf,
        cm,
        cv,
    }
}

/// Attack 1: a removed moderator signs governance changes on a stale copy whose dependencies
/// predate its removal — admits a Sybil, archives `general`, hides a post, removes a member —
/// and posts citing pre-removal heads. Nothing of it counts, on any replica, in any order.
#[test]
fn removed_moderator_keeps_no_powers_with_backdated_dependencies() {
    let mut w = world();
    let s = key(9);
    let vpost = w.cv.posts(&ChannelId::general(), 10, None).unwrap()[0]
        .id
        .clone();
    // The founder removes m (m does not hear of it).
    w.cf.edit(
        &w.f,
        t(10),
        gov(Action::Remove {
            member: w.m.member_id(),
            reason: "abuse".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // m, on its stale copy, dated after and before the removal alike.
    let mut cs = replica(&w.g, &s);
    let sinv = named_invitation(&w.g, &w.m, &s.member_id(), [7; 16]);
    w.cm.edit(
        &w.m,
        t(4),
        post("general", "spam from the removed moderator"),
    )
    .unwrap();
    w.cm.edit(
        &w.m,
        t(11),
        gov(Action::Admit {
            member: s.member_id(),
        }),
    )
    .unwrap();
    w.cm.edit(
        &w.m,
        t(5),
        gov(Action::SetChannel {
            channel: ChannelId::general(),
            settings: ChannelSettings {
                title: "General".into(),
                description: "taken".into(),
                announce: false,
                archived: true,
            },
        }),
    )
    .unwrap();
    w.cm.edit(
        &w.m,
        t(12),
        gov(Action::Hide {
            post: vpost.clone(),
            reason: "mine now".into(),
        }),
    )
    .unwrap();
    w.cm.edit(
        &w.m,
        t(13),
        gov(Action::Remove {
            member: w.v.member_id(),
            reason: "revenge".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // The Sybil, admitted on m's copy, joins with m's invitation and posts.
    sync_all(&w.cm, &mut cs);
    let _ = join_with(&mut cs, &s, &sinv, None, t(14));
    let _ = cs.edit(&s, t(15), post("general", "sybil was here"));
    // Two arrival orders: v hears m's changes first, the founder's removal last; a fresh
    // replica hears everything at once.
    mesh(&mut [&mut w.cv, &mut w.cm, &mut cs]);
    mesh(&mut [&mut w.cf, &mut w.cv, &mut w.cm, &mut cs]);
    let mut fresh = replica(&w.g, &key(20));
    sync_all(&w.cv, &mut fresh);
    for c in [&mut w.cf, &mut w.cv, &mut fresh] {
        let st = c.state();
        assert!(!st.is_member(&s.member_id()), "the Sybil is not a member");
        assert!(!st.is_member(&w.m.member_id()));
        assert!(st.is_member(&w.v.member_id()), "v was not removed");
        assert!(
            !st.channels[&ChannelId::general()].archived,
            "general is open"
        );
        assert!(st.hidden.is_empty(), "v's post is not hidden");
        let tx = texts(c);
        assert!(tx.contains(&"hello from v".to_string()));
        assert!(
            !tx.iter().any(|x| x.contains("spam") || x.contains("sybil")),
            "{tx:?}"
        );
    }
    let fp = fingerprint(&mut w.cf);
    assert_eq!(fp, fingerprint(&mut w.cv));
    assert_eq!(fp, fingerprint(&mut fresh));
    // Honest members carry on.
    w.cv.edit(&w.v, t(20), post("general", "still here"))
        .unwrap();
    sync_all(&w.cv, &mut w.cf);
    assert!(texts(&mut w.cf).contains(&"still here".to_string()));
}

/// A removed member's endorsements carry no admission weight.
#[test]
fn removed_members_endorsements_admit_nobody() {
    let (f, a, b, s) = (key(1), key(2), key(3), key(9));
    let g = genesis(&f, AdmissionPolicy::Endorsements { k: 2 });
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    for x in [&a, &b] {
        cf.edit(
            &f,
            t(1),
            gov(Action::Admit {
                member: x.member_id(),
            }),
        )
        .unwrap();
    }
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    endorse(&mut ca, &a, &s.member_id(), t(2), None);
    sync_all(&ca, &mut cf);
    cf.edit(
        &f,
        t(3),
        gov(Action::Remove {
            member: a.member_id(),
            reason: "sock puppets".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cb]);
    endorse(&mut cb, &b, &s.member_id(), t(4), None);
    let mut cs = replica(&g, &s);
    mesh(&mut [&mut cf, &mut cb, &mut cs]);
    // One endorsement by a member, one by a removed member: not enough.
    let r = cs.edit(&s, t(5), gov(join_action(&s.member_id(), None, None, None)));
    if r.is_ok() {
        mesh(&mut [&mut cf, &mut cs]);
    }
    assert!(!cf.state().is_member(&s.member_id()));
}

/// Attack 2: a thief holding a revoked device signs posts and governance changes dated before
/// the revocation, with dependencies that predate it. None counts; later ones are refused.
#[test]
fn revoked_device_cannot_backdate() {
    let (f, a) = (key(1), key(2));
    let laptop = key(20);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cl = replica(&g, &laptop);
    cl.edit(
        &laptop,
        t(1),
        gov(join_action(
            &a.member_id(),
            Some(cert(&a, &laptop, Capabilities::ALL)),
            None,
            None,
        )),
    )
    .unwrap();
    cl.edit(&laptop, t(2), post("general", "before the theft"))
        .unwrap();
    sync_all(&cl, &mut cf);
    let mut ca = replica(&g, &a);
    sync_all(&cf, &mut ca);
    // Alice revokes the laptop; the thief never hears of it.
    let rev = Revocation {
        member: a.member_id(),
        device: laptop.device_id(),
        from: t(100),
        reason: "stolen".into(),
    };
    ca.edit(
        &a,
        t(100),
        gov(Action::RevokeDevice {
            revocation: Signed::sign(&a, rev).unwrap().to_bytes(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // The thief dates everything well before the revocation's time.
    cl.edit(&laptop, t(3), post("general", "thief post"))
        .unwrap();
    cl.edit(
        &laptop,
        t(4),
        gov(Action::SetMeta {
            name: "Pwned".into(),
            description: String::new(),
        }),
    )
    .unwrap_err(); // members have no meta permission: the thief tries what the device may do
    endorse_as(
        &mut cl,
        &laptop,
        &laptop,
        &a.member_id(),
        &key(9).member_id(),
        t(5),
        None,
    );
    mesh(&mut [&mut cf, &mut ca, &mut cl]);
    for c in [&mut cf, &mut ca, &mut cl] {
        let tx = texts(c);
        assert!(tx.contains(&"before the theft".to_string()), "{tx:?}");
        assert!(!tx.contains(&"thief post".to_string()), "{tx:?}");
        assert!(c.state().revoked.contains_key(&laptop.device_id()));
        assert!(
            c.state().endorsements.is_empty(),
            "the thief's endorsement does not count"
        );
    }
    assert_eq!(fingerprint(&mut cf), fingerprint(&mut cl));
    // After hearing of the revocation, the laptop is refused outright.
    assert!(cl.edit(&laptop, t(200), post("general", "again")).is_err());
}

/// Attack 3: a member submits a certificate, signed by its own root, for another member's
/// device key; and a device already linked to one member is linked to another.
#[test]
fn devices_cannot_be_taken_over() {
    let (f, x, victim) = (key(1), key(2), key(3));
    let phone = key(30);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cx = replica(&g, &x);
    let mut cp = replica(&g, &phone);
    join_open(&mut cx, &x, t(1));
    cp.edit(
        &phone,
        t(1),
        gov(join_action(
            &victim.member_id(),
            Some(cert(&victim, &phone, Capabilities::ALL)),
            None,
            None,
        )),
    )
    .unwrap();
    cp.edit(&phone, t(2), post("general", "victim's post"))
        .unwrap();
    mesh(&mut [&mut cf, &mut cx, &mut cp]);
    // x's root signs a certificate for the victim's phone and submits it from its own key.
    let stolen = DeviceCert {
        member: x.member_id(),
        device: phone.device_id(),
        capabilities: Capabilities::ALL,
        label: "mine".into(),
        not_before: Timestamp::ZERO,
        expires: None,
    };
    let stolen = Signed::sign(&x, stolen).unwrap().to_bytes();
    let e = cx
        .edit(&x, t(3), gov(Action::LinkDevice { cert: stolen }))
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    // The phone's own key (a compromised device) linking itself to x as well is refused.
    let relink = cert(&x, &phone, Capabilities::ALL);
    let e = cp
        .edit(&phone, t(4), gov(Action::LinkDevice { cert: relink }))
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    let posts = cf.posts(&ChannelId::general(), 10, None).unwrap();
    assert_eq!(posts[0].author, victim.member_id());
}

/// Attack 5: an outsider copies the invitation out of a join request it saw and uses it for
/// itself, with a join depending only on the genesis.
#[test]
fn copied_bearer_invitation_gains_nothing() {
    let (f, a, s) = (key(1), key(2), key(9));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut cf = replica(&g, &f);
    let (inv, secret) = bearer_invitation(&g, &f, [5; 16]);
    let mut ca = replica(&g, &a);
    let lc = join_with(&mut ca, &a, &inv, Some(&secret), t(2)).unwrap();
    // The outsider sees the join (gossip is public) and lifts the invitation out of it.
    let Action::Join {
        invitation: Some(lifted),
        proof,
        ..
    } = lc.accepted.action.clone()
    else {
        panic!("a join with an invitation");
    };
    let mut cs = replica(&g, &s);
    // Reusing alice's proof, or none, is refused even locally.
    let forged = Action::Join {
        cert: None,
        invitation: Some(lifted.clone()),
        proof,
    };
    assert!(cs.edit(&s, t(1), gov(forged)).is_err());
    let bare = Action::Join {
        cert: None,
        invitation: Some(lifted),
        proof: None,
    };
    assert!(cs.edit(&s, t(1), gov(bare)).is_err());
    mesh(&mut [&mut cf, &mut ca, &mut cs]);
    assert!(cf.state().is_member(&a.member_id()));
    assert!(!cf.state().is_member(&s.member_id()));
}

/// Attack 6: expiry is an action, not a clock reading. A device certificate with an expiry is
/// retired by an expiry action; changes the device dates before the expiry but that do not
/// follow it causally are void; an expired endorsement stops counting.
#[test]
fn expiry_is_causal() {
    let (f, a, s) = (key(1), key(2), key(9));
    let tablet = key(40);
    let g = genesis(&f, AdmissionPolicy::Endorsements { k: 1 });
    let mut cf = replica(&g, &f);
    let mut ct = replica(&g, &tablet);
    cf.edit(
        &f,
        t(1),
        gov(Action::Admit {
            member: a.member_id(),
        }),
    )
    .unwrap();
    sync_all(&cf, &mut ct);
    let c = DeviceCert {
        member: a.member_id(),
        device: tablet.device_id(),
        capabilities: Capabilities::ALL,
        label: "tablet".into(),
        not_before: Timestamp::ZERO,
        expires: Some(t(50)),
    };
    ct.edit(
        &tablet,
        t(2),
        gov(Action::LinkDevice {
            cert: Signed::sign(&a, c).unwrap().to_bytes(),
        }),
    )
    .unwrap();
    sync_all(&ct, &mut cf);
    // The founder's node sees the time pass and publishes the expiry.
    cf.edit(
        &f,
        t(51),
        gov(Action::Expire {
            target: ExpireTarget::Device {
                device: tablet.device_id(),
            },
            cut: Default::default(),
        }),
    )
    .unwrap();
    // The tablet, not hearing of it, posts dated well before its expiry.
    ct.edit(&tablet, t(10), post("general", "dated before expiry"))
        .unwrap();
    mesh(&mut [&mut cf, &mut ct]);
    assert!(!texts(&mut cf).contains(&"dated before expiry".to_string()));
    assert_eq!(fingerprint(&mut cf), fingerprint(&mut ct));
    // An endorsement with an expiry stops counting once retired: s is not admitted by it.
    let e = endorse(&mut cf, &f, &s.member_id(), t(60), Some(t(70)));
    let id = match &e.accepted.action {
        Action::Endorse { endorsement } => qun_identity::ContentId::of(endorsement),
        _ => unreachable!(),
    };
    cf.edit(
        &f,
        t(71),
        gov(Action::Expire {
            target: ExpireTarget::Endorsement { id },
            cut: Default::default(),
        }),
    )
    .unwrap();
    let mut cs = replica(&g, &s);
    sync_all(&cf, &mut cs);
    assert!(
        cs.edit(
            &s,
            t(72),
            gov(join_action(&s.member_id(), None, None, None))
        )
        .is_err()
    );
}

/// A founder demotes a moderator while the moderator, concurrently, removes a member: the
/// demotion wins (higher rank decides first), the removal is void.
#[test]
fn demotion_voids_concurrent_use_of_the_dropped_permission() {
    let mut w = world();
    w.cf.edit(
        &w.f,
        t(10),
        gov(Action::SetRole {
            member: w.m.member_id(),
            role: Role::Member,
            cut: Default::default(),
        }),
    )
    .unwrap();
    w.cm.edit(
        &w.m,
        t(11),
        gov(Action::Remove {
            member: w.v.member_id(),
            reason: "before they demote me".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // m can still post (members may), and does so concurrently: that stays.
    w.cm.edit(&w.m, t(12), post("general", "m is still a member"))
        .unwrap();
    mesh(&mut [&mut w.cm, &mut w.cf, &mut w.cv]);
    for c in [&mut w.cf, &mut w.cm, &mut w.cv] {
        let st = c.state();
        assert!(st.is_member(&w.v.member_id()));
        assert_eq!(st.role(&w.m.member_id()), Some(&Role::Member));
        assert!(texts(c).contains(&"m is still a member".to_string()));
    }
}

/// A stolen founder device promotes an accomplice, who removes honest members; the founder's
/// root revokes the device concurrently. The promotion is void, and so — by cascade — is
/// everything the accomplice did with the role.
#[test]
fn revoking_a_stolen_founder_device_cascades() {
    let (f, a, v) = (key(1), key(2), key(3));
    let laptop = key(21);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cl = replica(&g, &laptop);
    let mut ca = replica(&g, &a);
    let mut cv = replica(&g, &v);
    sync_all(&cf, &mut cl);
    cl.edit(
        &laptop,
        t(1),
        gov(Action::LinkDevice {
            cert: cert(&f, &laptop, Capabilities::ALL),
        }),
    )
    .unwrap();
    join_open(&mut ca, &a, t(1));
    join_open(&mut cv, &v, t(1));
    mesh(&mut [&mut cf, &mut cl, &mut ca, &mut cv]);
    // The thief, on the founder's laptop, makes a a moderator; a removes v.
    cl.edit(
        &laptop,
        t(5),
        gov(Action::SetRole {
            member: a.member_id(),
            role: Role::Moderator,
            cut: Default::default(),
        }),
    )
    .unwrap();
    sync_all(&cl, &mut ca);
    ca.edit(
        &a,
        t(6),
        gov(Action::Remove {
            member: v.member_id(),
            reason: "takeover".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // The founder revokes the laptop without having seen any of it.
    let rev = Revocation {
        member: f.member_id(),
        device: laptop.device_id(),
        from: t(0),
        reason: "stolen".into(),
    };
    cf.edit(
        &f,
        t(7),
        gov(Action::RevokeDevice {
            revocation: Signed::sign(&f, rev).unwrap().to_bytes(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut ca, &mut cl, &mut cv]);
    mesh(&mut [&mut cf, &mut ca, &mut cl, &mut cv]);
    for c in [&mut cf, &mut ca, &mut cl, &mut cv] {
        let st = c.state();
        assert!(st.is_member(&v.member_id()), "v stays");
        assert_eq!(st.role(&a.member_id()), Some(&Role::Member));
    }
    let fp = fingerprint(&mut cf);
    assert_eq!(fp, fingerprint(&mut cv));
    assert_eq!(fp, fingerprint(&mut ca));
}

/// Attack 4: a member's device signs two different changes with one sequence number and shows
/// each to half of the community; honest members build on both halves. Every replica ends with
/// the same documents (the lower hash wins, the other side is stranded — never pending
/// forever) and the evidence voids the device's writes from the fork on.
#[test]
fn equivocation_converges_and_voids_the_device_from_the_fork() {
    let (f, a, b, c) = (key(1), key(2), key(3), key(4));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    let mut cc = replica(&g, &c);
    for (cx, k) in [(&mut ca, &a), (&mut cb, &b), (&mut cc, &c)] {
        join_open(cx, k, t(1));
    }
    ca.edit(&a, t(2), post("general", "a's honest post"))
        .unwrap();
    mesh(&mut [&mut cf, &mut ca, &mut cb, &mut cc]);
    // a forks its own replica: the same device, the same next sequence number.
    let mut ca2 = replica(&g, &a);
    sync_all(&ca, &mut ca2);
    ca.edit(&a, t(3), post("general", "version one")).unwrap();
    ca2.edit(&a, t(3), post("general", "version two")).unwrap();
    // b sees one side, c the other, and each replies on top.
    sync_all(&ca, &mut cb);
    sync_all(&ca2, &mut cc);
    cb.edit(&b, t(4), post("general", "b replies")).unwrap();
    cc.edit(&c, t(4), post("general", "c replies")).unwrap();
    // Everyone meets.
    for _ in 0..3 {
        mesh(&mut [&mut cf, &mut cb, &mut cc, &mut ca, &mut ca2]);
        // Nodes publish the evidence they found (the replicator does this by itself).
        for (cx, k) in [(&mut cb, &b), (&mut cc, &c), (&mut cf, &f)] {
            for e in cx.take_evidence() {
                let _ = cx.edit(k, t(5), gov(e));
            }
        }
    }
    let heads = all_heads(&mut cf);
    for cx in [&mut cb, &mut cc, &mut ca, &mut ca2] {
        assert_eq!(
            all_heads(cx),
            heads,
            "every replica holds the same documents"
        );
    }
    let fp = fingerprint(&mut cf);
    for cx in [&mut cb, &mut cc] {
        assert_eq!(fingerprint(cx), fp);
    }
    let tx = texts(&mut cf);
    assert!(
        tx.contains(&"a's honest post".to_string()),
        "before the fork stays: {tx:?}"
    );
    assert!(!tx.contains(&"version one".to_string()) && !tx.contains(&"version two".to_string()));
    // Exactly one of the honest replies is on the winning side; the other was stranded (its
    // author's node re-issues it; see the replicator test).
    let replies = ["b replies", "c replies"]
        .iter()
        .filter(|r| tx.contains(&r.to_string()))
        .count();
    assert_eq!(replies, 1, "{tx:?}");
}

/// Bytes that lost an equivocation are refused with a typed reason, and so is everything that
/// depends on them: nothing waits forever.
#[test]
fn stranded_changes_are_refused_not_pending() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    join_open(&mut ca, &a, t(1));
    join_open(&mut cb, &b, t(1));
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    let mut ca2 = replica(&g, &a);
    sync_all(&ca, &mut ca2);
    let one = ca.edit(&a, t(3), post("general", "one")).unwrap();
    let two = ca2.edit(&a, t(3), post("general", "two")).unwrap();
    let (win, lose, lose_replica) = if one.accepted.hash < two.accepted.hash {
        (one, two, &ca2)
    } else {
        (two, one, &ca)
    };
    sync_all(lose_replica, &mut cb);
    let reply = cb.edit(&b, t(4), post("general", "reply")).unwrap();
    // The founder holds the winner, then is offered the loser and the reply built on it.
    cf.ingest(&win.accepted.doc, &win.bytes, &win.sig).unwrap();
    let e = cf
        .ingest(&lose.accepted.doc, &lose.bytes, &lose.sig)
        .unwrap_err();
    assert!(matches!(e, Error::Equivocation { .. }), "{e}");
    let e = cf
        .ingest(&reply.accepted.doc, &reply.bytes, &reply.sig)
        .unwrap_err();
    assert!(matches!(e, Error::Stranded { .. }), "{e}");
    assert!(!e.is_pending());
}

/// Attack 9: content-window spray. A member writes one post into each of many windows, before
/// the community began and far ahead of everyone's clock, to freeze new windows and bloat
/// catch-up. Windows before the genesis are invalid for good; windows beyond the next one by
/// the receiver's clock are "not yet" (not kept, not penalised) until their time comes.
#[test]
fn content_windows_cannot_be_sprayed() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let week = 7 * 24 * 3600 * 1000;
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    join_open(&mut ca, &a, t(1));
    sync_all(&ca, &mut cf);
    cf.observe_time(t(10));
    // Before the genesis: an honest replica refuses to make it...
    let backdated = Timestamp::from_millis(T0.as_millis() - 3 * week);
    let e = ca
        .edit(&a, backdated, post("general", "backdated"))
        .unwrap_err();
    assert!(e.to_string().contains("before the community began"), "{e}");
    // ... the attacker's makes it anyway, and nobody takes it.
    let early = ca
        .forge()
        .edit(
            &a,
            Timestamp::from_millis(T0.as_millis() - 3 * week),
            post("general", "backdated"),
        )
        .unwrap();
    let e = cf
        .ingest(&early.accepted.doc, &early.bytes, &early.sig)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidChange { .. }), "{e}");
    // Far ahead: one post per week for a year.
    let mut future = Vec::new();
    for w in 2..54u64 {
        let lc = ca
            .edit(
                &a,
                t(10).plus_millis(w * week),
                post("general", &format!("week {w}")),
            )
            .unwrap();
        future.push(lc);
    }
    let docs_before = cf.docs().len();
    for lc in &future {
        let e = cf.ingest(&lc.accepted.doc, &lc.bytes, &lc.sig).unwrap_err();
        assert!(matches!(e, Error::FutureWindow { .. }), "{e}");
        assert!(!e.is_pending());
    }
    assert_eq!(
        cf.docs().len(),
        docs_before,
        "no document was made for them"
    );
    // Honest posts in the current window go in meanwhile.
    let ok = ca.edit(&a, t(20), post("general", "now")).unwrap();
    cf.ingest(&ok.accepted.doc, &ok.bytes, &ok.sig).unwrap();
    // When its week comes, a post from the "future" is taken (sync offers it again).
    cf.observe_time(t(10).plus_millis(2 * week));
    let first = &future[0];
    assert!(matches!(
        cf.ingest(&first.accepted.doc, &first.bytes, &first.sig),
        Ok(Ingested::Accepted(_))
    ));
}

/// Clocks differ: a founder a day ahead, near a window boundary, dates its genesis in the next
/// window. A member with a correct clock (or a day behind) still posts: one window before the
/// genesis's is allowed, and every node takes it; two windows before is refused by the
/// member's own node (never acknowledged) as by everyone else.
#[test]
fn a_founder_clock_ahead_does_not_lock_members_out() {
    let (f, a, b) = (key(1), key(2), key(3));
    // The founder's clock says an hour into a window; the members' a day earlier.
    let week = genesis(&f, AdmissionPolicy::Open);
    let (start, _) = week.window_range(week.window_of(T0));
    let created = Timestamp::from_millis(start + 3600 * 1000);
    let body = Genesis {
        created,
        ..week.value().clone()
    };
    let g = CommunityGenesis::new(Signed::sign(&f, body).unwrap());
    let t = |s: u64| created.plus_millis(s * 1000);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    join_open(&mut ca, &a, t(1));
    let day = 24 * 3600 * 1000;
    let behind = Timestamp::from_millis(created.as_millis() - day);
    let lc = ca
        .edit(&a, behind, post("general", "my clock is right"))
        .unwrap();
    assert_eq!(
        lc.accepted.doc,
        DocId::Content {
            channel: ChannelId::general(),
            window: g.window_of(created) - 1
        }
    );
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    for c in [&mut cf, &mut cb] {
        assert_eq!(texts(c), vec!["my clock is right".to_string()]);
    }
    // Two windows before: refused here as everywhere.
    let far = Timestamp::from_millis(start - 8 * 24 * 3600 * 1000);
    let e = ca.edit(&a, far, post("general", "too early")).unwrap_err();
    assert!(e.to_string().contains("before the community began"), "{e}");
    let lc = ca
        .forge()
        .edit(&a, far, post("general", "too early"))
        .unwrap();
    let e = cb.ingest(&lc.accepted.doc, &lc.bytes, &lc.sig).unwrap_err();
    assert!(matches!(e, Error::InvalidChange { .. }), "{e}");
}
