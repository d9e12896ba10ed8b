//! Joining as people do it: with nodes that already know each other (connected before the
//! join, from an earlier join, or found over mDNS), with only the inviter named in the code,
//! a member removed and invited again, and a join given up. Real swarms on 127.0.0.1.

use crate::common::*;
use qun_crdt::{Action, AdmissionPolicy, CommunityId, Edit, JoinProgress};
use qun_node::dto::MemberStatus;
use qun_node::handle::NodeHandle;
use std::time::Duration;

async fn code_for(f: &TestNode, c: CommunityId) -> String {
    f.handle().invite(c, None, Some(3_600_000)).await.unwrap()
}

async fn progress_of(h: &NodeHandle, c: CommunityId) -> Option<JoinProgress> {
    let id = c.to_string();
    h.joins()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .map(|j| j.progress)
}

async fn progress(n: &TestNode, c: CommunityId) -> Option<JoinProgress> {
    progress_of(n.handle(), c).await
}

/// founder == alice (connected before the join: the founder's topic subscription reaches alice
/// before alice knows the community). The join completes; so does a second one over the same
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_over_an_existing_connection_completes() {
    let mut f = spawn(31).await;
    let mut a = spawn(32).await;
    let c1 = create(&mut f, AdmissionPolicy::Invite).await;
    let addr = listen_addrs(f.handle()).await[0].clone();
    a.handle().dial(addr).await.unwrap();
    let fp = f.handle().peer_id();
    wait_until(&mut a, "connected to the founder", move |h| async move {
        connected_to(&h, fp).await
    })
    .await;
    join(&f, &mut a, c1).await;
    // A second community of the same founder, joined over the same connection.
    let c2 = f
        .handle()
        .create_community("Second", "", AdmissionPolicy::Invite)
        .await
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
    a.handle().join(&code).await.unwrap();
    // Right after asking, the join is tracked; it ends with membership.
    assert!(progress(&a, c).await.is_some());
    wait_until(
        &mut a,
        "member",
        move |h| async move { is_member(&h, c).await },
    )
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
    let am = a.handle().member();
    wait_until(&mut f, "the founder sees alice in", move |h| async move {
        h.members(c)
            .await
            .is_ok_and(|ms| ms.iter().any(|m| m.member == am))
    })
    .await;
    f.handle()
        .edit(
            c,
            Edit::Govern(Action::Remove {
                member: am,
                reason: "spam".into(),
                cut: Default::default(),
            }),
        )
        .await
        .unwrap();
    wait_until(&mut a, "alice sees her removal", move |h| async move {
        status_in(&h, c).await == Some(MemberStatus::Removed)
    })
    .await;
    let code = code_for(&f, c).await;
    a.handle().join(&code).await.unwrap();
    wait_until(
        &mut a,
        "a refusal that names the removal",
        move |h| async move {
            matches!(progress_of(&h, c).await, Some(JoinProgress::Refused { reason, hint })
            if reason.contains("removed") && hint.contains("moderator"))
        },
    )
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
    a.handle().join(&code).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        progress(&a, c).await,
        Some(JoinProgress::Connecting | JoinProgress::Fetching { .. })
    ));
    let cancelled = a.handle().cancel_join(c).await.unwrap();
    assert!(cancelled);
    assert!(progress(&a, c).await.is_none());
    assert!(
        !a.handle()
            .status()
            .await
            .unwrap()
            .joining
            .contains(&c.to_string())
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
    a.handle().join(&code).await.unwrap();
    wait_until(&mut a, "member, found over mDNS", move |h| async move {
        is_member(&h, c).await
    })
    .await;
}
