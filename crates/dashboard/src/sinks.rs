//! The file sinks of a recording run (`collector serve --out`) as the
//! dashboard shows them: a row each in the page's sink table (from the
//! `sinks` list of the `stats` event), `mercury_sink_*` series in
//! `/metrics`, and a say in `/health` — a sink that failed, or whose lag
//! is over the staleness limit, makes it `degraded` and is named under
//! `sinks_degraded`.
//!
//! The writers publish their counters themselves
//! ([`SinkStats`], at most one flush
//! tick old); the hub only reads them, once a second and for each scrape.
//!
//! | series | type | meaning |
//! |---|---|---|
//! | `mercury_sink_files_finished_total` | counter | files finished (fsynced, renamed) |
//! | `mercury_sink_files_open` | gauge | files being written (`*.partial`) |
//! | `mercury_sink_bytes_total` | counter | bytes written to disk (after compression) |
//! | `mercury_sink_records_total` | counter | records (quotes, raw records) written |
//! | `mercury_sink_lag_seconds` | gauge | now − receive time of the last record written |
//! | `mercury_sink_last_write_timestamp_seconds` | gauge | Unix time of the last write (absent before one) |
//! | `mercury_sink_errors_total` | counter | write errors (the first ends the writer) |
//! | `mercury_sink_up` | gauge | 1 while the writer runs, 0 once it failed or ended |
//!
//! Each series has one label, `sink` (`raw`, `quotes`).

use mercury_collector::record::{SinkSnapshot, SinkStats};
use mercury_core::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// One sink as the page, `/health` and `/metrics` show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SinkView {
    /// `raw`, `quotes`.
    pub sink: &'static str,
    /// Files finished.
    pub files_finished: u64,
    /// Files being written.
    pub files_open: u64,
    /// Bytes written to disk.
    pub bytes: u64,
    /// Records written.
    pub records: u64,
    /// When it last wrote (RFC 3339), if it has.
    pub last_write: Option<String>,
    /// Unix time of the last write, in milliseconds, if any.
    #[serde(skip)]
    pub last_write_ms: Option<i128>,
    /// Now − the receive time of the last record written, in milliseconds.
    pub lag_ms: u64,
    /// Write errors.
    pub errors: u64,
    /// Why it failed (an excerpt), if it did.
    pub failed: Option<String>,
    /// Whether the writer is still running.
    pub up: bool,
    /// Failed, or its lag is over the staleness limit: `/health` degrades.
    pub degraded: bool,
}

impl SinkView {
    /// The view of `snapshot` at `now`, lagging past `stale_after`.
    pub fn new(snapshot: &SinkSnapshot, now: Timestamp, stale_after: Duration) -> Self {
        let lag_ms = snapshot.lag_ms(now);
        let limit = u64::try_from(stale_after.as_millis()).unwrap_or(u64::MAX);
        SinkView {
            sink: snapshot.sink,
            files_finished: snapshot.files_finished,
            files_open: snapshot.files_open,
            bytes: snapshot.bytes,
            records: snapshot.records,
            last_write: snapshot.last_write.map(|t| t.to_string()),
            last_write_ms: snapshot.last_write.map(|t| t.unix_nanos() / 1_000_000),
            lag_ms,
            errors: snapshot.errors,
            failed: snapshot.failed.clone(),
            up: !snapshot.ended,
            degraded: snapshot.failed.is_some() || lag_ms > limit,
        }
    }
}

/// Every sink's view at `now`.
pub fn views(sinks: &[SinkStats], now: Timestamp, stale_after: Duration) -> Vec<SinkView> {
    sinks
        .iter()
        .map(|s| SinkView::new(&s.snapshot(), now, stale_after))
        .collect()
}

/// A metric: name, type, help, and its value for one sink (`None`: no sample).
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&SinkView) -> Option<String>,
);

const SERIES: [Series; 8] = [
    (
        "mercury_sink_files_finished_total",
        "counter",
        "Files finished (flushed, fsynced, renamed).",
        |s| Some(s.files_finished.to_string()),
    ),
    (
        "mercury_sink_files_open",
        "gauge",
        "Files being written (*.partial).",
        |s| Some(s.files_open.to_string()),
    ),
    (
        "mercury_sink_bytes_total",
        "counter",
        "Bytes written to disk (after compression).",
        |s| Some(s.bytes.to_string()),
    ),
    (
        "mercury_sink_records_total",
        "counter",
        "Records written (quotes, raw records).",
        |s| Some(s.records.to_string()),
    ),
    (
        "mercury_sink_lag_seconds",
        "gauge",
        "Now minus the receive time of the last record written.",
        |s| Some(format!("{}.{:03}", s.lag_ms / 1000, s.lag_ms % 1000)),
    ),
    (
        "mercury_sink_last_write_timestamp_seconds",
        "gauge",
        "Unix time of the last write to disk.",
        |s| {
            s.last_write_ms
                .map(|ms| format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000)))
        },
    ),
    (
        "mercury_sink_errors_total",
        "counter",
        "Write errors (the first ends the writer).",
        |s| Some(s.errors.to_string()),
    ),
    (
        "mercury_sink_up",
        "gauge",
        "1 while the writer runs, 0 once it failed or ended.",
        |s| Some(u8::from(s.up).to_string()),
    ),
];

/// Appends the `mercury_sink_*` series (nothing without sinks).
pub fn prometheus(text: &mut String, sinks: &[SinkView]) {
    if sinks.is_empty() {
        return;
    }
    for (name, kind, help, value) in SERIES {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for sink in sinks {
            if let Some(value) = value(sink) {
                let label = crate::web::label(sink.sink);
                let _ = writeln!(text, "{name}{{sink=\"{label}\"}} {value}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> SinkSnapshot {
        let mut s = SinkSnapshot::empty("quotes");
        s.files_finished = 2;
        s.files_open = 1;
        s.bytes = 4096;
        s.records = 77;
        s.last_write = Some(Timestamp::from_unix_nanos(1_764_651_600_250_000_000));
        s.last_received = Some(Timestamp::from_unix_nanos(1_764_651_600_000_000_000));
        s
    }

    #[test]
    fn the_page_reads_this_json() {
        let now = Timestamp::from_unix_nanos(1_764_651_601_500_000_000);
        let view = SinkView::new(&snapshot(), now, Duration::from_secs(30));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "sink": "quotes", "files_finished": 2, "files_open": 1, "bytes": 4096,
                "records": 77, "last_write": "2025-12-02T05:00:00.250Z", "lag_ms": 1500,
                "errors": 0, "failed": null, "up": true, "degraded": false,
            })
        );
        let lagging = SinkView::new(&snapshot(), now, Duration::from_secs(1));
        assert!(lagging.degraded, "1.5 s of lag over a 1 s limit");
        let mut failed = snapshot();
        failed.failed = Some("cannot write x: disk full".into());
        failed.ended = true;
        let failed = SinkView::new(&failed, now, Duration::from_secs(30));
        assert!(failed.degraded && !failed.up);
    }

    #[test]
    fn the_series_are_exported_per_sink() {
        let now = Timestamp::from_unix_nanos(1_764_651_601_500_000_000);
        let mut raw = SinkSnapshot::empty("raw");
        raw.ended = true;
        let views = [
            SinkView::new(&raw, now, Duration::from_secs(30)),
            SinkView::new(&snapshot(), now, Duration::from_secs(30)),
        ];
        let mut text = String::new();
        prometheus(&mut text, &views);
        for line in [
            "# TYPE mercury_sink_bytes_total counter",
            "mercury_sink_bytes_total{sink=\"quotes\"} 4096",
            "mercury_sink_records_total{sink=\"quotes\"} 77",
            "mercury_sink_lag_seconds{sink=\"quotes\"} 1.500",
            "mercury_sink_last_write_timestamp_seconds{sink=\"quotes\"} 1764651600.250",
            "mercury_sink_up{sink=\"raw\"} 0",
            "mercury_sink_up{sink=\"quotes\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("last_write_timestamp_seconds{sink=\"raw\"}"));
        let mut none = String::new();
        prometheus(&mut none, &[]);
        assert!(none.is_empty());
    }
}
