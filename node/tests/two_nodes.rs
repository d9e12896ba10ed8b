//! Real swarms on 127.0.0.1: founder -- alice.

mod common;
use common::*;
use qun_crdt::{AdmissionPolicy, ChannelId, CommunityId};
use qun_node::handle::NodeEvent;

// founder -- alice
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_join_post_both_ways() {
    let mut f = spawn(1).await;
    let mut a = spawn(2).await;
    let c: CommunityId = f
        .handle()
        .with(|d| d.create_community("Rustaceans", "we write rust", AdmissionPolicy::Invite))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut f, "listen address", |d| {
        d.swarm.listeners().count() > 0
    })
    .await;
    let code = f
        .handle()
        .with(move |d| d.invite(&c, None, Some(3_600_000)))
        .await
        .unwrap()
        .unwrap();
    a.handle()
        .with(move |d| d.join(&code))
        .await
        .unwrap()
        .unwrap();
    wait_for(
        &mut a.events,
        "alice admitted",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.starts_with("member")),
    )
    .await;
    a.handle()
        .with(move |d| d.edit(&c, post("hello from alice")))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut f, "founder sees alice's post", move |d| {
        d.posts(&c, &ChannelId::general(), 10, None)
            .map(|p| p.iter().any(|p| p.text == "hello from alice"))
            .unwrap_or(false)
    })
    .await;
    f.handle()
        .with(move |d| d.edit(&c, post("welcome!")))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut a, "alice sees the founder's reply", move |d| {
        d.posts(&c, &ChannelId::general(), 10, None)
            .map(|p| p.iter().any(|p| p.text == "welcome!"))
            .unwrap_or(false)
    })
    .await;
    // gossipsub's own counters agree with what reached the core: every distinct message it
    // accepted was handed over once, and it saw at least that many copies.
    for n in [&f, &a] {
        let s = n.handle().with(|d| d.stats()).await.unwrap();
        assert_eq!(s.gossip_unique_in, s.gossip_in, "{s:?}");
        assert!(s.gossip_copies_in >= s.gossip_unique_in, "{s:?}");
    }
    f.handle().shutdown().await.unwrap();
    a.handle().shutdown().await.unwrap();
}
