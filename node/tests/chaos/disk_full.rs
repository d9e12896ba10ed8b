//! Disk full: n1's data directory is on a small tmpfs. It writes posts; then a filler file
//! takes every free byte, and n1 must stop acknowledging writes with a clear error (HTTP 503,
//! "No space left on device") while still serving reads; n0 keeps writing meanwhile. The
//! filler goes, and n1 must take writes again without a restart (it reopens its store and
//! reloads its state from it) and catch up with n0; then it is restarted anyway, by `kill -9`
//! or Ctrl-C in turn, and must open its store as it is (no `qun repair`), show every post it
//! acknowledged, catch up with n0, and write again. Once, five times with `QUN_CHAOS_LONG`.

use super::cluster::{Cluster, all_posts, post};
use super::net::cmd;
use super::pick;
use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

/// tmpfs size: room for the store and a little more.
const TMPFS: &str = "16m";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full() {
    let Some(mut cl) = Cluster::new("disk-full", false) else {
        return;
    };
    let mnt = cl.base.join("n1-tmpfs");
    std::fs::create_dir_all(&mnt).unwrap();
    let size = format!("size={TMPFS}");
    if let Err(e) = cmd(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            &size,
            "tmpfs",
            &mnt.display().to_string(),
        ],
    ) {
        crate::skip("disk-full", &format!("cannot mount a tmpfs: {e}"));
        return;
    }
    cl.mounts.push(mnt.clone());
    let n0 = cl.add_node();
    cl.start(n0).await;
    cl.found(n0).await;
    let n1 = cl.add_node_at(mnt.join("data"));
    cl.start(n1).await;
    cl.join(n1, n0).await;
    let c = cl.community.clone();

    let mut acked: Vec<String> = Vec::new();
    let mut n0_acked: Vec<String> = Vec::new();
    let cycles = pick(1, 5);
    for cycle in 1..=cycles {
        let (a0, a1) = (cl.api(n0), cl.api(n1));
        // Before: some posts on both.
        let before = pick(50, 200);
        for k in 0..before {
            let text = format!("cycle {cycle}: before the disk filled #{k}");
            post(&a1, &c, &text).await.unwrap();
            acked.push(text);
            if k % 5 == 0 {
                let t = format!("cycle {cycle}: n0 before #{k}");
                post(&a0, &c, &t).await.unwrap();
                n0_acked.push(t);
            }
        }
        let used_before = du(&mnt);

        // Fill the disk.
        let filler = mnt.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5au8; 64 * 1024];
        let mut filled = 0usize;
        while let Ok(n) = f.write(&chunk) {
            if n == 0 {
                break;
            }
            filled += n;
        }
        let _ = f.sync_all();
        drop(f);

        // Write until the node says no; it must say why.
        let full_at = Instant::now();
        let mut after_full_acked = 0;
        let first_error = loop {
            let text = format!("cycle {cycle}: after the disk filled #{after_full_acked}");
            match post(&a1, &c, &text).await {
                Ok(_) => {
                    acked.push(text);
                    after_full_acked += 1;
                    if after_full_acked > 5000 || full_at.elapsed() > Duration::from_secs(60) {
                        panic!(
                            "n1 still acknowledges writes {after_full_acked} posts and {:?} after its disk filled",
                            full_at.elapsed()
                        );
                    }
                }
                Err(e) => break e,
            }
        };
        cl.report(&format!(
            "cycle {cycle}/{cycles}: tmpfs {TMPFS}, store {} KiB, filler {} KiB; after the disk filled n1 acknowledged {after_full_acked} more posts, then: {first_error}",
            used_before / 1024,
            filled / 1024
        ));
        assert_eq!(first_error.status, Some(503), "{first_error}");
        assert!(
            first_error.message.contains("No space left on device"),
            "{first_error}"
        );

        // n0 keeps writing; n1 keeps serving reads, says why it refuses writes, refuses them.
        for k in 0..5 {
            let t = format!("cycle {cycle}: n0 while n1 is full #{k}");
            post(&a0, &c, &t).await.unwrap();
            n0_acked.push(t);
        }
        let status = a1.get("/api/v1/status").await.unwrap();
        let store_error = status["store_error"].as_str().unwrap_or("").to_string();
        assert!(
            store_error.contains("No space left"),
            "status while full: {status}"
        );
        let shown = all_posts(&a1, &c, "general").await.unwrap().len();
        a1.get(&format!("/api/v1/communities/{c}/members"))
            .await
            .unwrap();
        let again = post(&a1, &c, "still full").await.unwrap_err();
        assert_eq!(again.status, Some(503), "{again}");

        // Room again: it writes without a restart, and catches up on what n0 wrote meanwhile.
        std::fs::remove_file(&filler).unwrap();
        let t = Instant::now();
        let text = format!("cycle {cycle}: room again, no restart");
        let room = post(&a1, &c, &text).await;
        cl.report(&format!(
            "while full: reads answered ({shown} posts shown), status store_error {store_error:?}, writes 503; space back without a restart: {}",
            match &room {
                Ok(_) => format!("writes accepted after {:.2} s", t.elapsed().as_secs_f64()),
                Err(e) => format!("writes still refused ({e})"),
            }
        ));
        room.unwrap_or_else(|e| panic!("n1 refuses writes after space came back: {e}"));
        acked.push(text);
        let status = a1.get("/api/v1/status").await.unwrap();
        assert!(
            status["store_error"].is_null(),
            "after space came back: {status}"
        );
        let conv = cl.converge(&[n0, n1], Duration::from_secs(60)).await;
        cl.report(&format!(
            "recovered without a restart: n0 and n1 identical {:.2} s after",
            conv.as_secs_f64()
        ));

        // Restart (kill -9 and Ctrl-C in turn): the store opens as it is, nothing acknowledged
        // is missing, it catches up, and writes work again.
        let how = if cycle % 2 == 1 {
            cl.nodes[n1].kill9();
            "kill -9"
        } else {
            cl.nodes[n1].stop().await;
            "Ctrl-C"
        };
        let t = Instant::now();
        cl.start(n1).await;
        let restart = t.elapsed();
        let a1 = cl.api(n1);
        let status = a1.get("/api/v1/status").await.unwrap();
        assert!(status["store_error"].is_null(), "after restart: {status}");
        let present: BTreeSet<String> = all_posts(&a1, &c, "general")
            .await
            .unwrap()
            .iter()
            .filter_map(|p| p["text"].as_str().map(String::from))
            .collect();
        let lost: Vec<String> = acked
            .iter()
            .filter(|t| !present.contains(*t))
            .cloned()
            .collect();
        assert!(lost.is_empty(), "acknowledged posts gone at n1: {lost:?}");
        // Catch up first: a post written before the first sync with n0 would leave the two
        // with heads neither knows, which sync never resolves today (see churn.rs).
        let conv = cl.converge(&[n0, n1], Duration::from_secs(60)).await;
        let text = format!("cycle {cycle}: after the restart");
        post(&a1, &c, &text).await.unwrap();
        acked.push(text);
        cl.converge(&[n0, n1], Duration::from_secs(60)).await;
        let v = cl.view(n0).await.unwrap();
        let n0_lost: Vec<&String> = n0_acked
            .iter()
            .filter(|t| v.post_by_text(t).is_none())
            .collect();
        let lost_at_n0: Vec<&String> = acked
            .iter()
            .filter(|t| v.post_by_text(t).is_none())
            .collect();
        cl.report(&format!(
            "{how}, restarted in {:.2} s (store opened, no repair, writes accepted): {} posts n1 acknowledged so far, changes lost: {}; n0's posts from while n1 was full caught up; identical after {:.2} s",
            restart.as_secs_f64(),
            acked.len(),
            lost.len() + n0_lost.len() + lost_at_n0.len(),
            conv.as_secs_f64()
        ));
        assert!(
            lost_at_n0.is_empty(),
            "n1's posts missing at n0: {lost_at_n0:?}"
        );
        assert!(n0_lost.is_empty(), "n0's posts missing: {n0_lost:?}");
    }
}

/// Bytes used under a directory.
fn du(p: &std::path::Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            n += if m.is_dir() { du(&e.path()) } else { m.len() };
        }
    }
    n
}
