//! Normalized quotes as Parquet: one file per exchange, symbol, kind and
//! rotation period (`<HHMMSS>.parquet`), beside the JSON Lines and CSV
//! files of the same partition; written with the `parquet` crate's
//! low-level column writers (no arrow).
//!
//! ## Schema (version 1)
//!
//! ```text
//! message quote {
//!   REQUIRED INT64 seq;                                       Tick::seq
//!   REQUIRED INT64 conn;                                      the connection id
//!   REQUIRED INT64 conn_seq;                                  Tick::conn_seq
//!   REQUIRED BYTE_ARRAY exchange (STRING);                    dictionary-encoded
//!   REQUIRED BYTE_ARRAY symbol (STRING);                      dictionary-encoded
//!   REQUIRED BYTE_ARRAY kind (STRING);                        dictionary-encoded
//!   REQUIRED FIXED_LEN_BYTE_ARRAY (16) price (DECIMAL(38,18));
//!   OPTIONAL INT64 exchange_time (TIMESTAMP(NANOS,true));
//!   REQUIRED INT64 received_at (TIMESTAMP(NANOS,true));
//!   REQUIRED BOOLEAN after_gap;
//! }
//! ```
//!
//! Key-value metadata: `mercury.schema_version` = `"1"` and
//! `mercury.writer` = `mercury-collector <version>`. Pages are zstd
//! compressed; statistics are kept per column chunk, no page index.
//!
//! ## Exact prices, or none
//!
//! A price is rescaled to 18 decimal places by integer arithmetic. A price
//! that needs more than 18 places (e.g. `0.0000000000000000001`) or more
//! than 38 digits, or a time outside what INT64 nanoseconds hold (1677 to
//! 2262), is **refused, never rounded**: the quote is left out of the
//! Parquet file (the JSON Lines and CSV files still hold it), an `error!`
//! line names it (the first, then at most one a minute with the count),
//! the refusals are counted, and when the writer ends it answers
//! [`RecordError::Unrepresentable`] with the count: the run ends with exit
//! 1 and that `error:` line. Recording goes on meanwhile; nothing else is
//! lost.
//!
//! ## Row groups and memory
//!
//! Rows wait in memory (80 bytes each) until their row group is written:
//! at [`ROW_GROUP_ROWS`] rows (64 Ki, 5 MiB), when its first row is
//! [`ROW_GROUP_AGE`] old (60 s), when every open Parquet file together
//! holds [`BUFFERED_ROWS`] rows (256 Ki, 20 MiB: the fullest file
//! writes its group), at rotation and at shutdown — whichever comes first.
//! The footer is written at rotation and at shutdown (`.partial` → footer
//! → fsync → rename, like every file, see [the module above](super)).
//!
//! ## Crash safety
//!
//! A killed process leaves `NAME.parquet.partial` without a footer. After
//! each row group the writer writes out the data, then the footer the
//! file would have if it ended there into `NAME.parquet.partial.footer`
//! (under a temporary name, then renamed): 8 bytes, little-endian, the
//! length of the data it describes, then the footer itself (thrift
//! metadata, its length, `PAR1`). [`repair_parquet`](super::repair_parquet)
//! turns the pair into a finished file holding every complete row group.
//!
//! Like a JSON Lines flush, a row group survives the process's crash, not
//! a power cut: neither is fsynced until the file is finished (an fsync
//! per row group took 0.3–1.3 s on the test machine's shared disk and
//! stalled every connector meanwhile). After a power cut `repair_parquet`
//! reads every row back before it finishes a file, and refuses one it
//! cannot read.

pub use super::parquet_schema::{
    FOOTER_SUFFIX, PRICE_SCALE, SCHEMA, SCHEMA_VERSION, SCHEMA_VERSION_KEY, decimal_38_18,
    footer_path,
};

use super::files::{PartialFile, Rotation, quote_partition};
use super::parquet_schema::{footer_bytes, properties, schema, write_sidecar};
use super::{OpenFiles, RecordError, RecordFile, RecordSummary};
use crate::messages::Tick;
use ::parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int64Type,
};
use ::parquet::errors::ParquetError;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::types::Type;
use mercury_core::{ExchangeId, QuoteKind, Symbol, Timestamp};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A row group is written at this many rows.
pub const ROW_GROUP_ROWS: usize = 64 << 10;
/// … or when its first row is this old.
pub const ROW_GROUP_AGE: Duration = Duration::from_secs(60);
/// … or when the open Parquet files together hold this many rows.
pub const BUFFERED_ROWS: usize = 256 << 10;
/// The exchange, symbol and kind columns are written this many values
/// at a time (from one run of copies of the file's name).
const NAME_RUN: usize = 1024;
/// How often at most a refused quote is logged (after the first).
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

/// When row groups are cut (see the module docs); tests make them small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Rows per row group at most.
    pub row_group_rows: usize,
    /// Age of a row group's first row at most.
    pub row_group_age: Duration,
    /// Rows waiting in all open Parquet files together at most.
    pub buffered_rows: usize,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            row_group_rows: ROW_GROUP_ROWS,
            row_group_age: ROW_GROUP_AGE,
            buffered_rows: BUFFERED_ROWS,
        }
    }
}

/// One quote as the Parquet columns hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    seq: i64,
    conn: i64,
    conn_seq: i64,
    price: i128,
    exchange_time: Option<i64>,
    received_at: i64,
    after_gap: bool,
}

impl Row {
    /// The row of `tick`, or why Parquet cannot hold it exactly.
    fn of(tick: &Tick) -> Result<Row, &'static str> {
        let q = &tick.quote;
        let nanos = |t: Timestamp| i64::try_from(t.unix_nanos()).map_err(|_| "time out of range");
        let count = |n: u64| i64::try_from(n).map_err(|_| "number out of range");
        Ok(Row {
            seq: count(tick.seq)?,
            conn: count(tick.connection.0)?,
            conn_seq: count(tick.conn_seq)?,
            price: decimal_38_18(&q.price).ok_or("price not exact in DECIMAL(38,18)")?,
            exchange_time: q.exchange_time.map(nanos).transpose()?,
            received_at: nanos(q.received_at)?,
            after_gap: tick.after_gap,
        })
    }
}

/// One Parquet file being written. See the module docs.
pub(crate) struct ParquetFile {
    /// `None` once a write failed: the file stays `.partial`.
    writer: Option<SerializedFileWriter<PartialFile>>,
    schema: Arc<Type>,
    names: [ByteArray; 3],
    /// The rows of the next row group.
    waiting: Vec<Row>,
    first_waiting: Option<Instant>,
    options: ParquetOptions,
    partial: PathBuf,
    period_end: i128,
    records: u64,
}

impl std::fmt::Debug for ParquetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetFile")
            .field("partial", &self.partial)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl ParquetFile {
    fn create(
        file: PartialFile,
        names: [&str; 3],
        options: ParquetOptions,
    ) -> Result<Self, RecordError> {
        let partial = file.partial_path().to_owned();
        let period_end = file.period_end;
        let fail = |cause| RecordError::Parquet {
            op: "start",
            path: partial.clone(),
            cause,
        };
        let schema = schema().map_err(fail)?;
        let properties = Arc::new(properties().map_err(fail)?);
        let writer = SerializedFileWriter::new(file, schema.clone(), properties).map_err(fail)?;
        Ok(ParquetFile {
            writer: Some(writer),
            schema,
            names: names.map(ByteArray::from),
            waiting: Vec::new(),
            first_waiting: None,
            options,
            partial,
            period_end,
            records: 0,
        })
    }

    /// Rows waiting for their row group.
    fn rows_waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Writes the waiting rows as one row group, then its sidecar footer.
    fn write_row_group(&mut self) -> Result<(), RecordError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        // Taken: if anything fails, the file is never touched again.
        let mut writer = self.writer.take().ok_or_else(|| self.failed())?;
        let written = write_columns(&mut writer, &self.waiting, &self.names);
        self.waiting.clear();
        self.first_waiting = None;
        written.map_err(|e| self.parquet("write", e))?;
        writer
            .flush()
            .map_err(|e| RecordError::io("write", &self.partial, e))?;
        let footer = footer_bytes(
            &self.schema,
            writer.flushed_row_groups().to_vec(),
            writer.properties().created_by(),
        )
        .map_err(|e| self.parquet("encode the footer of", e))?;
        write_sidecar(&self.partial, writer.bytes_written() as u64, &footer)?;
        self.writer = Some(writer);
        Ok(())
    }

    fn parquet(&self, op: &'static str, cause: ParquetError) -> RecordError {
        RecordError::Parquet {
            op,
            path: self.partial.clone(),
            cause,
        }
    }

    fn failed(&self) -> RecordError {
        RecordError::Invalid {
            path: self.partial.clone(),
            why: "an earlier write failed; the file stays .partial".to_owned(),
        }
    }
}

/// Writes `rows` as one row group, column by column in schema order.
fn write_columns(
    writer: &mut SerializedFileWriter<PartialFile>,
    rows: &[Row],
    names: &[ByteArray; 3],
) -> Result<(), ParquetError> {
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut column) = group.next_column()? {
        let ints = |f: fn(&Row) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
        match index {
            0..=2 => {
                let pick: fn(&Row) -> i64 = match index {
                    0 => |r| r.seq,
                    1 => |r| r.conn,
                    _ => |r| r.conn_seq,
                };
                column
                    .typed::<Int64Type>()
                    .write_batch(&ints(pick), None, None)?;
            }
            3..=5 => {
                // The same name on every row: written from one short run
                // of copies, not a clone per row.
                let typed = column.typed::<ByteArrayType>();
                let run = vec![names[index - 3].clone(); rows.len().min(NAME_RUN)];
                let mut left = rows.len();
                while left > 0 {
                    let take = left.min(run.len());
                    typed.write_batch(&run[..take], None, None)?;
                    left -= take;
                }
            }
            6 => {
                // A buffer of its own per price: the column chunk's
                // statistics keep their min and max values (and so their
                // buffer) as long as the file is open.
                let prices: Vec<FixedLenByteArray> = rows
                    .iter()
                    .map(|r| FixedLenByteArray::from(r.price.to_be_bytes().to_vec()))
                    .collect();
                column
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(&prices, None, None)?;
            }
            7 => {
                let values: Vec<i64> = rows.iter().filter_map(|r| r.exchange_time).collect();
                let defined: Vec<i16> = rows
                    .iter()
                    .map(|r| i16::from(r.exchange_time.is_some()))
                    .collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, Some(&defined), None)?;
            }
            8 => {
                column
                    .typed::<Int64Type>()
                    .write_batch(&ints(|r| r.received_at), None, None)?;
            }
            _ => {
                let gaps: Vec<bool> = rows.iter().map(|r| r.after_gap).collect();
                column.typed::<BoolType>().write_batch(&gaps, None, None)?;
            }
        }
        column.close()?;
        index += 1;
    }
    group.close()?;
    Ok(())
}

impl RecordFile for ParquetFile {
    type Record = Row;

    fn append(&mut self, row: &Row) -> Result<(), RecordError> {
        self.waiting.push(*row);
        self.records += 1;
        self.first_waiting.get_or_insert_with(Instant::now);
        match self.rows_waiting() >= self.options.row_group_rows {
            true => self.write_row_group(),
            false => Ok(()),
        }
    }

    fn size(&self) -> u64 {
        let written = self.writer.as_ref().map_or(0, |w| w.bytes_written() as u64);
        written + (self.rows_waiting() * std::mem::size_of::<Row>()) as u64
    }

    fn records(&self) -> u64 {
        self.records
    }

    fn period_end(&self) -> i128 {
        self.period_end
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        let due = self
            .first_waiting
            .is_some_and(|t| t.elapsed() >= self.options.row_group_age);
        match due {
            true => self.write_row_group(),
            false => Ok(()),
        }
    }

    fn written(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.bytes_written() as u64)
    }

    fn finish(mut self) -> Result<(PathBuf, u64), RecordError> {
        self.write_row_group()?;
        let writer = self.writer.take().ok_or_else(|| self.failed())?;
        let file = writer
            .into_inner()
            .map_err(|e| self.parquet("write the footer of", e))?;
        let finished = file.finish()?;
        // The finished file has its footer: the sidecar is stale now.
        let sidecar = footer_path(&self.partial);
        if let Err(error) = std::fs::remove_file(&sidecar)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %sidecar.display(), %error, "cannot remove a stale footer sidecar");
        }
        let bytes = std::fs::metadata(&finished).map_or(0, |m| m.len());
        Ok((finished, bytes))
    }
}

type Key = (ExchangeId, Symbol, QuoteKind);

/// The Parquet side of the quote writer: open files, the row budget and
/// the refusals. See the module docs.
#[derive(Debug)]
pub(crate) struct ParquetFiles {
    dir: PathBuf,
    options: ParquetOptions,
    open: OpenFiles<Key, ParquetFile>,
    /// At least the rows waiting in all files (rows written since the
    /// last count): the files are counted only when it reaches the budget.
    waiting_at_most: usize,
    refused: u64,
    first_refused: Option<String>,
    last_refusal_log: Option<Instant>,
}

impl ParquetFiles {
    pub(crate) fn new(
        dir: PathBuf,
        rotation: Rotation,
        options: ParquetOptions,
        stats: super::SinkStats,
    ) -> Self {
        ParquetFiles {
            dir,
            options,
            open: OpenFiles::new(rotation, stats),
            waiting_at_most: 0,
            refused: 0,
            first_refused: None,
            last_refusal_log: None,
        }
    }

    pub(crate) fn write(&mut self, tick: &Tick) -> Result<(), RecordError> {
        let row = match Row::of(tick) {
            Ok(row) => row,
            Err(why) => {
                self.refuse(tick, why);
                return Ok(());
            }
        };
        let q = &tick.quote;
        let (root, options) = (&self.dir, self.options);
        let create = |start, end| {
            let (dir, time) = quote_partition(root, q, start);
            let file = PartialFile::create(&dir, &time, "parquet", false, end)?;
            let names = [q.exchange.as_str(), q.symbol.as_str(), q.kind.as_str()];
            ParquetFile::create(file, names, options)
        };
        let key = (q.exchange.clone(), q.symbol.clone(), q.kind);
        self.open.write(key, q.received_at, &row, create)?;
        self.keep_budget()
    }

    /// Past the budget of waiting rows, the fullest file writes its group.
    fn keep_budget(&mut self) -> Result<(), RecordError> {
        self.waiting_at_most += 1;
        if self.waiting_at_most < self.options.buffered_rows {
            return Ok(());
        }
        let files = self.open.files_mut();
        let waiting: usize = files.iter().map(|f| f.rows_waiting()).sum();
        self.waiting_at_most = waiting;
        if waiting < self.options.buffered_rows {
            return Ok(());
        }
        match files.into_iter().max_by_key(|f| f.rows_waiting()) {
            Some(fullest) => {
                self.waiting_at_most -= fullest.rows_waiting();
                fullest.write_row_group()
            }
            None => Ok(()),
        }
    }

    fn refuse(&mut self, tick: &Tick, why: &'static str) {
        self.refused += 1;
        let q = &tick.quote;
        let described = format!(
            "seq {} {} {} {} price {} ({why})",
            tick.seq,
            q.exchange,
            mercury_core::excerpt(q.symbol.as_str()),
            q.kind,
            q.price
        );
        let due = self
            .last_refusal_log
            .is_none_or(|t| t.elapsed() >= REFUSAL_LOG_EVERY);
        if due {
            self.last_refusal_log = Some(Instant::now());
            tracing::error!(
                refused = self.refused,
                "a quote is left out of the Parquet file (the other formats hold it): {described}"
            );
        }
        self.first_refused.get_or_insert(described);
    }

    pub(crate) fn tick(&mut self, now: Timestamp) -> Result<(), RecordError> {
        self.open.tick(now)
    }

    /// Finishes every file; then the refusals, if any, are the error.
    pub(crate) fn finish(self) -> Result<RecordSummary, RecordError> {
        let summary = self.open.finish_all()?;
        match self.first_refused {
            Some(first) => Err(RecordError::Unrepresentable {
                count: self.refused,
                first,
            }),
            None => Ok(summary),
        }
    }
}

#[cfg(test)]
#[path = "parquet_tests.rs"]
mod tests;
