//! Normalized quotes as CSV: one file per exchange, symbol, kind and
//! rotation period (`<HHMMSS>.csv`, `.csv.zst` with compression), beside
//! the JSON Lines and Parquet files of the same partition.
//!
//! Every file starts with its header line, then one row per quote in
//! arrival order:
//!
//! ```text
//! seq,conn,conn_seq,exchange,symbol,kind,price,exchange_time,received_at,after_gap
//! 17,1,9,bitmex,XBTUSD,fair,43210.5,2026-11-24T06:00:05.000000000Z,2026-11-24T06:00:05.013402117Z,false
//! ```
//!
//! - `conn` is the connection id and `conn_seq` the quote's number on it
//!   ([`Tick::conn_seq`]);
//! - `price` is the exact decimal text (never a float, no exponent);
//! - times are RFC 3339, UTC, with all nine digits of nanoseconds (the
//!   receive time has them; `fetch --format csv` prints milliseconds);
//!   `exchange_time` is empty when the exchange sent none;
//! - a field holding `,`, `"` or a line break (a symbol from the network)
//!   is quoted, `"` doubled ([`csv_field`]).

use crate::messages::Tick;
use mercury_core::Timestamp;
use std::borrow::Cow;
use std::io::{self, Write};

/// The first line of every CSV quotes file (newline included).
pub const CSV_HEADER: &str =
    "seq,conn,conn_seq,exchange,symbol,kind,price,exchange_time,received_at,after_gap\n";

/// One CSV field: as is, or quoted (`"` doubled) when it holds `,`, `"`,
/// `\r` or `\n`.
pub fn csv_field(cell: &str) -> Cow<'_, str> {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\"")).into()
    } else {
        cell.into()
    }
}

/// Writes `time` as RFC 3339 UTC with nine fractional digits
/// (`2026-11-24T06:00:05.013402117Z`); a time outside the years 1970 to
/// 9999 as [`Timestamp`]'s own text.
pub fn write_rfc3339_nanos(out: &mut impl Write, time: Timestamp) -> io::Result<()> {
    let text = time.to_string();
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`: keep the seconds, write every nanosecond.
    match text.get(..19) {
        Some(seconds) if text.len() == 24 => {
            let nanos = time.unix_nanos().rem_euclid(1_000_000_000);
            write!(out, "{seconds}.{nanos:09}Z")
        }
        _ => out.write_all(text.as_bytes()),
    }
}

impl Tick {
    /// Writes the tick as one CSV row of [`CSV_HEADER`]'s columns,
    /// newline included. See the module docs; many rows in a row:
    /// [`QuoteText::record_csv`](crate::quote_text::QuoteText::record_csv).
    pub fn write_csv<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let mut row = Vec::with_capacity(192);
        crate::quote_text::QuoteText::new().record_csv(&mut row, self);
        out.write_all(&row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ConnectionId;
    use mercury_core::{ExchangeId, Quote, QuoteKind};

    fn tick(symbol: &str, price: &str, exchange_time: Option<&str>) -> Tick {
        Tick {
            seq: 17,
            connection: ConnectionId(3),
            conn_seq: 9,
            quote: Quote {
                exchange: ExchangeId::from_static("bitmex"),
                symbol: symbol.into(),
                kind: QuoteKind::Fair,
                price: price.parse().unwrap(),
                exchange_time: exchange_time.map(|t| t.parse().unwrap()),
                received_at: Timestamp::from_unix_nanos(1_764_000_005_013_402_117),
                conn_seq: 4,
            },
            after_gap: true,
        }
    }

    fn row(tick: &Tick) -> String {
        let mut out = Vec::new();
        tick.write_csv(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_row_has_every_column_exactly() {
        let text = row(&tick("XBTUSD", "1.814e-05", Some("2025-11-24T16:00:05.5Z")));
        assert_eq!(
            text,
            "17,3,9,bitmex,XBTUSD,fair,0.00001814,2025-11-24T16:00:05.500000000Z,2025-11-24T16:00:05.013402117Z,true\n"
        );
        assert_eq!(CSV_HEADER.trim_end().split(',').count(), 10);
    }

    #[test]
    fn no_exchange_time_is_an_empty_field_and_odd_symbols_are_quoted() {
        let text = row(&tick("A,\"B\"\nC", "1225", None));
        assert_eq!(
            text,
            "17,3,9,bitmex,\"A,\"\"B\"\"\nC\",fair,1225,,2025-11-24T16:00:05.013402117Z,true\n"
        );
    }

    #[test]
    fn times_keep_every_nanosecond_or_their_own_text() {
        let text = |nanos| {
            let mut out = Vec::new();
            write_rfc3339_nanos(&mut out, Timestamp::from_unix_nanos(nanos)).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(text(7), "1970-01-01T00:00:00.000000007Z");
        let far = i128::MAX;
        assert_eq!(text(far), Timestamp::from_unix_nanos(far).to_string());
    }
}
