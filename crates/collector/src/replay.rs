//! Replaying a raw capture (`collector replay`): the frames that
//! `collector record` captured go through the same sessions and the same
//! [`Collector`](crate::Collector) as live, so what comes out — `seq`,
//! `received_at`, `after_gap` included — is what the live run produced.
//!
//! ## How
//!
//! - A reader thread streams the files ([`reader`]: zstd or plain,
//!   finished or `.partial`; a torn tail is reported and skipped) and
//!   merges them by `at_ns` ([`merge`]: a heap over one cursor per file;
//!   ties to the file given first). It hands records to the replay in
//!   batches over a bounded channel ([`BATCHES`] × [`BATCH`] records):
//!   memory is bounded whatever the files' sizes, and blocking file I/O
//!   stays off the actors' thread.
//! - Each recorded connection (`exchange`, `conn`) gets a replay
//!   connection (`connection.rs`), which plays the live connector's part:
//!   a fresh session of the exchange's [`Decoder`](mercury_core::Decoder)
//!   at each `connecting`, each `recv` decoded at its recorded `at_ns` (the
//!   live `received_at`), the plan's recorded subscriptions as the filter,
//!   and the gap rule of the connector's link. Its batches go to the
//!   collector as [`ConnectorOutput::Quotes`], one per frame, in merge
//!   order — the order the live collector received them (see
//!   `record/raw.rs`, *Order*) — so the collector numbers them alike.
//! - [`Speed`]: `Max` sends as fast as the collector takes (lossless: past
//!   [`DEFAULT_MAX_IN_FLIGHT`](crate::DEFAULT_MAX_IN_FLIGHT) unhandled
//!   batches the replay waits for it); `Times(n)` sleeps to keep the
//!   recorded intervals divided by `n`, each pause at most [`MAX_PAUSE`].
//!
//! A connection that ends (`stopped`, `failed`) is forgotten: the same
//! `conn` in a later capture (another run) starts afresh. Replay a
//! connection from its start (every file of the run): a session that has
//! not seen its snapshot reports nothing until the next one, as live.

mod connection;
pub mod merge;
pub mod reader;

use crate::messages::{ConnectionId, ConnectorOutput, InFlight};
use actix::Recipient;
use connection::ReplayConnection;
use mercury_core::Exchange;
use merge::Merge;
use reader::{FileReport, RawFileReader, ReplayRecord};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::warn;

/// Records per batch from the reader thread.
pub const BATCH: usize = 1024;
/// Batches waiting between the reader thread and the replay.
pub const BATCHES: usize = 8;
/// The longest pause of a paced replay (a recording's quiet hour is not
/// waited out).
pub const MAX_PAUSE: Duration = Duration::from_secs(10);

/// How fast to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    /// As fast as the collector takes it.
    Max,
    /// The recorded pace, this many times faster (1: as recorded).
    Times(u32),
}

/// What to replay.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// The raw capture files, merged by receive time (ties: earlier in
    /// this list first).
    pub files: Vec<PathBuf>,
    /// How fast.
    pub speed: Speed,
    /// The exchanges whose frames can be decoded (by id); records of
    /// others are skipped, counted.
    pub exchanges: Vec<&'static dyn Exchange>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// A file could not be opened.
    #[error("cannot read {}: {cause}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The reader thread could not start or ended abnormally.
    #[error("the replay's reader stopped unexpectedly")]
    Reader,
    /// The collector is gone.
    #[error("the collector stopped during the replay")]
    CollectorGone,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Each file: records, lines skipped, a torn tail.
    pub files: Vec<FileReport>,
    /// Frames received in the capture.
    pub frames: u64,
    /// Quotes sent to the collector.
    pub quotes: u64,
    /// Frames that counted for nothing (after a Close or a stop, or not
    /// decodable), as live.
    pub ignored_frames: u64,
    /// Records of an exchange not in [`ReplayConfig::exchanges`].
    pub unknown_exchange: u64,
}

/// What the reader thread sends.
enum FromReader {
    Records(Vec<ReplayRecord>),
    Done(Vec<FileReport>),
}

/// Replays `config.files` into `output` (a collector); see the module
/// docs. Ends after the last record has been sent.
pub async fn replay(
    config: ReplayConfig,
    output: Recipient<ConnectorOutput>,
) -> Result<ReplaySummary, ReplayError> {
    let mut readers = Vec::with_capacity(config.files.len());
    for path in &config.files {
        let reader = RawFileReader::open(path).map_err(|cause| ReplayError::Open {
            path: path.clone(),
            cause,
        })?;
        readers.push(reader);
    }
    let mut records = start_reader(readers)?;
    let mut player = Player::new(&config, output);
    while let Some(message) = records.recv().await {
        match message {
            FromReader::Records(batch) => {
                for record in batch {
                    player.play(record).await?;
                }
            }
            FromReader::Done(files) => {
                player.summary.files = files;
                return Ok(player.finish());
            }
        }
    }
    Err(ReplayError::Reader)
}

/// Reads and merges the files on a thread of its own.
fn start_reader(readers: Vec<RawFileReader>) -> Result<mpsc::Receiver<FromReader>, ReplayError> {
    let (sender, receiver) = mpsc::channel(BATCHES);
    let body = move || {
        let mut merge = Merge::new(readers);
        loop {
            let batch: Vec<ReplayRecord> = merge.by_ref().take(BATCH).collect();
            let last = batch.len() < BATCH;
            if !batch.is_empty() && sender.blocking_send(FromReader::Records(batch)).is_err() {
                return; // the replay was dropped
            }
            if last {
                let _ = sender.blocking_send(FromReader::Done(merge.reports()));
                return;
            }
        }
    };
    std::thread::Builder::new()
        .name("mercury-replay-reader".into())
        .spawn(body)
        .map_err(|_| ReplayError::Reader)?;
    Ok(receiver)
}

/// One recorded connection being played.
struct Played {
    exchange: Arc<str>,
    conn: u64,
    id: ConnectionId,
    connection: ReplayConnection,
}

/// The replay's side: connections, pacing, sending.
struct Player {
    exchanges: Vec<&'static dyn Exchange>,
    speed: Speed,
    output: Recipient<ConnectorOutput>,
    /// By (exchange, recorded conn): few, so a list (no key to allocate).
    connections: Vec<Played>,
    in_flight: Arc<AtomicUsize>,
    /// Pacing: the last record's time and when it was due.
    pace: Option<(i64, Instant)>,
    summary: ReplaySummary,
    ignored_of_closed: u64,
}

impl Player {
    fn new(config: &ReplayConfig, output: Recipient<ConnectorOutput>) -> Self {
        Player {
            exchanges: config.exchanges.clone(),
            speed: config.speed,
            output,
            connections: Vec::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            pace: None,
            summary: ReplaySummary::default(),
            ignored_of_closed: 0,
        }
    }

    async fn play(&mut self, record: ReplayRecord) -> Result<(), ReplayError> {
        if let Speed::Times(n) = self.speed {
            self.wait_for(record.at_ns, n).await;
        }
        if record.event == mercury_core::raw_line::RawLineEvent::Recv {
            self.summary.frames += 1;
        }
        let found = (self.connections.iter())
            .position(|p| p.conn == record.conn && *p.exchange == *record.exchange);
        let at = match found {
            Some(at) => at,
            None => {
                let Some(exchange) = self.exchange(&record.exchange) else {
                    self.summary.unknown_exchange += 1;
                    return Ok(());
                };
                self.connections.push(Played {
                    exchange: record.exchange.clone(),
                    conn: record.conn,
                    id: ConnectionId::next(),
                    connection: ReplayConnection::new(exchange),
                });
                self.connections.len() - 1
            }
        };
        let played = &mut self.connections[at];
        let id = played.id;
        let batch = played.connection.play(&record);
        if matches!(
            record.event,
            mercury_core::raw_line::RawLineEvent::Stopped
                | mercury_core::raw_line::RawLineEvent::Failed
        ) {
            let ended = self.connections.swap_remove(at);
            self.ignored_of_closed += ended.connection.ignored;
        }
        let Some(batch) = batch else { return Ok(()) };
        self.summary.quotes += batch.quotes.len() as u64;
        let message = ConnectorOutput::Quotes {
            connection: id,
            quotes: batch.quotes,
            gap: batch.gap,
            in_flight: InFlight::new(&self.in_flight),
        };
        if self.in_flight.load(Ordering::Acquire) <= crate::DEFAULT_MAX_IN_FLIGHT {
            self.output.do_send(message);
        } else {
            // Lossless: wait for the collector (which waits for its sinks).
            (self.output.send(message).await).map_err(|_| ReplayError::CollectorGone)?;
        }
        Ok(())
    }

    fn exchange(&self, id: &str) -> Option<&'static dyn Exchange> {
        let found = self.exchanges.iter().find(|e| e.id().as_str() == id);
        if found.is_none() && self.summary.unknown_exchange == 0 {
            warn!(exchange = %mercury_core::excerpt(id), "skipping the records of an exchange this program does not know");
        }
        found.copied()
    }

    /// Sleeps until `at_ns` is due at `n` times the recorded pace.
    async fn wait_for(&mut self, at_ns: i64, n: u32) {
        let now = Instant::now();
        let due = due_at(self.pace, at_ns, n, now);
        self.pace = Some((at_ns, due));
        if due > now {
            tokio::time::sleep_until(due).await;
        }
    }

    fn finish(mut self) -> ReplaySummary {
        let live: u64 = self.connections.iter().map(|p| p.connection.ignored).sum();
        self.summary.ignored_frames = self.ignored_of_closed + live;
        self.summary
    }
}

/// When a record of `at_ns` is due at `n` times the recorded pace, after
/// the last record (its time and when it was due; the first is due `now`):
/// the recorded interval divided by `n`, at most [`MAX_PAUSE`], never
/// negative (a record earlier than the last is due at once).
fn due_at(last: Option<(i64, Instant)>, at_ns: i64, n: u32, now: Instant) -> Instant {
    match last {
        None => now,
        Some((last_ns, last_due)) => {
            let nanos = u64::try_from(at_ns.saturating_sub(last_ns)).unwrap_or(0);
            last_due + (Duration::from_nanos(nanos) / n.max(1)).min(MAX_PAUSE)
        }
    }
}

#[cfg(test)]
#[path = "replay/tests.rs"]
mod tests;
