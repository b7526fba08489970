//! Recording to files: the raw capture ([`raw`]) and normalized quotes
//! ([`quotes`]), each written by a thread of its own.
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
pub mod files;
pub mod ledger;
pub mod quotes;
pub mod raw;

pub use files::Rotation;

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
) -> Result<WriterHandle, RecordError> {
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
                        Some(item) => files.write(item)?,
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
        let _ = done_tx.send(result);
    };
    std::thread::Builder::new()
        .name(format!("mercury-{name}-writer"))
        .spawn(body)
        .map_err(|_| RecordError::Thread(name))?;
    Ok(WriterHandle {
        stop: Some(stop_tx),
        done: done_rx,
    })
}

/// The open files of a writer, by key, bounded by [`MAX_OPEN_FILES`].
#[derive(Debug)]
pub(crate) struct OpenFiles<K> {
    open: Vec<(K, files::PartialFile)>,
    summary: RecordSummary,
    rotation: Rotation,
}

impl<K: PartialEq> OpenFiles<K> {
    pub(crate) fn new(rotation: Rotation) -> Self {
        OpenFiles {
            open: Vec::new(),
            summary: RecordSummary::default(),
            rotation,
        }
    }

    /// Appends `line`, received at `at`, to `key`'s file, opening one
    /// with `create(period_start, period_end)` when there is none for this
    /// period or the last is full.
    pub(crate) fn write(
        &mut self,
        key: K,
        at: mercury_core::Timestamp,
        line: &[u8],
        create: impl FnOnce(i128, i128) -> Result<files::PartialFile, RecordError>,
    ) -> Result<(), RecordError> {
        let (start, end) = self.rotation.period_of(at);
        let found = self.open.iter().position(|(k, _)| *k == key);
        let stale = found.filter(|&i| {
            let file = &self.open[i].1;
            let full = self.rotation.max_bytes.is_some_and(|max| file.bytes >= max);
            file.period_end <= start || full
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
        file.push(line);
        if file.buffered() >= FLUSH_BYTES {
            let flushed = file.flush();
            self.fail_last_on(flushed)?;
        }
        Ok(())
    }

    /// Flushes every file; finishes those whose period ended by `now`.
    pub(crate) fn tick(&mut self, now: mercury_core::Timestamp) -> Result<(), RecordError> {
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i].1.period_end <= now.unix_nanos() {
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
        Ok(())
    }

    /// Finishes every open file; a file that fails stays `.partial`.
    pub(crate) fn finish_all(mut self) -> Result<RecordSummary, RecordError> {
        let mut first_error = None;
        for (_, file) in self.open.drain(..) {
            let records = file.records;
            match file.finish() {
                Ok(path) => {
                    self.summary.files.push(path);
                    self.summary.records += records;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(self.summary),
        }
    }

    fn finish_at(&mut self, i: usize) -> Result<(), RecordError> {
        let (_, file) = self.open.remove(i);
        let records = file.records;
        self.summary.files.push(file.finish()?);
        self.summary.records += records;
        Ok(())
    }

    fn fail_last_on(&mut self, result: Result<(), RecordError>) -> Result<(), RecordError> {
        if result.is_err() {
            self.open.pop();
        }
        result
    }
}
