//! Regression (issue #14, item 3): table state grew per distinct symbol.
//! After a `partial` without a `filter` (legitimate: `trade:*`), a server
//! could send updates for any number of symbols never subscribed, and the
//! session remembered each: 3.1 GB in 18 s. Now it remembers at most
//! `max_symbols` (plus those filtered partials imaged); the rest are
//! reported, not kept. Live heap counted by a global allocator (dhat) in
//! this test binary only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{Control, QuoteKind, SkipReason, SourceEvent, Timestamp, WireFrame};
use mercury_exchange_bitmex::{BitmexConfig, DEFAULT_MAX_SYMBOLS, decoder, decoder_with};
use std::fmt::Write;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const SYMBOLS: usize = 1_000_000;
const ROWS_PER_FRAME: usize = 1_000;
/// The live heap allowed after a million symbols: the bound of symbols
/// kept costs a few MB; one per symbol would be hundreds.
const MAX_LIVE_BYTES: usize = 16 << 20;

fn update(symbols: std::ops::Range<usize>) -> String {
    let mut frame = String::from(r#"{"table":"instrument","action":"update","data":["#);
    for (i, n) in symbols.enumerate() {
        let comma = if i == 0 { "" } else { "," };
        write!(frame, r#"{comma}{{"symbol":"JUNK{n}","markPrice":{n}.5}}"#).unwrap();
    }
    frame.push_str("]}");
    frame
}

#[test]
fn a_million_symbols_never_subscribed_keep_the_state_bounded() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut source = decoder();
    let mut out = Vec::new();
    let whole = r#"{"table":"instrument","action":"partial","data":[{"symbol":"XBTUSD","fairPrice":43210.5}]}"#;
    source
        .decode(WireFrame::Text(whole), Timestamp::UNIX_EPOCH, &mut out)
        .unwrap();
    let mut reported = 0;
    for start in (0..SYMBOLS).step_by(ROWS_PER_FRAME) {
        out.clear();
        let frame = update(start..start + ROWS_PER_FRAME);
        source
            .decode(WireFrame::Text(&frame), Timestamp::UNIX_EPOCH, &mut out)
            .unwrap();
        reported += out
            .iter()
            .filter(|e| matches!(e, SourceEvent::Quote(_)))
            .count();
    }
    out = Vec::new();
    let live = dhat::HeapStats::get().curr_bytes;
    eprintln!(
        "after {SYMBOLS} symbols: {} kept, {} rows not kept, live heap {} KiB",
        source.session().kept_symbols(),
        source.session().unkept_rows(),
        live >> 10
    );
    // Nothing valid is lost: every row was reported…
    assert_eq!(reported, SYMBOLS);
    // …but only a bounded number of symbols is remembered.
    assert!(source.session().kept_symbols() <= DEFAULT_MAX_SYMBOLS);
    assert!(live < MAX_LIVE_BYTES, "live heap {live} bytes");
    // The subscribed symbol still yields its quotes, and is remembered.
    let fair = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":43211}]}"#;
    source
        .decode(WireFrame::Text(fair), Timestamp::UNIX_EPOCH, &mut out)
        .unwrap();
    assert!(matches!(&out[..], [SourceEvent::Quote(q)] if q.price.to_string() == "43211"));
    assert_eq!(
        source
            .session()
            .latest("XBTUSD", QuoteKind::Fair)
            .map(|p| p.to_string()),
        Some("43211".into())
    );
}

#[test]
fn filtered_partials_are_bounded_per_table_and_kept_first() {
    let mut source = decoder_with(BitmexConfig {
        max_symbols: 3,
        ..BitmexConfig::default()
    });
    let partial = |symbol: &str| {
        format!(
            r#"{{"table":"quote","action":"partial","filter":{{"symbol":"{symbol}"}},"data":[{{"symbol":"{symbol}","bidPrice":1}}]}}"#
        )
    };
    for symbol in ["A", "B", "C"] {
        let events = source
            .decode_to_vec(WireFrame::Text(&partial(symbol)), Timestamp::UNIX_EPOCH)
            .unwrap();
        assert!(matches!(&events[..], [SourceEvent::Quote(_)]));
    }
    let events = source
        .decode_to_vec(WireFrame::Text(&partial("D")), Timestamp::UNIX_EPOCH)
        .unwrap();
    assert!(matches!(
        &events[..],
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::OverLimit,
            ..
        })]
    ));
    assert_eq!(source.session().kept_symbols(), 3);
}
