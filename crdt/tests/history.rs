//! A post's edit history, as every node reads it from the valid changes: the text as written,
//! then after each of its author's edits; an edit by someone else never enters it.

use qun_crdt::test_utils::*;
use qun_crdt::*;
use qun_identity::{SecretIdentity, Timestamp};

fn t(s: u64) -> Timestamp {
    T0.plus_millis(s * 1000)
}

fn join_open(c: &mut Community, k: &SecretIdentity, at: Timestamp) {
    c.edit(
        k,
        at,
        Edit::Govern(join_action(&k.member_id(), None, None, None)),
    )
    .unwrap();
}

fn edit(post: &PostId, text: &str) -> Edit {
    Edit::EditPost {
        post: post.clone(),
        text: text.into(),
    }
}

#[test]
fn every_node_reads_the_same_history() {
    let (f, a, b) = (key(1), key(2), key(3));
    let g = genesis(&f, AdmissionPolicy::Open);
    let mut cf = replica(&g, &f);
    let mut ca = replica(&g, &a);
    let mut cb = replica(&g, &b);
    join_open(&mut ca, &a, t(1));
    join_open(&mut cb, &b, t(1));
    let p = ca
        .edit(&a, t(2), post("general", "Tomatos for swap"))
        .unwrap()
        .post
        .unwrap();
    ca.edit(&a, t(3), edit(&p, "Tomatoes for swap")).unwrap();
    ca.edit(&a, t(4), edit(&p, "Tomatoes for swap (gone now)"))
        .unwrap();
    sync_mesh(&mut [&mut cf, &mut ca, &mut cb]);
    // Someone else cannot edit it (refused where it is made).
    assert!(cb.edit(&b, t(5), edit(&p, "mine now")).is_err());
    let expect = [
        "Tomatos for swap",
        "Tomatoes for swap",
        "Tomatoes for swap (gone now)",
    ];
    for c in [&mut cf, &mut ca, &mut cb] {
        let h = c.post_history(&p).unwrap();
        let texts: Vec<&str> = h.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, expect);
        assert_eq!(h[0].at, t(2));
        assert_eq!(h[2].at, t(4));
    }
    // The founder removes the author after having seen the post (its node fills in the cut):
    // what the author wrote before stays, history included.
    cf.edit(
        &f,
        t(6),
        Edit::Govern(Action::Remove {
            member: a.member_id(),
            reason: "test".into(),
            cut: Default::default(),
        }),
    )
    .unwrap();
    assert_eq!(cf.post_history(&p).unwrap().len(), 3);
    // A deleted post shows no history: what was deleted stays out of sight.
    let q = ca
        .edit(&a, t(7), post("general", "my phone number is …"))
        .unwrap()
        .post
        .unwrap();
    ca.edit(&a, t(8), edit(&q, "(removed)")).unwrap();
    ca.edit(&a, t(9), Edit::DeletePost { post: q.clone() })
        .unwrap();
    assert!(ca.post_history(&q).unwrap().is_empty());
    // A post that does not exist has no history.
    let nothing: PostId = format!("general/{}/zz9", p.window).parse().unwrap();
    assert!(cf.post_history(&nothing).unwrap().is_empty());
}
