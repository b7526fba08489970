//! Reading quotes Parquet files back, and repairing a crashed one: the
//! public API `collector audit` uses.
//!
//! - [`read_parquet_rows`] opens a finished file (or a repaired one),
//!   checks that it is a quotes file of [schema version
//!   1](super::parquet), and iterates its rows as [`QuoteRow`]s, one row
//!   group in memory at a time. [`ParquetRows::rows_in_footer`] gives the
//!   count without reading a row.
//! - [`repair_parquet`] turns `NAME.parquet.partial` (left by a killed
//!   process, without a footer) and its sidecar `NAME.parquet.partial.footer`
//!   into a finished `NAME.parquet` (or the next free `NAME-N.parquet`,
//!   never replacing a file) holding every complete row group; what
//!   followed the last one is dropped (and counted). Without a sidecar (no
//!   row group was complete) the finished file holds no rows. The repaired
//!   file is built under `NAME.parquet.repairing`, read back, fsynced and
//!   renamed; only then are the `.partial` and its sidecar removed.
//!
//! Files are untrusted input: every failure is a [`RecordError`].

use super::RecordError;
use super::files::{PARTIAL, rename_to_free_name};
use super::parquet_schema::{
    SCHEMA_VERSION, SCHEMA_VERSION_KEY, footer_bytes, footer_path, schema,
};
use ::parquet::data_type::Decimal;
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::reader::RowIter;
use ::parquet::record::{Field, Row};
use mercury_core::{Price, Timestamp};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The columns a quotes file has, in order.
const COLUMNS: [&str; 10] = [
    "seq",
    "conn",
    "conn_seq",
    "exchange",
    "symbol",
    "kind",
    "price",
    "exchange_time",
    "received_at",
    "after_gap",
];
/// A sidecar larger than this is not ours.
const MAX_SIDECAR: u64 = 64 << 20;

/// One quote as a Parquet quotes file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRow {
    /// `Tick::seq`.
    pub seq: u64,
    /// The connection id.
    pub conn: u64,
    /// `Tick::conn_seq`.
    pub conn_seq: u64,
    /// The exchange's name.
    pub exchange: String,
    /// The symbol, as the exchange wrote it.
    pub symbol: String,
    /// The quote kind's name (`fair`, `mark`, …).
    pub kind: String,
    /// The exact price (equal by value to the one received).
    pub price: Price,
    /// The exchange's time, if it sent one.
    pub exchange_time: Option<Timestamp>,
    /// When the frame was received.
    pub received_at: Timestamp,
    /// The first quote of its connection after a reconnect.
    pub after_gap: bool,
}

/// The rows of one quotes file, in file order. See the module docs.
pub struct ParquetRows {
    path: PathBuf,
    rows_in_footer: u64,
    rows: RowIter<'static>,
}

impl std::fmt::Debug for ParquetRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetRows")
            .field("path", &self.path)
            .field("rows_in_footer", &self.rows_in_footer)
            .finish_non_exhaustive()
    }
}

impl ParquetRows {
    /// How many rows the footer says the file holds.
    pub fn rows_in_footer(&self) -> u64 {
        self.rows_in_footer
    }
}

impl Iterator for ParquetRows {
    type Item = Result<QuoteRow, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = self.rows.next()?;
        Some(match row {
            Ok(row) => quote_row(row).map_err(|why| invalid(&self.path, why)),
            Err(cause) => Err(parquet_error("read", &self.path, cause)),
        })
    }
}

/// Opens a quotes Parquet file and checks its schema; see the module docs.
pub fn read_parquet_rows(path: &Path) -> Result<ParquetRows, RecordError> {
    let file = File::open(path).map_err(|e| RecordError::io("open", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| parquet_error("open", path, e))?;
    let metadata = reader.metadata().file_metadata();
    let version = metadata
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|kv| kv.key == SCHEMA_VERSION_KEY))
        .and_then(|kv| kv.value.as_deref());
    if version != Some(SCHEMA_VERSION) {
        let why = format!("not a quotes file of schema version {SCHEMA_VERSION}");
        return Err(invalid(path, why));
    }
    let columns: Vec<&str> = metadata
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    if columns != COLUMNS {
        return Err(invalid(path, format!("unexpected columns {columns:?}")));
    }
    let rows_in_footer = u64::try_from(metadata.num_rows()).unwrap_or(0);
    Ok(ParquetRows {
        path: path.to_owned(),
        rows_in_footer,
        rows: RowIter::from_file_into(Box::new(reader)),
    })
}

fn quote_row(row: Row) -> Result<QuoteRow, String> {
    let mut fields = row.into_columns().into_iter().map(|(_, field)| field);
    let mut next = || fields.next().ok_or_else(|| "a row is short".to_owned());
    let count = |field: Field| match field {
        Field::Long(n) => u64::try_from(n).map_err(|_| format!("negative number {n}")),
        other => Err(format!("expected a number, found {other}")),
    };
    let text = |field: Field| match field {
        Field::Str(text) => Ok(text),
        other => Err(format!("expected text, found {other}")),
    };
    let time = |field: Field| match field {
        Field::Long(nanos) => Ok(Some(Timestamp::from_unix_nanos(i128::from(nanos)))),
        Field::Null => Ok(None),
        other => Err(format!("expected a time, found {other}")),
    };
    Ok(QuoteRow {
        seq: count(next()?)?,
        conn: count(next()?)?,
        conn_seq: count(next()?)?,
        exchange: text(next()?)?,
        symbol: text(next()?)?,
        kind: text(next()?)?,
        price: price(next()?)?,
        exchange_time: time(next()?)?,
        received_at: time(next()?)?.ok_or("received_at is null")?,
        after_gap: match next()? {
            Field::Bool(value) => value,
            other => return Err(format!("expected a boolean, found {other}")),
        },
    })
}

/// A DECIMAL(38, 18) as an exact [`Price`], through its decimal text.
fn price(field: Field) -> Result<Price, String> {
    let Field::Decimal(Decimal::Bytes { value, scale, .. }) = field else {
        return Err(format!("expected a decimal, found {field}"));
    };
    let bytes: [u8; 16] = value
        .data()
        .try_into()
        .map_err(|_| "a price is not 16 bytes".to_owned())?;
    let unscaled = i128::from_be_bytes(bytes);
    let scale = usize::try_from(scale).map_err(|_| "a negative scale")?;
    let digits = format!("{:0>width$}", unscaled.unsigned_abs(), width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    let text = format!("{sign}{whole}.{fraction}");
    let exact: Price = text
        .parse()
        .map_err(|_| format!("price {text} out of range"))?;
    Ok(Price::from_decimal(exact.as_decimal().normalize()))
}

/// What [`repair_parquet`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairOutcome {
    /// The finished file.
    pub finished: PathBuf,
    /// Rows it holds.
    pub rows: u64,
    /// Row groups it holds.
    pub row_groups: usize,
    /// Bytes of the `.partial` after the last complete row group, dropped.
    pub dropped_bytes: u64,
}

/// Finishes a crashed `NAME.parquet.partial`; see the module docs.
pub fn repair_parquet(partial: &Path) -> Result<RepairOutcome, RecordError> {
    let name = partial.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(stem) = name.strip_suffix(&format!(".parquet.{PARTIAL}")) else {
        return Err(invalid(partial, "not a NAME.parquet.partial file".into()));
    };
    let dir = partial.parent().unwrap_or(Path::new("."));
    let mut source = File::open(partial).map_err(|e| RecordError::io("open", partial, e))?;
    let length = source
        .metadata()
        .map_err(|e| RecordError::io("read", partial, e))?
        .len();
    let sidecar = footer_path(partial);
    let (data_len, footer) = match read_sidecar(&sidecar)? {
        Some(found) => found,
        // No row group was ever complete: a file of no rows.
        None => (4, empty_footer(partial)?),
    };
    if data_len < 4 || data_len > length {
        let why = format!("the sidecar describes {data_len} bytes, the file has {length}");
        return Err(invalid(partial, why));
    }
    // Our own scratch name: one left by an interrupted repair goes.
    let repairing = dir.join(format!("{stem}.parquet.repairing"));
    let _ = fs::remove_file(&repairing);
    let result = build(&mut source, data_len, &footer, &repairing).and_then(|()| {
        // Every row must read back before the file is finished.
        let mut count = 0;
        for row in read_parquet_rows(&repairing)? {
            row?;
            count += 1;
        }
        let groups = row_groups(&repairing)?;
        let finished = rename_to_free_name(&repairing, dir, stem, "parquet")?;
        Ok(RepairOutcome {
            finished,
            rows: count,
            row_groups: groups,
            dropped_bytes: length - data_len,
        })
    });
    match result {
        Ok(outcome) => {
            fs::remove_file(partial).map_err(|e| RecordError::io("remove", partial, e))?;
            if let Err(e) = fs::remove_file(&sidecar)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(RecordError::io("remove", &sidecar, e));
            }
            Ok(outcome)
        }
        Err(error) => {
            let _ = fs::remove_file(&repairing);
            Err(error)
        }
    }
}

/// Copies the first `data_len` bytes of `source`, then `footer`, into a
/// new file at `to`, fsynced.
fn build(source: &mut File, data_len: u64, footer: &[u8], to: &Path) -> Result<(), RecordError> {
    let mut magic = [0u8; 4];
    source
        .seek(SeekFrom::Start(0))
        .and_then(|_| source.read_exact(&mut magic))
        .map_err(|e| RecordError::io("read", to, e))?;
    if &magic != b"PAR1" {
        return Err(invalid(to, "the .partial does not start with PAR1".into()));
    }
    let mut out = File::options()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| RecordError::io("create", to, e))?;
    source
        .seek(SeekFrom::Start(0))
        .and_then(|_| std::io::copy(&mut source.take(data_len), &mut out))
        .and_then(|_| out.write_all(footer))
        .and_then(|()| out.sync_all())
        .map_err(|e| RecordError::io("write", to, e))
}

/// The sidecar's data length and footer, or `None` if there is none.
fn read_sidecar(path: &Path) -> Result<Option<(u64, Vec<u8>)>, RecordError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RecordError::io("open", path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_SIDECAR)
        .read_to_end(&mut bytes)
        .map_err(|e| RecordError::io("read", path, e))?;
    let well_formed = bytes.len() >= 16 && bytes.ends_with(b"PAR1");
    let (length, footer) = bytes.split_at(8.min(bytes.len()));
    match (well_formed, <[u8; 8]>::try_from(length)) {
        (true, Ok(length)) => Ok(Some((u64::from_le_bytes(length), footer.to_vec()))),
        _ => Err(invalid(path, "not a footer sidecar".into())),
    }
}

fn empty_footer(partial: &Path) -> Result<Vec<u8>, RecordError> {
    schema()
        .and_then(|schema| footer_bytes(&schema, Vec::new(), "mercury-collector repair"))
        .map_err(|e| parquet_error("encode a footer for", partial, e))
}

fn row_groups(path: &Path) -> Result<usize, RecordError> {
    let file = File::open(path).map_err(|e| RecordError::io("open", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| parquet_error("open", path, e))?;
    Ok(reader.metadata().num_row_groups())
}

fn invalid(path: &Path, why: String) -> RecordError {
    RecordError::Invalid {
        path: path.to_owned(),
        why,
    }
}

fn parquet_error(
    op: &'static str,
    path: &Path,
    cause: ::parquet::errors::ParquetError,
) -> RecordError {
    RecordError::Parquet {
        op,
        path: path.to_owned(),
        cause,
    }
}
