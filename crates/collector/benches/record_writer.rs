//! The quote writer of `collector record` alone, no network: ticks sent
//! down its lossless channel as fast as it takes them, per format.
//! `cargo bench -p mercury-collector --bench record_writer`.
//!
//! The figure is the time until the writer has taken all N ticks (the
//! last send returns once fewer than the channel's 4 096 wait); finishing
//! the files (footer, fsync, rename) is left out, as it happens once per
//! file, not per quote.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mercury_collector::record::Rotation;
use mercury_collector::record::parquet::ParquetOptions;
use mercury_collector::record::quotes::{
    QUOTES_CAPACITY, QuoteFormat, QuotesConfig, start_quotes_as,
};
use mercury_collector::{ConnectionId, Tick};
use mercury_core::{ExchangeId, Quote, QuoteKind, Timestamp};
use std::time::{Duration, Instant};

const QUOTES: u64 = 300_000;

fn tick(i: u64) -> Tick {
    Tick {
        seq: 1 + i,
        connection: ConnectionId(1),
        conn_seq: 1 + i,
        quote: Quote {
            exchange: ExchangeId::from_static("bitmex"),
            symbol: "XBTUSD".into(),
            kind: QuoteKind::Fair,
            price: format!("{}.{}", 43_000 + i % 997, i % 10).parse().unwrap(),
            exchange_time: Some(Timestamp::from_unix_nanos(
                1_764_000_000_000_000_000 + i as i128 * 1_000_000,
            )),
            // Ahead of the wall clock: no file is finished early.
            received_at: Timestamp::from_unix_nanos(4_102_444_800_000_000_000 + i as i128 * 1_000),
            conn_seq: i,
        },
        after_gap: false,
    }
}

/// Sends `QUOTES` ticks to a new writer of `format`; the time until all were taken.
fn run(format: QuoteFormat, ticks: &[Tick]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let config = QuotesConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
        compress: false,
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(QUOTES_CAPACITY);
    let mut handle =
        start_quotes_as(config, &[format], ParquetOptions::default(), receiver).unwrap();
    let start = Instant::now();
    for tick in ticks {
        sender.blocking_send(tick.clone()).unwrap();
    }
    let took = start.elapsed();
    drop(sender);
    handle.stop();
    handle.done.blocking_recv().unwrap().unwrap();
    took
}

fn benches(c: &mut Criterion) {
    let ticks: Vec<Tick> = (0..QUOTES).map(tick).collect();
    let mut group = c.benchmark_group("record_writer");
    group.sample_size(10);
    group.throughput(Throughput::Elements(QUOTES));
    for (name, format) in [
        ("parquet", QuoteFormat::Parquet),
        ("jsonl", QuoteFormat::Jsonl),
        ("csv", QuoteFormat::Csv),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| (0..iterations).map(|_| run(format, &ticks)).sum())
        });
    }
    group.finish();
}

criterion_group!(record_writer, benches);
criterion_main!(record_writer);
