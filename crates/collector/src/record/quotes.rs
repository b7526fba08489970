//! Normalized quotes as JSON Lines, CSV ([`csv`](super::csv)) and Parquet
//! ([`parquet`](super::parquet)), side by side: one file per format,
//! exchange, symbol, kind and rotation period. A JSON Lines line is what
//! `collector fetch --format json` prints for the tick ([`Tick::write_json`]).
//!
//! ```text
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.jsonl       plain
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.jsonl.zst   with compression
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.csv         (.csv.zst with compression)
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.parquet     zstd inside, always
//! ```
//!
//! One writer thread writes every format from one lossless stream, each
//! tick to each format in turn, so the formats hold the same quotes (but
//! for prices Parquet refuses, see [`parquet`](super::parquet)); each
//! format rotates its files on its own (a size limit counts each format's
//! bytes).
//!
//! The period is that of each quote's `received_at` (see [the module
//! above](super) for rotation, `.partial` files, flushing and errors).
//! Within a file, lines are in arrival order (`seq` increasing), so the
//! quotes of one connection are in wire order.
//!
//! The writer is fed by a lossless [`OpenStream`](crate::OpenStream): when
//! the disk is slow the collector waits, the connectors stop reading and
//! TCP slows the exchange; nothing is dropped.

use super::csv::CSV_HEADER;
use super::files::{PartialFile, Rotation, quote_partition};
use super::parquet::{ParquetFiles, ParquetOptions};
use super::{Files, OpenFiles, RecordError, RecordSummary, SinkStats, WriterHandle};
use crate::messages::Tick;
use crate::quote_text::QuoteText;
use mercury_core::{ExchangeId, QuoteKind, Symbol, Timestamp};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// The bound of a quote writer's stream, in ticks (what
/// [`OpenStream::capacity`](crate::OpenStream) should be).
pub const QUOTES_CAPACITY: usize = 4096;

/// Where and how quotes are written.
#[derive(Debug, Clone)]
pub struct QuotesConfig {
    /// The recording's directory.
    pub dir: PathBuf,
    /// When files are finished.
    pub rotation: Rotation,
    /// zstd (`.jsonl.zst`, one frame per flush) instead of plain `.jsonl`.
    pub compress: bool,
}

/// A file format of normalized quotes (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuoteFormat {
    /// JSON Lines (`.jsonl`, `.jsonl.zst` compressed).
    Jsonl,
    /// CSV with a header line (`.csv`, `.csv.zst` compressed).
    Csv,
    /// Parquet (`.parquet`, zstd inside).
    Parquet,
}

/// Starts a JSON Lines writer of the ticks that arrive on `ticks` (e.g. a
/// [`TickStream`](crate::TickStream)'s); it ends when the channel closes
/// or on [`WriterHandle::stop`].
pub fn start_quotes(
    config: QuotesConfig,
    ticks: mpsc::Receiver<Tick>,
) -> Result<WriterHandle, RecordError> {
    start_quotes_as(
        config,
        &[QuoteFormat::Jsonl],
        ParquetOptions::default(),
        ticks,
    )
}

/// Like [`start_quotes`], writing each of `formats` side by side (none
/// given: JSON Lines); `parquet` sets Parquet's row groups.
pub fn start_quotes_as(
    config: QuotesConfig,
    formats: &[QuoteFormat],
    parquet: ParquetOptions,
    ticks: mpsc::Receiver<Tick>,
) -> Result<WriterHandle, RecordError> {
    let wants =
        |format| formats.is_empty() && format == QuoteFormat::Jsonl || formats.contains(&format);
    // One sink per format, named after it (the dashboard's rows).
    let mut stats = Vec::new();
    let mut sink = |name| {
        let sink = SinkStats::new(name);
        stats.push(sink.clone());
        sink
    };
    let rotation = config.rotation;
    let files = QuoteFiles {
        jsonl: wants(QuoteFormat::Jsonl).then(|| OpenFiles::new(rotation, sink("jsonl"))),
        csv: wants(QuoteFormat::Csv).then(|| OpenFiles::new(rotation, sink("csv"))),
        parquet: wants(QuoteFormat::Parquet).then(|| {
            let stats = sink("parquet");
            ParquetFiles::new(config.dir.clone(), rotation, parquet, stats)
        }),
        config,
        line: Vec::with_capacity(256),
        text: QuoteText::new(),
    };
    super::spawn("quotes", ticks, files, stats)
}

type Key = (ExchangeId, Symbol, QuoteKind);

struct QuoteFiles {
    config: QuotesConfig,
    jsonl: Option<OpenFiles<Key>>,
    csv: Option<OpenFiles<Key>>,
    parquet: Option<ParquetFiles>,
    line: Vec<u8>,
    /// The text of the last second of each time column, kept across lines.
    text: QuoteText,
}

/// Appends `line` to the text file of `tick`'s partition in `open`.
fn write_text(
    open: &mut OpenFiles<Key>,
    root: &Path,
    tick: &Tick,
    line: &[u8],
    (extension, compress, header): (&str, bool, Option<&str>),
) -> Result<(), RecordError> {
    let q = &tick.quote;
    let create = |start, end| {
        let (dir, time) = quote_partition(root, q, start);
        let mut file = PartialFile::create(&dir, &time, extension, compress, end)?;
        if let Some(header) = header {
            file.push(header.as_bytes());
            // The header is not a record.
            file.records = 0;
        }
        Ok(file)
    };
    let key = (q.exchange.clone(), q.symbol.clone(), q.kind);
    open.write(key, q.received_at, line, create)
}

impl Files<Tick> for QuoteFiles {
    fn write(&mut self, tick: Tick) -> Result<(), RecordError> {
        let (root, compress) = (&self.config.dir, self.config.compress);
        // Writing into a Vec fails only if serialization does: never here.
        let encoded = |e| RecordError::io("encode a quote for", root, e);
        if let Some(open) = &mut self.jsonl {
            self.line.clear();
            self.text.json(&mut self.line, &tick).map_err(encoded)?;
            self.line.push(b'\n');
            let extension = if compress { "jsonl.zst" } else { "jsonl" };
            write_text(open, root, &tick, &self.line, (extension, compress, None))?;
        }
        if let Some(open) = &mut self.csv {
            self.line.clear();
            self.text.record_csv(&mut self.line, &tick);
            let extension = if compress { "csv.zst" } else { "csv" };
            let how = (extension, compress, Some(CSV_HEADER));
            write_text(open, root, &tick, &self.line, how)?;
        }
        match &mut self.parquet {
            Some(parquet) => parquet.write(&tick),
            None => Ok(()),
        }
    }

    fn tick(&mut self, now: Timestamp) -> Result<(), RecordError> {
        for open in [&mut self.jsonl, &mut self.csv].into_iter().flatten() {
            open.tick(now)?;
        }
        match &mut self.parquet {
            Some(parquet) => parquet.tick(now),
            None => Ok(()),
        }
    }

    /// Finishes every format's files (all of them, even after an error);
    /// the first error is the answer.
    fn finish(self) -> Result<RecordSummary, RecordError> {
        let mut summary = RecordSummary::default();
        let mut first_error = None;
        let results = [
            self.jsonl.map(OpenFiles::finish_all),
            self.csv.map(OpenFiles::finish_all),
            self.parquet.map(ParquetFiles::finish),
        ];
        for result in results.into_iter().flatten() {
            match result {
                Ok(part) => {
                    summary.files.extend(part.files);
                    summary.records += part.records;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }
}

#[cfg(test)]
#[path = "quotes_tests.rs"]
mod tests;
