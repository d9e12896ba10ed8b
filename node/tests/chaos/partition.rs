//! Partition and heal: six nodes split into two halves (every link between them cut); both
//! halves keep posting, reacting and changing governance — the founder's half makes channels,
//! names a moderator and changes the admission policy; in the other half a moderator removes a
//! member — then the cut heals and every node must show identical posts, members, channels,
//! policy and document heads within 10 s, with no acknowledged write lost (the removed
//! member's writes concurrent with its removal are void by design, and counted apart).

use super::cluster::{Ack, Cluster, Load, View, my_status, post, wait};
use super::pick;
use serde_json::json;
use std::time::{Duration, Instant};

/// Heal to identical views, at most.
const CONVERGE_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_and_heal() {
    let Some(mut cl) = Cluster::new("partition", true) else {
        return;
    };
    cl.community(6).await;
    let c = cl.community.clone();
    let all: Vec<usize> = (0..6).collect();
    let (half_a, half_b) = ([0usize, 1, 2], [3usize, 4, 5]);
    let members: Vec<String> = cl.nodes.iter().map(|n| n.member.clone()).collect();
    let (m1, m3, m5) = (members[1].clone(), members[3].clone(), members[5].clone());
    let apis: Vec<_> = all.iter().map(|&i| cl.api(i)).collect();
    let gov = |i: usize, path: &str, body: serde_json::Value| {
        let api = apis[i].clone();
        let path = format!("/api/v1/communities/{c}/{path}");
        async move {
            api.post(&path, body.clone())
                .await
                .unwrap_or_else(|e| panic!("{path} {body}: {e}"))
        }
    };
    // Before the split: n3 (in half B) becomes a moderator, so that half can remove someone.
    gov(
        0,
        "members/role",
        json!({"member": m3, "role": "moderator"}),
    )
    .await;
    cl.converge(&all, Duration::from_secs(30)).await;

    let rounds = pick(1, 3);
    let split = pick(Duration::from_secs(12), Duration::from_secs(60));
    let slots = all.iter().map(|&i| (i, cl.nodes[i].api.clone())).collect();
    let load = Load::start("p", slots, &c, Duration::from_millis(150), cl.rng.fork());
    let mut heal_times = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        cl.net.partition(&[&half_a, &half_b]);
        let cut_at = Instant::now();
        tokio::time::sleep(split / 3).await;
        // Governance on both sides of the cut.
        gov(
            0,
            "channels",
            json!({"id": format!("a{round}"), "title": format!("made in half A, round {round}")}),
        )
        .await;
        gov(
            3,
            "channels",
            json!({"id": format!("b{round}"), "title": format!("made in half B, round {round}")}),
        )
        .await;
        if round == 0 {
            gov(
                0,
                "members/role",
                json!({"member": m1, "role": "moderator"}),
            )
            .await;
            // n5 writes as fast as it can while n3 removes it: its posts that n3 had not seen
            // when it removed n5 are void once the removal is known (everywhere alike).
            let n5_writer = {
                let (api, c, ledger) = (apis[5].clone(), c.clone(), load.ledger.clone());
                tokio::spawn(async move {
                    for k in 0..200 {
                        let text = format!("n5 racing its removal #{k}");
                        match post(&api, &c, &text).await {
                            Ok((id, hash)) => ledger.push(Ack::Post {
                                node: 5,
                                text,
                                id,
                                hash,
                                at: crate::now_s(),
                            }),
                            Err(_) => break,
                        }
                    }
                })
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            gov(
                3,
                "members/remove",
                json!({"member": m5, "reason": "chaos: removed during a partition"}),
            )
            .await;
            n5_writer.await.unwrap();
        }
        let policy = if round % 2 == 0 { "open" } else { "invite" };
        gov(0, "policy", json!({ "policy": policy })).await;
        tokio::time::sleep(split.saturating_sub(cut_at.elapsed())).await;
        // The cut is real: neither half has the other's new channel.
        for (i, foreign) in [(0, format!("b{round}")), (3, format!("a{round}"))] {
            let v = cl.view(i).await.unwrap();
            assert!(
                !v.channels
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["id"] == foreign),
                "n{i} got channel {foreign} across the cut"
            );
        }
        // Writes stop at the heal, so that "identical" has a fixed target.
        load.pause().await;
        cl.net.heal();
        let t = cl.converge(&all, Duration::from_secs(120)).await;
        cl.report(&format!(
            "round {}/{rounds}: {:.1} s split, healed; all 6 nodes identical (posts, members, channels, policy, heads) after {:.2} s",
            round + 1,
            split.as_secs_f64(),
            t.as_secs_f64()
        ));
        heal_times.push(t);
        load.resume();
    }
    load.pause().await;
    let (ledger, errors) = load.finish().await;
    cl.converge(&all, Duration::from_secs(120)).await;
    let views: Vec<View> = {
        let mut v = Vec::new();
        for &i in &all {
            v.push(cl.view(i).await.unwrap());
        }
        v
    };
    let v = &views[0];

    // The removal holds everywhere; the removed node knows it.
    assert!(
        !v.members.contains_key(&m5),
        "n5 still listed after its removal: {:?}",
        v.members.keys()
    );
    assert_eq!(v.members[&m1]["role"], "moderator", "{:?}", v.members[&m1]);
    let api5 = cl.api(5);
    wait("n5 to see its removal", Duration::from_secs(10), || {
        let (api, c) = (api5.clone(), c.clone());
        async move { my_status(&api, &c).await == "removed" }
    })
    .await;
    for ch in ["a0", "b0"] {
        assert!(
            v.channels.as_array().unwrap().iter().any(|x| x["id"] == ch),
            "channel {ch} missing: {}",
            v.channels
        );
    }

    let lost = ledger.lost(v, &members, &[5]);
    let n5_acked: Vec<String> = ledger
        .all()
        .iter()
        .filter_map(|a| match a {
            Ack::Post { node: 5, text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    let n5_kept = n5_acked
        .iter()
        .filter(|t| v.post_by_text(t).is_some())
        .count();
    cl.report(&format!(
        "{} writes acknowledged ({} posts; per node {:?}) in {:.0} s; changes lost: {}; n5 (removed in half B): {} of its {} acknowledged posts kept, {} void (written concurrently with the removal); refused writes: {:?}",
        ledger.all().len(),
        ledger.posts(),
        ledger.per_node(),
        started.elapsed().as_secs_f64(),
        lost.len(),
        n5_kept,
        n5_acked.len(),
        n5_acked.len() - n5_kept,
        errors
    ));
    let rejections = cl.rejections();
    if !rejections.is_empty() {
        cl.report(&format!("rejected: {rejections:?}"));
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let slowest = heal_times.iter().max().copied().unwrap_or_default();
    assert!(
        slowest <= CONVERGE_WITHIN,
        "after a heal the nodes took {:.2} s to agree (at most {CONVERGE_WITHIN:?} wanted); every round: {heal_times:?}",
        slowest.as_secs_f64()
    );
}
