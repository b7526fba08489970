//! One clock read per frame.
//!
//! A frame needs two times: its receive time (wall clock, on its quotes)
//! and an [`Instant`] for the link (the heartbeat's silence, gaps). Reading
//! both clocks for every frame cost ~4 % of the firehose's CPU
//! (BENCHMARKS.md). [`FrameClock`] reads the monotonic clock once per
//! frame and derives the wall-clock time from an anchor (a pair of
//! readings of both clocks) taken at most [`REANCHOR_EVERY`] ago, so a
//! step of the system clock shows within that long.
//!
//! An injected [`Clock`] (tests) is read for every frame, as before: what
//! a test's clock says is exactly what the quotes carry.

use mercury_core::{Clock, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a wall-clock anchor is used before it is read again.
pub(crate) const REANCHOR_EVERY: Duration = Duration::from_millis(100);

/// Gives each frame its [`Instant`] and its receive time from one read of
/// the monotonic clock (see the module docs).
pub(crate) struct FrameClock {
    clock: Arc<dyn Clock>,
    /// Whether `clock` is the system's own (then derived), or injected.
    derived: bool,
    anchor: Option<(Instant, Timestamp)>,
}

impl FrameClock {
    /// Times derived from the system clock, re-anchored every
    /// [`REANCHOR_EVERY`].
    pub fn system() -> Self {
        FrameClock {
            clock: Arc::new(mercury_core::SystemClock),
            derived: true,
            anchor: None,
        }
    }

    /// Receive times read from `clock` at every frame.
    pub fn injected(clock: Arc<dyn Clock>) -> Self {
        FrameClock {
            clock,
            derived: false,
            anchor: None,
        }
    }

    /// The wall clock, read now (for what is not a frame).
    pub fn wall(&self) -> Timestamp {
        self.clock.now()
    }

    /// The instant and the wall-clock time of a frame that arrived now.
    pub fn read(&mut self) -> (Instant, Timestamp) {
        let now = Instant::now();
        if !self.derived {
            return (now, self.clock.now());
        }
        match self.anchor {
            Some((at, wall)) if now.saturating_duration_since(at) < REANCHOR_EVERY => {
                (now, wall.saturating_add(now.saturating_duration_since(at)))
            }
            _ => {
                let wall = self.clock.now();
                self.anchor = Some((now, wall));
                (now, wall)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercury_core::SystemClock;

    struct Fixed(Timestamp);

    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    #[test]
    fn an_injected_clock_is_what_the_frames_carry() {
        let at = Timestamp::from_unix_nanos(1_626_993_368_396_000_000);
        let mut clock = FrameClock::injected(Arc::new(Fixed(at)));
        for _ in 0..3 {
            assert_eq!(clock.read().1, at);
        }
        assert_eq!(clock.wall(), at);
    }

    #[test]
    fn derived_times_follow_the_wall_clock() {
        let mut clock = FrameClock::system();
        let started = Instant::now();
        let mut reads = 0;
        while started.elapsed() < REANCHOR_EVERY * 3 {
            let before = SystemClock.now();
            let (_, derived) = clock.read();
            let after = SystemClock.now();
            // Never ahead of the true time (but for the µs between the
            // anchor's two readings), never behind it by more than the
            // drift of two clocks over one anchor's age.
            assert!(derived <= after.saturating_add(Duration::from_millis(1)));
            assert!(derived.saturating_add(Duration::from_millis(5)) >= before);
            reads += 1;
            std::thread::sleep(Duration::from_millis(7));
        }
        assert!(reads > 10, "{reads}");
    }
}
