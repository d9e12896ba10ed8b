//! Crash loop: a node is killed with SIGKILL at random moments while two clients write posts
//! to it over the API, and restarted, round after round (20 rounds, 100 with
//! `QUN_CHAOS_LONG`). After every restart its store must open as it is (no `qun repair`, no
//! store error) and show every post it acknowledged before the kill. A second node receives
//! everything: at the end it must have reported no rejection and no equivocation (a device
//! reusing a sequence number after a crash would be one), both nodes must hold identical
//! documents, and the crashing device's sequence numbers must run 1, 2, 3… without a gap or a
//! repeat in every document.

use super::cluster::{Cluster, all_posts};
use super::node::Api;
use super::pick;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop() {
    let Some(mut cl) = Cluster::new("crash-loop", false) else {
        return;
    };
    // n0 receives (and founded the community), n1 crashes.
    cl.community(2).await;
    let c = cl.community.clone();
    let (observer, victim) = (0, 1);
    let rounds = pick(20, 100);

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (slot, acked, stop, c) = (
            cl.nodes[victim].api.clone(),
            acked.clone(),
            stop.clone(),
            c.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut k = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let api: Option<Api> = slot.lock().unwrap().clone();
                let Some(api) = api else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                k += 1;
                let text = format!("crash w{w} #{k}");
                if super::cluster::post(&api, &c, &text).await.is_ok() {
                    acked.lock().unwrap().push(text);
                }
                // About 20 posts a second each: enough to be mid-write at most kills, not
                // so many that the checks dominate the run.
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        }));
    }

    let mut restart_times = Vec::new();
    let started = Instant::now();
    for round in 1..=rounds {
        // Kill at a random moment: right after the restart (the node is still catching up
        // and replaying its store) up to 1.5 s of writing.
        let d = cl.rng.range(0, 1500);
        tokio::time::sleep(Duration::from_millis(d)).await;
        cl.nodes[victim].kill9();
        let before: Vec<String> = acked.lock().unwrap().clone();
        let t = Instant::now();
        cl.start(victim).await;
        restart_times.push(t.elapsed());
        let api = cl.api(victim);
        let status = api.get("/api/v1/status").await.unwrap();
        assert!(
            status["store_error"].is_null(),
            "round {round}: the store reports an error after the restart: {}",
            status["store_error"]
        );
        let present: BTreeSet<String> = all_posts(&api, &c, "general")
            .await
            .unwrap()
            .iter()
            .filter_map(|p| p["text"].as_str().map(String::from))
            .collect();
        let missing: Vec<&String> = before.iter().filter(|t| !present.contains(*t)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} acknowledged posts gone after kill -9 (killed {d} ms into the round): {missing:?}",
            missing.len(),
            before.len()
        );
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let t = cl
        .converge(&[observer, victim], Duration::from_secs(60))
        .await;
    let v = cl.view(observer).await.unwrap();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|t| v.post_by_text(t).is_none())
        .collect();

    // Sequence numbers of the crashing device, per document, as the observer holds them.
    let device = cl.api(victim).get("/api/v1/status").await.unwrap()["device"]
        .as_str()
        .unwrap()
        .to_string();
    let seqs = device_seqs(&cl.api(observer), &c).await;
    let mine = seqs.get(&actor_hex(&device));
    assert!(mine.is_some(), "no change by {device} at the observer");
    let mut bad = Vec::new();
    let mut changes = 0;
    for (doc, s) in mine.into_iter().flatten() {
        changes += s.len();
        let expect: Vec<u64> = (1..=s.len() as u64).collect();
        if *s != expect {
            bad.push(format!("{doc}: {s:?}"));
        }
    }
    let rejections = cl.rejections();
    let evidence: Vec<_> = cl
        .nodes
        .iter()
        .flat_map(|n| n.events_of("change"))
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.contains("equivocation"))
        })
        .collect();
    let mean = restart_times.iter().sum::<Duration>() / restart_times.len().max(1) as u32;
    let max = restart_times.iter().max().copied().unwrap_or_default();
    cl.report(&format!(
        "{rounds} kill -9 rounds in {:.0} s, restarts survived: {rounds} (store opened each time, no repair); {} posts acknowledged, changes lost: {}; restart to API up: mean {:.2} s, max {:.2} s; observer identical after {:.2} s; device {device}: {changes} changes, sequence numbers contiguous; rejections: {}, equivocation evidence: {}",
        started.elapsed().as_secs_f64(),
        acked.len(),
        lost.len(),
        mean.as_secs_f64(),
        max.as_secs_f64(),
        t.as_secs_f64(),
        rejections.values().map(Vec::len).sum::<usize>(),
        evidence.len()
    ));
    assert!(lost.is_empty(), "acknowledged posts lost: {lost:?}");
    assert!(bad.is_empty(), "sequence numbers not 1..n: {bad:?}");
    assert!(rejections.is_empty(), "rejections: {rejections:?}");
    assert!(evidence.is_empty(), "equivocation evidence: {evidence:?}");
}

/// The Automerge actor of a device (its 32 key bytes), hex.
fn actor_hex(device: &str) -> String {
    let d: qun_identity::DeviceId = device.parse().unwrap();
    data_encoding::HEXLOWER.encode(&d.to_bytes())
}

/// Per actor (hex), per document: the sequence numbers of its changes, sorted.
async fn device_seqs(api: &Api, c: &str) -> BTreeMap<String, BTreeMap<String, Vec<u64>>> {
    use data_encoding::BASE64;
    let docs = api
        .get(&format!("/api/v1/communities/{c}/export"))
        .await
        .unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<u64>>> = BTreeMap::new();
    for d in docs.as_array().unwrap() {
        let bytes = BASE64
            .decode(d["automerge"].as_str().unwrap().as_bytes())
            .unwrap();
        let doc = automerge::Automerge::load(&bytes).unwrap();
        for ch in doc.get_changes(&[]) {
            out.entry(ch.actor_id().to_hex_string())
                .or_default()
                .entry(d["doc"].as_str().unwrap().to_string())
                .or_default()
                .push(ch.seq());
        }
    }
    for docs in out.values_mut() {
        for s in docs.values_mut() {
            s.sort();
        }
    }
    out
}
