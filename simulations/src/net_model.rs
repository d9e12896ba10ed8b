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
    /// Global index of the other side's `Link` (frames arrive there).
    rev: u32,
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
        /// Global index of the receiver's side of the link (for [`Net::deliverable`]).
        slot: u32,
        /// [`Net::changes`] at sending (for [`Net::deliverable`]).
        stamp: u32,
    },
    /// Lost on the way (counted, never delivered).
    Lost,
    /// No established connection between the two nodes.
    NoLink,
}

/// Connection state of the whole network.
pub struct Net {
    /// CSR offsets: node `v`'s links are `links[offsets[v]..offsets[v + 1]]`, sorted by peer.
    offsets: Vec<u32>,
    /// Peer of each link (a compact copy of `links[i].peer` for searching).
    peers: Vec<NodeIx>,
    /// All links.
    links: Vec<Link>,
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
    /// Connection changes so far (wrapping): while it has not moved since a frame was
    /// sent, the frame's link is still up under the same epoch, and
    /// [`Net::deliverable`] need not read the link (a cache miss per frame at 10k nodes).
    changes: u32,
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
        let mut adj: Vec<Vec<(NodeIx, Time, bool)>> = vec![Vec::new(); n];
        for &(a, b) in edges {
            let latency = Time::from_millis_f64(latency_ms.sample(rng)).max(Time(1));
            adj[a as usize].push((b, latency, true));
            adj[b as usize].push((a, latency, false));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut peers = Vec::with_capacity(edges.len() * 2);
        let mut links = Vec::with_capacity(edges.len() * 2);
        for l in adj.iter_mut() {
            l.sort_by_key(|e| e.0);
            offsets.push(links.len() as u32);
            for &(peer, latency, outbound) in l.iter() {
                peers.push(peer);
                links.push(Link {
                    peer,
                    latency,
                    up: false,
                    epoch: 0,
                    outbound,
                    rev: 0,
                    last_arrival: Time::ZERO,
                });
            }
        }
        offsets.push(links.len() as u32);
        for a in 0..n {
            for i in offsets[a] as usize..offsets[a + 1] as usize {
                let b = peers[i] as usize;
                let row = &peers[offsets[b] as usize..offsets[b + 1] as usize];
                if let Ok(j) = row.binary_search(&(a as NodeIx)) {
                    links[i].rev = offsets[b] + j as u32;
                }
            }
        }
        let uplink_bps = (0..n).map(|_| upload_mbit_s.sample(rng) * 1e6).collect();
        Net {
            offsets,
            peers,
            links,
            online: vec![false; n],
            incarnation: vec![0; n],
            uplink_bps,
            uplink_free: vec![Time::ZERO; n],
            side: vec![0; n],
            partitioned: false,
            jitter_ms,
            loss,
            changes: 0,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the network has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All links of `node` (up or down), sorted by peer.
    pub fn links(&self, node: NodeIx) -> &[Link] {
        let v = node as usize;
        &self.links[self.offsets[v] as usize..self.offsets[v + 1] as usize]
    }

    /// Global index of the link from `a` to `b`.
    fn slot(&self, a: NodeIx, b: NodeIx) -> Option<usize> {
        let v = a as usize;
        let lo = self.offsets[v] as usize;
        self.peers[lo..self.offsets[v + 1] as usize]
            .binary_search(&b)
            .ok()
            .map(|j| lo + j)
    }

    /// The link from `a` to `b`, if the graph has one.
    pub fn link(&self, a: NodeIx, b: NodeIx) -> Option<&Link> {
        self.slot(a, b).map(|i| &self.links[i])
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
        let Some(i) = self.slot(a, b) else {
            return false;
        };
        let la = &mut self.links[i];
        if la.up == up {
            return false;
        }
        la.up = up;
        self.changes = self.changes.wrapping_add(1);
        if up {
            la.epoch += 1;
        }
        let (epoch, rev) = (la.epoch, la.rev as usize);
        let lb = &mut self.links[rev];
        lb.up = up;
        lb.epoch = epoch;
        true
    }

    /// Whether a frame that travelled under `epoch` and arrives at link `slot` (the
    /// receiver `to`'s side) may still be delivered; `stamp` is the sender's
    /// [`Transmit::Arrives`] stamp. (A frame is only sent on an up link, so if no
    /// connection changed since, that link is still up under `epoch`; 2^32 changes
    /// during one frame's flight would be needed to fool the stamp.)
    pub fn deliverable(&self, to: NodeIx, slot: u32, epoch: u32, stamp: u32) -> bool {
        self.online[to as usize]
            && (stamp == self.changes || {
                let l = &self.links[slot as usize];
                l.up && l.epoch == epoch
            })
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
        let Some(i) = self.slot(a, b) else {
            return Transmit::NoLink;
        };
        if !self.links[i].up {
            return Transmit::NoLink;
        }
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
        let link = &mut self.links[i];
        let at = depart
            .plus(link.latency)
            .plus(jitter)
            .max(link.last_arrival);
        link.last_arrival = at;
        if lost {
            Transmit::Lost
        } else {
            Transmit::Arrives {
                at,
                epoch: link.epoch,
                slot: link.rev,
                stamp: self.changes,
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
                epoch: 1,
                slot: 1,
                stamp: 1
            }
        );
        // The second frame queues behind the first.
        let second = n.transmit(&mut rng, Time::ZERO, 0, 1, 1000);
        assert_eq!(
            second,
            Transmit::Arrives {
                at: Time::from_millis(12),
                epoch: 1,
                slot: 1,
                stamp: 1
            }
        );
        assert_eq!(n.transmit(&mut rng, Time::ZERO, 0, 2, 1), Transmit::NoLink);
    }

    #[test]
    fn reconnect_invalidates_frames_in_flight() {
        let (mut n, _) = net(0.0);
        n.online = vec![true; 3];
        n.set_up(0, 1, true);
        // Node 1's links: [0, 2]; its side of 0–1 is global slot 1.
        assert!(n.deliverable(1, 1, 1, 1));
        n.set_up(0, 1, false);
        n.set_up(0, 1, true);
        assert!(!n.deliverable(1, 1, 1, 1));
        assert!(n.deliverable(1, 1, 2, 1));
        assert!(n.deliverable(1, 1, 2, 3));
        n.online[1] = false;
        assert!(!n.deliverable(1, 1, 2, 3));
    }
}
