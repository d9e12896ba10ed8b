//! Real swarms on 127.0.0.1: founder -- alice.

use crate::common::*;
use qun_crdt::{AdmissionPolicy, CommunityId};
use qun_node::dto::NodeEvent;

// founder -- alice
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_join_post_both_ways() {
    let mut f = spawn(1).await;
    let mut a = spawn(2).await;
    let c: CommunityId = f
        .handle()
        .create_community("Rustaceans", "we write rust", AdmissionPolicy::Invite)
        .await
        .unwrap();
    listening(&mut f).await;
    let code = f.handle().invite(c, None, Some(3_600_000)).await.unwrap();
    a.handle().join(&code).await.unwrap();
    wait_for(
        &mut a.events,
        "alice admitted",
        |e| matches!(e, NodeEvent::Membership { status, .. } if status.is_member()),
    )
    .await;
    a.handle().edit(c, post("hello from alice")).await.unwrap();
    sees(&mut f, c, "hello from alice").await;
    f.handle().edit(c, post("welcome!")).await.unwrap();
    sees(&mut a, c, "welcome!").await;
    // gossipsub's own counters agree with what reached the core: every distinct message it
    // accepted was handed over once, and it saw at least that many copies.
    for n in [&f, &a] {
        let s = n.handle().stats().await.unwrap();
        assert_eq!(s.gossip_unique_in, s.gossip_in, "{s:?}");
        assert!(s.gossip_copies_in >= s.gossip_unique_in, "{s:?}");
    }
    f.handle().shutdown().await.unwrap();
    a.handle().shutdown().await.unwrap();
}
