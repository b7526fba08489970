//! Formatting quotes as text into a `Vec<u8>`, per quote: the JSON line and
//! the CSV rows of `fetch` and `record` ([`QuoteText`]), next to the
//! former way (`serde_json` of a row struct, `write!` of the CSV fields)
//! kept here for the comparison. `cargo bench -p mercury-collector --bench quote_text`.
//!
//! The quotes look like the firehose's: one symbol, prices of 5–7
//! digits, received a few microseconds apart (so most share a second).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mercury_collector::quote_text::QuoteText;
use mercury_collector::{ConnectionId, Tick};
use mercury_core::{ExchangeId, Price, Quote, QuoteKind, Timestamp};
use serde::Serialize;
use serde::ser::Serializer;
use std::fmt::Display;
use std::hint::black_box;
use std::io::Write;

const QUOTES: usize = 10_000;

fn ticks() -> Vec<Tick> {
    (0..QUOTES as u64)
        .map(|i| Tick {
            seq: 1_000_000 + i,
            connection: ConnectionId(1),
            conn_seq: 1_000_000 + i,
            quote: Quote {
                exchange: ExchangeId::from_static("bitmex"),
                symbol: "XBTUSD".into(),
                kind: QuoteKind::Fair,
                price: format!("{}.{}", 43_000 + i % 997, i % 10).parse().unwrap(),
                exchange_time: Some(Timestamp::from_unix_nanos(
                    1_764_000_000_000_000_000 + i as i128 * 1_000_000,
                )),
                received_at: Timestamp::from_unix_nanos(
                    1_764_000_000_013_402_117 + i as i128 * 1_700,
                ),
                conn_seq: i,
            },
            after_gap: false,
        })
        .collect()
}

#[derive(Serialize)]
struct LegacyRow<'a> {
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

/// The JSON line before issue #18.
fn legacy_json(out: &mut Vec<u8>, tick: &Tick) {
    let q = &tick.quote;
    let row = LegacyRow {
        seq: tick.seq,
        exchange: q.exchange.as_str(),
        symbol: q.symbol.as_str(),
        kind: q.kind.as_str(),
        price: &q.price,
        exchange_time: q.exchange_time,
        received_at: &q.received_at,
        after_gap: tick.after_gap,
    };
    serde_json::to_writer(&mut *out, &row).unwrap();
    out.push(b'\n');
}

/// `fetch --format csv`'s row before issue #18.
fn legacy_fetch_csv(out: &mut Vec<u8>, tick: &Tick) {
    let q = &tick.quote;
    let symbol = mercury_collector::record::csv::csv_field(q.symbol.as_str());
    write!(
        out,
        "{},{},{},{},{},",
        tick.seq,
        q.exchange,
        symbol,
        q.kind.as_str(),
        q.price
    )
    .unwrap();
    if let Some(time) = q.exchange_time {
        write!(out, "{time}").unwrap();
    }
    writeln!(out, ",{}", q.received_at).unwrap();
}

fn bench(c: &mut Criterion, name: &str, mut write: impl FnMut(&mut Vec<u8>, &Tick)) {
    let ticks = ticks();
    let mut out = Vec::with_capacity(QUOTES * 200);
    let mut group = c.benchmark_group("quote_text");
    group.throughput(Throughput::Elements(QUOTES as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            for tick in &ticks {
                write(&mut out, black_box(tick));
            }
            black_box(out.len())
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let mut text = QuoteText::new();
    bench(c, "json_before", legacy_json);
    bench(c, "json", |out, tick| {
        text.json(out, tick).unwrap();
        out.push(b'\n');
    });
    bench(c, "fetch_csv_before", legacy_fetch_csv);
    bench(c, "fetch_csv", |out, tick| text.fetch_csv(out, tick));
    bench(c, "record_csv", |out, tick| text.record_csv(out, tick));
}

criterion_group!(quote_text, benches);
criterion_main!(quote_text);
