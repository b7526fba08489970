//! Recording to files: the raw capture ([`raw`]) and normalized quotes
//! ([`quotes`]: JSON Lines, [`csv`], [`parquet`]), each written by a
//! thread of its own. [`read_parquet_rows`] and [`repair_parquet`] read
//! and repair Parquet files (for `collector audit`).
//!
//! ## Files
//!
//! Every file is written as `NAME.partial`; at rotation and at shutdown it
//! is flushed, fsynced and renamed to `NAME` (by a hard link, which never
//! replaces a file, then the `.partial` is removed). A name that exists —
//! finished, or a `.partial` left by a crash — is never reused: the new
//! file takes the first free `-1`, `-2`, … suffix, so a restart never
//! writes into an earlier file. Compressed files are a sequence of
//! independent zstd frames, one per flush (at least every
//! [`FLUSH_EVERY`], and whenever [`FLUSH_BYTES`] are buffered): a crash
//! loses at most what was not yet flushed, and `zstd -dc` reads the rest.
//!
//! ```text
//! DIR/raw/<exchange>/<YYYY-MM-DD>/<HHMMSS>.jsonl.zst           raw capture, one per exchange and period
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.jsonl   quotes (.jsonl.zst with compression)
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.csv     with --format csv (.csv.zst)
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.parquet with --format parquet
//! DIR/ledger/<YYYY-MM-DD>/<HHMMSS>.jsonl                      the coverage ledger, one per run ([`ledger`])
//! ```
//!
//! The date and time are the UTC start of the file's rotation period
//! ([`Rotation`], aligned on multiples of the period since the epoch:
//! hourly files start on the hour); a size rotation or a restart within a
//! period adds `-N`. A file's period is that of the receive time of the
//! records in it. A quiet file is finished within a second of its period's
//! end. Path components from the network (symbols) are escaped
//! ([`files::path_component`]).
//!
//! ## Delivery and errors
//!
//! Both writers are lossless: their channels are bounded, and a full one
//! makes the sender wait (the collector for quotes, the connectors for the
//! raw capture), which stops the connectors reading their sockets. A write
//! error (disk full, permission, a vanished directory) ends the writer: the
//! file it failed on stays `.partial` (never a half-written finished file),
//! every other file is finished, and [`WriterHandle::done`] answers the
//! error.

pub mod audit;
pub mod csv;
pub mod files;
pub mod ledger;
pub mod parquet;
mod parquet_read;
mod parquet_schema;
pub mod quotes;
pub mod raw;
pub mod stats;

pub use parquet_read::{ParquetRows, QuoteRow, RepairOutcome, read_parquet_rows, repair_parquet};

pub use files::Rotation;
pub use stats::{SinkSnapshot, SinkStats};

use mercury_core::{Clock, SystemClock};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Flush a file at least this often while it has something buffered.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Flush a file whenever this many bytes are buffered.
pub const FLUSH_BYTES: usize = 256 << 10;
/// At most this many files are open per writer; past it the least
/// recently written is finished.
pub const MAX_OPEN_FILES: usize = 256;
/// A writer thread takes at most this many items in a row before it
/// looks at its stop signal and its flush tick again.
const BATCH_MAX: usize = 1024;
/// Fewer items than this waiting: the writer sleeps [`GATHER`] first.
const BATCH_FEW: usize = 64;
/// How long a writer lets items gather after a small batch: one thread
/// wake-up per batch instead of one per item under a firehose (the
/// context switches were a quarter of `record`'s profile), far less than
/// a lossless channel of [`QUOTES_CAPACITY`](quotes::QUOTES_CAPACITY)
/// takes to fill at 1 M items/s (4 ms), and nothing next to
/// [`FLUSH_EVERY`].
const GATHER: Duration = Duration::from_millis(1);

/// Why recording stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A file operation failed.
    #[error("cannot {op} {}: {cause}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// To which file or directory.
        path: PathBuf,
        /// Why it failed.
        cause: std::io::Error,
    },
    /// Every `-N` suffix of a name is taken.
    #[error("no free file name for {}", .0.display())]
    NoFreeName(PathBuf),
    /// The writer's thread could not start or ended abnormally.
    #[error("the {0} writer stopped unexpectedly")]
    Thread(&'static str),
    /// A Parquet file could not be written or read.
    #[error("cannot {op} Parquet file {}: {cause}", path.display())]
    Parquet {
        /// What was being done.
        op: &'static str,
        /// To which file.
        path: PathBuf,
        /// Why it failed.
        cause: ::parquet::errors::ParquetError,
    },
    /// A file is not what it should be (not a quotes file of this
    /// schema, a damaged sidecar, …).
    #[error("{}: {why}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Quotes Parquet cannot hold exactly were left out of the Parquet
    /// files (every other format has them); see [`parquet`].
    #[error(
        "{count} quote(s) left out of the Parquet files: their price needs more than 18 decimal places or 38 digits, or a time is outside 1677–2262 (first: {first}); the other formats hold them"
    )]
    Unrepresentable {
        /// How many.
        count: u64,
        /// The first one, described.
        first: String,
    },
}

impl RecordError {
    fn io(op: &'static str, path: &Path, cause: std::io::Error) -> Self {
        RecordError::Io {
            op,
            path: path.to_owned(),
            cause,
        }
    }
}

/// What a writer wrote, once it has finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordSummary {
    /// The finished files, in the order they were finished.
    pub files: Vec<PathBuf>,
    /// Records written into them.
    pub records: u64,
}

/// A running writer thread.
#[derive(Debug)]
pub struct WriterHandle {
    stop: Option<oneshot::Sender<()>>,
    /// Answers once the writer has ended: what it wrote, or why it failed.
    pub done: oneshot::Receiver<Result<RecordSummary, RecordError>>,
    /// Its counters, one per sink it writes (e.g. one per quote format),
    /// published at every flush tick ([`stats`]).
    pub stats: Vec<SinkStats>,
}

impl WriterHandle {
    /// Asks the writer to write what its channel holds, finish every file
    /// and end (see [`done`](Self::done)).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a writer thread does with its items.
pub(crate) trait Files<T>: Send + 'static {
    /// Writes one item.
    fn write(&mut self, item: T) -> Result<(), RecordError>;
    /// Flushes what is due and finishes files whose period ended by `now`.
    fn tick(&mut self, now: mercury_core::Timestamp) -> Result<(), RecordError>;
    /// Finishes every open file that did not fail.
    fn finish(self) -> Result<RecordSummary, RecordError>;
}

/// Runs `files` on a thread of its own, fed by `items`, until `items`
/// closes or [`WriterHandle::stop`]; then finishes every file.
pub(crate) fn spawn<T: Send + 'static, F: Files<T>>(
    name: &'static str,
    mut items: mpsc::Receiver<T>,
    mut files: F,
    stats: Vec<SinkStats>,
) -> Result<WriterHandle, RecordError> {
    let shared = stats.clone();
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|_| RecordError::Thread(name))?;
    let body = move || {
        let clock = SystemClock;
        let result = runtime.block_on(async {
            let mut ticks = tokio::time::interval(FLUSH_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stop_rx => {
                        // What was sent before the stop is still written.
                        while let Ok(item) = items.try_recv() {
                            files.write(item)?;
                        }
                        return Ok(());
                    }
                    _ = ticks.tick() => files.tick(clock.now())?,
                    item = items.recv() => match item {
                        Some(item) => {
                            files.write(item)?;
                            let mut taken = 1;
                            while taken < BATCH_MAX
                                && let Ok(item) = items.try_recv()
                            {
                                files.write(item)?;
                                taken += 1;
                            }
                            // A trickle: let a batch gather, so that a
                            // firehose wakes this thread once per batch,
                            // not once per item.
                            if taken < BATCH_FEW {
                                tokio::time::sleep(GATHER).await;
                            }
                        }
                        None => return Ok(()),
                    },
                }
            }
        });
        // Close the channel first: senders see it at once, never wait on us.
        drop(items);
        let result = match result {
            Ok(()) => files.finish(),
            Err(error) => {
                let _ = files.finish();
                Err(error)
            }
        };
        for stats in &shared {
            match &result {
                Ok(_) => stats.ended(),
                Err(error) => stats.failed(error),
            }
        }
        let _ = done_tx.send(result);
    };
    std::thread::Builder::new()
        .name(format!("mercury-{name}-writer"))
        .spawn(body)
        .map_err(|_| RecordError::Thread(name))?;
    Ok(WriterHandle {
        stop: Some(stop_tx),
        done: done_rx,
        stats,
    })
}

/// A file a writer appends records to, as [`OpenFiles`] keeps it.
pub(crate) trait RecordFile: Sized {
    /// What one record is.
    type Record: ?Sized;
    /// Appends one record (flushing when enough is buffered).
    fn append(&mut self, record: &Self::Record) -> Result<(), RecordError>;
    /// Bytes of records in it so far (for [`Rotation::max_bytes`]).
    fn size(&self) -> u64;
    /// Records in it so far.
    fn records(&self) -> u64;
    /// The end of its period, in Unix nanoseconds.
    fn period_end(&self) -> i128;
    /// Writes out what is due.
    fn flush(&mut self) -> Result<(), RecordError>;
    /// Bytes written to disk so far (after compression).
    fn written(&self) -> u64;
    /// Finishes the file; returns its finished path and the bytes it holds
    /// on disk.
    fn finish(self) -> Result<(PathBuf, u64), RecordError>;
}

impl RecordFile for files::PartialFile {
    type Record = [u8];

    fn append(&mut self, record: &[u8]) -> Result<(), RecordError> {
        self.push(record);
        match self.buffered() >= FLUSH_BYTES {
            true => files::PartialFile::flush(self),
            false => Ok(()),
        }
    }

    fn size(&self) -> u64 {
        self.bytes
    }

    fn records(&self) -> u64 {
        self.records
    }

    fn period_end(&self) -> i128 {
        self.period_end
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        files::PartialFile::flush(self)
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn finish(self) -> Result<(PathBuf, u64), RecordError> {
        files::PartialFile::finish_counted(self)
    }
}

/// The open files of a writer, by key, bounded by [`MAX_OPEN_FILES`];
/// it publishes the writer's [`SinkStats`].
#[derive(Debug)]
pub(crate) struct OpenFiles<K, F = files::PartialFile> {
    open: Vec<(K, F)>,
    summary: RecordSummary,
    rotation: Rotation,
    stats: SinkStats,
    /// Counters of the files finished and of the writer so far.
    counters: SinkSnapshot,
}

impl<K: PartialEq, F: RecordFile> OpenFiles<K, F> {
    pub(crate) fn new(rotation: Rotation, stats: SinkStats) -> Self {
        let counters = stats.snapshot();
        OpenFiles {
            open: Vec::new(),
            summary: RecordSummary::default(),
            rotation,
            stats,
            counters,
        }
    }

    /// Appends `record`, received at `at`, to `key`'s file, opening one
    /// with `create(period_start, period_end)` when there is none for this
    /// period or the last is full.
    pub(crate) fn write(
        &mut self,
        key: K,
        at: mercury_core::Timestamp,
        record: &F::Record,
        create: impl FnOnce(i128, i128) -> Result<F, RecordError>,
    ) -> Result<(), RecordError> {
        let (start, end) = self.rotation.period_of(at);
        let found = self.open.iter().position(|(k, _)| *k == key);
        let stale = found.filter(|&i| {
            let file = &self.open[i].1;
            let full = self
                .rotation
                .max_bytes
                .is_some_and(|max| file.size() >= max);
            file.period_end() <= start || full
        });
        if let Some(i) = stale {
            self.finish_at(i)?;
        }
        let index = match found.filter(|_| stale.is_none()) {
            Some(i) => i,
            None => {
                if self.open.len() >= MAX_OPEN_FILES {
                    self.finish_at(0)?;
                }
                self.open.push((key, create(start, end)?));
                self.open.len() - 1
            }
        };
        // Most recently written last.
        let entry = self.open.remove(index);
        self.open.push(entry);
        let (_, file) = self.open.last_mut().ok_or(RecordError::Thread("file"))?;
        let appended = file.append(record);
        self.counters.records += 1;
        self.counters.last_received = Some(at);
        self.fail_last_on(appended)
    }

    /// Flushes every file; finishes those whose period ended by `now`.
    pub(crate) fn tick(&mut self, now: mercury_core::Timestamp) -> Result<(), RecordError> {
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i].1.period_end() <= now.unix_nanos() {
                self.finish_at(i)?;
                continue;
            }
            let flushed = self.open[i].1.flush();
            if let Err(error) = flushed {
                // Left `.partial`: what it holds may end in a torn write.
                self.open.remove(i);
                return Err(error);
            }
            i += 1;
        }
        self.publish();
        Ok(())
    }

    /// Publishes the counters: finished files plus what the open ones hold.
    fn publish(&mut self) {
        let mut snapshot = self.counters.clone();
        snapshot.files_open = self.open.len() as u64;
        snapshot.bytes += self.open.iter().map(|(_, f)| f.written()).sum::<u64>();
        // A write is a change in the bytes on disk, or a file finished.
        let last = self.stats.snapshot();
        if snapshot.bytes != last.bytes || snapshot.files_finished != last.files_finished {
            snapshot.last_write = Some(mercury_core::SystemClock.now());
        } else {
            snapshot.last_write = last.last_write;
        }
        self.stats.publish(snapshot);
    }

    /// Counts a finished file in.
    fn finished(&mut self, path: PathBuf, records: u64, written: u64) {
        self.summary.files.push(path);
        self.summary.records += records;
        self.counters.files_finished += 1;
        self.counters.bytes += written;
    }

    /// The open files, least recently written first.
    pub(crate) fn files_mut(&mut self) -> Vec<&mut F> {
        self.open.iter_mut().map(|(_, file)| file).collect()
    }

    /// Finishes every open file; a file that fails stays `.partial`.
    pub(crate) fn finish_all(mut self) -> Result<RecordSummary, RecordError> {
        let mut first_error = None;
        for (_, file) in std::mem::take(&mut self.open) {
            let records = file.records();
            match file.finish() {
                Ok((path, written)) => self.finished(path, records, written),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        self.publish();
        match first_error {
            Some(error) => Err(error),
            None => Ok(self.summary),
        }
    }

    fn finish_at(&mut self, i: usize) -> Result<(), RecordError> {
        let (_, file) = self.open.remove(i);
        let records = file.records();
        let (path, written) = file.finish()?;
        self.finished(path, records, written);
        self.publish();
        Ok(())
    }

    fn fail_last_on(&mut self, result: Result<(), RecordError>) -> Result<(), RecordError> {
        if result.is_err() {
            self.open.pop();
        }
        result
    }
}
