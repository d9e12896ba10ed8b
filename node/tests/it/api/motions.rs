//! A governance change decided by a trust-weighted vote (issue 16), three real nodes on
//! loopback: once the vote policy names `policy.set`, the founder's own direct change is
//! refused; a motion carries it, the founder and the member it endorses vote yes, a member the
//! founders' trust does not reach votes no (and weighs nothing), an enactment before the vote
//! passes is refused, and after it the admission policy changes on every node.
//!
//! ```text
//! founder (86) -- bea (87, endorsed) -- cat (88)
//! ```

use super::ledger::{on_all, refused, village};
use super::market::member;
use super::support::*;
use qun_crdt::AdmissionPolicy;
use qun_node::handle::NodeHandle;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trust_weighted_vote_passes_a_governance_change() {
    let mut f = ApiNode::start(86).await;
    let mut b = ApiNode::start(87).await;
    let mut k = ApiNode::start(88).await;
    let (cid, base) = village(&mut f, &mut b, &mut k, "Motion village").await;
    let bm = member(&b).await;
    let lg = format!("{base}/ledger");
    f.post(&format!("{base}/endorse"), json!({"member": bm}))
        .await;
    f.post(
        &format!("{lg}/voting"),
        json!({"tags": "policy.set", "vote": "trust", "cap": "60"}),
    )
    .await;
    // Decided by vote now, founders included.
    let (_, why) = refused(
        &f,
        &format!("{base}/policy"),
        json!({"policy": "open"}),
        "a direct policy change once it is voted",
    )
    .await;
    assert!(why.contains("decides this by vote"), "{why}");

    let v = f
        .call(
            Method::POST,
            &format!("{lg}/motions"),
            Some(
                json!({"key": "open-up", "action": {"t": "policy.set", "policy": "open"},
                   "reason": "let the neighbours in"}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let known = {
        let id = id.clone();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.motions(cid)
                    .await
                    .is_ok_and(|ms| ms.iter().any(|m| m.reference == id))
            }
        }
    };
    on_all([&mut f, &mut b, &mut k], "the motion is known", known).await;
    // Not passed yet: refused.
    let (_, why) = refused(
        &k,
        &format!("{lg}/motions/enact"),
        json!({"motion": id}),
        "an enactment before the vote passes",
    )
    .await;
    assert!(why.contains("has not passed"), "{why}");
    for (n, choice) in [(&f, "yes"), (&b, "yes"), (&k, "no")] {
        n.post(
            &format!("{lg}/proposals/vote"),
            json!({"proposal": id, "choice": choice}),
        )
        .await;
    }
    let passed = {
        let id = id.clone();
        move |h: NodeHandle| {
            let id = id.clone();
            async move {
                h.motions(cid).await.is_ok_and(|ms| {
                    ms.iter().any(|m| {
                        m.reference == id
                            && m.view.tally.passed
                            && m.view.tally.voters == 3
                            && m.view.tally.no == 0
                    })
                })
            }
        }
    };
    // cat's no weighs nothing: the founders' trust does not reach it.
    on_all([&mut f, &mut b, &mut k], "the vote passes", passed).await;
    k.post(&format!("{lg}/motions/enact"), json!({"motion": id}))
        .await;
    on_all(
        [&mut f, &mut b, &mut k],
        "the admission policy is open",
        move |h| async move {
            h.community_view(cid)
                .await
                .is_ok_and(|v| v.policy == AdmissionPolicy::Open)
        },
    )
    .await;
    let ms = f.node.handle().motions(cid).await.unwrap();
    assert!(ms[0].view.enacted);
}
