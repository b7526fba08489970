//! When to reconnect: exponential backoff with full jitter, capped, and
//! forgotten after a healthy period.
//!
//! Full jitter (delay uniform in `0..=min(cap, base·2^attempt)`) spreads
//! the reconnects of many clients after an outage, which is what an
//! exchange that rate-limits connections per IP needs. It spreads them only
//! if every schedule draws different numbers: by default each one is
//! seeded from the operating system's randomness (see [`os_seed`]); a test
//! injects a fixed seed and computes the exact schedule.

use mercury_core::SplitMix64;
use std::time::Duration;

/// The reconnect policy of a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
    /// Give up after this many consecutive failed attempts (`None`: never;
    /// the caller's own deadline still applies).
    pub max_attempts: Option<u32>,
    /// A connection that stayed up this long resets the attempt count.
    pub healthy_after: Duration,
    /// Seed of the jitter: `None` (the default) draws one from the
    /// operating system for each schedule, so that connectors in different
    /// processes never retry in step; tests set a fixed one.
    pub seed: Option<u64>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
            max_attempts: Some(10),
            healthy_after: Duration::from_secs(30),
            seed: None,
        }
    }
}

/// The state of one backoff schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    policy: Backoff,
    attempt: u32,
    rng: SplitMix64,
}

impl Schedule {
    /// A fresh schedule.
    pub fn new(policy: Backoff) -> Self {
        let rng = SplitMix64::new(policy.seed.unwrap_or_else(os_seed));
        Schedule {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// Failed attempts since the last healthy connection.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, at least `floor` (a server's
    /// Retry-After), or `None` when the attempts are used up.
    pub fn next_delay(&mut self, floor: Option<Duration>) -> Option<Duration> {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempt >= max)
        {
            return None;
        }
        let ceiling = self
            .policy
            .base
            .saturating_mul(1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.policy.cap);
        self.attempt += 1;
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jitter = Duration::from_millis(self.rng.next_u64() % ceiling_ms.saturating_add(1));
        Some(jitter.max(floor.unwrap_or_default()))
    }

    /// A connection ended after being up for `uptime`: a healthy one resets
    /// the count.
    pub fn connection_lasted(&mut self, uptime: Duration) {
        if uptime >= self.policy.healthy_after {
            self.attempt = 0;
        }
    }
}

/// A seed from the operating system's randomness. std's `RandomState`
/// draws its keys from the OS (`getrandom(2)` on Linux) once per thread and
/// steps them for every new state, so each call gives a fresh value without
/// another dependency.
pub fn os_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6d65_7263_7572_7921);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            max_attempts: Some(8),
            healthy_after: Duration::from_secs(10),
            seed: Some(42),
        }
    }

    #[test]
    fn delays_stay_under_a_doubling_ceiling_and_the_cap() {
        let mut schedule = Schedule::new(policy());
        let delays: Vec<Duration> = (0..8).map(|_| schedule.next_delay(None).unwrap()).collect();
        for (attempt, delay) in delays.iter().enumerate() {
            let ceiling = Duration::from_millis(100 << attempt).min(Duration::from_secs(2));
            assert!(
                *delay <= ceiling,
                "attempt {attempt}: {delay:?} > {ceiling:?}"
            );
        }
        // Jitter: not all the same, and not all at the ceiling.
        assert!(delays.windows(2).any(|w| w[0] != w[1]));
        assert_eq!(schedule.next_delay(None), None, "max_attempts reached");
        assert_eq!(schedule.attempts(), 8);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let run = |seed| {
            let mut s = Schedule::new(Backoff {
                seed: Some(seed),
                ..policy()
            });
            (0..8).map(|_| s.next_delay(None)).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    /// Regression: the default seed was the constant 0x5EED, so every
    /// connector of every process retried at the same instants.
    #[test]
    fn default_schedules_draw_different_delays() {
        let delays = || {
            let mut s = Schedule::new(Backoff {
                max_attempts: None,
                ..Backoff::default()
            });
            (0..8).map(|_| s.next_delay(None)).collect::<Vec<_>>()
        };
        let first = delays();
        assert!((0..4).all(|_| delays() != first));
        assert_ne!(os_seed(), os_seed());
    }

    #[test]
    fn retry_after_is_a_floor_and_health_resets() {
        let mut schedule = Schedule::new(policy());
        assert_eq!(
            schedule.next_delay(Some(Duration::from_secs(5))),
            Some(Duration::from_secs(5))
        );
        schedule.next_delay(None);
        schedule.connection_lasted(Duration::from_secs(1));
        assert_eq!(schedule.attempts(), 2, "a short connection does not reset");
        schedule.connection_lasted(Duration::from_secs(10));
        assert_eq!(schedule.attempts(), 0);
        let unlimited = Backoff {
            max_attempts: None,
            ..policy()
        };
        let mut schedule = Schedule::new(unlimited);
        assert!((0..1000).all(|_| {
            schedule
                .next_delay(None)
                .is_some_and(|d| d <= Duration::from_secs(2))
        }));
    }
}
