//! Printing ticks as they arrive: a table, JSON Lines or CSV.
//!
//! [`QuoteWriter`] writes each tick straight into its own buffer
//! ([`QuoteText`]: no `String` per field or line, the price's exact
//! decimal text, a time's text up to the second reused) and writes the
//! buffer out in one call when it holds [`BUFFER`] bytes; other flushes
//! are its caller's policy, except on a terminal, where every line goes
//! out at once.
//! The table streams with fixed column widths (a value wider than its
//! column pushes the rest of its row; nothing is ever cut).

use crate::args::Format;
use mercury_collector::Tick;
use mercury_collector::quote_text::QuoteText;
use std::fmt::Display;
use std::io::{self, Write};

/// The output buffer: large enough that a firehose writes in big chunks
/// (it is written out when it holds this much).
const BUFFER: usize = 64 << 10;

const HEADER: [&str; 7] = [
    "seq",
    "exchange",
    "symbol",
    "kind",
    "price",
    "exchange_time",
    "received_at",
];

/// The table's column widths, and which columns are right-aligned.
const WIDTHS: [usize; 7] = [8, 13, 16, 5, 20, 24, 24];
const NUMERIC: [bool; 7] = [true, false, false, false, true, false, false];

/// Writes ticks one by one in a format. See the module docs.
pub struct QuoteWriter<'a> {
    out: &'a mut dyn Write,
    /// What is not written out yet.
    buffer: Vec<u8>,
    text: QuoteText,
    format: Format,
    per_line: bool,
    header_done: bool,
    written: u64,
}

impl<'a> QuoteWriter<'a> {
    /// A writer to `out`; `per_line`: flush every line (for a terminal).
    pub fn new(out: &'a mut dyn Write, format: Format, per_line: bool) -> Self {
        QuoteWriter {
            out,
            // The last line may pass the mark: room for it.
            buffer: Vec::with_capacity(BUFFER + 1024),
            text: QuoteText::new(),
            format,
            per_line,
            header_done: false,
            written: 0,
        }
    }

    /// Quotes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes the header (CSV, table) if it has not been written yet.
    pub fn header(&mut self) -> io::Result<()> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        match self.format {
            Format::Json => Ok(()),
            Format::Csv => writeln!(self.buffer, "{}", HEADER.join(",")),
            Format::Table => {
                let header = HEADER.map(str::to_uppercase);
                table_row(&mut self.buffer, header.iter().map(|h| h as &dyn Display))
            }
        }
    }

    /// Writes one tick (after the header).
    pub fn write(&mut self, tick: &Tick) -> io::Result<()> {
        self.header()?;
        let q = &tick.quote;
        match self.format {
            Format::Json => {
                // One definition, shared with `collector record`.
                self.text.json(&mut self.buffer, tick)?;
                self.buffer.push(b'\n');
            }
            Format::Csv => self.text.fetch_csv(&mut self.buffer, tick),
            Format::Table => {
                let empty = String::new();
                let exchange_time: &dyn Display = match &q.exchange_time {
                    Some(time) => time,
                    None => &empty,
                };
                let cells: [&dyn Display; 7] = [
                    &tick.seq,
                    &q.exchange,
                    &q.symbol,
                    &q.kind.as_str(),
                    &q.price,
                    exchange_time,
                    &q.received_at,
                ];
                table_row(&mut self.buffer, cells.into_iter())?;
            }
        }
        self.written += 1;
        if self.per_line {
            self.flush()?;
        } else if self.buffer.len() >= BUFFER {
            self.write_out()?;
        }
        Ok(())
    }

    /// Sends what is buffered to the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.out.flush()
    }

    /// Writes the buffer out in one call (a failed write ends the run:
    /// see `fetch::pump`).
    fn write_out(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

fn table_row<'c>(
    out: &mut impl Write,
    cells: impl Iterator<Item = &'c dyn Display>,
) -> io::Result<()> {
    use std::fmt::Write as _;
    let mut line = String::with_capacity(160);
    let mut text = String::with_capacity(32);
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        // Through text: not every Display pads.
        text.clear();
        let _ = write!(text, "{cell}");
        let width = WIDTHS[i];
        let _ = if NUMERIC[i] {
            write!(line, "{text:>width$}")
        } else {
            write!(line, "{text:<width$}")
        };
    }
    writeln!(out, "{}", line.trim_end())
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
            conn_seq: seq,
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
        let mut writer = QuoteWriter::new(&mut out, format, false);
        writer.header().unwrap();
        for tick in ticks {
            writer.write(tick).unwrap();
        }
        writer.flush().unwrap();
        drop(writer);
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
        let text = render(
            Format::Csv,
            &[tick(8, "1", None)].map(|mut t| {
                t.quote.symbol = "a,b".into();
                t
            }),
        );
        assert!(text.ends_with("\n8,bitmex,\"a,b\",fair,1,,2026-11-24T06:00:05.013Z\n"));
        let text = render(Format::Csv, &[]);
        assert_eq!(
            text,
            "seq,exchange,symbol,kind,price,exchange_time,received_at\n"
        );
    }

    #[test]
    fn table_aligns_columns_and_right_aligns_prices() {
        let text = render(
            Format::Table,
            &[tick(1, "9277.2", None), tick(10, "43210.5", None)],
        );
        let lines: Vec<&str> = text.lines().collect();
        // Fixed widths (the table streams): the seq column is right-aligned.
        assert!(lines[0].trim_start().starts_with("SEQ  EXCHANGE"));
        let price_end = |l: &str| l.find("  2026").unwrap();
        assert_eq!(price_end(lines[1]), price_end(lines[2]), "{text}");
        assert!(lines[1].contains(" 9277.2  "));
    }
}
