//! The known-peers store under attack: a flood of identities cannot grow it without bound or
//! bloat it with addresses, and ids ground to sort first (or last) gain nothing at restart,
//! when the node redials [`MAX_REDIAL`] of them — with key order, as before, the first 64 were
//! whoever ground the smallest ids, and a restarting node dialled only the attacker (eclipse).

use libp2p::PeerId;
use qun_identity::Timestamp;
use qun_node::node::MAX_REDIAL;
use qun_node::store::memory::MemoryStore;
use qun_node::store::sled::SledStore;
use qun_node::store::{
    KnownPeer, MAX_ADDR_LEN, MAX_KNOWN_PEERS, MAX_PEER_ADDRS, Store, redial_order,
};
use std::collections::BTreeSet;

fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + ms)
}

/// Many addresses, some overlong, some repeated: what an attacker's identify may announce.
fn noisy_addrs(i: usize) -> Vec<String> {
    let mut a: Vec<String> = (0..100)
        .map(|p| format!("/ip4/10.0.{}.{}/tcp/{}", i % 250, p, 4000 + p))
        .collect();
    a.insert(
        0,
        format!("/dns4/{}.example/tcp/1", "x".repeat(MAX_ADDR_LEN)),
    );
    a.insert(1, a[2].clone());
    a
}

/// `n` peer ids, and the `k` of them whose text form sorts first (ground by an attacker).
fn ground_ids(n: usize, k: usize) -> (Vec<String>, Vec<String>) {
    let mut all: Vec<String> = (0..n).map(|_| PeerId::random().to_string()).collect();
    all.sort();
    let rest = all.split_off(k);
    (all, rest)
}

fn flood_stays_bounded(store: &mut dyn Store) -> BTreeSet<String> {
    let n = 5 * MAX_KNOWN_PEERS;
    let ids: Vec<String> = (0..n).map(|_| PeerId::random().to_string()).collect();
    for (i, p) in ids.iter().enumerate() {
        store.put_peer(p, &noisy_addrs(i), at(i as u64)).unwrap();
    }
    // Seen again: the oldest one comes back and is kept (it is now the most recent).
    store
        .put_peer(&ids[0], &noisy_addrs(0), at(n as u64))
        .unwrap();
    let known = store.peers().unwrap();
    assert_eq!(known.len(), MAX_KNOWN_PEERS);
    let kept: BTreeSet<String> = known.iter().map(|k| k.peer.clone()).collect();
    let newest: BTreeSet<String> = ids[n - MAX_KNOWN_PEERS + 1..]
        .iter()
        .chain([&ids[0]])
        .cloned()
        .collect();
    assert_eq!(kept, newest, "the least recently seen are evicted");
    for k in &known {
        assert!(
            k.addrs.len() <= MAX_PEER_ADDRS,
            "{} addresses",
            k.addrs.len()
        );
        assert!(k.addrs.iter().all(|a| a.len() <= MAX_ADDR_LEN));
        let distinct: BTreeSet<&String> = k.addrs.iter().collect();
        assert_eq!(distinct.len(), k.addrs.len(), "duplicate addresses");
    }
    let first = known.iter().find(|k| k.peer == ids[0]).unwrap();
    assert_eq!(first.last_seen, at(n as u64));
    // An older sighting does not move a peer back in time.
    store.put_peer(&ids[0], &[], at(0)).unwrap();
    let again = store.peers().unwrap();
    let first = again.iter().find(|k| k.peer == ids[0]).unwrap();
    assert_eq!(first.last_seen, at(n as u64));
    kept
}

#[test]
fn a_flood_of_identities_stays_bounded_in_memory() {
    flood_stays_bounded(&mut MemoryStore::default());
}

#[test]
fn a_flood_of_identities_stays_bounded_in_sled_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = SledStore::open(&path).unwrap();
    let kept = flood_stays_bounded(&mut s);
    let secret = s.node_secret();
    drop(s);
    let s = SledStore::open(&path).unwrap();
    assert_eq!(s.node_secret(), secret, "the node's secret is kept");
    let again: BTreeSet<String> = s.peers().unwrap().into_iter().map(|k| k.peer).collect();
    assert_eq!(again, kept);
    // Another node has another secret.
    let other = SledStore::open(&dir.path().join("other")).unwrap();
    assert_ne!(other.node_secret(), secret);
}

/// Attacker ids among the first `MAX_REDIAL` redialled.
fn attackers_first(known: &[KnownPeer], attacker: &BTreeSet<String>, secret: &[u8; 32]) -> usize {
    redial_order(known.to_vec(), secret)
        .iter()
        .take(MAX_REDIAL)
        .filter(|k| attacker.contains(&k.peer))
        .count()
}

#[test]
fn ids_ground_to_sort_first_gain_nothing_at_redial() {
    // Half the known peers are the attacker's, ground to sort first, all seen at the same
    // time as the honest half (the worst case for a tie-break).
    let (attacker, honest) = ground_ids(20 * MAX_KNOWN_PEERS, MAX_KNOWN_PEERS / 2);
    let honest = &honest[..MAX_KNOWN_PEERS / 2];
    let attacker_set: BTreeSet<String> = attacker.iter().cloned().collect();
    let known: Vec<KnownPeer> = attacker
        .iter()
        .chain(honest)
        .map(|p| KnownPeer {
            peer: p.clone(),
            addrs: vec!["/ip4/10.0.0.1/tcp/1".into()],
            last_seen: at(0),
        })
        .collect();
    // In key order (as before) the attacker has every slot.
    let mut by_key = known.clone();
    by_key.sort_by(|a, b| a.peer.cmp(&b.peer));
    assert!(
        by_key[..MAX_REDIAL]
            .iter()
            .all(|k| attacker_set.contains(&k.peer))
    );
    // Keyed by a node's secret, the attacker gets about its share (half), whatever the secret.
    let mut orders = BTreeSet::new();
    for s in 1..=8u8 {
        let secret = [s; 32];
        let n = attackers_first(&known, &attacker_set, &secret);
        assert!(
            (16..=48).contains(&n),
            "secret {s}: {n} of {MAX_REDIAL} are ground ids"
        );
        let first: Vec<String> = redial_order(known.clone(), &secret)
            .into_iter()
            .take(MAX_REDIAL)
            .map(|k| k.peer)
            .collect();
        orders.insert(first);
    }
    assert_eq!(orders.len(), 8, "the order depends on the secret");
}

#[test]
fn the_most_recently_seen_are_redialled_first() {
    let (attacker, honest) = ground_ids(4 * MAX_KNOWN_PEERS, MAX_KNOWN_PEERS);
    let honest: Vec<String> = honest[..40].to_vec();
    let mut store = MemoryStore::default();
    // The attacker's identities were met long ago; honest peers recently.
    for (i, p) in attacker.iter().enumerate() {
        store.put_peer(p, &[], at(i as u64)).unwrap();
    }
    for (i, p) in honest.iter().enumerate() {
        store.put_peer(p, &[], at(1_000_000 + i as u64)).unwrap();
    }
    let order = redial_order(store.peers().unwrap(), &store.node_secret());
    let first: Vec<&str> = order
        .iter()
        .take(honest.len())
        .map(|k| k.peer.as_str())
        .collect();
    let expected: Vec<&str> = honest.iter().rev().map(String::as_str).collect();
    assert_eq!(first, expected);
    // The store kept every honest peer though the attacker brought more than it holds.
    let kept: BTreeSet<String> = order.into_iter().map(|k| k.peer).collect();
    assert!(honest.iter().all(|p| kept.contains(p)));
}

#[test]
fn ids_ground_to_sort_last_do_not_survive_eviction() {
    // Eviction among peers seen at the same time is by the keyed order too: ids chosen to
    // sort last (which key-order eviction would keep) are evicted like any others.
    let (honest, attacker) = ground_ids(3 * MAX_KNOWN_PEERS, 2 * MAX_KNOWN_PEERS);
    let attacker_set: BTreeSet<String> = attacker.iter().cloned().collect();
    let mut store = MemoryStore::default();
    for p in honest.iter().chain(&attacker) {
        store.put_peer(p, &[], at(0)).unwrap();
    }
    let kept = store.peers().unwrap();
    assert_eq!(kept.len(), MAX_KNOWN_PEERS);
    let n = kept
        .iter()
        .filter(|k| attacker_set.contains(&k.peer))
        .count();
    // A third of the ids are the attacker's: it keeps about a third of the places.
    assert!(
        (MAX_KNOWN_PEERS / 4..MAX_KNOWN_PEERS / 2).contains(&n),
        "{n} of {MAX_KNOWN_PEERS} kept are ground ids"
    );
}

/// A store of an earlier version kept every peer in a `peers` tree, unbounded: opening it
/// moves them into the bounded store, which keeps [`MAX_KNOWN_PEERS`] of them chosen by the
/// node's secret, not by id.
#[test]
fn an_old_unbounded_peer_tree_is_moved_in_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let (attacker, honest) = ground_ids(6 * MAX_KNOWN_PEERS, 2 * MAX_KNOWN_PEERS);
    let honest = &honest[..MAX_KNOWN_PEERS];
    {
        let db = crate::common::sled_open(&path);
        let old = db.open_tree("peers").unwrap();
        for p in attacker.iter().chain(honest) {
            let v = postcard::to_allocvec(&noisy_addrs(1)).unwrap();
            old.insert(p.as_bytes(), v).unwrap();
        }
        db.flush().unwrap();
    }
    let s = SledStore::open(&path).unwrap();
    let known = s.peers().unwrap();
    assert_eq!(known.len(), MAX_KNOWN_PEERS);
    assert!(known.iter().all(|k| k.addrs.len() <= MAX_PEER_ADDRS));
    let attacker_set: BTreeSet<String> = attacker.iter().cloned().collect();
    let n = attackers_first(&known, &attacker_set, &s.node_secret());
    // Two thirds of the old entries were the attacker's; key order gave it all 64 slots.
    assert!(n < 58, "{n} of {MAX_REDIAL} redials go to ground ids");
    drop(s);
    let s = SledStore::open(&path).unwrap();
    assert_eq!(s.peers().unwrap().len(), MAX_KNOWN_PEERS, "moved once");
}
