//! Automatic relay reservations ("autorelay"), sans-IO: which connected relays to listen
//! through while the node has no confirmed public address.
//!
//! The driver feeds in what the swarm reports (identify, closed connections and listeners,
//! AutoNAT status) and carries out the returned [`Action`]s; nothing here touches the swarm.
//!
//! Rule: while the node is not known to be publicly reachable (no `--public-addr`, not serving
//! as a relay, AutoNAT not `Public`), every connected peer that identify shows supporting the
//! relay v2 hop protocol and announcing a usable address becomes a candidate; the node listens
//! on `<addr>/p2p/<relay>/p2p-circuit` at candidates, in the order they were identified, until
//! it holds `max` automatic reservations. Relays given explicitly (`--listen …/p2p-circuit`)
//! and the node itself are never chosen. A relay whose connection or listener closes is
//! forgotten (and its slot filled from the other candidates); it becomes a candidate again at
//! its next identify. When AutoNAT reports `Public` no new reservations are made but the
//! existing ones are kept: AutoNAT's verdict can flip back, and a held reservation is cheap
//! while dropping it would break relayed addresses already handed out in invite codes.

use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Default most automatic relay reservations held at once.
pub const DEFAULT_MAX_RELAYS: usize = 2;

/// What the driver should do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `swarm.listen_on(addr)`, then report [`AutoRelay::listening`] or
    /// [`AutoRelay::listen_failed`].
    Listen {
        /// The relay.
        relay: PeerId,
        /// `<relay addr>/p2p/<relay>/p2p-circuit`.
        addr: Multiaddr,
    },
    /// `swarm.remove_listener(id)`: the relay is gone.
    Close(ListenerId),
}

/// Settings, fixed for the node's lifetime.
#[derive(Clone, Debug)]
pub struct AutoRelayConfig {
    /// Our peer id (never a relay of ours).
    pub me: PeerId,
    /// Most automatic reservations; 0 disables autorelay.
    pub max: usize,
    /// The node is publicly reachable by configuration (`--public-addr`, or it serves as a
    /// relay itself): autorelay stays off.
    pub public_by_config: bool,
    /// Relays already used by explicit `--listen …/p2p-circuit` addresses.
    pub explicit: BTreeSet<PeerId>,
    /// QUIC relay addresses are usable (false in a private swarm, which is TCP only).
    pub quic: bool,
}

/// An automatic reservation, requested or held.
#[derive(Clone, Debug)]
struct Reservation {
    addr: Multiaddr,
    listener: Option<ListenerId>,
}

/// The autorelay state machine.
#[derive(Clone, Debug)]
pub struct AutoRelay {
    cfg: AutoRelayConfig,
    /// AutoNAT says we are publicly reachable.
    public: bool,
    /// Connected relays with a usable address, in the order identify showed them.
    candidates: Vec<(PeerId, Multiaddr)>,
    /// Automatic reservations by relay.
    reservations: BTreeMap<PeerId, Reservation>,
}

impl AutoRelay {
    /// A fresh state: no candidates, no reservations, reachability unknown.
    pub fn new(cfg: AutoRelayConfig) -> Self {
        AutoRelay {
            cfg,
            public: false,
            candidates: Vec::new(),
            reservations: BTreeMap::new(),
        }
    }

    /// Autorelay switched off: no reservations are ever made.
    pub fn disabled(me: PeerId) -> Self {
        AutoRelay::new(AutoRelayConfig {
            me,
            max: 0,
            public_by_config: false,
            explicit: BTreeSet::new(),
            quic: false,
        })
    }

    /// Relays we hold (or have asked for) an automatic reservation at, with the relayed
    /// address we listen on.
    pub fn relays(&self) -> impl Iterator<Item = (&PeerId, &Multiaddr)> {
        self.reservations.iter().map(|(p, r)| (p, &r.addr))
    }

    /// Identify showed `peer` (connected) with its protocols and listen addresses.
    pub fn identified(&mut self, peer: PeerId, hop: bool, addrs: &[Multiaddr]) -> Vec<Action> {
        let usable = usable_relay_addr(addrs, self.cfg.quic);
        let eligible = hop && peer != self.cfg.me && !self.cfg.explicit.contains(&peer);
        match (eligible, usable) {
            (true, Some(addr)) => {
                match self.candidates.iter_mut().find(|(p, _)| *p == peer) {
                    Some(c) => c.1 = addr,
                    None => self.candidates.push((peer, addr)),
                }
                self.fill()
            }
            // No longer a relay (or no address left): not a candidate; a reservation already
            // held runs until the relay ends it.
            _ => {
                self.candidates.retain(|(p, _)| *p != peer);
                Vec::new()
            }
        }
    }

    /// The last connection to `peer` closed.
    pub fn disconnected(&mut self, peer: &PeerId) -> Vec<Action> {
        self.candidates.retain(|(p, _)| p != peer);
        let mut out = Vec::new();
        if let Some(r) = self.reservations.remove(peer)
            && let Some(id) = r.listener
        {
            out.push(Action::Close(id));
        }
        out.extend(self.fill());
        out
    }

    /// `listen_on` for `relay` succeeded with listener `id`.
    pub fn listening(&mut self, relay: &PeerId, id: ListenerId) {
        if let Some(r) = self.reservations.get_mut(relay) {
            r.listener = Some(id);
        }
    }

    /// `listen_on` for `relay` failed: forget it until its next identify.
    pub fn listen_failed(&mut self, relay: &PeerId) -> Vec<Action> {
        self.reservations.remove(relay);
        self.candidates.retain(|(p, _)| p != relay);
        self.fill()
    }

    /// Listener `id` closed (reservation refused or expired, or the relay connection closed).
    /// Returns the relay it belonged to, if it was one of ours, and what to do next.
    pub fn listener_closed(&mut self, id: ListenerId) -> (Option<PeerId>, Vec<Action>) {
        let relay = self
            .reservations
            .iter()
            .find(|(_, r)| r.listener == Some(id))
            .map(|(p, _)| *p);
        match relay {
            Some(p) => (Some(p), self.listen_failed(&p)),
            None => (None, Vec::new()),
        }
    }

    /// AutoNAT's verdict changed: `public` when it confirmed a public address.
    pub fn nat_status(&mut self, public: bool) -> Vec<Action> {
        self.public = public;
        self.fill()
    }

    /// Whether new reservations may be made now.
    pub fn active(&self) -> bool {
        self.cfg.max > 0 && !self.cfg.public_by_config && !self.public
    }

    /// Choose candidates until `max` reservations are held.
    fn fill(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.active() {
            return out;
        }
        for (relay, addr) in &self.candidates {
            if self.reservations.len() >= self.cfg.max {
                break;
            }
            if self.reservations.contains_key(relay) {
                continue;
            }
            let circuit = addr
                .clone()
                .with(Protocol::P2p(*relay))
                .with(Protocol::P2pCircuit);
            self.reservations.insert(
                *relay,
                Reservation {
                    addr: circuit.clone(),
                    listener: None,
                },
            );
            out.push(Action::Listen {
                relay: *relay,
                addr: circuit,
            });
        }
        out
    }
}

/// The best address to reach a relay at, from what it announces (without `/p2p/…`): plain
/// TCP or QUIC over an IP address or DNS name, not relayed itself, not unspecified. Public
/// addresses before private ones before loopback, TCP before QUIC, then announcement order.
pub fn usable_relay_addr(addrs: &[Multiaddr], quic: bool) -> Option<Multiaddr> {
    addrs
        .iter()
        .enumerate()
        .filter_map(|(i, a)| rank(a, quic).map(|(scope, transport, a)| ((scope, transport, i), a)))
        .min_by_key(|(key, _)| *key)
        .map(|(_, a)| a)
}

/// `(scope, transport, address without a trailing /p2p)` of a usable relay address.
fn rank(a: &Multiaddr, quic: bool) -> Option<(u8, u8, Multiaddr)> {
    let mut parts: Vec<Protocol> = a.iter().collect();
    if let Some(Protocol::P2p(_)) = parts.last() {
        parts.pop();
    }
    let scope = match parts.first()? {
        Protocol::Ip4(ip) => v4_scope(ip)?,
        Protocol::Ip6(ip) => v6_scope(ip)?,
        Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) => 0,
        _ => return None,
    };
    let transport = match &parts[1..] {
        [Protocol::Tcp(_)] => 0,
        [Protocol::Udp(_), Protocol::QuicV1] if quic => 1,
        _ => return None,
    };
    Some((scope, transport, parts.into_iter().collect()))
}

/// 0 public, 1 private or link-local, 2 loopback; `None` for unusable addresses.
fn v4_scope(ip: &Ipv4Addr) -> Option<u8> {
    if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() {
        None
    } else if ip.is_loopback() {
        Some(2)
    } else if ip.is_private() || ip.is_link_local() || is_shared_v4(ip) {
        Some(1)
    } else {
        Some(0)
    }
}

/// 100.64.0.0/10, carrier-grade NAT.
fn is_shared_v4(ip: &Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 100 && (b & 0xc0) == 64
}

fn v6_scope(ip: &Ipv6Addr) -> Option<u8> {
    let first = ip.segments()[0];
    if ip.is_unspecified() || ip.is_multicast() {
        None
    } else if ip.is_loopback() {
        Some(2)
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
        // Unique local fc00::/7, link-local fe80::/10.
        Some(1)
    } else {
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u8) -> PeerId {
        let key = libp2p::identity::Keypair::ed25519_from_bytes([n; 32]).expect("key");
        key.public().to_peer_id()
    }

    fn addr(s: &str) -> Multiaddr {
        s.parse().expect("multiaddr")
    }

    fn cfg(max: usize) -> AutoRelayConfig {
        AutoRelayConfig {
            me: peer(0),
            max,
            public_by_config: false,
            explicit: BTreeSet::new(),
            quic: true,
        }
    }

    fn tcp(port: u16) -> Vec<Multiaddr> {
        vec![addr(&format!("/ip4/198.51.100.1/tcp/{port}"))]
    }

    fn listens(actions: &[Action]) -> Vec<PeerId> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Listen { relay, .. } => Some(*relay),
                Action::Close(_) => None,
            })
            .collect()
    }

    /// Accept every Listen with a fresh listener id; the ids, by relay.
    fn accept(ar: &mut AutoRelay, actions: &[Action]) -> BTreeMap<PeerId, ListenerId> {
        let mut ids = BTreeMap::new();
        for r in listens(actions) {
            let id = ListenerId::next();
            ar.listening(&r, id);
            ids.insert(r, id);
        }
        ids
    }

    #[test]
    fn listens_through_a_hop_relay_with_its_circuit_address() {
        let mut ar = AutoRelay::new(cfg(2));
        let r = peer(1);
        let actions = ar.identified(r, true, &tcp(4001));
        let want = addr("/ip4/198.51.100.1/tcp/4001")
            .with(Protocol::P2p(r))
            .with(Protocol::P2pCircuit);
        assert_eq!(
            actions,
            vec![Action::Listen {
                relay: r,
                addr: want
            }]
        );
        // A repeated identify does not ask again.
        assert!(ar.identified(r, true, &tcp(4001)).is_empty());
        assert_eq!(ar.relays().count(), 1);
    }

    #[test]
    fn ignores_peers_without_hop_or_usable_address_and_itself() {
        let mut ar = AutoRelay::new(cfg(2));
        assert!(ar.identified(peer(1), false, &tcp(1)).is_empty());
        assert!(
            ar.identified(peer(2), true, &[addr("/ip4/0.0.0.0/tcp/1")])
                .is_empty()
        );
        let relayed = addr("/ip4/198.51.100.1/tcp/1")
            .with(Protocol::P2p(peer(9)))
            .with(Protocol::P2pCircuit);
        assert!(ar.identified(peer(3), true, &[relayed]).is_empty());
        assert!(ar.identified(peer(0), true, &tcp(1)).is_empty(), "itself");
        assert_eq!(ar.relays().count(), 0);
    }

    #[test]
    fn at_most_max_and_refills_when_a_relay_goes() {
        let mut ar = AutoRelay::new(cfg(2));
        let mut ids = BTreeMap::new();
        for n in 1..=3 {
            let a = ar.identified(peer(n), true, &tcp(n.into()));
            ids.extend(accept(&mut ar, &a));
        }
        assert_eq!(ids.keys().copied().collect::<Vec<_>>().len(), 2);
        assert!(ids.contains_key(&peer(1)) && ids.contains_key(&peer(2)));
        // Relay 1's connection closes: its listener is closed and relay 3 takes its place.
        let a = ar.disconnected(&peer(1));
        assert_eq!(a[0], Action::Close(ids[&peer(1)]));
        assert_eq!(listens(&a), vec![peer(3)]);
        let ids3 = accept(&mut ar, &a);
        // Relay 3's listener fails (reservation refused): forgotten, nobody left to pick.
        let (who, a) = ar.listener_closed(ids3[&peer(3)]);
        assert_eq!(who, Some(peer(3)));
        assert!(a.is_empty());
        assert_eq!(
            ar.relays().map(|(p, _)| *p).collect::<Vec<_>>(),
            vec![peer(2)]
        );
        // Relay 3 comes back at its next identify.
        assert_eq!(
            listens(&ar.identified(peer(3), true, &tcp(3))),
            vec![peer(3)]
        );
        // An unknown listener is not ours.
        assert_eq!(ar.listener_closed(ListenerId::next()).0, None);
    }

    #[test]
    fn failed_listen_on_frees_the_slot() {
        let mut ar = AutoRelay::new(cfg(1));
        assert_eq!(
            listens(&ar.identified(peer(1), true, &tcp(1))),
            vec![peer(1)]
        );
        assert!(ar.identified(peer(2), true, &tcp(2)).is_empty());
        assert_eq!(listens(&ar.listen_failed(&peer(1))), vec![peer(2)]);
    }

    #[test]
    fn skips_explicit_relays() {
        let mut c = cfg(2);
        c.explicit.insert(peer(1));
        let mut ar = AutoRelay::new(c);
        assert!(ar.identified(peer(1), true, &tcp(1)).is_empty());
        assert_eq!(
            listens(&ar.identified(peer(2), true, &tcp(2))),
            vec![peer(2)]
        );
    }

    #[test]
    fn off_when_public_or_disabled() {
        for c in [
            AutoRelayConfig {
                public_by_config: true,
                ..cfg(2)
            },
            cfg(0),
        ] {
            let mut ar = AutoRelay::new(c);
            assert!(ar.identified(peer(1), true, &tcp(1)).is_empty());
            assert!(ar.nat_status(false).is_empty());
        }
        let mut ar = AutoRelay::disabled(peer(0));
        assert!(ar.identified(peer(1), true, &tcp(1)).is_empty());
    }

    #[test]
    fn autonat_public_keeps_reservations_but_makes_no_new_ones() {
        let mut ar = AutoRelay::new(cfg(2));
        let a = ar.identified(peer(1), true, &tcp(1));
        accept(&mut ar, &a);
        assert!(ar.nat_status(true).is_empty());
        assert!(ar.identified(peer(2), true, &tcp(2)).is_empty());
        assert_eq!(ar.relays().count(), 1, "kept");
        // Back to private: the waiting candidate is used.
        assert_eq!(listens(&ar.nat_status(false)), vec![peer(2)]);
    }

    #[test]
    fn relay_that_stops_offering_hop_is_no_candidate() {
        let mut ar = AutoRelay::new(cfg(1));
        let a = ar.identified(peer(1), true, &tcp(1));
        let ids = accept(&mut ar, &a);
        assert!(ar.identified(peer(2), true, &tcp(2)).is_empty());
        assert!(ar.identified(peer(2), false, &tcp(2)).is_empty());
        let (_, a) = ar.listener_closed(ids[&peer(1)]);
        assert!(a.is_empty(), "peer 2 is no relay any more");
    }

    #[test]
    fn address_choice() {
        let pick = |v: &[&str], quic| {
            usable_relay_addr(&v.iter().map(|s| addr(s)).collect::<Vec<_>>(), quic)
                .map(|a| a.to_string())
        };
        // Public before private before loopback; TCP before QUIC; /p2p is stripped.
        let p = peer(1);
        assert_eq!(
            pick(
                &[
                    "/ip4/127.0.0.1/tcp/1",
                    "/ip4/192.168.1.2/tcp/2",
                    "/ip4/203.0.113.5/udp/3/quic-v1",
                    &format!("/ip4/203.0.113.5/tcp/4/p2p/{p}"),
                ],
                true
            ),
            Some("/ip4/203.0.113.5/tcp/4".into())
        );
        assert_eq!(
            pick(&["/ip4/127.0.0.1/tcp/1", "/dns4/relay.example/tcp/5"], true),
            Some("/dns4/relay.example/tcp/5".into())
        );
        assert_eq!(
            pick(&["/ip4/10.0.0.1/tcp/1", "/ip6/::1/tcp/2"], true),
            Some("/ip4/10.0.0.1/tcp/1".into())
        );
        // QUIC only when allowed; websockets, unspecified and relayed addresses never.
        assert_eq!(pick(&["/ip4/203.0.113.5/udp/3/quic-v1"], false), None);
        assert_eq!(
            pick(&["/ip4/203.0.113.5/udp/3/quic-v1"], true),
            Some("/ip4/203.0.113.5/udp/3/quic-v1".into())
        );
        assert_eq!(
            pick(&["/ip4/203.0.113.5/tcp/3/ws", "/ip6/::/tcp/1"], true),
            None
        );
        assert_eq!(pick(&[], true), None);
    }
}
