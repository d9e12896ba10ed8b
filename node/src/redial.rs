//! When to dial the peers known from earlier runs again: while the node has no connection at
//! all (it started before its network was up, or every peer went away), with a backoff that
//! doubles from [`REDIAL_FIRST`] to [`REDIAL_MAX`] and starts over once connected.

use std::time::{Duration, Instant};

/// First retry after the node finds itself without connections.
pub const REDIAL_FIRST: Duration = Duration::from_secs(2);
/// Longest wait between two rounds of redials.
pub const REDIAL_MAX: Duration = Duration::from_secs(60);

/// The redial schedule: a pure state machine fed the connection count and the time.
#[derive(Debug, Clone)]
pub struct Redial {
    next: Option<Instant>,
    delay: Duration,
}

impl Default for Redial {
    fn default() -> Self {
        Redial {
            next: None,
            delay: REDIAL_FIRST,
        }
    }
}

impl Redial {
    /// The connection count changed to `connected` at `now`: isolated, plan a round; connected,
    /// stop and reset the backoff.
    pub fn connections(&mut self, connected: usize, now: Instant) {
        if connected > 0 {
            self.next = None;
            self.delay = REDIAL_FIRST;
        } else if self.next.is_none() {
            self.next = Some(now + self.delay);
        }
    }

    /// When the next round is due, if one is planned.
    pub fn deadline(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a round is due at `now`; if so, the next one is planned after a longer wait
    /// (it is dropped as soon as a connection is established).
    pub fn due(&mut self, now: Instant) -> bool {
        match self.next {
            Some(at) if at <= now => {
                self.delay = (self.delay * 2).min(REDIAL_MAX);
                self.next = Some(now + self.delay);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_while_isolated_and_resets_once_connected() {
        let t0 = Instant::now();
        let mut r = Redial::default();
        assert_eq!(r.deadline(), None);
        r.connections(0, t0);
        assert_eq!(r.deadline(), Some(t0 + REDIAL_FIRST));
        assert!(!r.due(t0));
        let mut at = t0 + REDIAL_FIRST;
        let mut waits = Vec::new();
        for _ in 0..8 {
            assert!(r.due(at));
            let next = r.deadline().unwrap();
            waits.push((next - at).as_secs());
            at = next;
        }
        assert_eq!(waits, [4, 8, 16, 32, 60, 60, 60, 60]);
        // Another disconnection while a round is planned does not postpone it.
        r.connections(0, at - Duration::from_secs(30));
        assert_eq!(r.deadline(), Some(at));
        r.connections(3, at);
        assert_eq!(r.deadline(), None);
        r.connections(0, at);
        assert_eq!(r.deadline(), Some(at + REDIAL_FIRST));
    }
}
