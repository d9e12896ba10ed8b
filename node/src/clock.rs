//! The node's clock: the system time, shifted by `QUN_CLOCK_OFFSET_MS=<±ms>` in test builds.
//!
//! The offset lets tests run a node whose clock is wrong (the chaos suite's clock-skew scenario
//! runs one node a day ahead and one a day behind) without touching the machine's clock. Like
//! `QUN_KEYGEN_SEED` (see [`crate::keystore`]) it is honoured only in builds with debug
//! assertions; a release build ignores it and says so on stderr once, so a stray variable can
//! never move a real node's clock.

use qun_identity::Timestamp;
use std::sync::OnceLock;

/// Environment variable with the clock offset in milliseconds (may be negative).
pub const CLOCK_OFFSET_ENV: &str = "QUN_CLOCK_OFFSET_MS";
/// Whether this build honours [`CLOCK_OFFSET_ENV`]: with debug assertions only.
pub const CLOCK_OFFSET_HONOURED: bool = cfg!(debug_assertions);

/// The offset to apply, given the variable's value and whether this build honours it, and a
/// warning for stderr.
pub fn clock_offset(value: Option<&str>, honoured: bool) -> (i64, Option<String>) {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return (0, None);
    };
    if !honoured {
        return (
            0,
            Some(format!(
                "{CLOCK_OFFSET_ENV} is ignored in release builds: using the system clock"
            )),
        );
    }
    match v.parse::<i64>() {
        Ok(0) => (0, None),
        Ok(ms) => (
            ms,
            Some(format!(
                "{CLOCK_OFFSET_ENV} is set: this node's clock is shifted by {ms} ms (for tests only)"
            )),
        ),
        Err(_) => (
            0,
            Some(format!(
                "{CLOCK_OFFSET_ENV}={v:?} is not a whole number of milliseconds: ignored"
            )),
        ),
    }
}

/// This process's clock offset, read once (the warning goes to stderr then).
pub fn offset_ms() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let value = std::env::var(CLOCK_OFFSET_ENV).ok();
        let (ms, warning) = clock_offset(value.as_deref(), CLOCK_OFFSET_HONOURED);
        if let Some(w) = warning {
            eprintln!("warning: {w}");
        }
        ms
    })
}

/// `t` shifted by `ms`, saturating at both ends.
pub fn shifted(t: Timestamp, ms: i64) -> Timestamp {
    let v = if ms >= 0 {
        t.as_millis().saturating_add(ms.unsigned_abs())
    } else {
        t.as_millis().saturating_sub(ms.unsigned_abs())
    };
    Timestamp::from_millis(v)
}

/// The node's current time: the system time plus [`offset_ms`].
pub fn now() -> Timestamp {
    shifted(Timestamp::now(), offset_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_only_in_builds_that_honour_it() {
        assert_eq!(clock_offset(None, true), (0, None));
        assert_eq!(clock_offset(Some(""), true), (0, None));
        assert_eq!(clock_offset(Some("0"), true), (0, None));
        let (ms, w) = clock_offset(Some("-86400000"), true);
        assert_eq!(ms, -86_400_000);
        assert!(w.unwrap().contains("shifted"));
        let (ms, w) = clock_offset(Some("86400000"), false);
        assert_eq!(ms, 0);
        assert!(w.unwrap().contains("ignored in release builds"));
        let (ms, w) = clock_offset(Some("a day"), true);
        assert_eq!(ms, 0);
        assert!(w.unwrap().contains("not a whole number"));
    }

    #[test]
    fn shifting_saturates() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(shifted(t, 500).as_millis(), 1_500);
        assert_eq!(shifted(t, -500).as_millis(), 500);
        assert_eq!(shifted(t, -5_000).as_millis(), 0);
        assert_eq!(
            shifted(Timestamp::from_millis(u64::MAX), 1).as_millis(),
            u64::MAX
        );
    }
}
