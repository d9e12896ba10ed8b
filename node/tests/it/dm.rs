//! Direct messages between real nodes: both ways between two members; to an offline member
//! through a third node that keeps the envelope and cannot read it; to a member with two
//! devices, read on both.

use crate::common::*;
use qun_crdt::{AdmissionPolicy, CommunityId};
use qun_identity::keyfile::KeyBundle;
use qun_identity::{MemberId, SecretIdentity};
use qun_node::device::DeviceCode;
use qun_node::dto::DmSent;
use qun_node::handle::NodeHandle;
use qun_node::node::NodeConfig;
use qun_node::store::Store;
use qun_node::store::memory::MemoryStore;
use qun_node::store::sled::SledStore;
use std::path::Path;
use std::time::Duration;

/// Send until the sender knows a device of `to` (its bundle comes over `/qun/dm/1` once the
/// nodes have each other's device links from the community's governance state).
async fn send(from: &NodeHandle, to: MemberId, text: &str) -> DmSent {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        match from.dm_send(to, text.to_string()).await {
            Ok(sent) => return sent,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("not sent yet: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("could not send {text:?}: {e}"),
        }
    }
}

/// Wait until `n` holds a message with `text` in its conversation with `with`.
async fn reads(n: &mut TestNode, with: MemberId, text: &'static str) {
    wait_until(n, text, move |h| async move {
        h.dm_read(with)
            .await
            .is_ok_and(|ms| ms.iter().any(|m| m.text == text))
    })
    .await;
}

/// Wait until `n` knows `count` devices of `member`.
async fn knows_devices(n: &mut TestNode, member: MemberId, count: usize) {
    wait_until(n, "the member's devices", move |h| async move {
        h.dm_devices(member).await.is_ok_and(|d| d.len() >= count)
    })
    .await;
}

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p.display().to_string(), b));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// ```text
/// alice (founder) -- bob
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_exchange_direct_messages() {
    let mut alice = spawn(100).await;
    let c = create(&mut alice, AdmissionPolicy::Invite).await;
    let mut bob = spawn(101).await;
    join(&alice, &mut bob, c).await;
    let (a, b) = (alice.handle().member(), bob.handle().member());

    let sent = send(alice.handle(), b, "hello bob, from alice").await;
    assert_eq!(sent.direct, 1, "{sent:?}");
    wait_until(&mut bob, "an unread conversation", move |h| async move {
        h.dm_list()
            .await
            .is_ok_and(|l| l.iter().any(|x| x.member == a && x.unread == 1))
    })
    .await;
    reads(&mut bob, a, "hello bob, from alice").await;
    let l = bob.handle().dm_list().await.unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].unread, 0, "reading marks the conversation read");

    send(bob.handle(), a, "hi alice, bob here").await;
    reads(&mut alice, b, "hi alice, bob here").await;
    let on_alice = alice.handle().dm_read(b).await.unwrap();
    let texts: Vec<(&str, bool)> = on_alice
        .iter()
        .map(|m| (m.text.as_str(), m.from_me))
        .collect();
    assert_eq!(
        texts,
        [
            ("hello bob, from alice", true),
            ("hi alice, bob here", false)
        ]
    );

    // A second message on the established session, and an outsider is refused.
    send(alice.handle(), b, "second one").await;
    reads(&mut bob, a, "second one").await;
    let stranger = SecretIdentity::from_seed(&[109; 32]).member_id();
    assert!(alice.handle().dm_send(stranger, "hi".into()).await.is_err());
}

/// ```text
/// alice -- carol (founder, keeps mail) -- bob (goes offline, comes back)
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_member_gets_a_direct_message_kept_by_a_common_peer() {
    let carol_dir = tempfile::tempdir().unwrap();
    let mut carol = spawn_with(
        NodeConfig {
            dm_dir: Some(carol_dir.path().join("dm")),
            ..NodeConfig::loopback(keys(102))
        },
        Box::new(SledStore::open(&carol_dir.path().join("store")).unwrap()),
    )
    .await;
    let c: CommunityId = create(&mut carol, AdmissionPolicy::Invite).await;
    let carol_addrs = listening(&mut carol).await;
    let mut alice = spawn(103).await;
    join(&carol, &mut alice, c).await;

    let bob_dir = tempfile::tempdir().unwrap();
    let bob_cfg = || NodeConfig {
        dm_dir: Some(bob_dir.path().join("dm")),
        dial: carol_addrs.clone(),
        ..NodeConfig::loopback(keys(104))
    };
    let mut bob = spawn_with(
        bob_cfg(),
        Box::new(SledStore::open(&bob_dir.path().join("store")).unwrap()),
    )
    .await;
    join(&carol, &mut bob, c).await;
    let (a, b, cm) = (
        alice.handle().member(),
        bob.handle().member(),
        carol.handle().member(),
    );
    // Carol has bob's bundle (his message to her carries it), then bob goes away. (Bob writes
    // rather than carol, so that no one-time key of bob's is used before alice picks one from
    // carol's copy of his bundle: two senders on one key lose a message, docs/privacy.md §7.)
    send(bob.handle(), cm, "hello carol").await;
    reads(&mut carol, b, "hello carol").await;
    bob.handle().shutdown().await.unwrap();
    let _ = bob.running.task.await;
    wait_until(&mut carol, "bob gone", |h| async move {
        !peer_connected(&h, 104).await
    })
    .await;

    const SECRET: &str = "the secret text only bob may read";
    let sent = send(alice.handle(), b, SECRET).await;
    assert_eq!(sent.direct, 0, "{sent:?}");
    assert!(sent.stored >= 1, "{sent:?}");
    wait_until(&mut carol, "carol keeps the envelope", |h| async move {
        h.dm_mailbox().await.is_ok_and(|m| !m.is_empty())
    })
    .await;
    for env in carol.handle().dm_mailbox().await.unwrap() {
        assert!(
            !contains(&env, SECRET.as_bytes()),
            "plaintext in the mailbox"
        );
    }

    // Bob comes back (same store, same DM pickle) and fetches his mail from carol.
    let mut bob = spawn_with(
        bob_cfg(),
        Box::new(SledStore::open(&bob_dir.path().join("store")).unwrap()),
    )
    .await;
    reads(&mut bob, a, SECRET).await;
    for (path, bytes) in files(carol_dir.path()) {
        assert!(
            !contains(&bytes, SECRET.as_bytes()),
            "carol wrote the text to {path}"
        );
    }
    // Bob's own conversation file holds it in the clear (docs/privacy.md says so), 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["device.pickle", "conversations.json"] {
            let mode = std::fs::metadata(bob_dir.path().join("dm").join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
}

/// Whether the node of test seed `seed` is connected to `h`.
async fn peer_connected(h: &NodeHandle, seed: u8) -> bool {
    let peer = device_key(seed).public().to_peer_id().unwrap();
    connected_to(h, peer).await
}

/// ```text
/// laptop (root, founder) -- phone (second device of the same member)
///    \
///     friend
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_with_two_devices_reads_a_direct_message_on_both() {
    let mut laptop = spawn(105).await;
    let c = create(&mut laptop, AdmissionPolicy::Invite).await;
    let member = laptop.handle().member();
    let phone_key = SecretIdentity::from_seed(&[106; 32]);
    let code = laptop
        .handle()
        .link_device(phone_key.device_id(), "phone")
        .await
        .unwrap();
    let code = DeviceCode::decode(&code).unwrap();
    let mut store = MemoryStore::default();
    for c in &code.communities {
        store.set_joining(c, Some(None)).unwrap();
    }
    let dial = code
        .addrs
        .iter()
        .filter_map(|a| libp2p::Multiaddr::try_from(a.clone()).ok())
        .collect();
    let mut phone = spawn_with(
        NodeConfig {
            dial,
            ..NodeConfig::loopback(KeyBundle {
                root: None,
                device: phone_key,
                device_cert: Some(code.cert.clone()),
            })
        },
        Box::new(store),
    )
    .await;
    wait_until(&mut phone, "phone is the member", move |h| async move {
        is_member(&h, c).await
    })
    .await;
    // The phone announced its own link as it caught up: co-members find it in the governance
    // state.
    let mut friend = spawn(107).await;
    join(&laptop, &mut friend, c).await;
    let f = friend.handle().member();

    knows_devices(&mut friend, member, 2).await;
    let sent = send(friend.handle(), member, "to both of your devices").await;
    assert_eq!(sent.devices, 2, "{sent:?}");
    reads(&mut laptop, f, "to both of your devices").await;
    reads(&mut phone, f, "to both of your devices").await;

    // What the laptop writes reaches the phone too, as its own.
    knows_devices(&mut laptop, f, 1).await;
    knows_devices(&mut laptop, member, 1).await;
    send(laptop.handle(), f, "sent from the laptop").await;
    reads(&mut friend, member, "sent from the laptop").await;
    reads(&mut phone, f, "sent from the laptop").await;
    let mine = phone.handle().dm_read(f).await.unwrap();
    assert!(
        mine.iter()
            .any(|m| m.text == "sent from the laptop" && m.from_me)
    );
}
