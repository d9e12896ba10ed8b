//! A member's second device: linked by the root, acts as the same member, can be revoked.
//!
//! ```text
//! laptop (root + device) -- phone (device only, certified by the root)
//! ```

mod common;
use common::*;
use qun_crdt::{AdmissionPolicy, ChannelId};
use qun_identity::SecretIdentity;
use qun_identity::keyfile::KeyBundle;
use qun_node::device::DeviceCode;
use qun_node::node::NodeConfig;
use qun_node::store::memory::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_device_acts_for_the_member_until_revoked() {
    let mut laptop = spawn(81).await;
    let c = laptop
        .handle()
        .with(|d| d.create_community("Mine", "", AdmissionPolicy::Invite))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut laptop, "listening", |d| {
        d.swarm.listeners().count() > 0
    })
    .await;
    let member = laptop.handle().with(|d| d.member).await.unwrap();

    let phone_key = SecretIdentity::from_seed(&[82; 32]);
    let phone_id = phone_key.device_id();
    let code = laptop
        .handle()
        .with(move |d| d.link_device(phone_id, "phone"))
        .await
        .unwrap()
        .unwrap();
    let code = DeviceCode::decode(&code).unwrap();
    assert_eq!(code.communities, vec![c]);

    let keys = KeyBundle {
        root: None,
        device: phone_key,
        device_cert: Some(code.cert.clone()),
    };
    let dial = code
        .addrs
        .iter()
        .filter_map(|a| libp2p::Multiaddr::try_from(a.clone()).ok())
        .collect();
    let mut phone = spawn_with(
        NodeConfig {
            dial,
            ..NodeConfig::loopback(keys)
        },
        Box::new(MemoryStore::default()),
    )
    .await;
    assert_eq!(phone.handle().with(|d| d.member).await.unwrap(), member);
    phone
        .handle()
        .with(move |d| d.repl.join(qun_identity::Timestamp::now(), c, None))
        .await
        .unwrap()
        .unwrap();
    wait_until(&mut phone, "phone caught up as the member", move |d| {
        d.summary(&c)
            .is_some_and(|s| s.status.starts_with("member"))
    })
    .await;

    phone
        .handle()
        .with(move |d| d.edit(&c, post("from my phone")))
        .await
        .unwrap()
        .unwrap();
    wait_until(
        &mut laptop,
        "laptop sees the phone's post as its own member's",
        move |d| {
            d.posts(&c, &ChannelId::general(), 10, None)
                .map(|p| {
                    p.iter().any(|p| {
                        p.text == "from my phone" && p.author == member && p.device == phone_id
                    })
                })
                .unwrap_or(false)
        },
    )
    .await;

    // The phone is lost: revoke it. Once the phone has seen the revocation it cannot post.
    let n = laptop
        .handle()
        .with(move |d| d.revoke_device(phone_id, "lost"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
    wait_until(&mut phone, "phone sees the revocation", move |d| {
        d.edit(&c, post("after revocation")).is_err()
    })
    .await;
}

#[test]
fn device_code_round_trip_and_errors() {
    let code = DeviceCode {
        cert: vec![1, 2, 3],
        communities: vec![],
        addrs: vec![],
    };
    let s = code.encode();
    assert!(s.starts_with("qund1"));
    assert_eq!(DeviceCode::decode(&s).unwrap(), code);
    assert!(DeviceCode::decode("qun1abc").is_err());
    assert!(DeviceCode::decode("qund1000").is_err());
}
