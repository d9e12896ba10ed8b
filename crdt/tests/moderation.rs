//! Moderation by rank: a hide in place is replaced or undone only by its author or a member of
//! at least its author's rank, and a hide by someone ranking below the post's author does not
//! hide it. founder F, moderator M, member A.

use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{MemberId, Timestamp};

fn t(s: u64) -> Timestamp {
    T0.plus_millis(s * 1000)
}

struct Setup {
    f: qun_identity::SecretIdentity,
    m: qun_identity::SecretIdentity,
    cf: Community,
    cm: Community,
    /// A post by A, and one by F.
    by_a: PostId,
    by_f: PostId,
}

fn setup() -> Setup {
    let (f, m, a) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let (mut cf, mut cm, mut ca) = (replica(&g, &f), replica(&g, &m), replica(&g, &a));
    for (c, k) in [(&mut cm, &m), (&mut ca, &a)] {
        c.edit(
            k,
            t(1),
            Edit::Govern(Action::Join {
                cert: None,
                invitation: None,
                proof: None,
            }),
        )
        .unwrap();
    }
    let by_a = ca
        .edit(&a, t(2), post("general", "by a"))
        .unwrap()
        .post
        .unwrap();
    sync_all(&cm, &mut cf);
    sync_all(&ca, &mut cf);
    cf.edit(
        &f,
        t(3),
        Edit::Govern(Action::SetRole {
            member: m.member_id(),
            role: Role::Moderator,
            cut: Default::default(),
        }),
    )
    .unwrap();
    let by_f = cf
        .edit(&f, t(4), post("general", "by f"))
        .unwrap()
        .post
        .unwrap();
    sync_all(&cf, &mut cm);
    Setup {
        f,
        m,
        cf,
        cm,
        by_a,
        by_f,
    }
}

fn hide(post: &PostId, reason: &str) -> Edit {
    Edit::Govern(Action::Hide {
        post: post.clone(),
        reason: reason.into(),
    })
}

fn unhide(post: &PostId) -> Edit {
    Edit::Govern(Action::Unhide { post: post.clone() })
}

fn hidden_by(c: &mut Community, p: &PostId) -> Option<MemberId> {
    c.post(p).unwrap().unwrap().hidden.map(|h| h.by)
}

#[test]
fn a_moderator_cannot_undo_or_replace_what_the_founder_hid() {
    let mut s = setup();
    s.cf.edit(&s.f, t(5), hide(&s.by_a, "spam")).unwrap();
    sync_all(&s.cf, &mut s.cm);
    for e in [unhide(&s.by_a), hide(&s.by_a, "my reason instead")] {
        let err = s.cm.edit(&s.m, t(6), e).unwrap_err();
        assert!(
            matches!(&err, Error::Unauthorized { reason, .. } if reason.contains("higher rank")),
            "{err}"
        );
    }
    assert_eq!(hidden_by(&mut s.cm, &s.by_a), Some(s.f.member_id()));
    // The founder can undo it.
    s.cf.edit(&s.f, t(7), unhide(&s.by_a)).unwrap();
    assert_eq!(hidden_by(&mut s.cf, &s.by_a), None);
}

#[test]
fn the_founder_undoes_what_a_moderator_hid_and_moderators_correct_each_other() {
    let mut s = setup();
    s.cm.edit(&s.m, t(5), hide(&s.by_a, "off-topic")).unwrap();
    sync_all(&s.cm, &mut s.cf);
    assert_eq!(hidden_by(&mut s.cf, &s.by_a), Some(s.m.member_id()));
    s.cf.edit(&s.f, t(6), unhide(&s.by_a)).unwrap();
    assert_eq!(hidden_by(&mut s.cf, &s.by_a), None);
    // The moderator may hide it again (no hide in place), and undo their own hide.
    sync_all(&s.cf, &mut s.cm);
    s.cm.edit(&s.m, t(7), hide(&s.by_a, "again")).unwrap();
    s.cm.edit(&s.m, t(8), unhide(&s.by_a)).unwrap();
    assert_eq!(hidden_by(&mut s.cm, &s.by_a), None);
}

#[test]
fn a_moderators_hide_of_the_founders_post_hides_nothing_anywhere() {
    let mut s = setup();
    // Accepted as a change (governance does not know whose post it is)...
    s.cm.edit(&s.m, t(5), hide(&s.by_f, "I do not like it"))
        .unwrap();
    sync_all(&s.cm, &mut s.cf);
    // ...but no view shows the founder's post hidden by a moderator, on either node.
    assert_eq!(hidden_by(&mut s.cm, &s.by_f), None);
    assert_eq!(hidden_by(&mut s.cf, &s.by_f), None);
    // The founder hiding their own post does.
    s.cf.edit(&s.f, t(6), hide(&s.by_f, "outdated")).unwrap();
    assert_eq!(hidden_by(&mut s.cf, &s.by_f), Some(s.f.member_id()));
}

fn pin(post: &PostId, on: bool) -> Edit {
    Edit::Govern(Action::Pin {
        post: post.clone(),
        on,
    })
}

/// Moderators pin posts (every node agrees); a plain member cannot.
#[test]
fn moderators_pin_and_unpin_members_cannot() {
    let mut s = setup();
    s.cm.edit(&s.m, t(5), pin(&s.by_a, true)).unwrap();
    sync_all(&s.cm, &mut s.cf);
    for c in [&mut s.cf, &mut s.cm] {
        assert!(c.post(&s.by_a).unwrap().unwrap().pinned);
        assert!(!c.post(&s.by_f).unwrap().unwrap().pinned);
    }
    s.cf.edit(&s.f, t(6), pin(&s.by_a, false)).unwrap();
    sync_all(&s.cf, &mut s.cm);
    assert!(!s.cm.post(&s.by_a).unwrap().unwrap().pinned);

    let a = key(3);
    let mut ca = replica(s.cf.genesis(), &a);
    sync_all(&s.cf, &mut ca);
    let err = ca.edit(&a, t(7), pin(&s.by_f, true)).unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { reason, .. } if reason.contains("hide permission")),
        "{err}"
    );
}
