//! The coverage ledger: per subscription, when it was covered, every gap
//! with its start, end and cause, and how its connection ended — written
//! next to the data, so that a reader knows which silences are real.
//!
//! ## The file
//!
//! One file per run, named by the run's start (UTC), never rewritten:
//!
//! ```text
//! DIR/ledger/<YYYY-MM-DD>/<HHMMSS>.jsonl        (-1, -2, … for a second run in the same second)
//! ```
//!
//! Like every file of a recording it is `NAME.partial` while written and
//! fsynced and renamed at the end (see [the module above](super)). Every
//! event is flushed (written to the file) as it comes: a crash loses at
//! most a torn last line, which readers ignore. Events are few — a handful
//! per connection attempt, attempts paced by the backoff — so one file
//! per run stays small however long it runs.
//!
//! ## The records
//!
//! One JSON object per line and per subscription of the connection:
//!
//! ```text
//! {"at_ns":1764651600123000000,"conn":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","event":"covered"}
//! {"at_ns":1764651602500000000,"conn":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","event":"gap_start","cause":"reconnect","error_kind":"drop","error":"the connection dropped without a close frame"}
//! {"at_ns":1764651603100000000,"conn":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","event":"gap_end","cause":"resumed","gap_ns":612000000}
//! {"at_ns":1764651609000000000,"conn":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","event":"end","cause":"shutdown"}
//! ```
//!
//! | `event` | `cause` | meaning |
//! |---|---|---|
//! | `covered` | | quotes flow on the connection for the first time (`at_ns`: the first quote's `received_at`) |
//! | `gap_start` | `reconnect` (with `error_kind`, `error`), `renew` | the link failed (or was renewed): quotes may be missed from `at_ns` |
//! | `retry` | `reconnect` (with `error_kind`, `error`) | it failed again before quotes flowed again (the same gap) |
//! | `gap_end` | `resumed` (with `gap_ns`), `shutdown` | quotes flow again (`at_ns`: the `received_at` of the quote marked `after_gap`; the failure was `gap_ns` before it by the connector's clock), or the run stopped first |
//! | `end` | `shutdown`, `failed` (with `error_kind`, `error`) | the connection stopped on request, or gave up |
//!
//! `error_kind` is one of `drop`, `close`, `rate_limit`, `server_error`,
//! `stall`, `no_data`, `connect`, `refused`, `protocol`,
//! `session_restarted`, `fatal`; `error` is the failure in words
//! (escaped, at most 200 characters: it quotes the server). A connection
//! whose subscriptions were not told has one line per event without
//! `symbol` and `kind`.
//!
//! ## Delivery
//!
//! The events come from the collector through a lossless, ordered channel
//! ([`crate::links`]): nothing is dropped, and a slow disk makes the
//! collector — and so the connectors — wait.

use super::files::{PartialFile, date_and_time};
use super::{Files, RecordError, RecordSummary, WriterHandle};
use crate::links::{Failure, LinkChange, LinkEvent};
use mercury_core::{Clock, Subscription, SystemClock, Timestamp};
use serde::Serialize;
use std::path::PathBuf;
use tokio::sync::mpsc;

/// The bound of the ledger's channel, in events.
pub const LEDGER_CAPACITY: usize = 256;

/// The directory of the ledger under a recording's directory.
pub const LEDGER_DIR: &str = "ledger";

/// Where the ledger is written.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The recording's directory (the ledger goes to `DIR/ledger/…`).
    pub dir: PathBuf,
}

/// Starts the ledger's writer: its file is created now (named by the
/// current time); give the sender to the collector
/// ([`WatchLinks`](crate::WatchLinks)). It ends when the channel closes
/// ([`UnwatchLinks`](crate::UnwatchLinks)) or on [`WriterHandle::stop`].
pub fn start_ledger(
    config: LedgerConfig,
) -> Result<(mpsc::Sender<LinkEvent>, WriterHandle), RecordError> {
    let (start, _) = super::Rotation {
        period: std::time::Duration::from_secs(1),
        max_bytes: None,
    }
    .period_of(SystemClock.now());
    let (date, time) = date_and_time(start);
    let dir = config.dir.join(LEDGER_DIR).join(date);
    let file = PartialFile::create(&dir, &time, "jsonl", false, i128::MAX)?;
    let (sender, events) = mpsc::channel(LEDGER_CAPACITY);
    let ledger = LedgerFile {
        file: Some(file),
        line: Vec::with_capacity(512),
    };
    let handle = super::spawn("ledger", events, ledger, Vec::new())?;
    Ok((sender, handle))
}

struct LedgerFile {
    /// `None` once a write failed (it stays `.partial`).
    file: Option<PartialFile>,
    line: Vec<u8>,
}

impl Files<LinkEvent> for LedgerFile {
    fn write(&mut self, event: LinkEvent) -> Result<(), RecordError> {
        let Some(file) = self.file.as_mut() else {
            return Err(RecordError::Thread("ledger"));
        };
        self.line.clear();
        encode(&event, &mut self.line);
        file.push(&self.line);
        let flushed = file.flush();
        if flushed.is_err() {
            self.file = None;
        }
        flushed
    }

    fn tick(&mut self, _: Timestamp) -> Result<(), RecordError> {
        Ok(())
    }

    fn finish(self) -> Result<RecordSummary, RecordError> {
        let mut summary = RecordSummary::default();
        if let Some(file) = self.file {
            summary.records = file.records;
            summary.files.push(file.finish()?);
        }
        Ok(summary)
    }
}

/// One ledger line.
#[derive(Serialize, Default)]
struct Line<'a> {
    at_ns: i64,
    conn: u64,
    exchange: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_ns: Option<u64>,
}

/// Appends the lines of `event` (one per subscription) to `out`.
pub fn encode(event: &LinkEvent, out: &mut Vec<u8>) {
    let mut line = Line {
        at_ns: i64::try_from(event.at.unix_nanos()).unwrap_or(i64::MAX),
        conn: event.connection.0,
        exchange: event.exchange.as_str(),
        ..Line::default()
    };
    let failure = |line: &mut Line<'_>, cause, failure: &'_ Failure| {
        line.cause = Some(cause);
        line.error_kind = Some(failure.kind);
    };
    let mut error = None;
    line.event = match &event.change {
        LinkChange::Covered => "covered",
        LinkChange::GapStart(f) if f.kind == "renew" => {
            line.cause = Some("renew");
            "gap_start"
        }
        LinkChange::GapStart(f) => {
            failure(&mut line, "reconnect", f);
            error = Some(f.error.as_str());
            "gap_start"
        }
        LinkChange::Retry(f) => {
            failure(&mut line, "reconnect", f);
            error = Some(f.error.as_str());
            "retry"
        }
        LinkChange::GapEnd {
            by_shutdown: true, ..
        } => {
            line.cause = Some("shutdown");
            "gap_end"
        }
        LinkChange::GapEnd { gap, .. } => {
            line.cause = Some("resumed");
            line.gap_ns = Some(u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX));
            "gap_end"
        }
        LinkChange::End(None) => {
            line.cause = Some("shutdown");
            "end"
        }
        LinkChange::End(Some(f)) => {
            failure(&mut line, "failed", f);
            error = Some(f.error.as_str());
            "end"
        }
    };
    line.error = error;
    let mut one = |line: &Line<'_>| {
        // Serializing plain fields into a Vec cannot fail.
        if serde_json::to_writer(&mut *out, line).is_ok() {
            out.push(b'\n');
        }
    };
    if event.subscriptions.is_empty() {
        return one(&line);
    }
    for Subscription { symbol, kind, .. } in event.subscriptions.iter() {
        line.symbol = Some(symbol.as_str());
        line.kind = Some(kind.as_str());
        one(&line);
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
