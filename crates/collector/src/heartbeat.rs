//! The heartbeat as a small state machine fed with instants, so its
//! policy is tested without waiting.
//!
//! It pings after the policy's idle time without a frame, and, for an
//! exchange with a keep-alive (Kraken Futures), also whenever that long has
//! passed since the last ping, however busy the link.

use mercury_core::HeartbeatPolicy;
use std::time::{Duration, Instant};

/// What the connector should do at a heartbeat check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    /// The link is fine.
    Quiet,
    /// Idle too long: send the ping now.
    SendPing,
    /// No frame since the ping, past the deadline: the link is dead.
    Dead {
        /// How long nothing has arrived.
        silent_for: Duration,
    },
}

/// Tracks silence on one connection.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    policy: HeartbeatPolicy,
    keepalive: Option<Duration>,
    last_frame: Instant,
    /// The last ping sent (the connection's start before the first).
    last_ping: Instant,
    ping_sent: Option<Instant>,
}

impl Heartbeat {
    pub fn new(policy: HeartbeatPolicy, keepalive: Option<Duration>, now: Instant) -> Self {
        Heartbeat {
            policy,
            keepalive,
            last_frame: now,
            last_ping: now,
            ping_sent: None,
        }
    }

    /// How often the connector should call [`check`](Self::check): often
    /// enough to act within a quarter of the shorter interval.
    pub fn check_every(&self) -> Duration {
        let shortest = self.policy.idle.min(self.policy.pong_deadline);
        let shortest = self.keepalive.map_or(shortest, |k| shortest.min(k));
        (shortest / 4).max(Duration::from_millis(10))
    }

    /// The ping to send.
    pub fn policy(&self) -> &HeartbeatPolicy {
        &self.policy
    }

    /// Any frame at all proves the link alive.
    pub fn on_frame(&mut self, now: Instant) {
        self.last_frame = now;
        self.ping_sent = None;
    }

    /// Whether the keep-alive wants a ping whatever the traffic.
    fn keepalive_due(&self, now: Instant) -> bool {
        self.keepalive
            .is_some_and(|every| now.saturating_duration_since(self.last_ping) >= every)
    }

    /// Decides what to do at `now`.
    pub fn check(&mut self, now: Instant) -> Beat {
        let silent_for = now.saturating_duration_since(self.last_frame);
        match self.ping_sent {
            Some(sent) if now.saturating_duration_since(sent) >= self.policy.pong_deadline => {
                Beat::Dead { silent_for }
            }
            Some(_) => Beat::Quiet,
            None if silent_for >= self.policy.idle || self.keepalive_due(now) => {
                self.ping_sent = Some(now);
                self.last_ping = now;
                Beat::SendPing
            }
            None => Beat::Quiet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercury_core::Outgoing;

    fn bitmex_like(start: Instant) -> Heartbeat {
        let policy = HeartbeatPolicy {
            idle: Duration::from_secs(5),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_secs(5),
        };
        Heartbeat::new(policy, None, start)
    }

    #[test]
    fn pings_after_idle_and_declares_death_after_the_deadline() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut hb = bitmex_like(t0);
        assert_eq!(hb.check(t0 + s(4)), Beat::Quiet);
        assert_eq!(hb.check(t0 + s(5)), Beat::SendPing);
        assert_eq!(hb.check(t0 + s(6)), Beat::Quiet, "one ping per silence");
        assert_eq!(hb.check(t0 + s(10)), Beat::Dead { silent_for: s(10) });
    }

    #[test]
    fn any_frame_resets_the_silence() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut hb = bitmex_like(t0);
        assert_eq!(hb.check(t0 + s(5)), Beat::SendPing);
        hb.on_frame(t0 + s(6)); // the pong
        assert_eq!(hb.check(t0 + s(10)), Beat::Quiet);
        assert_eq!(hb.check(t0 + s(11)), Beat::SendPing);
        assert_eq!(hb.check_every(), Duration::from_millis(1250));
    }

    #[test]
    fn a_keepalive_pings_a_busy_link_and_still_needs_an_answer() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let policy = HeartbeatPolicy {
            idle: s(15),
            ping: Outgoing::Ping(Vec::new()),
            pong_deadline: s(10),
        };
        let mut hb = Heartbeat::new(policy, Some(s(30)), t0);
        assert_eq!(hb.check_every(), Duration::from_millis(2500));
        // A frame every second: never idle, yet a ping every 30 s.
        for second in 1..30 {
            hb.on_frame(t0 + s(second));
            assert_eq!(hb.check(t0 + s(second)), Beat::Quiet, "at {second} s");
        }
        hb.on_frame(t0 + s(30));
        assert_eq!(hb.check(t0 + s(30)), Beat::SendPing);
        for second in 31..60 {
            hb.on_frame(t0 + s(second));
            assert_eq!(hb.check(t0 + s(second)), Beat::Quiet, "at {second} s");
        }
        hb.on_frame(t0 + s(60));
        assert_eq!(hb.check(t0 + s(60)), Beat::SendPing);
        // Nothing after that ping: dead at the deadline.
        assert_eq!(hb.check(t0 + s(70)), Beat::Dead { silent_for: s(10) });
    }
}
