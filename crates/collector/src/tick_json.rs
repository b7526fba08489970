//! A tick as one JSON object: what `collector fetch --format json` prints
//! and what `collector record` writes, from one definition
//! ([`QuoteText::json`](crate::quote_text::QuoteText::json), straight
//! into a byte buffer).

use crate::messages::Tick;
use crate::quote_text::QuoteText;
use std::io::{self, Write};

impl Tick {
    /// Writes the tick as one JSON object, without a newline:
    /// `{"seq":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"9277.2","exchange_time":"2020-01-29T11:31:37.114Z","received_at":"2026-11-24T09:51:40.626Z"}`
    /// (`"after_gap":true` last on the first quote after a reconnect).
    /// Many ticks in a row: [`QuoteText::json`] keeps the text of the
    /// last second and writes into a `Vec` without a copy.
    pub fn write_json<W: Write>(&self, mut out: W) -> io::Result<()> {
        let mut line = Vec::with_capacity(192);
        QuoteText::new().json(&mut line, self)?;
        out.write_all(&line)
    }
}
