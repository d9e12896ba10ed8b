//! The replicator as an attacker meets it: reading a community without the right to, replaying
//! someone else's access proof, pulling far more than one asks for, and answering "more"
//! forever. Replicators are driven by hand: inputs in, outputs checked.

use qun_crdt::replicate::SYNC_BUDGET_WINDOW_MS;
use qun_crdt::replicate::wire::{self, AccessProof, SyncRequest, SyncResponse};
use qun_crdt::test_utils::bus::Bus;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::SecretIdentity;

fn replicator(k: &SecretIdentity, budget: usize) -> Replicator<usize> {
    Replicator::new(
        k.clone(),
        k.member_id(),
        None,
        Config {
            sync_budget_bytes: budget,
            ..Config::default()
        },
    )
    .unwrap()
}

/// Send a request to `r` as peer `from` with device `device`; return the decoded answer.
fn ask(
    r: &mut Replicator<usize>,
    from: usize,
    device: &SecretIdentity,
    req: &SyncRequest,
) -> SyncResponse {
    r.handle(
        T0,
        Input::SyncRequest {
            from,
            device: Some(device.device_id()),
            reply: ReplyId(from as u64),
            bytes: wire::encode(req),
        },
    );
    let out: Vec<Output<usize>> = r.drain().collect();
    let bytes = out
        .into_iter()
        .find_map(|o| match o {
            Output::SyncRespond { bytes, .. } => Some(bytes),
            _ => None,
        })
        .expect("an answer");
    wire::decode("sync response", &bytes, 1 << 24).unwrap()
}

fn heads_req(c: CommunityId, access: Option<AccessProof>) -> SyncRequest {
    SyncRequest::Heads {
        community: c,
        want_genesis: true,
        docs: Vec::new(),
        access,
    }
}

/// An invite-only community answers members and holders of an invitation proof, and nobody
/// else: not an outsider who knows the id, not one who replays another's proof.
#[test]
fn invite_only_community_answers_only_who_may_read_it() {
    let (f, j, e) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut rf = replicator(&f, usize::MAX);
    let c = rf.create(T0, g.clone()).unwrap();
    rf.drain().for_each(drop);
    // An outsider who only knows the community id.
    assert!(matches!(
        ask(&mut rf, 10, &e, &heads_req(c, None)),
        SyncResponse::Denied { .. }
    ));
    // The joiner with a bearer code proves possession for its own member id.
    let (inv, secret) = bearer_invitation(&g, &f, [3; 16]);
    let proof = match join_action(&j.member_id(), None, Some(&inv), Some(&secret)) {
        Action::Join { proof, .. } => proof.map(|p| p.to_vec()),
        _ => unreachable!(),
    };
    let access = AccessProof {
        invitation: Some(inv),
        proof,
        cert: None,
    };
    assert!(matches!(
        ask(&mut rf, 11, &j, &heads_req(c, Some(access.clone()))),
        SyncResponse::Changes {
            genesis: Some(_),
            ..
        }
    ));
    // A device certificate only helps a device of a member: one made by an outsider's own
    // root reads nothing.
    let outsider_root = key(5);
    let self_made = AccessProof {
        invitation: None,
        proof: None,
        cert: Some(cert(&outsider_root, &e, qun_identity::Capabilities::ALL)),
    };
    assert!(matches!(
        ask(&mut rf, 13, &e, &heads_req(c, Some(self_made))),
        SyncResponse::Denied { .. }
    ));
    // A real second device of the founder reads before it has linked itself.
    let phone = key(6);
    let phone_cert = AccessProof {
        invitation: None,
        proof: None,
        cert: Some(cert(&f, &phone, qun_identity::Capabilities::ALL)),
    };
    assert!(matches!(
        ask(&mut rf, 14, &phone, &heads_req(c, Some(phone_cert))),
        SyncResponse::Changes { .. }
    ));
    // The eavesdropper replays exactly those bytes from its own connection.
    assert!(matches!(
        ask(&mut rf, 12, &e, &heads_req(c, Some(access))),
        SyncResponse::Denied { .. }
    ));
}

/// An open community answers anyone; a member is answered without any proof.
#[test]
fn open_community_and_members_are_answered() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut rf = replicator(&f, usize::MAX);
    let c = rf.create(T0, g).unwrap();
    rf.drain().for_each(drop);
    assert!(matches!(
        ask(&mut rf, 10, &a, &heads_req(c, None)),
        SyncResponse::Changes { .. }
    ));
}

/// The whole join flow of an invite-only community over the bus: the joiner's first request
/// carries its proof, and it ends a member.
#[test]
fn joiner_with_a_bearer_code_gets_in_over_the_bus() {
    let mut bus = Bus::new(3, T0);
    let (f, j) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let nf = bus.add(f.clone());
    let nj = bus.add(j.clone());
    let c = bus.nodes[nf].create(T0, g.clone()).unwrap();
    bus.route(nf);
    let (inv, secret) = bearer_invitation(&g, &f, [4; 16]);
    let key = InviteKey {
        invitation: inv,
        secret: Some(*secret.seed()),
    };
    bus.nodes[nj].join(bus.now, c, Some(key)).unwrap();
    bus.route(nj);
    bus.run_for(30_000);
    let me = bus.nodes[nj].member();
    assert!(bus.nodes[nj].community(&c).unwrap().state().is_member(&me));
    assert!(bus.nodes[nf].community(&c).unwrap().state().is_member(&me));
}

/// A peer gets a bounded share of sync answers per window, then `Busy` until the window ends.
#[test]
fn sync_answers_are_budgeted_per_peer() {
    let f = key(1);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut rf = replicator(&f, 20_000);
    let c = rf.create(T0, g).unwrap();
    for i in 0..40 {
        rf.edit(
            T0,
            &c,
            post("general", &format!("post {i} {}", "x".repeat(400))),
        )
        .unwrap();
    }
    rf.drain().for_each(drop);
    let a = key(2);
    let mut answered = 0;
    let mut busy = 0;
    for _ in 0..20 {
        match ask(&mut rf, 10, &a, &heads_req(c, None)) {
            SyncResponse::Changes { .. } => answered += 1,
            SyncResponse::Busy { retry_ms, .. } => {
                assert!(retry_ms > 0 && retry_ms <= SYNC_BUDGET_WINDOW_MS);
                busy += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        answered >= 1 && busy >= 10,
        "answered {answered}, busy {busy}"
    );
    // Another peer has its own share.
    assert!(matches!(
        ask(&mut rf, 11, &a, &heads_req(c, None)),
        SyncResponse::Changes { .. }
    ));
}

/// A responder that says "more" forever with nothing new gets a few more requests, not an
/// endless loop.
#[test]
fn endless_more_is_not_followed() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut ra = replicator(&a, usize::MAX);
    let mut rf = replicator(&f, usize::MAX);
    let c = rf.create(T0, g.clone()).unwrap();
    rf.drain().for_each(drop);
    ra.join(T0, c, None).unwrap();
    ra.handle(
        T0,
        Input::PeerJoined {
            peer: 1,
            community: c,
        },
    );
    // Answer the genesis request honestly once, so the community exists.
    let honest = ask(&mut rf, 0, &a, &heads_req(c, None));
    let honest_bytes = wire::encode(&honest);
    ra.drain().for_each(drop);
    ra.handle(
        T0,
        Input::SyncResponse {
            from: 1,
            bytes: honest_bytes,
        },
    );
    ra.drain().for_each(drop);
    // The liar keeps answering "more" and sends nothing new: each answer it gets a chance to
    // trigger another request; only a few are made.
    let mut requests = 0;
    for _ in 0..20 {
        let lie = SyncResponse::Changes {
            community: c,
            genesis: None,
            docs: Vec::new(),
            heads: Vec::new(),
            samples: Vec::new(),
            more: true,
        };
        ra.handle(
            T0,
            Input::SyncResponse {
                from: 1,
                bytes: wire::encode(&lie),
            },
        );
        requests += ra
            .drain()
            .filter(|o| match o {
                Output::SyncSend { bytes, .. } => matches!(
                    wire::decode::<SyncRequest>("sync request", bytes, 1 << 24),
                    Ok(SyncRequest::Heads { .. })
                ),
                _ => false,
            })
            .count();
    }
    assert!(
        requests <= 3,
        "{requests} follow-up requests to a peer that only says more"
    );
}

/// Everything `from` holds of `c`, pushed to `to` as one sync push; `to`'s outputs are
/// returned (it settles: publishes evidence, re-issues what was stranded).
fn push_all(
    from: &mut Replicator<usize>,
    to: &mut Replicator<usize>,
    c: &CommunityId,
    peer: usize,
) -> Vec<Output<usize>> {
    let comm = from.community(c).unwrap();
    let mut docs: Vec<(DocId, Vec<wire::WireChange>)> = Vec::new();
    for (d, h) in comm.all_changes() {
        let (bytes, sig) = comm.signed_change(&d, &h).unwrap();
        match docs.iter_mut().find(|(x, _)| *x == d) {
            Some((_, v)) => v.push(wire::WireChange { bytes, sig }),
            None => docs.push((d, vec![wire::WireChange { bytes, sig }])),
        }
    }
    let device = from.device();
    to.handle(
        T0,
        Input::SyncRequest {
            from: peer,
            device: Some(device),
            reply: ReplyId(99),
            bytes: wire::encode(&SyncRequest::Push {
                community: *c,
                docs,
            }),
        },
    );
    to.drain().collect()
}

/// A member's device equivocates; bob replied on one side, carol on the other. When they meet,
/// the replicators publish the evidence, the reply stranded on the losing side is made again
/// by its author's node, and everyone ends with the same documents and both replies.
#[test]
fn stranded_replies_are_reissued_by_their_authors() {
    let (f, a, b, cc) = (key(1), key(2), key(3), key(4));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut rf = replicator(&f, usize::MAX);
    let c = rf.create(T0, g.clone()).unwrap();
    let mut reps: Vec<Replicator<usize>> = [&a, &b, &cc, &a]
        .iter()
        .map(|k| replicator(k, usize::MAX))
        .collect();
    for (i, r) in reps.iter_mut().enumerate() {
        r.join(T0, c, None).unwrap();
        let genesis = rf.community(&c).unwrap().genesis().to_bytes();
        r.restore(T0, &c, &genesis, Vec::new()).unwrap();
        push_all(&mut rf, r, &c, 100 + i);
    }
    // a, b, carol join (a's two replicas share its key: the same device).
    for i in 0..3 {
        let me = reps[i].member();
        reps[i]
            .edit(T0, &c, Edit::Govern(join_action(&me, None, None, None)))
            .unwrap();
        let (l, r) = reps.split_at_mut(i + 1);
        push_all(&mut l[i], &mut rf, &c, i);
        let _ = r;
    }
    for (i, r) in reps.iter_mut().enumerate() {
        push_all(&mut rf, r, &c, 100 + i);
    }
    // The fork: both replicas of a post with the same next sequence number.
    reps[0]
        .edit(T0, &c, post("general", "version one"))
        .unwrap();
    reps[3]
        .edit(T0, &c, post("general", "version two"))
        .unwrap();
    {
        let (l, r) = reps.split_at_mut(1);
        push_all(&mut l[0], &mut r[0], &c, 0); // bob sees one
        let (l, r) = reps.split_at_mut(3);
        push_all(&mut r[0], &mut l[2], &c, 3); // carol sees two
    }
    let rb = reps[1]
        .edit(T0, &c, post("general", "bob's reply"))
        .unwrap();
    let rc = reps[2]
        .edit(T0, &c, post("general", "carol's reply"))
        .unwrap();
    // Everyone meets, a few times over (evidence and re-issued changes travel too).
    for _ in 0..4 {
        for (i, r) in reps.iter_mut().enumerate() {
            push_all(r, &mut rf, &c, i);
        }
        for (i, r) in reps.iter_mut().enumerate() {
            push_all(&mut rf, r, &c, 100 + i);
        }
    }
    let heads = all_heads(rf.community(&c).unwrap());
    for r in reps.iter_mut().take(3) {
        assert_eq!(all_heads(r.community(&c).unwrap()), heads);
    }
    let texts: Vec<String> = rf
        .community(&c)
        .unwrap()
        .posts(&ChannelId::general(), 50, None)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert!(texts.contains(&"bob's reply".to_string()), "{texts:?}");
    assert!(texts.contains(&"carol's reply".to_string()), "{texts:?}");
    assert!(!texts.iter().any(|t| t.starts_with("version")), "{texts:?}");
    // Exactly one original reply was stranded; its text is there again, made anew.
    let held = |lc: &LocalChange, rf: &mut Replicator<usize>| {
        rf.community(&c)
            .unwrap()
            .has_change(&lc.accepted.doc, &lc.accepted.hash)
    };
    assert!(held(&rb, &mut rf) ^ held(&rc, &mut rf));
}
