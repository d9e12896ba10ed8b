//! Independent review: attacks that currently break the rules of docs/authorization.md.
//!
//! Each test asserts what SHOULD hold; each fails on the code it was written against. Changes
//! an attacker would hand-craft (bypassing `Community::edit`, which an attacker's node need
//! not run) are made with [`craft`] directly on Automerge and signed with the attacker's key.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ReadDoc};
use qun_crdt::community::action::{ChangeMeta, ExpireTarget};
use qun_crdt::community::cut::Cut;
use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{Capabilities, DeviceCert, Invitation, SecretIdentity, Signed, Timestamp};
use std::collections::BTreeSet;

/// Live heap bytes allocated by the current thread (tests run in parallel threads).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
    }

    pub(crate) struct Counting;

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            let _ = LIVE.try_with(|c| c.set(c.get() + l.size() as isize));
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            let _ = LIVE.try_with(|c| c.set(c.get() - l.size() as isize));
            unsafe { System.dealloc(p, l) }
        }
    }

    pub(crate) fn live() -> isize {
        LIVE.with(|c| c.get())
    }
}

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

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

fn mesh(cs: &mut [&mut Community]) {
    sync_mesh(cs)
}

fn texts(c: &mut Community) -> Vec<String> {
    c.posts(&ChannelId::general(), 10_000, None)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect()
}

/// A signed change as an attacker makes it.
struct Crafted {
    bytes: Vec<u8>,
    sig: [u8; 64],
    hash: Hash,
}

/// The slots map `d` of a document.
fn slots_obj(tx: &Transaction<'_>) -> ObjId {
    match tx.get(ROOT, "d").unwrap() {
        Some((_, id)) => id,
        None => panic!("no slots map"),
    }
}

/// Get or make `obj[key]` as a map.
fn map_in(tx: &mut Transaction<'_>, obj: &ObjId, key: &str) -> ObjId {
    if let Some((automerge::Value::Object(ObjType::Map), id)) = tx.get(obj, key).unwrap() {
        return id;
    }
    tx.put_object(obj, key, ObjType::Map).unwrap()
}

/// Make a change on `am` as `signer`: `action` with `cited` governance heads at `time`, with the
/// operations `write` makes (none: an empty change). Deps are `am`'s heads.
/// Writes a crafted change makes into the document.
type Write<'a> = Option<&'a dyn Fn(&mut Transaction<'_>, &SecretIdentity)>;

#[allow(clippy::too_many_arguments)]
fn craft_on(
    am: &mut Automerge,
    community: &CommunityId,
    signer: &SecretIdentity,
    doc: &DocId,
    action: &Action,
    cited: &[Hash],
    time: Timestamp,
    write: Write<'_>,
) -> Crafted {
    am.set_actor(ActorId::from(&signer.device_id().to_bytes()[..]));
    let opts = CommitOptions::default()
        .with_message(ChangeMeta::encode(action, cited))
        .with_time(time.as_millis() as i64);
    let hash = match write {
        None => am.empty_commit(opts),
        Some(w) => am
            .transact_with(
                |_| opts,
                |tx| {
                    w(tx, signer);
                    Ok::<_, automerge::AutomergeError>(())
                },
            )
            .unwrap()
            .hash
            .unwrap(),
    };
    let bytes = am.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec();
    let sig = signer.sign_raw(&signing_message(community, doc, &hash));
    Crafted { bytes, sig, hash }
}

/// Load `c`'s copy of `doc` (deps of a crafted change: its heads).
fn load(c: &mut Community, doc: &DocId) -> Automerge {
    Automerge::load(&c.export_doc(doc).unwrap()).unwrap()
}

/// Write a post `key` with `text` into the signer's slot.
fn post_ops(
    key: String,
    text: String,
    created: Timestamp,
) -> impl Fn(&mut Transaction<'_>, &SecretIdentity) {
    move |tx, signer| {
        let slots = slots_obj(tx);
        let slot = map_in(tx, &slots, &signer.device_id().to_string());
        let posts = map_in(tx, &slot, "posts");
        let p = tx.put_object(&posts, key.as_str(), ObjType::Map).unwrap();
        tx.put(&p, "text", text.as_str()).unwrap();
        tx.put(&p, "created", created.as_millis() as i64).unwrap();
        tx.put(&p, "deleted", false).unwrap();
    }
}

fn general(c: &Community, at: Timestamp) -> DocId {
    DocId::Content {
        channel: ChannelId::general(),
        window: c.genesis().window_of(at),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Invitations are not checked against their signer.
// ---------------------------------------------------------------------------------------------

/// An outsider signs, with its own key, an invitation that *claims* the founder as inviter and
/// names itself. Nothing checks that the invitation's signer is its inviter: the join is an
/// admission into an invite-only community, and the forged invitation also opens sync.
#[test]
fn forged_invitation_claiming_the_founder_admits_nobody() {
    let (f, s) = (key(1), key(9));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut cf = replica(&g, &f);
    let mut cs = replica(&g, &s);
    let body = Invitation {
        community: g.id().0,
        inviter: f.member_id(), // ... claims the founder invited it
        invitee: Some(s.member_id()),
        nonce: [0x66; 16],
        key: None,
        created: T0,
        expires: None,
        note: String::new(),
    };
    // The API refuses to make it at all...
    assert!(Signed::sign(&s, body.clone()).is_err());
    // ... so the outsider builds the envelope by hand and signs it itself.
    #[derive(serde::Serialize)]
    struct RawEnvelope {
        tag: String,
        author: qun_identity::PublicIdentity,
        body: Vec<u8>,
        #[serde(with = "qun_identity::canonical::bytes64")]
        sig: [u8; 64],
    }
    let tag = qun_identity::domain_tag("invitation", 2);
    let body = qun_identity::canonical::encode(&body);
    let mut msg = tag.as_bytes().to_vec();
    msg.push(0);
    msg.extend_from_slice(&body);
    let forged = qun_identity::canonical::encode(&RawEnvelope {
        tag,
        author: s.public(),
        body,
        sig: s.sign_raw(&msg),
    });
    // The read gate of an invite-only community.
    let reads = cf.may_read(&s.device_id(), Some(&forged), None, None);
    let _ = join_with(&mut cs, &s, &forged, None, t(1));
    sync_all(&cs, &mut cf);
    let member = cf.state().is_member(&s.member_id());
    assert!(
        !reads && !member,
        "a self-signed invitation claiming the founder: reads the community: {reads}, \
         admitted as a member: {member}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Re-issuing a stranded change reuses its sequence number: equivocation evidence against the
//    honest re-issuer.
// ---------------------------------------------------------------------------------------------

/// A member forks its device in the governance document and shows the higher-hash side to the
/// founder, who builds a governance change on it. The lower-hash side then strands the
/// founder's change; the founder's node makes it again on the winning side, as designed — with
/// the same sequence number (Automerge numbers the rebuilt document's changes again). The two
/// changes are valid equivocation evidence against the *founder's* device: an accomplice
/// publishes it, and every governance change of the founder's device from then on is void.
#[test]
fn reissued_change_is_not_equivocation_evidence_against_its_author() {
    let (f, a, x) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cx = replica(&g, &x);
    join_open(&mut ca, &a, t(1));
    join_open(&mut cx, &x, t(1));
    mesh(&mut [&mut cf, &mut ca, &mut cx]);
    // The attacker forks its device: two governance changes with one sequence number.
    let mut ca2 = replica(&g, &a);
    sync_all(&ca, &mut ca2);
    let one = ca
        .edit(
            &a,
            t(2),
            Edit::Follow {
                member: f.member_id(),
                on: true,
            },
        )
        .unwrap();
    let two = ca2
        .edit(
            &a,
            t(2),
            Edit::Follow {
                member: x.member_id(),
                on: true,
            },
        )
        .unwrap();
    let (low, high) = if one.accepted.hash < two.accepted.hash {
        (one, two)
    } else {
        (two, one)
    };
    // The founder sees the higher side and acts on top of it.
    cf.ingest(&DocId::Governance, &high.bytes, &high.sig)
        .unwrap();
    let original = cf
        .edit(
            &f,
            t(3),
            gov(Action::SetChannel {
                channel: ChannelId::new("news").unwrap(),
                settings: ChannelSettings {
                    title: "News".into(),
                    description: String::new(),
                    announce: false,
                    archived: false,
                },
            }),
        )
        .unwrap();
    // x saw the lower side and built on it. When both reach the founder, the sides tie on
    // support (one other member each) and the lower twin wins: the founder's change is
    // stranded, and made again (what the replicator's `settle` does).
    cx.ingest(&DocId::Governance, &low.bytes, &low.sig).unwrap();
    let on_low = cx
        .edit(
            &x,
            t(3),
            Edit::Follow {
                member: f.member_id(),
                on: true,
            },
        )
        .unwrap();
    let _ = cf.ingest(&DocId::Governance, &low.bytes, &low.sig);
    let _ = cf.ingest(&DocId::Governance, &on_low.bytes, &on_low.sig);
    let stranded = cf.take_stranded_own();
    assert_eq!(stranded.len(), 1);
    let Some(community::Reissue::Govern(again)) = stranded[0].2.clone() else {
        panic!("a governance re-issue")
    };
    let reissued = cf.edit(&f, t(4), gov(again)).unwrap();
    // Same device, same document, same sequence number, different hash.
    assert_eq!(original.accepted.seq, reissued.accepted.seq);
    // An accomplice (any member) publishes it as evidence against the founder's device.
    sync_all(&cf, &mut cx);
    cx.edit(
        &x,
        t(5),
        gov(Action::Equivocation {
            doc: DocId::Governance.key(),
            a: original.bytes.clone(),
            a_sig: original.sig.to_vec(),
            b: reissued.bytes.clone(),
            b_sig: reissued.sig.to_vec(),
        }),
    )
    .unwrap();
    sync_all(&cx, &mut cf);
    // The founder carries on governing.
    let later = cf
        .edit(
            &f,
            t(6),
            gov(Action::Remove {
                member: a.member_id(),
                reason: "equivocated".into(),
                cut: Default::default(),
            }),
        )
        .unwrap();
    assert!(
        cf.is_valid(&DocId::Governance, &reissued.accepted.hash),
        "the founder's honest re-issued change is void"
    );
    assert!(
        cf.is_valid(&DocId::Governance, &later.accepted.hash),
        "every later governance change of the founder's device is void"
    );
    assert!(!cf.state().is_member(&a.member_id()));
}

// ---------------------------------------------------------------------------------------------
// 3. An invalid twin with a lower hash strands a valid change (and honest replies) on the nodes
//    it is shown to, and nowhere else.
// ---------------------------------------------------------------------------------------------

/// The attacker's post X is answered by an honest member. The attacker then signs a twin Y of X
/// (same device, document and sequence number, lower hash) that fails a check that comes after
/// the sequence check (its time is outside the document's window). `on_equivocation` strands X
/// and everything on it *before* Y is checked; Y is then refused, so it is neither stored nor
/// forwarded. Nodes shown Y lose X and the honest reply for good; the others keep them.
#[test]
fn invalid_lower_hash_twin_cannot_strand_honest_changes_on_chosen_nodes() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    join_open(&mut ca, &a, t(1));
    join_open(&mut cb, &b, t(1));
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    ca.edit(&a, t(2), post("general", "a's first post"))
        .unwrap();
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    let doc = general(&ca, t(2));
    // The attacker's copy before X.
    let before = load(&mut ca, &doc);
    let gov_heads = ca.heads(&DocId::Governance).unwrap();
    let x = ca.edit(&a, t(3), post("general", "a's post X")).unwrap();
    // b replies on top of X; f holds X and the reply.
    sync_all(&ca, &mut cb);
    cb.edit(&b, t(4), post("general", "b's honest reply"))
        .unwrap();
    sync_all(&cb, &mut cf);
    assert!(texts(&mut cf).contains(&"b's honest reply".to_string()));
    // Y: same seq as X, time outside the window, ground until its hash is below X's.
    let (_, end) = g.window_range(g.window_of(t(3)));
    let outside = Timestamp::from_millis(end + 1000);
    let y = (0u32..)
        .map(|i| {
            let mut am = before.fork();
            let ops = post_ops(format!("k{i}"), "twin".into(), outside);
            craft_on(
                &mut am,
                &g.id(),
                &a,
                &doc,
                &Action::Post {
                    key: format!("k{i}"),
                },
                &gov_heads,
                outside,
                Some(&ops),
            )
        })
        .find(|c| c.hash < x.accepted.hash)
        .unwrap();
    // Shown only to f: refused (not stored, not forwarded) ...
    let e = cf.ingest(&doc, &y.bytes, &y.sig).unwrap_err();
    assert!(matches!(e, Error::InvalidChange { .. }), "{e}");
    // ... everybody exchanges everything.
    mesh(&mut [&mut cf, &mut ca, &mut cb]);
    assert_eq!(
        all_heads(&mut cf),
        all_heads(&mut cb),
        "f and b disagree on the document after exchanging everything"
    );
    assert!(
        texts(&mut cf).contains(&"b's honest reply".to_string()),
        "b's honest reply is gone on f: {:?}",
        texts(&mut cf)
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Honest edits of a post after its window ends are refused by every peer.
// ---------------------------------------------------------------------------------------------

/// An honest member edits (or deletes) its post a week later. The local edit goes into the
/// post's document with the current time, outside that document's window: the author's node
/// takes it, every peer refuses it (and penalises the author's node for gossiping it), and the
/// author's later changes to that document wait forever on it.
#[test]
fn editing_an_older_post_is_decided_the_same_everywhere() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    join_open(&mut ca, &a, t(1));
    let p = ca.edit(&a, t(2), post("general", "typo")).unwrap();
    sync_all(&ca, &mut cf);
    let week = 7 * 24 * 3600 * 1000;
    let later = t(2).plus_millis(week);
    if let Ok(edit) = ca.edit(
        &a,
        later,
        Edit::EditPost {
            post: p.post.clone().unwrap(),
            text: "fixed".into(),
        },
    ) {
        let r = cf.ingest(&edit.accepted.doc, &edit.bytes, &edit.sig);
        assert!(
            r.is_ok(),
            "the author's node accepted its own edit; every peer refuses it: {r:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Redefining a custom role voids all past posts of its holders.
// ---------------------------------------------------------------------------------------------

/// The founder defines `writer` {post, react}, gives it to v; v posts; everyone syncs. Later
/// the founder takes `post` from `writer`. The redefinition revokes with an *empty* cut, so
/// every post v ever wrote (none cite the redefinition) is "beyond the cut": v's whole history
/// vanishes. docs/authorization.md: a redefinition voids concurrent *governance* writes only.
#[test]
fn redefining_a_role_keeps_its_holders_past_posts() {
    let (f, v) = (key(1), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cv = replica(&g, &v);
    join_open(&mut cv, &v, t(1));
    sync_all(&cv, &mut cf);
    let perms = |p: &[Perm]| p.iter().copied().collect::<BTreeSet<Perm>>();
    cf.edit(
        &f,
        t(2),
        gov(Action::DefineRole {
            name: "writer".into(),
            perms: perms(&[Perm::Post, Perm::React]),
        }),
    )
    .unwrap();
    cf.edit(
        &f,
        t(3),
        gov(Action::SetRole {
            member: v.member_id(),
            role: Role::Custom("writer".into()),
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cv]);
    cv.edit(&v, t(4), post("general", "v's post from last month"))
        .unwrap();
    mesh(&mut [&mut cf, &mut cv]);
    assert!(texts(&mut cf).contains(&"v's post from last month".to_string()));
    // Much later: writers may only react from now on.
    cf.edit(
        &f,
        t(100),
        gov(Action::DefineRole {
            name: "writer".into(),
            perms: perms(&[Perm::React]),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cv]);
    assert!(
        texts(&mut cf).contains(&"v's post from last month".to_string()),
        "a role redefinition wiped its holder's past posts"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. A revocation's cut is whatever its author says: any member wipes a device's history.
// ---------------------------------------------------------------------------------------------

/// The founder's laptop has a certificate with an expiry a year out, and has posted. An
/// ordinary member publishes, today, an expiry of the laptop with an empty cut (hand-made: its
/// node would fill the cut in). Any member may publish any device's expiry, and nothing checks
/// the cut: every post the laptop ever made is void, though all precede the expiry.
#[test]
fn expiry_by_a_member_voids_only_concurrent_writes() {
    let (f, m) = (key(1), key(2));
    let laptop = key(21);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cl = replica(&g, &laptop);
    let mut cm = replica(&g, &m);
    let c = DeviceCert {
        member: f.member_id(),
        device: laptop.device_id(),
        capabilities: Capabilities::ALL,
        label: "laptop".into(),
        not_before: Timestamp::ZERO,
        expires: Some(t(365 * 24 * 3600)),
    };
    cl.edit(
        &laptop,
        t(1),
        gov(Action::LinkDevice {
            cert: Signed::sign(&f, c).unwrap().to_bytes(),
        }),
    )
    .unwrap();
    cl.edit(&laptop, t(2), post("general", "founder's announcement"))
        .unwrap();
    join_open(&mut cm, &m, t(1));
    mesh(&mut [&mut cf, &mut cl, &mut cm]);
    assert!(texts(&mut cf).contains(&"founder's announcement".to_string()));
    // The member, today, with an empty cut.
    let mut am = load(&mut cm, &DocId::Governance);
    let expire = craft_on(
        &mut am,
        &g.id(),
        &m,
        &DocId::Governance,
        &Action::Expire {
            target: ExpireTarget::Device {
                device: laptop.device_id(),
            },
            cut: Cut::default(),
        },
        &[],
        t(3),
        None,
    );
    // Refused (only the device's member or a moderator expires a device), or if taken it
    // must not erase anything.
    let _ = cf.ingest(&DocId::Governance, &expire.bytes, &expire.sig);
    assert!(
        texts(&mut cf).contains(&"founder's announcement".to_string()),
        "an ordinary member erased the founder's device's history"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Admission depends on the receiver's heads: the "nothing contested" shortcut ignores
//    equivocation evidence.
// ---------------------------------------------------------------------------------------------

/// A moderator equivocates in governance; the founder publishes the evidence, which voids the
/// moderator's governance changes from the fork on. The moderator then admits a Sybil (void by
/// the evidence), and the Sybil signs a change on exactly those heads. A node whose heads are
/// the Sybil's dependencies judges it in the resolved state (the Sybil is no member: refused);
/// a node one change further on takes `admission_state`'s shortcut — nothing *contested* in
/// that past, so the raw state — where the void admission counts: accepted and forwarded.
#[test]
fn admission_does_not_depend_on_the_receivers_heads() {
    let (f, m, v, s) = (key(1), key(2), key(3), key(9));
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
    // m forks its device in governance.
    let mut cm2 = replica(&g, &m);
    sync_all(&cm, &mut cm2);
    let channel = |name: &str| {
        gov(Action::SetChannel {
            channel: ChannelId::new(name).unwrap(),
            settings: ChannelSettings {
                title: name.into(),
                description: String::new(),
                announce: false,
                archived: false,
            },
        })
    };
    let one = cm.edit(&m, t(3), channel("one")).unwrap();
    let two = cm2.edit(&m, t(3), channel("two")).unwrap();
    let mut cw = if one.accepted.hash < two.accepted.hash {
        cm
    } else {
        cm2
    };
    // The founder sees both and publishes the evidence.
    let _ = cf.ingest(&DocId::Governance, &one.bytes, &one.sig);
    let _ = cf.ingest(&DocId::Governance, &two.bytes, &two.sig);
    for e in cf.take_evidence() {
        cf.edit(&f, t(4), gov(e)).unwrap();
    }
    // m, on the winning side and after the evidence, admits a Sybil.
    sync_all(&cf, &mut cw);
    cw.edit(
        &m,
        t(5),
        gov(Action::Admit {
            member: s.member_id(),
        }),
    )
    .unwrap();
    sync_all(&cw, &mut cf);
    sync_all(&cw, &mut cv);
    assert!(
        !cf.state().is_member(&s.member_id()),
        "the admission is void"
    );
    // v's node has moved on by one change of its own.
    cv.edit(
        &v,
        t(6),
        Edit::Follow {
            member: f.member_id(),
            on: true,
        },
    )
    .unwrap();
    // The Sybil's change, on the heads m's admission left.
    let mut am = load(&mut cw, &DocId::Governance);
    let c = craft_on(
        &mut am,
        &g.id(),
        &s,
        &DocId::Governance,
        &Action::Leave,
        &[],
        t(7),
        None,
    );
    let at_f = cf.ingest(&DocId::Governance, &c.bytes, &c.sig);
    let at_v = cv.ingest(&DocId::Governance, &c.bytes, &c.sig);
    assert_eq!(
        at_f.is_ok(),
        at_v.is_ok(),
        "one change, two verdicts: founder {at_f:?}, v {at_v:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The cut's size bound lets a member make its own removal void nothing.
// ---------------------------------------------------------------------------------------------

/// Before it is removed, a member links 2,049 devices (keys are free) and posts once from each
/// in this week's document. The founder's node fills the removal's cut: 2,049 entries, over
/// the 2,048 bound, all in the newest window, so `Cut::from_entries` raises the floor *above*
/// this week and lists nothing: every document is "below the floor, kept whole". The removed
/// member then keeps posting into this week's document (and any older one) citing governance
/// heads from before its removal, and it all counts.
#[test]
fn many_devices_do_not_make_a_removal_void_nothing() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    join_open(&mut ca, &a, t(1));
    ca.edit(&a, t(2), post("general", "a's first post"))
        .unwrap();
    sync_all(&ca, &mut cf);
    let doc = general(&cf, t(2));
    let mut gam = load(&mut cf, &DocId::Governance);
    let mut cam = load(&mut cf, &doc);
    let n = qun_crdt::community::cut::MAX_CUT_ENTRIES + 1;
    for i in 0..n {
        let d = key_n(0xD0, i as u32);
        let link = craft_on(
            &mut gam,
            &g.id(),
            &d,
            &DocId::Governance,
            &Action::LinkDevice {
                cert: cert(&a, &d, Capabilities::ALL),
            },
            &[],
            t(3),
            None,
        );
        // (A node may refuse devices past its per-member bound: the attack only gets easier
        // if it takes them all.)
        let _ = cf.ingest(&DocId::Governance, &link.bytes, &link.sig);
        let heads = gam.get_heads();
        let k = format!("p{i}");
        let ops = post_ops(k.clone(), format!("device {i}"), t(4));
        let p = craft_on(
            &mut cam,
            &g.id(),
            &d,
            &doc,
            &Action::Post { key: k },
            &heads,
            t(4),
            Some(&ops),
        );
        let _ = cf.ingest(&doc, &p.bytes, &p.sig);
    }
    let before_removal = gam.get_heads();
    cf.edit(
        &f,
        t(10),
        gov(Action::Remove {
            member: a.member_id(),
            reason: "spam".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    assert!(!cf.state().is_member(&a.member_id()));
    // After its removal, citing heads from before it.
    let ops = post_ops("late".into(), "posted after my removal".into(), t(20));
    let late = craft_on(
        &mut cam,
        &g.id(),
        &a,
        &doc,
        &Action::Post { key: "late".into() },
        &before_removal,
        t(20),
        Some(&ops),
    );
    let _ = cf.ingest(&doc, &late.bytes, &late.sig);
    assert!(
        !texts(&mut cf).contains(&"posted after my removal".to_string()),
        "a removed member's post written after its removal counts"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Validity recomputation: one member makes every node do cubic work.
// ---------------------------------------------------------------------------------------------

/// `k` joins with `k` named invitations of member `x`, and `k` expiries of those invitations
/// by `x`, each concurrent with its join: `k` revocation candidates. Returns the changes.
fn invitation_storm(k: usize) -> (CommunityGenesis, Community, Vec<Crafted>) {
    let (f, x) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cx = replica(&g, &x);
    join_open(&mut cx, &x, t(1));
    sync_all(&cx, &mut cf);
    let base = load(&mut cf, &DocId::Governance);
    let mut chain = base.fork();
    let mut out = Vec::new();
    for i in 0..k {
        let s = key_n(0xE0, i as u32);
        let mut nonce = [0u8; 16];
        nonce[..4].copy_from_slice(&(i as u32).to_le_bytes());
        let inv = named_invitation(&g, &x, &s.member_id(), nonce);
        let mut am = base.fork();
        out.push(craft_on(
            &mut am,
            &g.id(),
            &s,
            &DocId::Governance,
            &join_action(&s.member_id(), None, Some(&inv), None),
            &[],
            t(2),
            None,
        ));
        out.push(craft_on(
            &mut chain,
            &g.id(),
            &x,
            &DocId::Governance,
            &Action::Expire {
                target: ExpireTarget::Invitation { nonce },
                cut: Cut::default(),
            },
            &[],
            t(2),
            None,
        ));
    }
    (g, cf, out)
}

/// Ingesting `2k` such changes (one member's invitations and their expiries, and joins by
/// throwaway keys) should cost a node work roughly linear in `k`. Each revocation candidate
/// costs a full `pass` (every join and expiry re-judged, each a materialization of the state
/// over its past) plus a priority (another materialization) per candidate per step, and the
/// whole resolution runs again on every ingest that marks the index stale: doubling `k`
/// multiplies the time by ~8-16.
#[test]
fn concurrent_revocations_do_not_cost_superlinear_work() {
    // Work is counted, not timed: states materialized (each costs time in proportion to the
    // governance), which is what resolution repeats.
    let work = |k: usize| {
        let (_, mut cf, changes) = invitation_storm(k);
        let before = states_materialized();
        for c in &changes {
            cf.ingest(&DocId::Governance, &c.bytes, &c.sig).unwrap();
        }
        let _ = cf.state();
        states_materialized() - before
    };
    let small = work(12);
    let large = work(48);
    let ratio = large as f64 / small.max(1) as f64;
    eprintln!("k=12: {small} states, k=48: {large} states, ratio {ratio:.1}");
    assert!(
        ratio < 16.0,
        "4x the changes cost {ratio:.0}x the states (k=12: {small}, k=48: {large})"
    );
}

// ---------------------------------------------------------------------------------------------
// 10. A bearer invitation's "first admission by (lamport, hash)" is author-chosen.
// ---------------------------------------------------------------------------------------------

/// Alice joined with a bearer code and has been a member for a while (she posts). Anyone else
/// who holds the code — the inviter (any member may invite), or whoever saw the link — later
/// signs a join with the code whose dependencies are the bare genesis: the lowest lamport, so
/// it "owns" the nonce. Alice's admission becomes a request, retroactively: she is out and
/// every post she made is void — a removal with no remove permission and no rank.
#[test]
fn backdated_join_cannot_take_a_used_bearer_invitation() {
    let (f, alice, mallory) = (key(1), key(2), key(9));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &alice);
    let (inv, secret) = bearer_invitation(&g, &f, [0x42; 16]);
    // A long-standing community: the founder has been busy before alice came.
    for i in 0..3 {
        cf.edit(
            &f,
            t(1 + i),
            Edit::Follow {
                member: key(50 + i as u8).member_id(),
                on: true,
            },
        )
        .unwrap();
    }
    sync_all(&cf, &mut ca);
    join_with(&mut ca, &alice, &inv, Some(&secret), t(10)).unwrap();
    ca.edit(
        &alice,
        t(11),
        post("general", "alice, a member for a month"),
    )
    .unwrap();
    sync_all(&ca, &mut cf);
    assert!(cf.state().is_member(&alice.member_id()));
    // A month later, with the same code, dependencies: the governance genesis.
    let fresh = replica(&g, &mallory);
    let mut am = Automerge::load(&{
        let mut c = fresh;
        c.export_doc(&DocId::Governance).unwrap()
    })
    .unwrap();
    let j = craft_on(
        &mut am,
        &g.id(),
        &mallory,
        &DocId::Governance,
        &join_action(&mallory.member_id(), None, Some(&inv), Some(&secret)),
        &[],
        t(3_000_000),
        None,
    );
    let _ = cf.ingest(&DocId::Governance, &j.bytes, &j.sig);
    assert!(
        cf.state().is_member(&alice.member_id()),
        "alice, admitted a month ago, is no longer a member"
    );
    assert!(texts(&mut cf).contains(&"alice, a member for a month".to_string()));
}

// ---------------------------------------------------------------------------------------------
// 11. A device key may join as a member of its own: its old posts change author.
// ---------------------------------------------------------------------------------------------

/// Alice's laptop posts; she revokes it (stolen). The thief joins the (open) community as a
/// member of its own with the laptop key: a join with no certificate is not checked against
/// device links or revocations, and `member_of` prefers a key's own membership to its link,
/// so every post Alice made from the laptop is now shown as the thief's.
#[test]
fn a_revoked_device_cannot_take_its_posts_to_a_new_member() {
    let (f, alice) = (key(1), key(2));
    let laptop = key(20);
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut cl = replica(&g, &laptop);
    let mut ca = replica(&g, &alice);
    join_open(&mut ca, &alice, t(1));
    sync_all(&ca, &mut cl);
    cl.edit(
        &laptop,
        t(2),
        gov(Action::LinkDevice {
            cert: cert(&alice, &laptop, Capabilities::ALL),
        }),
    )
    .unwrap();
    cl.edit(&laptop, t(3), post("general", "alice's words"))
        .unwrap();
    mesh(&mut [&mut cf, &mut cl, &mut ca]);
    let rev = qun_identity::Revocation {
        member: alice.member_id(),
        device: laptop.device_id(),
        from: t(4),
        reason: "stolen".into(),
    };
    ca.edit(
        &alice,
        t(4),
        gov(Action::RevokeDevice {
            revocation: Signed::sign(&alice, rev).unwrap().to_bytes(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cl, &mut ca]);
    // The thief joins as the laptop key itself.
    let mut am = load(&mut cl, &DocId::Governance);
    let j = craft_on(
        &mut am,
        &g.id(),
        &laptop,
        &DocId::Governance,
        &join_action(&laptop.member_id(), None, None, None),
        &[],
        t(5),
        None,
    );
    let _ = cf.ingest(&DocId::Governance, &j.bytes, &j.sig);
    let posts = cf.posts(&ChannelId::general(), 10, None).unwrap();
    let p = posts
        .iter()
        .find(|p| p.text == "alice's words")
        .expect("alice's post");
    assert_eq!(
        p.author,
        alice.member_id(),
        "alice's post is now attributed to the thief's new member"
    );
}

// ---------------------------------------------------------------------------------------------
// 12. The read gate remembers a peer forever.
// ---------------------------------------------------------------------------------------------

/// A joiner shows its invitation once (remembered in `readers`), joins, and is later removed.
/// Its peer is still answered: `Replicator::may_read` consults the cache before the state.
#[test]
fn a_removed_member_is_no_longer_answered() {
    use qun_crdt::replicate::wire::{self, AccessProof, SyncRequest, SyncResponse};
    let (f, j) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Invite);
    let mut rf = Replicator::new(f.clone(), f.member_id(), None, Config::default()).unwrap();
    let c = rf.create(T0, g.clone()).unwrap();
    rf.drain().for_each(drop);
    let ask = |rf: &mut Replicator<usize>, access: Option<AccessProof>| -> SyncResponse {
        rf.handle(
            T0,
            Input::SyncRequest {
                from: 7,
                device: Some(j.device_id()),
                reply: ReplyId(7),
                bytes: wire::encode(&SyncRequest::Heads {
                    community: c,
                    want_genesis: true,
                    docs: Vec::new(),
                    access,
                }),
            },
        );
        let bytes = rf
            .drain()
            .find_map(|o| match o {
                Output::SyncRespond { bytes, .. } => Some(bytes),
                _ => None,
            })
            .unwrap();
        wire::decode("sync response", &bytes, 1 << 24).unwrap()
    };
    let inv = named_invitation(&g, &f, &j.member_id(), [1; 16]);
    let access = AccessProof {
        invitation: Some(inv.clone()),
        proof: None,
        cert: None,
    };
    assert!(matches!(
        ask(&mut rf, Some(access)),
        SyncResponse::Changes { .. }
    ));
    // j joins; the founder removes j.
    let mut cj = replica(&g, &j);
    let lc = join_with(&mut cj, &j, &inv, None, t(1)).unwrap();
    rf.community_mut(&c)
        .unwrap()
        .ingest(&DocId::Governance, &lc.bytes, &lc.sig)
        .unwrap();
    rf.edit(
        t(2),
        &c,
        gov(Action::Remove {
            member: j.member_id(),
            reason: "gone".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    rf.drain().for_each(drop);
    assert!(!rf.community(&c).unwrap().state().is_member(&j.member_id()));
    assert!(
        matches!(ask(&mut rf, None), SyncResponse::Denied { .. }),
        "a removed member's peer is still answered"
    );
}

// ---------------------------------------------------------------------------------------------
// 13. Validity depends on arrival order: `reads()` misses a register device links read.
// ---------------------------------------------------------------------------------------------

/// `validity::pass` re-judges a change only when a register its authorization `reads()` is
/// dirty, and registers become dirty in *node order* — arrival order, which differs between
/// replicas. A `device.link` reads the membership of the device key as a member of its own
/// (`check_link_free`) but `reads()` does not list it. So:
///
/// * d joins with i's invitation n1; i retires n1 concurrently (R1); the founder, having seen
///   d's join but not R1, removes i (R2). Globally R2 (founder rank) voids R1, so d's join
///   counts.
/// * d links its key to a (L) on heads that hold its join and R1, not R2: over L's own past R1
///   voids the join, so L is admitted; over the whole DAG d's key is a member at L's
///   dependencies, so L is void — *if* it is re-judged.
/// * e joined with i's invitation n2 concurrently with R2 (void), and endorsed someone (k): k
///   is void by cascade, which makes every later change in node order dirty.
///
/// A replica that receives k before L re-judges L (void); one that receives L first never
/// does (valid): two replicas with the same changes disagree on whether d is a's device.
#[test]
fn validity_does_not_depend_on_arrival_order() {
    let (f, i, a, d, e) = (key(1), key(2), key(3), key(4), key(5));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ci = replica(&g, &i);
    let mut ca = replica(&g, &a);
    let mut cd = replica(&g, &d);
    let mut ce = replica(&g, &e);
    join_open(&mut ci, &i, t(1));
    join_open(&mut ca, &a, t(1));
    mesh(&mut [&mut ci, &mut ca]);
    for c in [&mut cf, &mut cd, &mut ce] {
        sync_all(&ca, c);
    }
    let mut base = replica(&g, &key(60));
    sync_all(&ca, &mut base);
    let (n1, n2) = ([0x11; 16], [0x22; 16]);
    let jd = join_with(
        &mut cd,
        &d,
        &named_invitation(&g, &i, &d.member_id(), n1),
        None,
        t(2),
    )
    .unwrap();
    let je = join_with(
        &mut ce,
        &e,
        &named_invitation(&g, &i, &e.member_id(), n2),
        None,
        t(2),
    )
    .unwrap();
    let r1 = ci
        .edit(
            &i,
            t(3),
            gov(Action::Expire {
                target: ExpireTarget::Invitation { nonce: n1 },
                cut: Default::default(),
            }),
        )
        .unwrap();
    sync_all(&cd, &mut cf);
    let r2 = cf
        .edit(
            &f,
            t(4),
            gov(Action::Remove {
                member: i.member_id(),
                reason: "rogue".into(),
                cut: Default::default(),
            }),
        )
        .unwrap();
    sync_all(&ci, &mut cd);
    let l = cd
        .edit(
            &d,
            t(5),
            gov(Action::LinkDevice {
                cert: cert(&a, &d, Capabilities::ALL),
            }),
        )
        .unwrap();
    let endorsement = qun_identity::Endorsement {
        from: e.member_id(),
        to: a.member_id(),
        topic: qun_identity::Topic::general(),
        scope: qun_identity::Scope::Community(g.id().0),
        weight: qun_identity::Weight::FULL,
        created: t(5),
        expires: None,
        note: String::new(),
    };
    let k = ce
        .edit(
            &e,
            t(5),
            gov(Action::Endorse {
                endorsement: Signed::sign(&e, endorsement).unwrap().to_bytes(),
            }),
        )
        .unwrap();
    let feed = |order: &[&LocalChange]| {
        let mut c = replica(&g, &key(70));
        sync_all(&base, &mut c);
        for lc in order {
            c.ingest(&DocId::Governance, &lc.bytes, &lc.sig).unwrap();
        }
        c
    };
    let mut p = feed(&[&jd, &je, &r1, &r2, &k, &l]);
    let mut q = feed(&[&jd, &je, &r1, &r2, &l, &k]);
    assert_eq!(all_heads(&mut p), all_heads(&mut q), "same changes");
    let linked_p = p.state().devices.contains_key(&d.device_id());
    let linked_q = q.state().devices.contains_key(&d.device_id());
    assert_eq!(
        (linked_p, p.is_valid(&DocId::Governance, &l.accepted.hash)),
        (linked_q, q.is_valid(&DocId::Governance, &l.accepted.hash)),
        "(d linked to a, link valid): k before L vs L before k"
    );
}

// ---------------------------------------------------------------------------------------------
// 14. The stranded set grows without bound from changes by throwaway keys.
// ---------------------------------------------------------------------------------------------

/// Once any change of the governance document has been stranded (one equivocation by any
/// member), anyone can sign changes that depend on it — or on one of their own stranded
/// changes — with a throwaway key: `ingest` checks the signature, then records the hash in the
/// document's `stranded` set, for good (no bound, no expiry; `strand` even copies it). A chain
/// of changes by one throwaway key grows every node's memory linearly, forever.
#[test]
fn changes_that_never_count_do_not_grow_memory_without_bound() {
    let (f, a) = (key(1), key(2));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    join_open(&mut ca, &a, t(1));
    sync_all(&ca, &mut cf);
    let mut ca2 = replica(&g, &a);
    sync_all(&ca, &mut ca2);
    let one = ca
        .edit(
            &a,
            t(2),
            Edit::Follow {
                member: f.member_id(),
                on: true,
            },
        )
        .unwrap();
    let two = ca2
        .edit(
            &a,
            t(2),
            Edit::Follow {
                member: key(8).member_id(),
                on: true,
            },
        )
        .unwrap();
    let loser = if one.accepted.hash < two.accepted.hash {
        &mut ca2
    } else {
        &mut ca
    };
    let _ = cf.ingest(&DocId::Governance, &one.bytes, &one.sig);
    let _ = cf.ingest(&DocId::Governance, &two.bytes, &two.sig);
    // A chain of changes by one throwaway key, on the stranded side.
    let junk_key = key_n(0xAB, 0);
    let mut am = load(loser, &DocId::Governance);
    am.set_actor(ActorId::from(&junk_key.device_id().to_bytes()[..]));
    let msg = ChangeMeta::encode(&Action::Leave, &[]);
    const N: usize = 50_000;
    let junk: Vec<(Vec<u8>, [u8; 64])> = (0..N)
        .map(|_| {
            am.empty_commit(
                CommitOptions::default()
                    .with_message(msg.clone())
                    .with_time(0),
            );
            let c = am.get_last_local_change().unwrap();
            let sig = junk_key.sign_raw(&signing_message(&g.id(), &DocId::Governance, &c.hash()));
            (c.raw_bytes().to_vec(), sig)
        })
        .collect();
    drop(am);
    let before = heap::live();
    let mut stranded = 0;
    for (bytes, sig) in &junk {
        if let Err(Error::Stranded { .. }) = cf.ingest(&DocId::Governance, bytes, sig) {
            stranded += 1;
        }
    }
    let grown = heap::live() - before;
    eprintln!("{stranded} stranded, heap grew {grown} bytes");
    assert!(
        grown < 256 * 1024,
        "{N} changes by one throwaway key that never count grew the heap by {} KiB",
        grown / 1024
    );
}

// ---------------------------------------------------------------------------------------------
// 15. An ex-member's old key wipes a chosen node's governance document.
// ---------------------------------------------------------------------------------------------

/// Finding 3 at its worst. A member joined (its join J is its governance change seq 1), then
/// the community lived on — later changes depend on J transitively (Automerge changes depend
/// on the heads) — and the member was removed. With its old key, the ex-member signs a twin of
/// J (seq 1, same dependencies, lower hash) that is not even authorized (a `follow` by a
/// non-member). The node it is sent to strands J and *everything after it* (rebuilding the
/// governance index and stranding every content change citing it) before finding the twin
/// unauthorized; afterwards it refuses all of that as `Stranded`, forever, whoever sends it.
#[test]
fn an_ex_members_twin_cannot_wipe_a_nodes_governance() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    let mut cp = replica(&g, &key(4)); // the victim node (an honest member's)
    let genesis_only = load(&mut ca, &DocId::Governance);
    let ja = ca
        .edit(&a, t(1), gov(join_action(&a.member_id(), None, None, None)))
        .unwrap();
    mesh(&mut [&mut cf, &mut ca]);
    sync_all(&cf, &mut cb);
    join_open(&mut cb, &b, t(2));
    cb.edit(&b, t(3), post("general", "b's post")).unwrap();
    mesh(&mut [&mut cf, &mut cb]);
    cf.edit(
        &f,
        t(4),
        gov(Action::Remove {
            member: a.member_id(),
            reason: "spam".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    mesh(&mut [&mut cf, &mut cb, &mut cp]);
    assert!(cp.state().is_member(&b.member_id()));
    // The ex-member's twin of its own join.
    let twin = (0u8..)
        .map(|i| {
            let mut am = genesis_only.fork();
            craft_on(
                &mut am,
                &g.id(),
                &a,
                &DocId::Governance,
                &Action::Follow {
                    member: key(100u8.wrapping_add(i)).member_id(),
                    on: true,
                },
                &[],
                t(1),
                None,
            )
        })
        .find(|c| c.hash < ja.accepted.hash)
        .unwrap();
    let e = cp
        .ingest(&DocId::Governance, &twin.bytes, &twin.sig)
        .unwrap_err();
    assert!(!matches!(e, Error::MissingDeps { .. }), "{e}");
    // The node syncs with everyone again.
    mesh(&mut [&mut cf, &mut cb, &mut cp]);
    let st = cp.state();
    assert!(
        st.is_member(&b.member_id()) && st.removed.contains_key(&a.member_id()),
        "the node lost the community's governance after the ex-member's twin ({e}): \
         members {:?}, removed {:?}; node holds {} governance changes, the founder {}",
        st.members.keys().collect::<Vec<_>>(),
        st.removed.keys().collect::<Vec<_>>(),
        cp.change_count(&DocId::Governance),
        cf.change_count(&DocId::Governance),
    );
    assert!(texts(&mut cp).contains(&"b's post".to_string()));
    assert_eq!(all_heads(&mut cp), all_heads(&mut cf));
}
