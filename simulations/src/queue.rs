//! Virtual time and the event queue: a binary heap ordered by `(Time, seq)`.
//!
//! `seq` is a global insertion counter, so two events due at the same instant pop in
//! the order they were scheduled: the queue never depends on hashing or on the heap's
//! internal layout, which keeps runs byte-identical for one seed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Virtual time in microseconds since the start of the run.
///
/// The qun core (`qun_crdt::Replicator`) counts milliseconds; [`Time::as_millis`] maps
/// simulator time onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(pub u64);

impl Time {
    /// The start of every run.
    pub const ZERO: Time = Time(0);
    /// Microseconds per second.
    pub const US_PER_S: u64 = 1_000_000;
    /// Microseconds per millisecond.
    pub const US_PER_MS: u64 = 1_000;

    /// From (possibly fractional) seconds, rounded to the microsecond.
    pub fn from_secs_f64(s: f64) -> Time {
        Time((s.max(0.0) * Self::US_PER_S as f64).round() as u64)
    }
    /// From (possibly fractional) milliseconds, rounded to the microsecond.
    pub fn from_millis_f64(ms: f64) -> Time {
        Time((ms.max(0.0) * Self::US_PER_MS as f64).round() as u64)
    }
    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms * Self::US_PER_MS)
    }
    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Time {
        Time(s * Self::US_PER_S)
    }
    /// Seconds as `f64`.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::US_PER_S as f64
    }
    /// Milliseconds as `f64`.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / Self::US_PER_MS as f64
    }
    /// Whole milliseconds (the unit of the qun core's `Time`).
    pub fn as_millis(self) -> u64 {
        self.0 / Self::US_PER_MS
    }
    /// `self + d`, saturating.
    pub fn plus(self, d: Time) -> Time {
        Time(self.0.saturating_add(d.0))
    }
    /// `self - earlier`, or zero.
    pub fn since(self, earlier: Time) -> Time {
        Time(self.0.saturating_sub(earlier.0))
    }
}

/// Heap entry: the ordering key and where the event waits in the slab. Kept small
/// (24 bytes) so sifting moves little memory; the event itself never moves.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry {
    at: Time,
    seq: u64,
    slot: u32,
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed: `BinaryHeap` is a max-heap and we pop the earliest `(at, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Min-queue of events keyed by `(Time, seq)`.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
    /// Schedules `event` at `at`; ties pop in scheduling order.
    pub fn push(&mut self, at: Time, event: E) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(event);
                i
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Entry {
            at,
            seq: self.seq,
            slot,
        });
        self.seq += 1;
    }
    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        let e = self.heap.pop()?;
        self.free.push(e.slot);
        self.slab[e.slot as usize].take().map(|ev| (e.at, ev))
    }
    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|e| e.at)
    }
    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Time(5), "c");
        q.push(Time(1), "a");
        q.push(Time(5), "d");
        q.push(Time(1), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (Time(1), "a"),
                (Time(1), "b"),
                (Time(5), "c"),
                (Time(5), "d")
            ]
        );
    }
}
