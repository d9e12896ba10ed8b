//! Catch-up as an attacker uses it: reading a community without the right to, replaying
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
        invitation: inv,
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
