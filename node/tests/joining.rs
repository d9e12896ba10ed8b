//! Joining as people do it: with nodes that already know each other (connected before the
//! join, from an earlier join, or found over mDNS), with only the inviter named in the code,
//! a member removed and invited again, and a join given up. Real swarms on 127.0.0.1.

mod common;
use common::*;
use qun_crdt::{Action, AdmissionPolicy, CommunityId, Edit, JoinProgress};
use std::time::Duration;

async fn code_for(f: &TestNode, c: CommunityId) -> String {
    f.handle()
        .with(move |d| d.invite(&c, None, Some(3_600_000)))
        .await
        .unwrap()
        .unwrap()
}

async fn progress(n: &TestNode, c: CommunityId) -> Option<JoinProgress> {
    n.handle()
        .with(move |d| {
            d.joins()
                .into_iter()
                .find(|j| j.id == c.to_string())
                .map(|j| j.progress)
        })
        .await
        .unwrap()
}

/// founder == alice (connected before the join: the founder's topic subscription reaches alice
/// before alice knows the community). The join completes; so does a second one over the same
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_over_an_existing_connection_completes() {
    let mut f = spawn(31).await;
    let mut a = spawn(32).await;
    let c1 = create(&mut f, AdmissionPolicy::Invite).await;
    let addr = f
        .handle()
        .with(|d| d.reachable_addrs().first().cloned())
        .await
        .unwrap()
        .unwrap();
    a.handle()
        .with(move |d| d.swarm.dial(addr).map_err(|e| e.to_string()))
        .await
        .unwrap()
        .unwrap();
    let fp = f.handle().with(|d| d.peer_id()).await.unwrap();
    wait_until(&mut a, "connected to the founder", move |d| {
        d.swarm.is_connected(&fp)
    })
    .await;
    join(&f, &mut a, c1).await;
    // A second community of the same founder, joined over the same connection.
    let c2 = f
        .handle()
        .with(|d| d.create_community("Second", "", AdmissionPolicy::Invite))
        .await
        .unwrap()
        .unwrap();
    join(&f, &mut a, c2).await;
}

/// The code names only the inviter; no mDNS, no DHT: the joiner asks the inviter directly and
/// the progress goes from connecting to member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_through_the_inviter_named_in_the_code_reports_progress() {
    let mut f = spawn(33).await;
    let mut a = spawn(34).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    let code = code_for(&f, c).await;
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    // Right after asking, the join is tracked; it ends with membership.
    assert!(progress(&a, c).await.is_some());
    wait_until(&mut a, "member", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;
    assert!(matches!(
        progress(&a, c).await,
        None | Some(JoinProgress::Member)
    ));
}

/// A member removed from a community joins again with a fresh invite code: the join says, in
/// words, that re-admission is the community's decision — it never silently disappears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_invited_again_is_told_why() {
    let mut f = spawn(35).await;
    let mut a = spawn(36).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    join(&f, &mut a, c).await;
    let am = a.handle().with(|d| d.member).await.unwrap();
    wait_until(&mut f, "the founder sees alice in", move |d| {
        d.repl
            .community(&c)
            .is_some_and(|mut comm| comm.state().is_member(&am))
    })
    .await;
    f.handle()
        .with(move |d| {
            d.edit(
                &c,
                Edit::Govern(Action::Remove {
                    member: am,
                    reason: "spam".into(),
                    cut: Default::default(),
                }),
            )
        })
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut a, "alice sees her removal", move |d| {
        d.summary(&c).is_some_and(|s| s.status == "removed")
    })
    .await;
    let code = code_for(&f, c).await;
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut a, "a refusal that names the removal", move |d| {
        d.joins().into_iter().any(|j| {
            j.id == c.to_string()
                && matches!(&j.progress, JoinProgress::Refused { reason, hint }
                    if reason.contains("removed") && hint.contains("moderator"))
        })
    })
    .await;
}

/// A join whose inviter never answers can be cancelled; nothing keeps trying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_that_cannot_reach_anyone_can_be_cancelled() {
    let mut f = spawn(37).await;
    let a = spawn(38).await;
    let c = create(&mut f, AdmissionPolicy::Invite).await;
    let code = code_for(&f, c).await;
    drop(f); // the inviter goes away before the joiner tries
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        progress(&a, c).await,
        Some(JoinProgress::Connecting | JoinProgress::Fetching { .. })
    ));
    let cancelled = a
        .handle()
        .with(move |d| d.cancel_join(&c))
        .await
        .unwrap()
        .unwrap();
    assert!(cancelled);
    assert!(progress(&a, c).await.is_none());
    assert!(
        !a.handle()
            .with(move |d| d.repl.joining().any(|j| *j == c))
            .await
            .unwrap()
    );
}

/// Two nodes on one machine with mDNS on (the default of `qun up`), and a code that names no
/// address at all: the joiner finds the inviter over mDNS. Skipped (with a message) where the
/// machine has no multicast-capable interface up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_finds_the_inviter_over_mdns() {
    let lan = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("224.0.0.251:5353").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| !a.ip().is_loopback() && !a.ip().is_unspecified())
        .unwrap_or(false);
    if !lan {
        eprintln!("skipped: no interface routes multicast here (mDNS cannot work)");
        return;
    }
    let cfg = |seed: u8| {
        let any: libp2p::Multiaddr = "/ip4/0.0.0.0/tcp/0".parse().unwrap();
        qun_node::node::NodeConfig {
            mdns: true,
            listen: vec![any],
            ..qun_node::node::NodeConfig::loopback(keys(seed))
        }
    };
    let mut f = spawn_with(
        cfg(39),
        Box::new(qun_node::store::memory::MemoryStore::default()),
    )
    .await;
    let mut a = spawn_with(
        cfg(40),
        Box::new(qun_node::store::memory::MemoryStore::default()),
    )
    .await;
    let c = create(&mut f, AdmissionPolicy::Open).await;
    let code = qun_node::invite::InviteCode::new(c, &[], None, None).encode();
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut a, "member, found over mDNS", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;
}
