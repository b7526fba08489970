//! What the NATS sink has done so far, for whoever watches it (the
//! dashboard's sink table, `/metrics`, `/health`).
//!
//! The publisher's thread updates atomic counters as it goes (one relaxed
//! add per event, never a lock); a reader takes a [`NatsSnapshot`] at any
//! time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The NATS sink's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsSnapshot {
    /// Whether the client is connected to a server now.
    pub connected: bool,
    /// Publications sent and not yet acknowledged (the in-flight window).
    pub pending_acks: u64,
    /// Quotes published (first attempts).
    pub published: u64,
    /// Quotes the stream acknowledged (stored, or a duplicate).
    pub acknowledged: u64,
    /// Acknowledgements that said "duplicate": the stream already had the
    /// message id (a retry, or a redundant collector).
    pub duplicates: u64,
    /// Publications sent again (same message id) after a timeout or a
    /// lost connection.
    pub retries: u64,
    /// Errors (failed publications, refused acks, connection errors).
    pub errors: u64,
    /// Nanoseconds the sink spent unable to take quotes (window full or
    /// server away): the back-pressure it applied to the collector.
    pub backpressure_ns: u64,
    /// Whether the sink has ended.
    pub ended: bool,
}

/// The NATS sink's shared counters: the publisher updates, anyone reads;
/// cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub struct NatsStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    connected: AtomicBool,
    pending_acks: AtomicU64,
    published: AtomicU64,
    acknowledged: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
    backpressure_ns: AtomicU64,
    ended: AtomicBool,
}

impl NatsStats {
    /// Counters all zero, not connected.
    pub fn new() -> Self {
        NatsStats::default()
    }

    /// The counters now.
    pub fn snapshot(&self) -> NatsSnapshot {
        let c = &self.0;
        NatsSnapshot {
            connected: c.connected.load(Ordering::Relaxed),
            pending_acks: c.pending_acks.load(Ordering::Relaxed),
            published: c.published.load(Ordering::Relaxed),
            acknowledged: c.acknowledged.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            backpressure_ns: c.backpressure_ns.load(Ordering::Relaxed),
            ended: c.ended.load(Ordering::Relaxed),
        }
    }

    /// The client connected (`true`) or lost its server (`false`).
    pub fn set_connected(&self, connected: bool) {
        self.0.connected.store(connected, Ordering::Relaxed);
    }

    /// The in-flight window now holds `pending` publications.
    pub fn set_pending_acks(&self, pending: u64) {
        self.0.pending_acks.store(pending, Ordering::Relaxed);
    }

    /// `n` quotes were published for the first time.
    pub fn add_published(&self, n: u64) {
        self.0.published.fetch_add(n, Ordering::Relaxed);
    }

    /// One acknowledgement arrived; `duplicate` when the stream said so.
    pub fn add_acknowledged(&self, duplicate: bool) {
        self.0.acknowledged.fetch_add(1, Ordering::Relaxed);
        if duplicate {
            self.0.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One publication was sent again.
    pub fn add_retry(&self) {
        self.0.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// One error.
    pub fn add_error(&self) {
        self.0.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The sink could not take quotes for `nanos` nanoseconds.
    pub fn add_backpressure_ns(&self, nanos: u64) {
        self.0.backpressure_ns.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The sink ended.
    pub fn set_ended(&self) {
        self.0.ended.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_and_a_clone_shares_them() {
        let stats = NatsStats::new();
        let publisher = stats.clone();
        publisher.set_connected(true);
        publisher.add_published(3);
        publisher.add_acknowledged(false);
        publisher.add_acknowledged(true);
        publisher.add_retry();
        publisher.set_pending_acks(1);
        publisher.add_backpressure_ns(500);
        let seen = stats.snapshot();
        assert!(seen.connected && !seen.ended);
        assert_eq!(
            (
                seen.published,
                seen.acknowledged,
                seen.duplicates,
                seen.retries,
                seen.pending_acks
            ),
            (3, 2, 1, 1, 1)
        );
        assert_eq!(seen.backpressure_ns, 500);
        publisher.set_connected(false);
        publisher.set_ended();
        assert!(!stats.snapshot().connected && stats.snapshot().ended);
    }
}
