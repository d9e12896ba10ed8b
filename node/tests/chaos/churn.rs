//! Churn: five nodes write all the time while, every few seconds, one of them leaves (half the
//! time `kill -9`, half the time Ctrl-C) and comes back a few seconds later, writing again as
//! soon as it is up — half the time before its network is back (its links stay cut for
//! 1.5 s after the restart, as when a laptop wakes before its Wi-Fi); a sixth node joins in the
//! middle of it. The last node to leave stays down: the nodes up at the end must converge
//! (identical views and heads) and have every acknowledged write; then the last one comes back
//! and must catch up too.
//!
//! `diverged_heads_after_restart` is the smallest case of a comeback: one node restarts
//! while the other wrote, writes before it reconnects, and both must then agree.

use super::cluster::{Ack, Cluster, Load, post};
use super::pick;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn() {
    let Some(mut cl) = Cluster::new("churn", true) else {
        return;
    };
    cl.community(5).await;
    let c = cl.community.clone();
    // The sixth node exists from the start (the load may pick it; it writes once it is up).
    let late = cl.add_node();
    let slots = (0..=late).map(|i| (i, cl.nodes[i].api.clone())).collect();
    let load = Load::start("c", slots, &c, Duration::from_millis(150), cl.rng.fork());
    let run = pick(Duration::from_secs(25), Duration::from_secs(240));
    let started = Instant::now();
    let (mut kills, mut stops, mut joined, mut offline_writes) = (0, 0, false, 0);
    let mut last_down = None;
    while started.elapsed() < run {
        tokio::time::sleep(Duration::from_millis(cl.rng.range(1000, 3000))).await;
        if !joined && started.elapsed() > run / 3 {
            cl.start(late).await;
            let up: Vec<usize> = (0..5).filter(|&i| cl.nodes[i].is_up()).collect();
            let inviter = up[cl.rng.below(up.len())];
            cl.join(late, inviter).await;
            joined = true;
            continue;
        }
        let up: Vec<usize> = (0..cl.nodes.len())
            .filter(|&i| cl.nodes[i].is_up())
            .collect();
        let i = up[cl.rng.below(up.len())];
        if cl.rng.chance(0.5) {
            cl.nodes[i].kill9();
            kills += 1;
        } else {
            cl.nodes[i].stop().await;
            stops += 1;
        }
        let down_for = Duration::from_millis(cl.rng.range(2000, 5000));
        if started.elapsed() + down_for >= run {
            last_down = Some(i);
            break;
        }
        tokio::time::sleep(down_for).await;
        if cl.rng.chance(0.5) {
            // Back before its network: it writes, then its links come back.
            let others: Vec<usize> = (0..cl.nodes.len()).filter(|&j| j != i).collect();
            cl.net.partition(&[&[i], &others]);
            cl.start(i).await;
            offline_writes += 1;
            let text = format!("c n{i} written before its network was back #{offline_writes}");
            let (id, hash) = post(&cl.api(i), &c, &text)
                .await
                .unwrap_or_else(|e| panic!("n{i} posting offline: {e}"));
            load.ledger.push(Ack::Post {
                node: i,
                text,
                id,
                hash,
                at: crate::now_s(),
            });
            tokio::time::sleep(Duration::from_millis(1500)).await;
            cl.net.heal();
        } else {
            cl.start(i).await;
        }
    }
    load.pause().await;
    let up: Vec<usize> = (0..cl.nodes.len())
        .filter(|&i| cl.nodes[i].is_up())
        .collect();
    let converged = cl.try_converge(&c, &up, Duration::from_secs(60)).await;
    let members: Vec<String> = cl.nodes.iter().map(|n| n.member.clone()).collect();
    // What the node still down wrote may not have left it before it went (it is checked after
    // it is back). Lost: missing at any node that is up.
    let (ledger, errors) = load.finish().await;
    let mut lost_up = Vec::new();
    for &i in &up {
        let v = cl.view(i).await.unwrap();
        for a in ledger.lost(&v, &members, last_down.as_slice()) {
            lost_up.push((i, a));
        }
    }
    let missing_at: std::collections::BTreeMap<usize, usize> =
        lost_up.iter().fold(Default::default(), |mut m, (i, _)| {
            *m.entry(*i).or_default() += 1;
            m
        });
    cl.report(&format!(
        "{} nodes, {:.0} s: {kills} kill -9 and {stops} Ctrl-C, every one restarted ({offline_writes} of them writing before their network was back); n{late} joined midway; {} writes acknowledged ({} posts); the {} nodes up at the end {}, acknowledged writes missing (by node): {missing_at:?}; refused writes: {errors:?}",
        cl.nodes.len(),
        started.elapsed().as_secs_f64(),
        ledger.all().len(),
        ledger.posts(),
        up.len(),
        match &converged {
            Ok(t) => format!("identical after {:.2} s", t.as_secs_f64()),
            Err(_) => "not identical after 60 s".into(),
        },
    ));
    if let Err(e) = converged {
        panic!("{e}");
    }
    assert!(lost_up.is_empty(), "acknowledged writes lost: {lost_up:?}");
    if let Some(i) = last_down {
        cl.start(i).await;
        let all: Vec<usize> = (0..cl.nodes.len()).collect();
        let t = cl.converge(&all, Duration::from_secs(60)).await;
        let v = cl.view(0).await.unwrap();
        let lost = ledger.lost(&v, &members, &[]);
        cl.report(&format!(
            "n{i}, down at the end, back: all {} identical after {:.2} s, changes lost: {}",
            all.len(),
            t.as_secs_f64(),
            lost.len()
        ));
        assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    }
    let rejections = cl.rejections();
    assert!(rejections.is_empty(), "rejections: {rejections:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diverged_heads_after_restart() {
    let Some(mut cl) = Cluster::new("churn-diverged", true) else {
        return;
    };
    cl.community(2).await;
    let c = cl.community.clone();
    // n1 leaves; n0 writes; n1 comes back while its link is still down and writes too.
    cl.nodes[1].stop().await;
    post(&cl.api(0), &c, "written by n0 while n1 was away")
        .await
        .unwrap();
    cl.net.partition(&[&[0], &[1]]);
    cl.start(1).await;
    post(&cl.api(1), &c, "written by n1 before its network was back")
        .await
        .unwrap();
    cl.net.heal();
    let r = cl.try_converge(&c, &[0, 1], Duration::from_secs(45)).await;
    let (v0, v1) = (cl.view(0).await.unwrap(), cl.view(1).await.unwrap());
    cl.report(&format!(
        "n1 restarted while n0 wrote, wrote before it reconnected: {}; n0 has n1's post: {}, n1 has n0's: {}; heads n0 {:?}, n1 {:?}",
        match &r {
            Ok(t) => format!("identical after {:.2} s", t.as_secs_f64()),
            Err(_) => "not identical after 45 s".into(),
        },
        v0.post_by_text("written by n1 before its network was back").is_some(),
        v1.post_by_text("written by n0 while n1 was away").is_some(),
        v0.heads.values().map(|h| h.iter().map(|x| &x[..8]).collect::<Vec<_>>()).collect::<Vec<_>>(),
        v1.heads.values().map(|h| h.iter().map(|x| &x[..8]).collect::<Vec<_>>()).collect::<Vec<_>>(),
    ));
    if let Err(e) = r {
        panic!("{e}");
    }
}
