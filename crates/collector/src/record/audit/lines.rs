//! What the lines of each kind of file must hold, read with serde_json
//! into structs of their own (not the writers' types): an independent
//! check of what the writers wrote.

use mercury_core::Timestamp;
use serde::Deserialize;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Which file it is, by where it lies under the recording's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// `DIR/<exchange>/<symbol>/<kind>/<date>/…`: normalized quotes.
    Quotes,
    /// `DIR/raw/<exchange>/<date>/…`: the raw capture.
    Raw,
    /// `DIR/ledger/<date>/…`: the coverage ledger.
    Ledger,
}

/// One quote line, as `collector record` writes it.
#[derive(Debug, Deserialize)]
pub struct QuoteLine {
    /// The run's sequence number.
    pub seq: u64,
    /// The exchange.
    pub exchange: String,
    /// The symbol.
    pub symbol: String,
    /// The kind.
    pub kind: String,
    /// The exact price's text.
    pub price: String,
    /// The exchange's time, if any.
    pub exchange_time: Option<String>,
    /// When it was received.
    pub received_at: String,
}

impl QuoteLine {
    /// What makes a quote the same quote: see [the audit's
    /// docs](super#duplicates).
    pub fn identity(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (
            &self.exchange,
            &self.symbol,
            &self.kind,
            self.seq,
            &self.price,
            &self.exchange_time,
            &self.received_at,
        )
            .hash(&mut hasher);
        hasher.finish()
    }
}

/// One raw capture line: the fields every record has.
#[derive(Debug, Deserialize)]
pub struct RawLine {
    /// When, in ns since the epoch.
    pub at_ns: i64,
    /// The connection.
    pub conn: u64,
    /// The exchange.
    pub exchange: String,
    /// The event.
    pub event: String,
}

/// One ledger line.
#[derive(Debug, Clone, Deserialize)]
pub struct LedgerLine {
    /// When, in ns since the epoch.
    pub at_ns: i64,
    /// The connection.
    pub conn: u64,
    /// The exchange.
    pub exchange: String,
    /// The symbol (absent: every subscription of the connection).
    pub symbol: Option<String>,
    /// The kind.
    pub kind: Option<String>,
    /// `covered`, `gap_start`, `retry`, `gap_end`, `end`.
    pub event: String,
    /// Why.
    pub cause: Option<String>,
    /// What kind of failure.
    pub error_kind: Option<String>,
    /// The failure in words.
    pub error: Option<String>,
    /// A resumed gap's length by the connector's clock.
    pub gap_ns: Option<u64>,
}

const LEDGER_EVENTS: [&str; 5] = ["covered", "gap_start", "retry", "gap_end", "end"];

/// A line read: its time in ns, and what it is.
#[derive(Debug)]
pub enum Parsed {
    /// A quote, received at the time.
    Quote(QuoteLine),
    /// A raw record.
    Raw(RawLine),
    /// A ledger event.
    Ledger(LedgerLine),
}

impl Parsed {
    /// Parses one line of a file of `kind`, or says why it is not one.
    pub fn of(kind: FileKind, line: &[u8]) -> Result<(i128, Parsed), String> {
        let error = |e: serde_json::Error| format!("not a {} record: {e}", kind_name(kind));
        match kind {
            FileKind::Quotes => {
                let quote: QuoteLine = serde_json::from_slice(line).map_err(error)?;
                let at: Timestamp = quote
                    .received_at
                    .parse()
                    .map_err(|_| "received_at is not a time".to_owned())?;
                quote
                    .price
                    .parse::<mercury_core::Price>()
                    .map_err(|_| "price is not an exact decimal".to_owned())?;
                Ok((at.unix_nanos(), Parsed::Quote(quote)))
            }
            FileKind::Raw => {
                let raw: RawLine = serde_json::from_slice(line).map_err(error)?;
                Ok((i128::from(raw.at_ns), Parsed::Raw(raw)))
            }
            FileKind::Ledger => {
                let event: LedgerLine = serde_json::from_slice(line).map_err(error)?;
                if !LEDGER_EVENTS.contains(&event.event.as_str()) {
                    return Err("an unknown ledger event".to_owned());
                }
                Ok((i128::from(event.at_ns), Parsed::Ledger(event)))
            }
        }
    }
}

/// The kind's name in reports.
pub fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Quotes => "quotes",
        FileKind::Raw => "raw capture",
        FileKind::Ledger => "ledger",
    }
}
