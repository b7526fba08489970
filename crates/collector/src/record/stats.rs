//! What each file writer has done so far, for whoever watches a recording
//! (the dashboard's sink table, `/metrics`, `/health`).
//!
//! A writer owns its counters and publishes a copy into a shared
//! [`SinkStats`] at every flush tick ([`FLUSH_EVERY`](super::FLUSH_EVERY)),
//! when it finishes a file and when it ends: one short `Mutex` lock twice a
//! second, never per record, so watching costs the writer nothing it would
//! notice. A reader takes a [`SinkSnapshot`] at any time; it is at most one
//! tick old.

use mercury_core::Timestamp;
use std::sync::{Arc, Mutex, PoisonError};

/// The counters of one sink (`raw`, `quotes`, …) at its latest publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkSnapshot {
    /// Which sink: `raw`, or a quote format (`jsonl`, `csv`, `parquet`).
    pub sink: &'static str,
    /// Files finished (flushed, fsynced, renamed).
    pub files_finished: u64,
    /// Files being written (`*.partial`).
    pub files_open: u64,
    /// Bytes written to disk (after compression), finished and open files.
    pub bytes: u64,
    /// Records (quotes, raw records) handed to files.
    pub records: u64,
    /// When the writer last wrote to disk (a flush or a finish).
    pub last_write: Option<Timestamp>,
    /// The receive time of the last record written: `now − last_received`
    /// is the sink's lag.
    pub last_received: Option<Timestamp>,
    /// Write errors (the first ends the writer).
    pub errors: u64,
    /// Why the writer failed, if it did (an excerpt, safe to show).
    pub failed: Option<String>,
    /// Whether the writer has ended (finished every file, or failed).
    pub ended: bool,
}

impl SinkSnapshot {
    /// The counters of a sink that has written nothing yet.
    pub fn empty(sink: &'static str) -> Self {
        SinkSnapshot {
            sink,
            files_finished: 0,
            files_open: 0,
            bytes: 0,
            records: 0,
            last_write: None,
            last_received: None,
            errors: 0,
            failed: None,
            ended: false,
        }
    }

    /// `now − last_received` in milliseconds (0 before the first record,
    /// or if the clock went back).
    pub fn lag_ms(&self, now: Timestamp) -> u64 {
        let Some(last) = self.last_received else {
            return 0;
        };
        let nanos = now.unix_nanos().saturating_sub(last.unix_nanos()).max(0);
        u64::try_from(nanos / 1_000_000).unwrap_or(u64::MAX)
    }
}

/// A sink's shared counters: the writer publishes, anyone reads; cheap to
/// clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct SinkStats(Arc<Mutex<SinkSnapshot>>);

impl SinkStats {
    /// Counters for the sink called `sink`, all zero.
    pub fn new(sink: &'static str) -> Self {
        SinkStats(Arc::new(Mutex::new(SinkSnapshot::empty(sink))))
    }

    /// The latest published counters.
    pub fn snapshot(&self) -> SinkSnapshot {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the counters (the writer's side), keeping what only
    /// [`failed`](Self::failed) and [`ended`](Self::ended) set.
    pub(crate) fn publish(&self, mut snapshot: SinkSnapshot) {
        let mut shared = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        snapshot.errors = snapshot.errors.max(shared.errors);
        snapshot.failed = snapshot.failed.or_else(|| shared.failed.take());
        snapshot.ended |= shared.ended;
        *shared = snapshot;
    }

    /// The writer failed with `error`.
    pub(crate) fn failed(&self, error: &impl std::fmt::Display) {
        let mut shared = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        shared.errors += 1;
        shared.failed = Some(mercury_core::excerpt(&error.to_string()));
        shared.ended = true;
    }

    /// The writer ended.
    pub(crate) fn ended(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).ended = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_survives_later_publications_and_lag_is_measured() {
        let stats = SinkStats::new("quotes");
        let mut snapshot = SinkSnapshot::empty("quotes");
        snapshot.records = 3;
        snapshot.last_received = Some(Timestamp::from_unix_nanos(1_000_000_000));
        stats.publish(snapshot.clone());
        stats.failed(&"cannot write x: \u{1b}[31mdisk full");
        stats.publish(snapshot);
        let seen = stats.snapshot();
        assert_eq!((seen.records, seen.errors, seen.ended), (3, 1, true));
        let failed = seen.failed.clone().unwrap();
        assert!(failed.contains("disk full") && !failed.contains('\u{1b}'));
        let now = Timestamp::from_unix_nanos(3_500_000_000);
        assert_eq!(seen.lag_ms(now), 2500);
        assert_eq!(SinkSnapshot::empty("raw").lag_ms(now), 0);
    }
}
