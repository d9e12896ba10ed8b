//! Virtual time and the event queue, ordered by `(Time, seq)`.
//!
//! `seq` is a global insertion counter, so two events due at the same instant pop in
//! the order they were scheduled: the queue never depends on hashing or on the heap's
//! internal layout, which keeps runs byte-identical for one seed.
//!
//! Layout (a timing wheel, for speed at 10^5 pending events): events are stored inline
//! with their `(time, seq)` key, so a pop reads memory that was written sequentially
//! instead of chasing a slot in a slab. Entries of the next `WHEEL_BUCKETS` buckets
//! (2^10 µs wide) are appended unsorted to their wheel bucket; when the clock reaches a
//! bucket it is sorted once and drained from its end. Entries pushed for the bucket being
//! drained (or earlier) go to a small `late` heap; later ones wait in an overflow heap.
//! The pop order is exactly `(time, seq)`, as with a single heap.

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

/// A queued event with its ordering key. `(at, seq)` is unique, so ordering by the key
/// alone is a total order on entries.
struct Entry<E> {
    at: Time,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn key(&self) -> (Time, u64) {
        (self.at, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and we pop the earliest `(at, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Width of a wheel bucket in µs (2^10 ≈ 1 ms).
const BUCKET_SHIFT: u32 = 10;
/// Buckets on the wheel (≈ 4.2 s of virtual time ahead).
const WHEEL_BUCKETS: u64 = 4096;

/// Min-queue of events keyed by `(Time, seq)`.
pub struct EventQueue<E> {
    seq: u64,
    /// Absolute number of the bucket being drained.
    bucket: u64,
    /// Entries of `bucket`, sorted latest first (popped from the end).
    current: Vec<Entry<E>>,
    /// Entries pushed for `bucket` (or earlier) while it is being drained.
    late: BinaryHeap<Entry<E>>,
    /// Entries of buckets `bucket + 1 .. bucket + WHEEL_BUCKETS`, unsorted, by `b % WHEEL_BUCKETS`.
    wheel: Vec<Vec<Entry<E>>>,
    /// Entries on the wheel.
    on_wheel: usize,
    /// Drained buffers kept for reuse, so only non-empty wheel buckets hold memory.
    spare: Vec<Vec<Entry<E>>>,
    /// Entries further ahead.
    far: BinaryHeap<Entry<E>>,
    len: usize,
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
            seq: 0,
            bucket: 0,
            current: Vec::new(),
            late: BinaryHeap::new(),
            wheel: (0..WHEEL_BUCKETS).map(|_| Vec::new()).collect(),
            on_wheel: 0,
            spare: Vec::new(),
            far: BinaryHeap::new(),
            len: 0,
        }
    }

    fn place(&mut self, e: Entry<E>) {
        let b = e.at.0 >> BUCKET_SHIFT;
        if b <= self.bucket {
            self.late.push(e);
        } else if b < self.bucket + WHEEL_BUCKETS {
            let w = &mut self.wheel[(b % WHEEL_BUCKETS) as usize];
            if w.capacity() == 0
                && let Some(buf) = self.spare.pop()
            {
                *w = buf;
            }
            w.push(e);
            self.on_wheel += 1;
        } else {
            self.far.push(e);
        }
    }

    /// Schedules `event` at `at`; ties pop in scheduling order.
    pub fn push(&mut self, at: Time, event: E) {
        let e = Entry {
            at,
            seq: self.seq,
            event,
        };
        self.seq += 1;
        self.len += 1;
        self.place(e);
    }

    /// Moves the clock's bucket forward until something is due (or nothing is left).
    fn refill(&mut self) {
        while self.current.is_empty() && self.late.is_empty() && self.len > 0 {
            if self.on_wheel == 0 {
                // Nothing on the wheel: jump straight to the overflow's first bucket.
                match self.far.peek() {
                    Some(e) => self.bucket = (e.at.0 >> BUCKET_SHIFT).max(self.bucket + 1),
                    None => return,
                }
            } else {
                self.bucket += 1;
            }
            let i = (self.bucket % WHEEL_BUCKETS) as usize;
            // The bucket becomes current; the drained (empty) buffer is kept for reuse.
            let due = std::mem::take(&mut self.wheel[i]);
            let drained = std::mem::replace(&mut self.current, due);
            if drained.capacity() > 0 {
                self.spare.push(drained);
            }
            self.on_wheel -= self.current.len();
            // Pull overflow entries that now fall within the wheel's window.
            while let Some(e) = self.far.peek() {
                if (e.at.0 >> BUCKET_SHIFT) >= self.bucket + WHEEL_BUCKETS {
                    break;
                }
                if let Some(e) = self.far.pop() {
                    if (e.at.0 >> BUCKET_SHIFT) == self.bucket {
                        self.current.push(e);
                    } else {
                        self.place(e);
                    }
                }
            }
            // `Entry`'s order is reversed (for the heaps): this sorts latest first.
            self.current.sort_unstable();
        }
    }

    /// Whether the next entry comes from `late` rather than `current`.
    fn next_is_late(&self) -> bool {
        match (self.current.last(), self.late.peek()) {
            (Some(c), Some(l)) => l.key() < c.key(),
            (None, Some(_)) => true,
            _ => false,
        }
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.refill();
        let e = if self.next_is_late() {
            self.late.pop()?
        } else {
            self.current.pop()?
        };
        self.len -= 1;
        Some((e.at, e.event))
    }

    /// An event due soon: the `k`-th next of the bucket being drained (`k` = 1 is the
    /// next unless a late entry comes first). A hint for prefetching, not an order.
    pub fn ahead(&self, k: usize) -> Option<&E> {
        let i = self.current.len().checked_sub(k)?;
        Some(&self.current[i].event)
    }

    /// Time of the earliest event.
    pub fn peek_time(&mut self) -> Option<Time> {
        self.refill();
        if self.next_is_late() {
            self.late.peek().map(|e| e.at)
        } else {
            self.current.last().map(|e| e.at)
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
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

    #[test]
    fn wheel_and_overflow_pop_in_exact_order() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(5);
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeSet::new();
        let mut now = 0u64;
        // Interleave pushes (same instant, near, mid, far) and pops, as a simulation does.
        for round in 0..20_000u64 {
            let seq = round;
            let at = match rng.random_range(0..4u32) {
                0 => now,
                1 => now + rng.random_range(0..2_000u64),
                2 => now + rng.random_range(0..3_000_000u64),
                _ => now + rng.random_range(0..100_000_000u64),
            };
            q.push(Time(at), seq);
            reference.insert((at, seq));
            if round % 3 == 0 {
                let got = q.pop().expect("non-empty");
                let want = reference.pop_first().expect("non-empty");
                assert_eq!((got.0.0, got.1), want);
                now = want.0;
            }
        }
        while let Some(want) = reference.pop_first() {
            let got = q.pop().expect("non-empty");
            assert_eq!((got.0.0, got.1), want);
        }
        assert!(q.pop().is_none() && q.is_empty());
    }
}
