//! The registry of published messages and, per message and node, the first receipt.
//!
//! Receipt state is dense (one `u32` time offset, one copy counter and one hop count per
//! node and message): at 10,000 nodes that is 60 KB per message, and it doubles as every
//! node's seen-cache and light-mode store. The seen-cache is thus modelled as outliving
//! the run (libp2p keeps ids for `duplicate_cache_time`, 60 s by default, longer than any
//! message takes to spread) and it survives restarts, like the store it stands for.

use std::sync::Arc;

use crate::queue::Time;
use crate::{MsgIx, NodeIx, TopicIx};

/// Marks "not received" in the receipt table.
const NOT_RECEIVED: u32 = u32::MAX;
/// Receipt offsets are stored in µs in a `u32`: at most ~71 minutes after publication.
const MAX_OFFSET_US: u64 = (u32::MAX - 1) as u64;

/// What is known about one published message.
#[derive(Clone)]
pub struct MessageMeta {
    /// Message id: blake3 of the payload (qun's gossipsub `message_id_fn`).
    pub id: [u8; 32],
    /// Topic (community).
    pub topic: TopicIx,
    /// Publishing node.
    pub origin: NodeIx,
    /// Publication time.
    pub published: Time,
    /// Payload size in bytes.
    pub bytes: u32,
    /// Forged by an attacker: honest validation rejects it.
    pub forged: bool,
    /// Members that should receive it (honest members of the topic except the origin).
    pub expected: u32,
    /// Of those, online at publication.
    pub expected_online: u32,
    /// Members that received it.
    pub delivered: u32,
    /// Of those, online at publication.
    pub delivered_online: u32,
    /// Time of the last first receipt.
    pub last_delivery: Time,
    /// The payload, in full-fidelity mode; light mode only carries the size.
    pub payload: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for MessageMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageMeta")
            .field("topic", &self.topic)
            .field("origin", &self.origin)
            .field("published", &self.published)
            .field("bytes", &format_args!("<{}b>", self.bytes))
            .field("forged", &self.forged)
            .finish()
    }
}

/// Receipt state of one (message, node) pair, packed so a receipt touches one cache line.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// µs after publication of the first receipt, or `NOT_RECEIVED`.
    at: u32,
    /// Copies received (saturating).
    copies: u8,
    /// Hops of the first copy (saturating).
    hops: u8,
}

const EMPTY: Slot = Slot {
    at: NOT_RECEIVED,
    copies: 0,
    hops: 0,
};

/// Outcome of a data frame arriving at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// First copy: deliver to the application.
    First,
    /// Already seen; the first copy arrived at `first_at`.
    Duplicate {
        /// Time of the first receipt.
        first_at: Time,
    },
}

/// All messages of a run.
pub struct Messages {
    nodes: usize,
    /// Metadata in publication order.
    pub meta: Vec<MessageMeta>,
    slots: Vec<Box<[Slot]>>,
    online_at_pub: Vec<Box<[u64]>>,
    expected_mask: Vec<Box<[u64]>>,
    /// Per node, one bit per message: "has it". The transpose of `slots`, so the
    /// seen-cache checks of one IHAVE (many messages, one node) touch one cache line.
    seen: Vec<Vec<u64>>,
    /// Messages of each topic, in publication order.
    pub by_topic: Vec<Vec<MsgIx>>,
}

impl Messages {
    /// An empty registry for `nodes` nodes and `topics` topics.
    pub fn new(nodes: usize, topics: usize) -> Messages {
        Messages {
            nodes,
            meta: Vec::new(),
            slots: Vec::new(),
            online_at_pub: Vec::new(),
            expected_mask: Vec::new(),
            seen: vec![Vec::new(); nodes],
            by_topic: vec![Vec::new(); topics],
        }
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Whether nothing was published.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Registers a message; the origin counts as having it (hop 0). Attackers are not
    /// expected receivers (honest peers graylist them).
    pub fn register(
        &mut self,
        mut meta: MessageMeta,
        online: &[bool],
        members: &[NodeIx],
        attacker: &[bool],
    ) -> MsgIx {
        let ix = self.meta.len() as MsgIx;
        let mut slots = vec![EMPTY; self.nodes].into_boxed_slice();
        slots[meta.origin as usize].at = 0;
        let mut bits = vec![0u64; self.nodes.div_ceil(64)].into_boxed_slice();
        let mut expect = bits.clone();
        let (mut expected, mut expected_online) = (0, 0);
        for &m in members {
            if m == meta.origin || attacker[m as usize] {
                continue;
            }
            expected += 1;
            expect[m as usize / 64] |= 1 << (m % 64);
            if online[m as usize] {
                expected_online += 1;
                bits[m as usize / 64] |= 1 << (m % 64);
            }
        }
        meta.expected = expected;
        meta.expected_online = expected_online;
        self.by_topic[meta.topic as usize].push(ix);
        Self::set_seen(&mut self.seen[meta.origin as usize], ix);
        self.meta.push(meta);
        self.slots.push(slots);
        self.online_at_pub.push(bits);
        self.expected_mask.push(expect);
        ix
    }

    /// Records a data copy of `msg` arriving at `node` with `hops` hops.
    pub fn receive(&mut self, msg: MsgIx, node: NodeIx, now: Time, hops: u16) -> Receipt {
        let (m, n) = (msg as usize, node as usize);
        let meta = &mut self.meta[m];
        let slot = &mut self.slots[m][n];
        slot.copies = slot.copies.saturating_add(1);
        if slot.at != NOT_RECEIVED {
            return Receipt::Duplicate {
                first_at: meta.published.plus(Time(slot.at as u64)),
            };
        }
        debug_assert!(now >= meta.published, "receipt before publication");
        slot.at = now.since(meta.published).0.min(MAX_OFFSET_US) as u32;
        Self::set_seen(&mut self.seen[n], msg);
        slot.hops = hops.min(u8::MAX as u16) as u8;
        if self.expected_mask[m][n / 64] & (1 << (n % 64)) != 0 {
            meta.delivered += 1;
        }
        if self.online_at_pub[m][n / 64] & (1 << (n % 64)) != 0 {
            meta.delivered_online += 1;
        }
        meta.last_delivery = now;
        Receipt::First
    }

    /// Hints the CPU to fetch the receipt slot of (`msg`, `node`) (no effect on results).
    pub fn prefetch(&self, msg: MsgIx, node: NodeIx) {
        if let Some(slots) = self.slots.get(msg as usize)
            && let Some(slot) = slots.get(node as usize)
        {
            crate::prefetch((slot as *const Slot).cast());
        }
    }

    /// Whether `node` is an expected receiver of `msg` (an honest member, not the origin).
    pub fn expected(&self, msg: MsgIx, node: NodeIx) -> bool {
        let n = node as usize;
        self.expected_mask[msg as usize][n / 64] & (1 << (n % 64)) != 0
    }

    fn set_seen(bits: &mut Vec<u64>, msg: MsgIx) {
        let w = msg as usize / 64;
        if bits.len() <= w {
            bits.resize(w + 1, 0);
        }
        bits[w] |= 1 << (msg % 64);
    }

    /// Whether `node` has `msg`.
    pub fn has(&self, msg: MsgIx, node: NodeIx) -> bool {
        self.seen[node as usize]
            .get(msg as usize / 64)
            .is_some_and(|w| w & (1 << (msg % 64)) != 0)
    }

    /// Hops of `node`'s first copy of `msg` (0 at the origin).
    pub fn hops(&self, msg: MsgIx, node: NodeIx) -> u16 {
        self.slots[msg as usize][node as usize].hops as u16
    }

    /// Time `node` first received `msg`.
    pub fn received_at(&self, msg: MsgIx, node: NodeIx) -> Option<Time> {
        let r = self.slots[msg as usize][node as usize].at;
        (r != NOT_RECEIVED).then(|| self.meta[msg as usize].published.plus(Time(r as u64)))
    }

    /// Copies of `msg` that reached `node` (first one included; saturates at 255).
    pub fn copies(&self, msg: MsgIx, node: NodeIx) -> u8 {
        self.slots[msg as usize][node as usize].copies
    }
}
