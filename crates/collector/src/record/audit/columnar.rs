//! The audit's readers of the CSV and Parquet quote files. Each row is
//! handed on as the JSON object a JSON Lines quote file would hold for it
//! (the fields [`QuoteLine`](super::lines::QuoteLine) reads), so the audit
//! checks every format the same way.
//!
//! - CSV (`.csv`, `.csv.zst`): read line by line by the JSON Lines readers'
//!   own machinery; the header line is checked and skipped; fields are
//!   split with CSV quoting (`""` inside quotes); a row with the wrong
//!   number of fields is damage.
//! - Parquet (`.parquet`): a finished file is read with the parquet crate
//!   (`read_parquet_rows`: schema version and columns checked, one row
//!   group in memory at a time). A `.parquet.partial` has no footer: it is
//!   reported as partial with no readable records, and `--repair` finishes
//!   it with `repair_parquet` (its complete row groups, from the footer
//!   sidecar written after each).

use super::formats::{JsonLines, Reader, Record, Scan, ZstdJsonLines};
use crate::record::csv::CSV_HEADER;
use crate::record::read_parquet_rows;
use std::io;
use std::path::Path;

/// CSV quote files, plain or zstd.
#[derive(Debug)]
pub struct CsvQuotes {
    /// zstd (`.csv.zst`, one frame per flush).
    pub compressed: bool,
}

impl Reader for CsvQuotes {
    fn name(&self) -> &'static str {
        match self.compressed {
            true => "zstd CSV",
            false => "CSV",
        }
    }

    fn scan(
        &self,
        path: &Path,
        visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
    ) -> io::Result<Scan> {
        let mut header_seen = false;
        let mut json = Vec::new();
        let mut as_json = |record: Record<'_>| {
            let Record::Line(line) = record;
            if !header_seen {
                header_seen = true;
                return match line == CSV_HEADER.trim_end().as_bytes() {
                    true => Ok(()),
                    false => Err("the first line is not the CSV header".to_owned()),
                };
            }
            json.clear();
            csv_row_as_json(line, &mut json)?;
            visit(Record::Line(&json))
        };
        let mut scan = match self.compressed {
            true => ZstdJsonLines.scan(path, &mut as_json)?,
            false => JsonLines.scan(path, &mut as_json)?,
        };
        // The header is not a record.
        scan.records = scan.records.saturating_sub(1);
        Ok(scan)
    }
}

/// Splits one CSV row into its fields (quoted fields unquoted).
fn csv_fields(line: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "a row that is not UTF-8".to_owned())?;
    let mut fields = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let field = fields.last_mut().ok_or("no field")?;
        match (quoted, c) {
            (false, ',') => fields.push(String::new()),
            (false, '"') if field.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (_, c) => field.push(c),
        }
    }
    match quoted {
        true => Err("a quoted field that does not end".to_owned()),
        false => Ok(fields),
    }
}

/// One CSV row as the JSON object of a JSON Lines quote.
fn csv_row_as_json(line: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let fields = csv_fields(line)?;
    let columns = CSV_HEADER.trim_end().split(',').count();
    let [
        seq,
        _conn,
        _conn_seq,
        exchange,
        symbol,
        kind,
        price,
        exchange_time,
        received_at,
        _gap,
    ] = <[String; 10]>::try_from(fields)
        .map_err(|f| format!("a row of {} fields, not {columns}", f.len()))?;
    let seq: u64 = seq.parse().map_err(|_| "seq is not a number".to_owned())?;
    let exchange_time = (!exchange_time.is_empty()).then_some(exchange_time);
    let row = serde_json::json!({
        "seq": seq, "exchange": exchange, "symbol": symbol, "kind": kind, "price": price,
        "exchange_time": exchange_time, "received_at": received_at,
    });
    serde_json::to_writer(out, &row).map_err(|e| e.to_string())
}

/// Parquet quote files.
#[derive(Debug)]
pub struct ParquetQuotes;

impl Reader for ParquetQuotes {
    fn name(&self) -> &'static str {
        "Parquet"
    }

    fn scan(
        &self,
        path: &Path,
        visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
    ) -> io::Result<Scan> {
        let total = std::fs::metadata(path)?.len();
        let mut scan = Scan::default();
        if path.to_string_lossy().ends_with(".partial") {
            // No footer yet: nothing is readable until --repair.
            scan.torn_bytes = total;
            scan.damage = Some(
                "a Parquet file cut before its footer; --repair keeps its complete row groups"
                    .to_owned(),
            );
            return Ok(scan);
        }
        let rows = match read_parquet_rows(path) {
            Ok(rows) => rows,
            Err(error) => {
                scan.damage = Some(error.to_string());
                scan.torn_bytes = total;
                return Ok(scan);
            }
        };
        let mut json = Vec::new();
        for row in rows {
            let row = match row {
                Ok(row) => row,
                Err(error) => {
                    scan.damage = Some(error.to_string());
                    break;
                }
            };
            json.clear();
            let line = serde_json::json!({
                "seq": row.seq, "exchange": row.exchange, "symbol": row.symbol,
                "kind": row.kind, "price": row.price.to_string(),
                "exchange_time": row.exchange_time.map(|t| t.to_string()),
                "received_at": row.received_at.to_string(),
            });
            serde_json::to_writer(&mut json, &line).map_err(io::Error::other)?;
            if let Err(why) = visit(Record::Line(&json)) {
                scan.damage = Some(format!("row {}: {why}", scan.records + 1));
                break;
            }
            scan.records += 1;
        }
        match scan.damage {
            None => scan.kept_bytes = total,
            Some(_) => scan.torn_bytes = total,
        }
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_rows_split_with_quoting_into_quote_objects() {
        let mut out = Vec::new();
        let row = br#"7,1,3,bitmex,"X,""Y""",fair,1.814e-05,,2026-12-02T08:00:00.000000001Z,false"#;
        csv_row_as_json(row, &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["symbol"], "X,\"Y\"");
        assert_eq!(value["price"], "1.814e-05");
        assert_eq!(value["exchange_time"], serde_json::Value::Null);
        assert_eq!(value["seq"], 7);
        assert!(csv_row_as_json(b"1,2,3", &mut Vec::new()).is_err());
        assert!(csv_row_as_json(br#"1,"open"#, &mut Vec::new()).is_err());
    }
}
