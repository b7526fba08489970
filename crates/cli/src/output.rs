//! Printing ticks as a table, JSON Lines or CSV.

use crate::args::Format;
use mercury_collector::Tick;
use serde::Serialize;
use std::io::{self, Write};

/// One quote as printed in JSON and CSV; `price` is the exact decimal text.
#[derive(Debug, Serialize)]
struct Row {
    seq: u64,
    exchange: String,
    symbol: String,
    kind: &'static str,
    price: String,
    exchange_time: Option<String>,
    received_at: String,
    /// Present (and true) only on the first quote after a reconnect.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    after_gap: bool,
}

impl Row {
    fn of(tick: &Tick) -> Row {
        let q = &tick.quote;
        Row {
            seq: tick.seq,
            exchange: q.exchange.to_string(),
            symbol: q.symbol.to_string(),
            kind: q.kind.as_str(),
            price: q.price.to_string(),
            exchange_time: q.exchange_time.map(|t| t.to_string()),
            received_at: q.received_at.to_string(),
            after_gap: tick.after_gap,
        }
    }

    fn cells(&self) -> [String; 7] {
        [
            self.seq.to_string(),
            self.exchange.clone(),
            self.symbol.clone(),
            self.kind.to_string(),
            self.price.clone(),
            self.exchange_time.clone().unwrap_or_default(),
            self.received_at.clone(),
        ]
    }
}

const HEADER: [&str; 7] = [
    "seq",
    "exchange",
    "symbol",
    "kind",
    "price",
    "exchange_time",
    "received_at",
];

/// Writes `ticks` in `format`.
pub fn write(out: &mut dyn Write, format: Format, ticks: &[Tick]) -> io::Result<()> {
    let rows: Vec<Row> = ticks.iter().map(Row::of).collect();
    match format {
        Format::Json => {
            for row in &rows {
                serde_json::to_writer(&mut *out, row)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            writeln!(out, "{}", HEADER.join(","))?;
            for row in &rows {
                let cells: Vec<String> = row.cells().iter().map(|c| csv_field(c)).collect();
                writeln!(out, "{}", cells.join(","))?;
            }
        }
        Format::Table => write_table(out, &rows)?,
    }
    out.flush()
}

fn csv_field(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

fn write_table(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    let header = HEADER.map(str::to_uppercase);
    let cells: Vec<[String; 7]> = rows.iter().map(Row::cells).collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let numeric = [true, false, false, false, true, false, false];
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .zip(numeric)
            .map(|((cell, w), right)| {
                if right {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercury_collector::ConnectionId;
    use mercury_core::{ExchangeId, Quote, QuoteKind};

    fn tick(seq: u64, price: &str, exchange_time: Option<&str>) -> Tick {
        Tick {
            seq,
            connection: ConnectionId(1),
            quote: Quote {
                exchange: ExchangeId::from_static("bitmex"),
                symbol: "XBTUSD".into(),
                kind: QuoteKind::Fair,
                price: price.parse().unwrap(),
                exchange_time: exchange_time.map(|t| t.parse().unwrap()),
                received_at: "2026-11-24T06:00:05.013Z".parse().unwrap(),
                conn_seq: seq,
            },
            after_gap: false,
        }
    }

    fn render(format: Format, ticks: &[Tick]) -> String {
        let mut out = Vec::new();
        write(&mut out, format, ticks).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_match_the_documented_shape() {
        let text = render(
            Format::Json,
            &[
                tick(1, "43210.5", Some("2026-11-24T06:00:05.000Z")),
                tick(2, "1.814e-05", None),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"seq":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"43210.5","exchange_time":"2026-11-24T06:00:05.000Z","received_at":"2026-11-24T06:00:05.013Z"}"#
        );
        assert!(
            lines[1].contains(r#""price":"0.00001814","exchange_time":null"#),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_quote() {
        let text = render(Format::Csv, &[tick(7, "28667.0", None)]);
        assert_eq!(
            text,
            "seq,exchange,symbol,kind,price,exchange_time,received_at\n7,bitmex,XBTUSD,fair,28667.0,,2026-11-24T06:00:05.013Z\n"
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }

    #[test]
    fn table_aligns_columns_and_right_aligns_prices() {
        let text = render(
            Format::Table,
            &[tick(1, "9277.2", None), tick(10, "43210.5", None)],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SEQ  EXCHANGE"));
        let price_end = |l: &str| l.find("  2026").unwrap();
        assert_eq!(price_end(lines[1]), price_end(lines[2]), "{text}");
        assert!(lines[1].contains(" 9277.2  "));
    }
}
