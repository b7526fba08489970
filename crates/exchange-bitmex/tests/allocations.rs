//! The codec's allocation budget, counted by a global allocator (dhat) in
//! this test binary only. An instrument update that carries no requested
//! field allocates nothing: the frame is read in one pass, every string
//! borrowed from it. One with prices allocates only what its quotes need.
//! (A count, not a time: timings live in `cargo bench`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Decoder;
use mercury_core::{SourceEvent, Timestamp, WireFrame};
use mercury_exchange_bitmex::{BitmexSession, decoder};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const PARTIAL: &str = r#"{"table":"instrument","action":"partial","keys":["symbol"],"filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","fairPrice":43210.5,"markPrice":43210.5,"lastPrice":43210,"timestamp":"2026-11-24T06:00:00.000Z"}]}"#;
/// The shape of most real instrument updates: no price mercury reports.
const WITHOUT_PRICES: &str = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","impactBidPrice":43210,"impactMidPrice":43210.25,"impactAskPrice":43210.5,"volume":1234567,"totalVolume":98765432100,"openInterest":456789012,"timestamp":"2026-11-24T06:00:05.123Z"}]}"#;
const WITH_FAIR: &str = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":43210.37,"markPrice":43210.37,"timestamp":"2026-11-24T06:00:05.000Z"}]}"#;

/// Allocations made by `frames` decodes of `frame` into a reused buffer.
fn allocations(
    source: &mut Decoder<BitmexSession>,
    out: &mut Vec<SourceEvent>,
    frame: &str,
    frames: u64,
) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..frames {
        out.clear();
        source
            .decode(WireFrame::Text(frame), Timestamp::UNIX_EPOCH, out)
            .unwrap();
    }
    dhat::HeapStats::get().total_blocks - before
}

#[test]
fn an_update_without_requested_fields_allocates_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut source = decoder();
    let mut out = Vec::with_capacity(64);
    source
        .decode(WireFrame::Text(PARTIAL), Timestamp::UNIX_EPOCH, &mut out)
        .unwrap();
    // Warm up (interning, buffer growth), then count.
    allocations(&mut source, &mut out, WITHOUT_PRICES, 10);
    allocations(&mut source, &mut out, WITH_FAIR, 10);
    // The count is process-wide: on a loaded machine the test harness's own
    // thread may allocate while it waits. The least of three runs is the
    // decoder's own.
    let without = (0..3)
        .map(|_| allocations(&mut source, &mut out, WITHOUT_PRICES, 1000))
        .min();
    assert_eq!(without, Some(0));
    let with_prices = allocations(&mut source, &mut out, WITH_FAIR, 1000);
    assert!(out.len() == 2, "fair and mark: {out:?}");
    assert!(
        with_prices <= 2 * 1000,
        "at most one allocation per quote: {with_prices}"
    );
}
