//! A member's second device: linked by the root, acts as the same member, can be revoked.
//!
//! ```text
//! laptop (root + device) -- phone (device only, certified by the root)
//! ```

use crate::common::*;
use qun_crdt::AdmissionPolicy;
use qun_identity::SecretIdentity;
use qun_identity::keyfile::KeyBundle;
use qun_node::device::DeviceCode;
use qun_node::node::NodeConfig;
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_device_acts_for_the_member_until_revoked() {
    let mut laptop = spawn(81).await;
    let c = laptop
        .handle()
        .create_community("Mine", "", AdmissionPolicy::Invite)
        .await
        .unwrap();
    listening(&mut laptop).await;
    let member = laptop.handle().member();

    let phone_key = SecretIdentity::from_seed(&[82; 32]);
    let phone_id = phone_key.device_id();
    let code = laptop
        .handle()
        .link_device(phone_id, "phone")
        .await
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
    // What `qun device add` leaves in the new device's store: the communities to join.
    let mut store = MemoryStore::default();
    for c in &code.communities {
        store.set_joining(c, Some(None)).unwrap();
    }
    let mut phone = spawn_with(
        NodeConfig {
            dial,
            ..NodeConfig::loopback(keys)
        },
        Box::new(store),
    )
    .await;
    assert_eq!(phone.handle().member(), member);
    wait_until(
        &mut phone,
        "phone caught up as the member",
        move |h| async move { is_member(&h, c).await },
    )
    .await;

    phone.handle().edit(c, post("from my phone")).await.unwrap();
    wait_until(
        &mut laptop,
        "laptop sees the phone's post as its own member's",
        move |h| async move {
            posts(&h, c)
                .await
                .iter()
                .any(|p| p.text == "from my phone" && p.author == member && p.device == phone_id)
        },
    )
    .await;

    // The phone is lost: revoke it. Once the phone has seen the revocation it cannot post.
    let n = laptop
        .handle()
        .revoke_device(phone_id, "lost")
        .await
        .unwrap();
    assert_eq!(n, 1);
    wait_until(
        &mut phone,
        "phone sees the revocation",
        move |h| async move { h.edit(c, post("after revocation")).await.is_err() },
    )
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
