//! Normalized quotes as JSON Lines: one file per exchange, symbol, kind
//! and rotation period, each line what `collector fetch --format json`
//! prints for the tick ([`Tick::write_json`]).
//!
//! ```text
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.jsonl       plain
//! DIR/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>/<HHMMSS>.jsonl.zst   with compression
//! ```
//!
//! The period is that of each quote's `received_at` (see [the module
//! above](super) for rotation, `.partial` files, flushing and errors).
//! Within a file, lines are in arrival order (`seq` increasing), so the
//! quotes of one connection are in wire order.
//!
//! The writer is fed by a lossless [`OpenStream`](crate::OpenStream): when
//! the disk is slow the collector waits, the connectors stop reading and
//! TCP slows the exchange; nothing is dropped.

use super::files::{PartialFile, Rotation, date_and_time, path_component};
use super::{Files, OpenFiles, RecordError, RecordSummary, SinkStats, WriterHandle};
use crate::messages::Tick;
use mercury_core::{ExchangeId, QuoteKind, Symbol, Timestamp};
use std::path::PathBuf;
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

/// Starts a writer of the ticks that arrive on `ticks` (e.g. a
/// [`TickStream`](crate::TickStream)'s); it ends when the channel closes
/// or on [`WriterHandle::stop`].
pub fn start_quotes(
    config: QuotesConfig,
    ticks: mpsc::Receiver<Tick>,
) -> Result<WriterHandle, RecordError> {
    let stats = SinkStats::new("quotes");
    let files = QuoteFiles {
        open: OpenFiles::new(config.rotation, stats.clone()),
        config,
        line: Vec::with_capacity(256),
    };
    super::spawn("quotes", ticks, files, stats)
}

struct QuoteFiles {
    config: QuotesConfig,
    open: OpenFiles<(ExchangeId, Symbol, QuoteKind)>,
    line: Vec<u8>,
}

impl Files<Tick> for QuoteFiles {
    fn write(&mut self, tick: Tick) -> Result<(), RecordError> {
        self.line.clear();
        // Writing into a Vec fails only if serialization does: never here.
        tick.write_json(&mut self.line)
            .map_err(|e| RecordError::io("encode a quote for", &self.config.dir, e))?;
        self.line.push(b'\n');
        let q = &tick.quote;
        let root = &self.config.dir;
        let (extension, compress) = match self.config.compress {
            true => ("jsonl.zst", true),
            false => ("jsonl", false),
        };
        let create = |start, end| {
            let (date, time) = date_and_time(start);
            let dir = root
                .join(path_component(q.exchange.as_str()))
                .join(path_component(q.symbol.as_str()))
                .join(q.kind.as_str())
                .join(date);
            PartialFile::create(&dir, &time, extension, compress, end)
        };
        let key = (q.exchange.clone(), q.symbol.clone(), q.kind);
        self.open.write(key, q.received_at, &self.line, create)
    }

    fn tick(&mut self, now: Timestamp) -> Result<(), RecordError> {
        self.open.tick(now)
    }

    fn finish(self) -> Result<RecordSummary, RecordError> {
        self.open.finish_all()
    }
}

#[cfg(test)]
#[path = "quotes_tests.rs"]
mod tests;
