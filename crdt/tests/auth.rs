//! Authorization and attack tests: every bad change is refused with its error and leaves the
//! state unchanged.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, ObjType, ROOT, ReadDoc};
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Endorsement, Invitation, Scope, Signed, Timestamp, Topic, Weight};

fn t(s: u64) -> Timestamp {
    T0.plus_millis(s * 1000)
}

fn join(
    c: &mut Community,
    k: &qun_identity::SecretIdentity,
    inv: Option<Vec<u8>>,
    at: Timestamp,
) -> Result<LocalChange> {
    c.edit(
        k,
        at,
        Edit::Govern(Action::Join {
            cert: None,
            invitation: inv,
            proof: None,
        }),
    )
}

/// founder -- alice, open policy: alice joins and posts; the founder's replica agrees.
#[test]
fn open_join_post_and_converge() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    cf.edit(&f, t(1), post("general", "hello from the founder"))
        .unwrap();
    sync_all(&cf, &mut ca);
    join(&mut ca, &a, None, t(2)).unwrap();
    let p = ca
        .edit(&a, t(3), post("general", "hi, I'm alice"))
        .unwrap()
        .post
        .unwrap();
    sync_all(&ca, &mut cf);
    assert!(cf.state().is_member(&a.member_id()));
    let posts = cf.posts(&ChannelId::general(), 10, None).unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].id, p);
    assert_eq!(posts[0].author, a.member_id());
    assert_eq!(all_heads(&mut cf), all_heads(&mut ca));
}

#[test]
fn non_member_post_is_unauthorized_and_not_applied() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    // Alice cannot even make the edit locally.
    let e = ca.edit(&a, t(1), post("general", "spam")).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    let e = join(&mut ca, &a, None, t(1)).unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    drop(cf);
}

/// A change built by hand: lets tests forge what an honest editor never makes.
#[allow(clippy::too_many_arguments)]
fn raw_change(
    c: &mut Community,
    doc: &DocId,
    actor: &qun_identity::SecretIdentity,
    signer: &qun_identity::SecretIdentity,
    message: &str,
    time: Timestamp,
    write: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
    community: &CommunityId,
) -> (Vec<u8>, [u8; 64]) {
    let exported = c.export_doc(doc).unwrap();
    let mut am = automerge::Automerge::load(&exported).unwrap();
    am.set_actor(ActorId::from(&actor.public().to_bytes()[..]));
    let mut tx = am.transaction();
    write(&mut tx);
    let (h, _) = tx.commit_with(
        CommitOptions::default()
            .with_message(message.to_string())
            .with_time(time.as_millis() as i64),
    );
    let h = h.unwrap_or_else(|| {
        am.empty_commit(
            CommitOptions::default()
                .with_message(message.to_string())
                .with_time(time.as_millis() as i64),
        )
    });
    let bytes = am.get_change_by_hash(&h).unwrap().raw_bytes().to_vec();
    let sig = signer.sign_raw(&signing_message(community, doc, &h));
    (bytes, sig)
}

fn post_message(key: &str, cited: &[Hash]) -> String {
    let g: Vec<String> = cited.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        "{{\"v\":1,\"a\":{{\"t\":\"post.create\",\"key\":\"{key}\"}},\"g\":[{}]}}",
        g.join(",")
    )
}

fn write_post(
    device: &qun_identity::SecretIdentity,
    key: &'static str,
) -> impl FnOnce(&mut automerge::transaction::Transaction<'_>) {
    let slot_key = device.device_id().to_string();
    move |tx| {
        let (_, slots) = tx.get(ROOT, "d").unwrap().unwrap();
        let slot = tx
            .put_object(&slots, slot_key.as_str(), ObjType::Map)
            .unwrap();
        let posts = tx.put_object(&slot, "posts", ObjType::Map).unwrap();
        let p = tx.put_object(&posts, key, ObjType::Map).unwrap();
        tx.put(&p, "text", "forged").unwrap();
        tx.put(&p, "created", 0i64).unwrap();
    }
}

struct Setup {
    f: qun_identity::SecretIdentity,
    a: qun_identity::SecretIdentity,
    cf: Community,
    ca: Community,
    doc: DocId,
}

/// founder and alice, both members, alice has posted once.
fn setup() -> Setup {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    join(&mut ca, &a, None, t(1)).unwrap();
    let p = ca.edit(&a, t(2), post("general", "first")).unwrap();
    sync_all(&ca, &mut cf);
    Setup {
        f,
        a,
        cf,
        ca,
        doc: p.accepted.doc,
    }
}

fn state_fingerprint(c: &mut Community) -> (usize, Vec<(DocId, Vec<Hash>)>) {
    (c.total_changes(), all_heads(c))
}

#[test]
fn forged_signature_is_refused() {
    let mut s = setup();
    let gov_heads = s.cf.heads(&DocId::Governance).unwrap();
    let before = state_fingerprint(&mut s.cf);
    // Signed by the founder, but the actor is alice.
    let id = s.cf.id();
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &s.f,
        &post_message("zz1", &gov_heads),
        t(3),
        |tx| {
            let _ = tx;
        },
        &id,
    );
    let e = s.cf.ingest(&s.doc, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::BadSignature { .. }), "{e}");
    // A flipped bit in a valid signature.
    let (bytes, mut sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &s.a,
        &post_message("zz2", &gov_heads),
        t(3),
        write_post(&s.a, "zz2"),
        &id,
    );
    sig[5] ^= 1;
    assert!(matches!(
        s.cf.ingest(&s.doc, &bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
    assert_eq!(state_fingerprint(&mut s.cf), before);
}

#[test]
fn replay_into_another_community_is_refused() {
    let s = setup();
    let g2 = genesis_with(&s.f, AdmissionPolicy::Open, 7 * 24 * 3600 * 1000, [9; 16]);
    let mut other = replica(&g2, &s.f);
    let (doc, h) = s.ca.all_changes().into_iter().next().unwrap();
    let (bytes, sig) = s.ca.signed_change(&doc, &h).unwrap();
    let e = other.ingest(&doc, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::BadSignature { .. }), "{e}");
    assert_eq!(other.total_changes(), 0);
}

#[test]
fn change_claiming_another_actor_is_refused() {
    let mut s = setup();
    let gov_heads = s.cf.heads(&DocId::Governance).unwrap();
    let id = s.cf.id();
    // Mallory (not a member) makes a change whose actor is alice, signs with her own key.
    let m = key(9);
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &m,
        &post_message("zz3", &gov_heads),
        t(3),
        write_post(&s.a, "zz3"),
        &id,
    );
    assert!(matches!(
        s.cf.ingest(&s.doc, &bytes, &sig),
        Err(Error::BadSignature { .. })
    ));
}

#[test]
fn writing_into_another_devices_slot_is_refused() {
    let mut s = setup();
    let gov_heads = s.cf.heads(&DocId::Governance).unwrap();
    let id = s.cf.id();
    // Alice (a member) edits the founder's... no: the founder edits alice's post object.
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.f,
        &s.f,
        &post_message("zz4", &gov_heads),
        t(3),
        |tx| {
            let (_, slots) = tx.get(ROOT, "d").unwrap().unwrap();
            let alice_slot = s.a.device_id().to_string();
            let (_, slot) = tx.get(&slots, alice_slot.as_str()).unwrap().unwrap();
            let (_, posts) = tx.get(&slot, "posts").unwrap().unwrap();
            let key = tx.keys(&posts).next().unwrap();
            let (_, p) = tx.get(&posts, key.as_str()).unwrap().unwrap();
            tx.put(&p, "text", "defaced").unwrap();
        },
        &id,
    );
    let before = state_fingerprint(&mut s.cf);
    let e = s.cf.ingest(&s.doc, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::NotOwner { .. }), "{e}");
    assert_eq!(state_fingerprint(&mut s.cf), before);
    assert_eq!(
        s.cf.posts(&ChannelId::general(), 10, None).unwrap()[0].text,
        "first"
    );
}

#[test]
fn data_in_a_privileged_action_is_refused() {
    let mut s = setup();
    let id = s.cf.id();
    // A "member.leave" change that smuggles a post.
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &DocId::Governance,
        &s.a,
        &s.a,
        "{\"v\":1,\"a\":{\"t\":\"member.leave\"}}",
        t(3),
        write_post(&s.a, "zz5"),
        &id,
    );
    let e = s.cf.ingest(&DocId::Governance, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::NotOwner { .. }), "{e}");
    assert!(s.cf.state().is_member(&s.a.member_id()));
}

#[test]
fn garbage_and_oversize_are_refused() {
    let mut s = setup();
    let e =
        s.cf.ingest(&s.doc, b"not an automerge change", &[0; 64])
            .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    let big = vec![0u8; Limits::default().max_change_bytes + 1];
    let e = s.cf.ingest(&s.doc, &big, &[0; 64]).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // A real change with a text over the limit.
    let gov_heads = s.cf.heads(&DocId::Governance).unwrap();
    let id = s.cf.id();
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &s.a,
        &post_message("zz6", &gov_heads),
        t(3),
        |tx| {
            let (_, slots) = tx.get(ROOT, "d").unwrap().unwrap();
            let slot = tx
                .put_object(&slots, s.a.device_id().to_string().as_str(), ObjType::Map)
                .unwrap();
            let posts = tx.put_object(&slot, "posts", ObjType::Map).unwrap();
            let p = tx.put_object(&posts, "zz6", ObjType::Map).unwrap();
            // Random-ish text that does not compress.
            let text: String = (0..70_000u32)
                .map(|i| char::from(b'a' + ((i * 7919 + i / 3) % 26) as u8))
                .collect();
            tx.put(&p, "text", text).unwrap();
        },
        &id,
    );
    let e = s.cf.ingest(&s.doc, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn removed_member_changes_after_removal_are_refused() {
    let mut s = setup();
    // The founder removes alice.
    s.cf.edit(
        &s.f,
        t(10),
        Edit::Govern(Action::Remove {
            member: s.a.member_id(),
            reason: "spam".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    assert!(matches!(
        s.cf.state().status(&s.a.member_id()),
        MemberStatus::Removed(_)
    ));
    // Alice learns of it, and of who removed her and why.
    sync_all(&s.cf, &mut s.ca);
    let why =
        s.ca.state()
            .removals
            .get(&s.a.member_id())
            .cloned()
            .unwrap();
    assert_eq!((why.by, why.reason.as_str()), (s.f.member_id(), "spam"));
    // Then she tries to post: refused locally...
    let e =
        s.ca.edit(&s.a, t(11), post("general", "still here"))
            .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    // ...and a hand-made change citing the new heads is refused by the founder.
    let gov_heads = s.cf.heads(&DocId::Governance).unwrap();
    let id = s.cf.id();
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &s.a,
        &post_message("zz7", &gov_heads),
        t(12),
        write_post(&s.a, "zz7"),
        &id,
    );
    let e = s.cf.ingest(&s.doc, &bytes, &sig).unwrap_err();
    assert!(
        matches!(e, Error::Unauthorized { .. } | Error::NotOwner { .. }),
        "{e}"
    );
}

#[test]
fn citing_stale_heads_after_seeing_removal_is_refused() {
    let mut s = setup();
    let stale = s.cf.heads(&DocId::Governance).unwrap();
    s.cf.edit(
        &s.f,
        t(10),
        Edit::Govern(Action::Remove {
            member: s.a.member_id(),
            reason: "spam".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    // The founder posts after the removal: its change cites the removal.
    s.cf.edit(&s.f, t(11), post("general", "alice was removed"))
        .unwrap();
    sync_all(&s.cf, &mut s.ca);
    // Alice builds on the founder's post (so causally after the removal) but cites old heads.
    let id = s.cf.id();
    let (bytes, sig) = raw_change(
        &mut s.ca,
        &s.doc,
        &s.a,
        &s.a,
        &post_message("zz8", &stale),
        t(12),
        |tx| {
            let (_, slots) = tx.get(ROOT, "d").unwrap().unwrap();
            let (_, slot) = tx
                .get(&slots, s.a.device_id().to_string().as_str())
                .unwrap()
                .unwrap();
            let (_, posts) = tx.get(&slot, "posts").unwrap().unwrap();
            let p = tx.put_object(&posts, "zz8", ObjType::Map).unwrap();
            tx.put(&p, "text", "sneaky").unwrap();
        },
        &id,
    );
    let e = s.cf.ingest(&s.doc, &bytes, &sig).unwrap_err();
    assert!(matches!(e, Error::InvalidChange { .. }), "{e}");
}

#[test]
fn concurrent_posts_of_removed_member_are_void_whatever_their_time() {
    let mut s = setup();
    // Alice posts offline (concurrently with her removal), dated before and after it: the
    // remover had seen neither, so both are beyond its cut; only what it had seen stays.
    s.ca.edit(&s.a, t(5), post("general", "before removal"))
        .unwrap();
    s.ca.edit(&s.a, t(20), post("general", "after removal"))
        .unwrap();
    s.cf.edit(
        &s.f,
        t(10),
        Edit::Govern(Action::Remove {
            member: s.a.member_id(),
            reason: "x".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    sync_all(&s.ca, &mut s.cf);
    let texts: Vec<String> =
        s.cf.posts(&ChannelId::general(), 10, None)
            .unwrap()
            .into_iter()
            .map(|p| p.text)
            .collect();
    assert!(texts.contains(&"first".to_string()), "{texts:?}");
    assert!(!texts.contains(&"before removal".to_string()), "{texts:?}");
    assert!(!texts.contains(&"after removal".to_string()), "{texts:?}");
}

#[test]
fn non_moderator_hide_is_refused_moderator_hide_works() {
    let mut s = setup();
    let pid = s.ca.posts(&ChannelId::general(), 1, None).unwrap()[0]
        .id
        .clone();
    let e =
        s.ca.edit(
            &s.a,
            t(5),
            Edit::Govern(Action::Hide {
                post: pid.clone(),
                reason: "x".into(),
            }),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    s.cf.edit(
        &s.f,
        t(6),
        Edit::Govern(Action::Hide {
            post: pid.clone(),
            reason: "off-topic".into(),
        }),
    )
    .unwrap();
    sync_all(&s.cf, &mut s.ca);
    let p = s.ca.post(&pid).unwrap().unwrap();
    assert_eq!(p.hidden.unwrap().reason, "off-topic");
}

#[test]
fn roles_ranks_and_moderation() {
    let mut s = setup();
    let b = key(3);
    let mut cb = replica(s.cf.genesis(), &b);
    sync_all(&s.cf, &mut cb);
    join(&mut cb, &b, None, t(3)).unwrap();
    sync_all(&cb, &mut s.cf);
    // The founder makes alice a moderator.
    s.cf.edit(
        &s.f,
        t(4),
        Edit::Govern(Action::SetRole {
            member: s.a.member_id(),
            role: Role::Moderator,
            cut: Default::default(),
        }),
    )
    .unwrap();
    sync_all(&s.cf, &mut s.ca);
    sync_all(&s.cf, &mut cb);
    // A moderator cannot make another moderator, nor remove the founder, but can remove bob.
    assert!(
        s.ca.edit(
            &s.a,
            t(5),
            Edit::Govern(Action::SetRole {
                member: b.member_id(),
                role: Role::Moderator,
                cut: Default::default(),
            })
        )
        .is_err()
    );
    assert!(
        s.ca.edit(
            &s.a,
            t(5),
            Edit::Govern(Action::Remove {
                member: s.f.member_id(),
                reason: String::new(),
                cut: Default::default(),
            })
        )
        .is_err()
    );
    s.ca.edit(
        &s.a,
        t(6),
        Edit::Govern(Action::Remove {
            member: b.member_id(),
            reason: "bye".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    sync_all(&s.ca, &mut s.cf);
    assert!(!s.cf.state().is_member(&b.member_id()));
    // Bob's view: after syncing he is removed and cannot rejoin on his own.
    sync_all(&s.cf, &mut cb);
    assert!(join(&mut cb, &b, None, t(7)).is_err());
}

#[test]
fn invitations_admit_and_bearer_codes_are_single_use() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut cf = replica(&g, &f);
    let (inv, secret) = bearer_invitation(&g, &f, [1; 16]);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    // Both hold the same bearer code and use it concurrently.
    join_with(&mut ca, &a, &inv, Some(&secret), t(2)).unwrap();
    join_with(&mut cb, &b, &inv, Some(&secret), t(2)).unwrap();
    sync_all(&ca, &mut cf);
    sync_all(&cb, &mut cf);
    sync_all(&cf, &mut ca);
    sync_all(&cf, &mut cb);
    let members: Vec<bool> = [&mut cf, &mut ca, &mut cb]
        .into_iter()
        .map(|c| c.state().is_member(&a.member_id()))
        .collect();
    let members_b: Vec<bool> = [&mut cf, &mut ca, &mut cb]
        .into_iter()
        .map(|c| c.state().is_member(&b.member_id()))
        .collect();
    // Exactly one of them got in, and every replica agrees on which.
    assert!(members.iter().all(|x| *x == members[0]));
    assert!(members_b.iter().all(|x| *x == members_b[0]));
    assert!(members[0] ^ members_b[0]);
    // A retired invitation cannot be used: expiry is a causal action by the inviter.
    let c = key(4);
    let mut old =
        Invitation::named(g.id().0, f.member_id(), c.member_id(), t(1), Some(t(2))).unwrap();
    old.nonce = [2; 16];
    let old = Signed::sign(&f, old).unwrap().to_bytes();
    cf.edit(
        &f,
        t(3),
        Edit::Govern(Action::Expire {
            target: qun_crdt::community::action::ExpireTarget::Invitation { nonce: [2; 16] },
            cut: Default::default(),
        }),
    )
    .unwrap();
    let mut cc = replica(&g, &c);
    sync_all(&cf, &mut cc);
    assert!(join(&mut cc, &c, Some(old), t(3)).is_err());
}

#[test]
fn endorsement_threshold_policy() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Endorsements { k: 2 });
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let endorse = |from: &qun_identity::SecretIdentity, to: &qun_identity::SecretIdentity| {
        let e = Endorsement {
            from: from.member_id(),
            to: to.member_id(),
            topic: Topic::general(),
            scope: Scope::Community(g.id().0),
            weight: Weight::FULL,
            created: t(1),
            expires: None,
            note: String::new(),
        };
        Edit::Govern(Action::Endorse {
            endorsement: Signed::sign(from, e).unwrap().to_bytes(),
        })
    };
    // The founder endorses alice; alice asks; one endorsement is not enough.
    cf.edit(&f, t(2), endorse(&f, &a)).unwrap();
    sync_all(&cf, &mut ca);
    join(&mut ca, &a, None, t(3)).unwrap();
    sync_all(&ca, &mut cf);
    assert_eq!(cf.state().status(&a.member_id()), MemberStatus::Requested);
    // Bob is admitted by hand, endorses alice: now she is in, on both replicas.
    let mut cb = replica(&g, &b);
    cf.edit(
        &f,
        t(4),
        Edit::Govern(Action::Admit {
            member: b.member_id(),
        }),
    )
    .unwrap();
    sync_all(&cf, &mut cb);
    cb.edit(&b, t(5), endorse(&b, &a)).unwrap();
    sync_all(&cb, &mut cf);
    sync_all(&cf, &mut ca);
    // Admission is decided once, by the join at its dependencies: alice claims it again now
    // that the policy admits her (her node does this by itself), and stays a member even if
    // the endorsements are later withdrawn.
    assert_eq!(ca.state().status(&a.member_id()), MemberStatus::Requested);
    join(&mut ca, &a, None, t(6)).unwrap();
    sync_all(&ca, &mut cf);
    assert!(cf.state().is_member(&a.member_id()));
    assert!(ca.state().is_member(&a.member_id()));
}

#[test]
fn second_device_links_and_revocation_stops_it() {
    let (f, a) = (key(1), key(2));
    let laptop = key(20);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    // Alice joins from her laptop (device key, certified by her root).
    let mut cl = replica(&g, &laptop);
    let c = cert(&a, &laptop, qun_identity::Capabilities::ALL);
    cl.edit(
        &laptop,
        t(1),
        Edit::Govern(Action::Join {
            cert: Some(c),
            invitation: None,
            proof: None,
        }),
    )
    .unwrap();
    let p = cl
        .edit(&laptop, t(2), post("general", "from my laptop"))
        .unwrap();
    assert_eq!(p.accepted.author, a.member_id());
    sync_all(&cl, &mut cf);
    assert_eq!(
        cf.posts(&ChannelId::general(), 5, None).unwrap()[0].author,
        a.member_id()
    );
    // Alice revokes the laptop from t(10), from her root (on another replica).
    let mut ca = replica(&g, &a);
    sync_all(&cf, &mut ca);
    let rev = qun_identity::Revocation {
        member: a.member_id(),
        device: laptop.device_id(),
        from: t(10),
        reason: "stolen".into(),
    };
    let rev = Signed::sign(&a, rev).unwrap().to_bytes();
    ca.edit(
        &a,
        t(11),
        Edit::Govern(Action::RevokeDevice {
            revocation: rev,
            cut: Default::default(),
        }),
    )
    .unwrap();
    sync_all(&ca, &mut cf);
    sync_all(&ca, &mut cl);
    assert!(cl.edit(&laptop, t(12), post("general", "thief")).is_err());
}

#[test]
fn changes_arriving_before_their_dependencies_wait() {
    let s = setup();
    let mut fresh = replica(s.cf.genesis(), &key(7));
    // Offer in reverse order: content before the join it depends on.
    let mut changes = s.ca.all_changes();
    changes.reverse();
    let mut pending = Vec::new();
    for (doc, h) in changes {
        let (b, sig) = s.ca.signed_change(&doc, &h).unwrap();
        match fresh.ingest(&doc, &b, &sig) {
            Err(e) if e.is_pending() => pending.push((doc, b, sig)),
            r => {
                r.unwrap();
            }
        }
    }
    assert!(!pending.is_empty());
    for (doc, b, sig) in pending {
        fresh.ingest(&doc, &b, &sig).unwrap();
    }
    assert_eq!(
        fresh.posts(&ChannelId::general(), 5, None).unwrap().len(),
        1
    );
}

#[test]
fn trust_flow_policy_admits_reachable_members_only() {
    let (f, a, b, c) = (key(1), key(2), key(3), key(4));
    let g = genesis(&f, "trust-flow".parse().unwrap());
    let mut cf = replica(&g, &f);
    let endorse = |from: &qun_identity::SecretIdentity, to: &qun_identity::SecretIdentity| {
        let e = Endorsement {
            from: from.member_id(),
            to: to.member_id(),
            topic: Topic::general(),
            scope: Scope::Community(g.id().0),
            weight: Weight::FULL,
            created: t(1),
            expires: None,
            note: String::new(),
        };
        Edit::Govern(Action::Endorse {
            endorsement: Signed::sign(from, e).unwrap().to_bytes(),
        })
    };
    cf.edit(&f, t(2), endorse(&f, &a)).unwrap();
    let mut ca = replica(&g, &a);
    sync_all(&cf, &mut ca);
    join(&mut ca, &a, None, t(3)).unwrap();
    sync_all(&ca, &mut cf);
    assert!(cf.state().is_member(&a.member_id()));
    // c is an outsider: its endorsement of b carries no flow from the founders, and b's
    // request is refused at the gate (no endorsement from a member).
    let mut cb = replica(&g, &b);
    sync_all(&cf, &mut cb);
    let _ = c;
    assert!(join(&mut cb, &b, None, t(4)).is_err());
    // a (a member at distance 1) endorses b: b gets in through the flow.
    ca.edit(&a, t(5), endorse(&a, &b)).unwrap();
    sync_all(&ca, &mut cb);
    join(&mut cb, &b, None, t(6)).unwrap();
    sync_all(&cb, &mut cf);
    assert!(cf.state().is_member(&b.member_id()));
}
