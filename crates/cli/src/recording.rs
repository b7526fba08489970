//! Recording to files, wired once for `collector record` and
//! `collector serve --out`: the quote writer fed by a lossless
//! [`OpenStream`], the raw capture's sink handed to every connector, the
//! writers' statistics for the dashboard, and the shutdown order.
//!
//! A run that records goes: [`Recording::start`] (before the connectors,
//! so they get the raw sink and the stream sees the first quote), the
//! connectors, then wait for a signal or [`Recording::ended`], then stop
//! the connectors (their last raw records are written), then
//! [`Recording::finish`]: the stream ends after its last tick and both
//! writers finish every file (flush, fsync, rename). A writer that fails
//! (disk full, permission, a vanished directory) ends the run the same way,
//! and its error is the run's one `error:` line (exit 1). So does a
//! connection that fails for good (e.g. an unknown symbol): the stream
//! ends, then the quote writer.

use crate::UsageError;
use crate::args::FileArgs;
use crate::wiring::SourceOptions;
use actix::Addr;
use anyhow::Context as _;
use mercury_collector::record::ledger::{LedgerConfig, start_ledger};
use mercury_collector::record::parquet::ParquetOptions;
use mercury_collector::record::quotes::{
    QUOTES_CAPACITY, QuoteFormat, QuotesConfig, start_quotes_as,
};
use mercury_collector::record::raw::{RawConfig, start_raw};
use mercury_collector::record::{RecordError, RecordSummary, Rotation, SinkStats, WriterHandle};
use mercury_collector::{
    CancelFetches, Collector, OpenStream, StreamEnd, UnwatchLinks, WatchLinks,
};
use mercury_core::Subscription;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the writers may take to write what they hold and finish.
const FINISH_LIMIT: Duration = Duration::from_secs(60);
/// The quote formats when neither a flag nor the config file names one:
/// JSON Lines to read and grep, Parquet to analyse.
pub const DEFAULT_FORMATS: [QuoteFormat; 2] = [QuoteFormat::Jsonl, QuoteFormat::Parquet];
/// The rotation period when neither a flag nor the config file gives one.
pub const DEFAULT_ROTATE: Duration = Duration::from_secs(3600);

/// Where and how a run records, resolved from flags and config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSettings {
    /// The recording's directory.
    pub out: PathBuf,
    /// When files are finished.
    pub rotation: Rotation,
    /// zstd for the quote files.
    pub compress: bool,
    /// Whether the raw capture is written.
    pub raw: bool,
    /// The quote formats, written side by side.
    pub formats: Vec<QuoteFormat>,
    /// Rows per Parquet row group, if not the default (tests).
    pub parquet_row_group: Option<usize>,
}

impl RecordSettings {
    /// The settings of `files` (flags and file already merged), or `None`
    /// without an output directory; file options without one are refused.
    pub fn resolve(
        files: &FileArgs,
        formats: Option<Vec<String>>,
    ) -> Result<Option<RecordSettings>, UsageError> {
        let Some(out) = files.out.clone() else {
            let given = files.rotate.is_some()
                || files.rotate_size.is_some()
                || files.compress
                || files.no_raw;
            return match given {
                true => Err(UsageError(
                    "--rotate, --rotate-size, --compress and --no-raw need --out DIR (or [record] out in --config)".into(),
                )),
                false => Ok(None),
            };
        };
        // The flags win over the file; neither: the defaults.
        let formats = match (files.format.is_empty(), formats) {
            (false, _) => files.format.iter().map(|f| f.quote_format()).collect(),
            (true, Some(names)) => names
                .iter()
                .map(|name| quote_format(name))
                .collect::<Result<_, _>>()?,
            (true, None) => DEFAULT_FORMATS.to_vec(),
        };
        Ok(Some(RecordSettings {
            out,
            rotation: Rotation {
                period: files.rotate.unwrap_or(DEFAULT_ROTATE),
                max_bytes: files.rotate_size,
            },
            compress: files.compress,
            raw: !files.no_raw,
            formats,
            parquet_row_group: files.parquet_row_group,
        }))
    }
}

/// The writers of a run; see the module docs.
pub struct Recording {
    quotes: WriterHandle,
    raw: Option<WriterHandle>,
    /// The coverage ledger, fed by the collector's link events.
    ledger: WriterHandle,
    stream_end: oneshot::Receiver<StreamEnd>,
}

/// Which writer ended early, and how.
pub type Early = (&'static str, Result<RecordSummary, RecordError>);

impl Recording {
    /// Makes the directory, opens a lossless stream of `subscriptions`
    /// from `collector` into the quote writer, and starts the raw capture
    /// (its sink goes into `options`, for the connectors). Call before
    /// starting the connectors, inside the actix system.
    pub async fn start(
        settings: &RecordSettings,
        subscriptions: Vec<Subscription>,
        collector: &Addr<Collector>,
        options: &mut SourceOptions,
    ) -> anyhow::Result<Recording> {
        std::fs::create_dir_all(&settings.out)
            .with_context(|| format!("cannot create {}", settings.out.display()))?;
        let stream = collector
            .send(OpenStream {
                subscriptions,
                n: None,
                timeout: None,
                capacity: QUOTES_CAPACITY,
            })
            .await?;
        let quotes_config = QuotesConfig {
            dir: settings.out.clone(),
            rotation: settings.rotation,
            compress: settings.compress,
        };
        let mut parquet = ParquetOptions::default();
        if let Some(rows) = settings.parquet_row_group {
            parquet.row_group_rows = rows.max(1);
        }
        let quotes = start_quotes_as(quotes_config, &settings.formats, parquet, stream.ticks)?;
        // The coverage ledger: link events, lossless, from before the
        // first connection.
        let (links, ledger) = start_ledger(LedgerConfig {
            dir: settings.out.clone(),
        })?;
        collector.send(WatchLinks { sender: links }).await?;
        let raw = match settings.raw {
            false => None,
            true => {
                let config = RawConfig {
                    dir: settings.out.clone(),
                    rotation: settings.rotation,
                };
                let (sink, handle) = start_raw(config)?;
                options.raw = Some(sink);
                Some(handle)
            }
        };
        Ok(Recording {
            quotes,
            raw,
            ledger,
            stream_end: stream.end,
        })
    }

    /// The writers' statistics (raw first), for the dashboard.
    pub fn stats(&self) -> Vec<SinkStats> {
        let raw = self.raw.iter().flat_map(|r| r.stats.iter().cloned());
        raw.chain(self.quotes.stats.iter().cloned()).collect()
    }

    /// Resolves when a writer ends by itself (an error, or the stream
    /// ended because a connection failed for good); never otherwise.
    pub async fn ended(&mut self) -> Early {
        let raw_done = self.raw.as_mut().map(|r| &mut r.done);
        tokio::select! {
            result = &mut self.quotes.done => ("quotes", result.unwrap_or(Err(RecordError::Thread("quotes")))),
            result = maybe(raw_done) => ("raw", result),
            result = &mut self.ledger.done => ("ledger", result.unwrap_or(Err(RecordError::Thread("ledger")))),
        }
    }

    /// After the connectors have stopped: ends the stream, finishes both
    /// writers (bounded) and returns the run's error, if any: the first
    /// writer's failure, else why the stream ended early.
    pub async fn finish(
        mut self,
        early: Option<Early>,
        collector: &Addr<Collector>,
    ) -> anyhow::Result<()> {
        collector.do_send(CancelFetches);
        // After the connectors' last states: the ledger's channel closes.
        let _ = collector.send(UnwatchLinks).await;
        let early_name = early.as_ref().map(|(name, _)| *name);
        let mut results = Vec::new();
        if let Some((_, result)) = early {
            results.push(result);
        }
        if early_name != Some("quotes") {
            results.push(finish_writer(&mut self.quotes, false).await);
        }
        if let Some(raw) = self.raw.as_mut().filter(|_| early_name != Some("raw")) {
            results.push(finish_writer(raw, true).await);
        }
        if early_name != Some("ledger") {
            results.push(finish_writer(&mut self.ledger, false).await);
        }
        for result in results {
            result?;
        }
        if early_name.is_some()
            && let Ok(Err(error)) = self.stream_end.await
        {
            return Err(error.into());
        }
        Ok(())
    }
}

/// Waits (bounded) for a writer to finish; `stop`: ask it first (the quote
/// writer instead ends when its stream does, after the last tick).
pub(crate) async fn finish_writer(
    handle: &mut WriterHandle,
    stop: bool,
) -> Result<RecordSummary, RecordError> {
    if stop {
        handle.stop();
    }
    match actix_rt::time::timeout(FINISH_LIMIT, &mut handle.done).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(RecordError::Thread("file")),
        Err(_) => {
            handle.stop();
            (&mut handle.done)
                .await
                .unwrap_or(Err(RecordError::Thread("file")))
        }
    }
}

/// A writer's answer, or never if there is no such writer.
async fn maybe(
    done: Option<&mut oneshot::Receiver<Result<RecordSummary, RecordError>>>,
) -> Result<RecordSummary, RecordError> {
    match done {
        Some(done) => done.await.unwrap_or(Err(RecordError::Thread("raw"))),
        None => std::future::pending().await,
    }
}

/// A format named in the config file (already checked against
/// [`RECORD_FORMATS`](crate::config::RECORD_FORMATS)).
fn quote_format(name: &str) -> Result<QuoteFormat, UsageError> {
    match name {
        "jsonl" => Ok(QuoteFormat::Jsonl),
        "csv" => Ok(QuoteFormat::Csv),
        "parquet" => Ok(QuoteFormat::Parquet),
        other => Err(UsageError(format!("formats: {other:?} is not a format"))),
    }
}
