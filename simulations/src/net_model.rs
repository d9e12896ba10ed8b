//! The network model: links with latency, per-node upload bandwidth, jitter, loss,
//! connection state (churn, partitions).
//!
//! A frame from `a` to `b` leaves when `a`'s uplink is free (frames queue behind each
//! other: `size · 8 / bandwidth`), then travels the link's latency plus jitter. Frames on
//! one link never overtake each other (streams are ordered). Each time a link comes up it
//! gets a new `epoch`; a frame sent under an older epoch is dropped on arrival, as bytes
//! in flight on a closed connection are.

use crate::NodeIx;
use crate::dist::{Dist, SimRng, chance};
use crate::queue::Time;

/// Bits per byte.
const BITS_PER_BYTE: f64 = 8.0;

/// One side of a connection, stored at both endpoints.
#[derive(Debug, Clone)]
pub struct Link {
    /// The other endpoint.
    pub peer: NodeIx,
    /// One-way propagation latency.
    pub latency: Time,
    /// Whether the connection is currently established.
    pub up: bool,
    /// Incremented each time the connection is (re)established.
    pub epoch: u32,
    /// Whether this side dialed (gossipsub's outbound peers).
    pub outbound: bool,
    /// Arrival time of the last frame sent on this side (keeps per-link FIFO order).
    last_arrival: Time,
}

/// What happened to a frame handed to [`Net::transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transmit {
    /// Arrives at `at` unless the link's epoch changes meanwhile.
    Arrives {
        /// Arrival time.
        at: Time,
        /// The link epoch the frame travels under.
        epoch: u32,
    },
    /// Lost on the way (counted, never delivered).
    Lost,
    /// No established connection between the two nodes.
    NoLink,
}

/// Connection state of the whole network.
pub struct Net {
    /// Links of each node, sorted by peer.
    adj: Vec<Vec<Link>>,
    /// Whether each node is running.
    pub online: Vec<bool>,
    /// Bumped at every restart; timers and frames of an older incarnation are stale.
    pub incarnation: Vec<u32>,
    /// Upload bandwidth in bits/s (0 = unlimited).
    uplink_bps: Vec<f64>,
    /// When each node's uplink is free again.
    uplink_free: Vec<Time>,
    /// Partition side of each node.
    pub side: Vec<u8>,
    /// Whether a partition is in force.
    pub partitioned: bool,
    jitter_ms: Dist,
    loss: f64,
}

impl Net {
    /// Builds the links of `edges` (`(dialer, listener)`), all down, drawing one latency
    /// per link and one bandwidth per node.
    pub fn new(
        nodes: u32,
        edges: &[(NodeIx, NodeIx)],
        latency_ms: &Dist,
        upload_mbit_s: &Dist,
        jitter_ms: Dist,
        loss: f64,
        rng: &mut SimRng,
    ) -> Net {
        let n = nodes as usize;
        let mut adj: Vec<Vec<Link>> = vec![Vec::new(); n];
        for &(a, b) in edges {
            let latency = Time::from_millis_f64(latency_ms.sample(rng)).max(Time(1));
            let link = |peer, outbound| Link {
                peer,
                latency,
                up: false,
                epoch: 0,
                outbound,
                last_arrival: Time::ZERO,
            };
            adj[a as usize].push(link(b, true));
            adj[b as usize].push(link(a, false));
        }
        for l in &mut adj {
            l.sort_by_key(|l| l.peer);
        }
        let uplink_bps = (0..n).map(|_| upload_mbit_s.sample(rng) * 1e6).collect();
        Net {
            adj,
            online: vec![false; n],
            incarnation: vec![0; n],
            uplink_bps,
            uplink_free: vec![Time::ZERO; n],
            side: vec![0; n],
            partitioned: false,
            jitter_ms,
            loss,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.adj.len()
    }

    /// Whether the network has no nodes.
    pub fn is_empty(&self) -> bool {
        self.adj.is_empty()
    }

    /// All links of `node` (up or down), sorted by peer.
    pub fn links(&self, node: NodeIx) -> &[Link] {
        &self.adj[node as usize]
    }

    /// The link from `a` to `b`, if the graph has one.
    pub fn link(&self, a: NodeIx, b: NodeIx) -> Option<&Link> {
        let l = &self.adj[a as usize];
        l.binary_search_by_key(&b, |l| l.peer).ok().map(|i| &l[i])
    }

    fn link_mut(&mut self, a: NodeIx, b: NodeIx) -> Option<&mut Link> {
        let l = &mut self.adj[a as usize];
        match l.binary_search_by_key(&b, |l| l.peer) {
            Ok(i) => Some(&mut l[i]),
            Err(_) => None,
        }
    }

    /// Whether a partition currently separates `a` and `b`.
    pub fn blocked(&self, a: NodeIx, b: NodeIx) -> bool {
        self.partitioned && self.side[a as usize] != self.side[b as usize]
    }

    /// Whether `a` and `b` could connect now (both online, not partitioned, linked).
    pub fn can_connect(&self, a: NodeIx, b: NodeIx) -> bool {
        self.online[a as usize]
            && self.online[b as usize]
            && !self.blocked(a, b)
            && self.link(a, b).is_some()
    }

    /// Whether the connection `a`–`b` is established.
    pub fn is_up(&self, a: NodeIx, b: NodeIx) -> bool {
        self.link(a, b).is_some_and(|l| l.up)
    }

    /// Establishes or closes the connection on both sides; returns whether it changed.
    pub fn set_up(&mut self, a: NodeIx, b: NodeIx, up: bool) -> bool {
        let Some(la) = self.link_mut(a, b) else {
            return false;
        };
        if la.up == up {
            return false;
        }
        la.up = up;
        if up {
            la.epoch += 1;
        }
        let epoch = la.epoch;
        if let Some(lb) = self.link_mut(b, a) {
            lb.up = up;
            lb.epoch = epoch;
        }
        true
    }

    /// Whether a frame sent under `epoch` may still be delivered from `from` to `to`.
    pub fn deliverable(&self, from: NodeIx, to: NodeIx, epoch: u32) -> bool {
        self.online[to as usize]
            && self
                .link(to, from)
                .is_some_and(|l| l.up && l.epoch == epoch)
    }

    /// Puts a frame of `bytes` on the wire from `a` to `b` at `now`.
    pub fn transmit(
        &mut self,
        rng: &mut SimRng,
        now: Time,
        a: NodeIx,
        b: NodeIx,
        bytes: u32,
    ) -> Transmit {
        let bps = self.uplink_bps[a as usize];
        let Some(link) = self.adj[a as usize]
            .binary_search_by_key(&b, |l| l.peer)
            .ok()
            .map(|i| &self.adj[a as usize][i])
        else {
            return Transmit::NoLink;
        };
        if !link.up {
            return Transmit::NoLink;
        }
        let latency = link.latency;
        let depart = if bps > 0.0 {
            let tx = Time::from_secs_f64(bytes as f64 * BITS_PER_BYTE / bps);
            let start = now.max(self.uplink_free[a as usize]);
            let done = start.plus(tx);
            self.uplink_free[a as usize] = done;
            done
        } else {
            now
        };
        // Draw loss and jitter for every frame so the RNG stream does not depend on them.
        let lost = chance(rng, self.loss);
        let jitter = match self.jitter_ms {
            Dist::Const { value: 0.0 } => Time::ZERO,
            ref d => Time::from_millis_f64(d.sample(rng)),
        };
        let Some(link) = self.link_mut(a, b) else {
            return Transmit::NoLink;
        };
        let at = depart.plus(latency).plus(jitter).max(link.last_arrival);
        link.last_arrival = at;
        if lost {
            Transmit::Lost
        } else {
            Transmit::Arrives {
                at,
                epoch: link.epoch,
            }
        }
    }

    /// Frees a node's uplink queue (on crash: the kernel drops unsent bytes).
    pub fn reset_uplink(&mut self, node: NodeIx, now: Time) {
        self.uplink_free[node as usize] = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn net(mbit: f64) -> (Net, SimRng) {
        let mut rng = SimRng::seed_from_u64(1);
        let n = Net::new(
            3,
            &[(0, 1), (1, 2)],
            &Dist::Const { value: 10.0 },
            &Dist::Const { value: mbit },
            Dist::Const { value: 0.0 },
            0.0,
            &mut rng,
        );
        (n, rng)
    }

    #[test]
    fn latency_and_bandwidth_add_up() {
        let (mut n, mut rng) = net(8.0);
        assert_eq!(
            n.transmit(&mut rng, Time::ZERO, 0, 1, 1000),
            Transmit::NoLink
        );
        assert!(n.set_up(0, 1, true));
        // 1000 B at 8 Mbit/s = 1 ms on the wire, then 10 ms latency.
        let first = n.transmit(&mut rng, Time::ZERO, 0, 1, 1000);
        assert_eq!(
            first,
            Transmit::Arrives {
                at: Time::from_millis(11),
                epoch: 1
            }
        );
        // The second frame queues behind the first.
        let second = n.transmit(&mut rng, Time::ZERO, 0, 1, 1000);
        assert_eq!(
            second,
            Transmit::Arrives {
                at: Time::from_millis(12),
                epoch: 1
            }
        );
        assert_eq!(n.transmit(&mut rng, Time::ZERO, 0, 2, 1), Transmit::NoLink);
    }

    #[test]
    fn reconnect_invalidates_frames_in_flight() {
        let (mut n, _) = net(0.0);
        n.online = vec![true; 3];
        n.set_up(0, 1, true);
        assert!(n.deliverable(0, 1, 1));
        n.set_up(0, 1, false);
        n.set_up(0, 1, true);
        assert!(!n.deliverable(0, 1, 1));
        assert!(n.deliverable(0, 1, 2));
    }
}
