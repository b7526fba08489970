//! Quotes as text, written straight into a byte buffer: the JSON line of
//! `fetch --format json` and `record` ([`Tick::write_json`]), the CSV row
//! of `record` ([`Tick::write_csv`]) and the CSV row of
//! `fetch --format csv`.
//!
//! Why not `serde_json` and `write!`: at 1.5 M quotes/s every allocation
//! and every trip through `fmt` shows. Here nothing allocates and nothing
//! goes through `fmt` on the common path:
//! - integers are written by `itoa`;
//! - a price is its exact decimal text, the digits of its mantissa with
//!   the point put in (the same text as [`Price`]'s `Display`);
//! - a time's text up to the second (`2026-11-24T06:00:05`) is kept and
//!   reused until the second changes ([`QuoteText`] holds one per time
//!   column); only the sub-second digits are written per quote;
//! - a string is scanned once and copied as is unless it holds a byte JSON
//!   (or CSV) must escape; then the slow path escapes it exactly as
//!   before (`serde_json`'s own escaping, so a hostile symbol from the
//!   network yields the same bytes as ever).
//!
//! The bytes are those of the former `serde_json`/`write!` code for every
//! quote: `tests` compares both over real fixture quotes and hostile ones.

use crate::messages::Tick;
use crate::record::csv::write_rfc3339_nanos;
use mercury_core::{Price, Timestamp};
use std::io;

/// The last nanosecond of 9999: beyond it (or before 1970), a time is
/// written by [`Timestamp`]'s own `Display`, as before.
const LAST_NANO_OF_9999: i128 = 253_402_300_799_999_999_999;
const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Which sub-second digits a time gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fraction {
    /// `.mmmZ`, as [`Timestamp`]'s `Display`.
    Millis,
    /// `.nnnnnnnnnZ`, as [`write_rfc3339_nanos`].
    Nanos,
}

/// One time column's cache: the text of the last second written.
#[derive(Debug, Clone, Copy)]
struct SecondText {
    /// Unix seconds of `text`, or `None` before the first time.
    second: Option<i128>,
    /// `YYYY-MM-DDTHH:MM:SS`.
    text: [u8; 19],
}

impl SecondText {
    const fn new() -> Self {
        SecondText {
            second: None,
            text: [0; 19],
        }
    }

    /// Writes `time` (RFC 3339, UTC) with `fraction`'s digits.
    fn write(&mut self, out: &mut Vec<u8>, time: Timestamp, fraction: Fraction) {
        let nanos = time.unix_nanos();
        if !(0..=LAST_NANO_OF_9999).contains(&nanos) {
            return write_other_time(out, time, fraction);
        }
        let second = nanos / NANOS_PER_SECOND;
        if self.second != Some(second) {
            let text = Timestamp::from_unix_nanos(second * NANOS_PER_SECOND).to_string();
            match text.as_bytes().get(..19) {
                Some(prefix) if text.len() == 24 => self.text.copy_from_slice(prefix),
                _ => return write_other_time(out, time, fraction),
            }
            self.second = Some(second);
        }
        out.extend_from_slice(&self.text);
        let sub = (nanos % NANOS_PER_SECOND) as u32;
        match fraction {
            Fraction::Millis => write_fraction::<3>(out, sub / 1_000_000),
            Fraction::Nanos => write_fraction::<9>(out, sub),
        }
    }
}

/// `.` then `value` in `DIGITS` digits, zero-padded, then `Z`.
fn write_fraction<const DIGITS: usize>(out: &mut Vec<u8>, mut value: u32) {
    let mut text = [b'0'; DIGITS];
    for digit in text.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.push(b'.');
    out.extend_from_slice(&text);
    out.push(b'Z');
}

/// A time outside 1970–9999, by the former code (it never fails into a `Vec`).
fn write_other_time(out: &mut Vec<u8>, time: Timestamp, fraction: Fraction) {
    match fraction {
        Fraction::Millis => out.extend_from_slice(time.to_string().as_bytes()),
        Fraction::Nanos => {
            let _ = write_rfc3339_nanos(out, time);
        }
    }
}

/// Writes `price`'s exact decimal text: the same bytes as its `Display`
/// (`43210.5`, `0.00001814`, `28667.0`, `-0.5`).
pub fn write_price(out: &mut Vec<u8>, price: &Price) {
    let decimal = price.as_decimal();
    let scale = decimal.scale() as usize;
    if decimal.is_sign_negative() {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let magnitude = decimal.mantissa().unsigned_abs();
    // Zero has no digits: only the point and the scale's zeros.
    let digits: &[u8] = match magnitude {
        0 => b"",
        _ => buffer.format(magnitude).as_bytes(),
    };
    match digits.len().checked_sub(scale) {
        Some(whole) if whole > 0 => {
            out.extend_from_slice(&digits[..whole]);
            if scale > 0 {
                out.push(b'.');
                out.extend_from_slice(&digits[whole..]);
            }
        }
        _ if scale == 0 => out.push(b'0'),
        _ => {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + scale - digits.len(), b'0');
            out.extend_from_slice(digits);
        }
    }
}

/// Writes `value` as a JSON string: copied as is, or escaped by
/// `serde_json` when it holds `"`, `\` or a control character.
pub fn write_json_str(out: &mut Vec<u8>, value: &str) -> io::Result<()> {
    let plain = value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, value).map_err(io::Error::from)
    }
}

/// Writes `cell` as one CSV field: as is, or quoted (`"` doubled) when
/// it holds `,`, `"`, `\r` or `\n` (as [`csv_field`](crate::record::csv::csv_field)).
pub fn write_csv_field(out: &mut Vec<u8>, cell: &str) {
    let plain = !cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if plain {
        out.extend_from_slice(cell.as_bytes());
        return;
    }
    out.push(b'"');
    for byte in cell.bytes() {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

fn write_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes ticks as text lines, keeping the text of the last second of each
/// time column (see the module docs). One per output stream.
#[derive(Debug, Clone)]
pub struct QuoteText {
    exchange_time: SecondText,
    received_at: SecondText,
}

impl Default for QuoteText {
    fn default() -> Self {
        Self::new()
    }
}

impl QuoteText {
    /// A writer with nothing cached yet.
    pub const fn new() -> Self {
        QuoteText {
            exchange_time: SecondText::new(),
            received_at: SecondText::new(),
        }
    }

    /// Appends the tick's JSON object, without a newline; see
    /// [`Tick::write_json`]. Fails only if escaping a string does (never
    /// into a `Vec`).
    pub fn json(&mut self, out: &mut Vec<u8>, tick: &Tick) -> io::Result<()> {
        let q = &tick.quote;
        out.extend_from_slice(b"{\"seq\":");
        write_u64(out, tick.seq);
        out.extend_from_slice(b",\"exchange\":");
        write_json_str(out, q.exchange.as_str())?;
        out.extend_from_slice(b",\"symbol\":");
        write_json_str(out, q.symbol.as_str())?;
        out.extend_from_slice(b",\"kind\":");
        write_json_str(out, q.kind.as_str())?;
        out.extend_from_slice(b",\"price\":\"");
        write_price(out, &q.price);
        out.extend_from_slice(b"\",\"exchange_time\":");
        match q.exchange_time {
            Some(time) => {
                out.push(b'"');
                self.exchange_time.write(out, time, Fraction::Millis);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"received_at\":\"");
        self.received_at.write(out, q.received_at, Fraction::Millis);
        out.push(b'"');
        if tick.after_gap {
            out.extend_from_slice(b",\"after_gap\":true");
        }
        out.push(b'}');
        Ok(())
    }

    /// Appends the tick's row of `record`'s CSV (newline included); see
    /// [`Tick::write_csv`].
    pub fn record_csv(&mut self, out: &mut Vec<u8>, tick: &Tick) {
        let q = &tick.quote;
        for number in [tick.seq, tick.connection.0, tick.conn_seq] {
            write_u64(out, number);
            out.push(b',');
        }
        write_csv_field(out, q.exchange.as_str());
        out.push(b',');
        write_csv_field(out, q.symbol.as_str());
        out.push(b',');
        out.extend_from_slice(q.kind.as_str().as_bytes());
        out.push(b',');
        write_price(out, &q.price);
        out.push(b',');
        if let Some(time) = q.exchange_time {
            self.exchange_time.write(out, time, Fraction::Nanos);
        }
        out.push(b',');
        self.received_at.write(out, q.received_at, Fraction::Nanos);
        out.extend_from_slice(match tick.after_gap {
            true => b",true\n",
            false => b",false\n",
        });
    }

    /// Appends the tick's row of `fetch --format csv` (newline included):
    /// `seq,exchange,symbol,kind,price,exchange_time,received_at`, times
    /// with milliseconds, the symbol quoted when it must be.
    pub fn fetch_csv(&mut self, out: &mut Vec<u8>, tick: &Tick) {
        let q = &tick.quote;
        write_u64(out, tick.seq);
        out.push(b',');
        out.extend_from_slice(q.exchange.as_str().as_bytes());
        out.push(b',');
        write_csv_field(out, q.symbol.as_str());
        out.push(b',');
        out.extend_from_slice(q.kind.as_str().as_bytes());
        out.push(b',');
        write_price(out, &q.price);
        out.push(b',');
        if let Some(time) = q.exchange_time {
            self.exchange_time.write(out, time, Fraction::Millis);
        }
        out.push(b',');
        self.received_at.write(out, q.received_at, Fraction::Millis);
        out.push(b'\n');
    }
}

#[cfg(test)]
#[path = "quote_text_tests.rs"]
mod tests;
