//! Decode cost of real and realistic BitMEX frames: `cargo bench -p mercury-exchange-bitmex`.
//!
//! The instrument `update` frames are the hot path on a live XBTUSD feed:
//! most carry no `fairPrice` and must cost as little as possible.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mercury_core::{SourceEvent, Timestamp, WireFrame};
use mercury_exchange_bitmex::decoder;
use std::hint::black_box;

fn fixture(file: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A realistic XBTUSD instrument update in the 2026 shape (field set as in
/// the real frames; values made up): volume and impact prices move.
const UPDATE_WITHOUT_FAIR: &str = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","impactBidPrice":43210,"impactMidPrice":43210.25,"impactAskPrice":43210.5,"volume":1234567,"totalVolume":98765432100,"openInterest":456789012,"timestamp":"2026-11-24T06:00:05.123Z"}]}"#;
const UPDATE_WITH_FAIR: &str = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":43210.37,"markPrice":43210.37,"fairBasis":1.47,"timestamp":"2026-11-24T06:00:05.000Z"}]}"#;

fn bench_frame(c: &mut Criterion, name: &str, primer: &str, frame: &str) {
    let mut source = decoder();
    let mut out: Vec<SourceEvent> = Vec::with_capacity(64);
    source
        .decode(WireFrame::Text(primer), Timestamp::UNIX_EPOCH, &mut out)
        .unwrap();
    let mut group = c.benchmark_group("bitmex_decode");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            source
                .decode(
                    WireFrame::Text(black_box(frame)),
                    Timestamp::UNIX_EPOCH,
                    &mut out,
                )
                .unwrap();
            black_box(out.len())
        })
    });
    group.finish();
}

fn decode_benches(c: &mut Criterion) {
    let instrument_partial = fixture("ccxt_instrument-XBTUSD_partial.jsonl").remove(0);
    let session = fixture("cryptofeed_2021-07-22_session.jsonl");
    let quote_partial = session
        .iter()
        .find(|f| f.contains(r#""table":"quote","action":"partial""#))
        .unwrap()
        .clone();
    let quote_insert = session
        .iter()
        .find(|f| f.contains(r#""table":"quote","action":"insert""#))
        .unwrap()
        .clone();
    let book_partial = session
        .iter()
        .filter(|f| f.contains(r#""table":"orderBookL2","action":"partial""#))
        .max_by_key(|f| f.len())
        .unwrap()
        .clone();

    bench_frame(
        c,
        "instrument_update_without_fair",
        &instrument_partial,
        UPDATE_WITHOUT_FAIR,
    );
    bench_frame(
        c,
        "instrument_update_with_fair",
        &instrument_partial,
        UPDATE_WITH_FAIR,
    );
    bench_frame(
        c,
        "instrument_partial_real",
        &instrument_partial,
        &instrument_partial,
    );
    bench_frame(c, "quote_insert_real", &quote_partial, &quote_insert);
    bench_frame(
        c,
        "orderbookl2_partial_real_709kb",
        &quote_partial,
        &book_partial,
    );
}

criterion_group!(benches, decode_benches);
criterion_main!(benches);
