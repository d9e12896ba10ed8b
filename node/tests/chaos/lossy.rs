//! Loss, latency and reordering: five nodes; every link of n3 and n4 (to everyone, and between
//! them) loses 20 % of its packets and delays the rest by 200 ms ± 100 ms with reordering, in
//! each direction; n0–n2 talk over clean links. All five post and react for a while; every
//! acknowledged write must then reach every node (identical views and heads), with catch-up
//! (sync) filling what gossip did not bring: halfway, n4 is killed for 3 s and must catch up
//! over its lossy links (it writes nothing after its restart: see `churn` for why that
//! matters). Prints per-post delivery latency to the clean and to the impaired
//! nodes, and how the changes came (gossip or sync).

use super::cluster::{Ack, Cluster, Delivery, Load, all_posts, wait};
use super::net::Link;
use super::nfqueue::Shape;
use super::pick;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_latency_reordering() {
    let Some(mut cl) = Cluster::new("lossy", true) else {
        return;
    };
    cl.community(5).await;
    let c = cl.community.clone();
    let all: Vec<usize> = (0..5).collect();
    let (clean, far) = ([0usize, 1, 2], [3usize, 4]);
    let shape = Shape {
        loss: 0.20,
        delay: Duration::from_millis(200),
        jitter: Duration::from_millis(100),
        reorder: 0.25,
    };
    for &f in &far {
        for j in 0..5 {
            if j != f {
                cl.net.set_link(f, j, Some(Link::Shaped(shape)));
            }
        }
    }
    let run = pick(Duration::from_secs(20), Duration::from_secs(180));
    let slots = all.iter().map(|&i| (i, cl.nodes[i].api.clone())).collect();
    let load = Load::start("l", slots, &c, Duration::from_millis(200), cl.rng.fork());
    let started = Instant::now();
    // Halfway, n4 goes down for a few seconds: what it missed must come by catch-up, over its
    // lossy links. It stops writing first, and goes down once the others have everything it
    // wrote, and writes nothing after it is back: diverged heads are the churn scenario's
    // business (see there), this one is about loss.
    tokio::time::sleep(run / 2).await;
    load.hold(4).await;
    let n4_posts: Vec<String> = load
        .ledger
        .all()
        .into_iter()
        .filter_map(|a| match a {
            Ack::Post { node: 4, id, .. } => Some(id),
            _ => None,
        })
        .collect();
    for i in 0..4 {
        let (api, c, ids) = (cl.api(i), c.clone(), n4_posts.clone());
        wait(
            &format!("n{i} to have n4's posts"),
            Duration::from_secs(60),
            || {
                let (api, c, ids) = (api.clone(), c.clone(), ids.clone());
                async move {
                    let have: Vec<String> = all_posts(&api, &c, "general")
                        .await
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|p| p["id"].as_str().map(String::from))
                        .collect();
                    ids.iter().all(|p| have.contains(p))
                }
            },
        )
        .await;
    }
    cl.nodes[4].kill9();
    tokio::time::sleep(Duration::from_secs(3)).await;
    cl.start(4).await;
    tokio::time::sleep(run.saturating_sub(started.elapsed())).await;
    load.pause().await;
    let t = cl
        .converge(
            &all,
            pick(Duration::from_secs(90), Duration::from_secs(180)),
        )
        .await;
    let (ledger, errors) = load.finish().await;
    let v = cl.view(0).await.unwrap();
    let members: Vec<String> = cl.nodes.iter().map(|n| n.member.clone()).collect();
    let lost = ledger.lost(&v, &members, &[]);
    let near = Delivery::of(&ledger, &cl.nodes, &clean);
    let remote = Delivery::of(&ledger, &cl.nodes, &far);
    cl.report(&format!(
        "5 nodes, links of n3/n4: {:.0} % loss, {} ms ± {} ms, {:.0} % reordered, for {:.0} s; {} writes acknowledged ({} posts), changes lost: {}; all identical {:.2} s after the last write; refused writes: {errors:?}",
        shape.loss * 100.0,
        shape.delay.as_millis(),
        shape.jitter.as_millis(),
        shape.reorder * 100.0,
        started.elapsed().as_secs_f64() - t.as_secs_f64(),
        ledger.all().len(),
        ledger.posts(),
        lost.len(),
        t.as_secs_f64()
    ));
    cl.report(&format!("to n0-n2 (clean): {}", near.summary()));
    cl.report(&format!("to n3-n4 (impaired): {}", remote.summary()));
    if let Some(stats) = cl.net.shaper_stats() {
        for (q, s) in stats {
            cl.report(&format!(
                "shaper queue {q}: {} packets, {} dropped ({:.1} %), {} sent undelayed, mean delay {:.0} ms",
                s.packets,
                s.dropped,
                100.0 * s.dropped as f64 / s.packets.max(1) as f64,
                s.reordered,
                s.delay_total.as_secs_f64() * 1000.0
                    / (s.packets - s.dropped - s.reordered).max(1) as f64
            ));
        }
    }
    let rejections = cl.rejections();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(rejections.is_empty(), "rejections: {rejections:?}");
}
