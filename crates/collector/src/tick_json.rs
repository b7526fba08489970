//! A tick as one JSON object: what `collector fetch --format json` prints
//! and what `collector record` writes, from one definition.

use crate::messages::Tick;
use mercury_core::{Price, Timestamp};
use serde::Serialize;
use serde::ser::Serializer;
use std::fmt::Display;
use std::io::{self, Write};

/// One quote in JSON; `price` is the exact decimal text.
#[derive(Serialize)]
struct JsonRow<'a> {
    seq: u64,
    exchange: &'a str,
    symbol: &'a str,
    kind: &'static str,
    #[serde(serialize_with = "as_text")]
    price: &'a Price,
    #[serde(serialize_with = "option_as_text")]
    exchange_time: Option<Timestamp>,
    #[serde(serialize_with = "as_text")]
    received_at: &'a Timestamp,
    /// Present (and true) only on the first quote after a reconnect.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    after_gap: bool,
}

fn as_text<S: Serializer, T: Display>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn option_as_text<S: Serializer, T: Display>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

impl Tick {
    /// Writes the tick as one JSON object, without a newline:
    /// `{"seq":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"9277.2","exchange_time":"2020-01-29T11:31:37.114Z","received_at":"2026-11-24T09:51:40.626Z"}`
    /// (`"after_gap":true` last on the first quote after a reconnect).
    pub fn write_json<W: Write>(&self, out: W) -> io::Result<()> {
        let q = &self.quote;
        let row = JsonRow {
            seq: self.seq,
            exchange: q.exchange.as_str(),
            symbol: q.symbol.as_str(),
            kind: q.kind.as_str(),
            price: &q.price,
            exchange_time: q.exchange_time,
            received_at: &q.received_at,
            after_gap: self.after_gap,
        };
        serde_json::to_writer(out, &row).map_err(io::Error::from)
    }
}
