//! One bad field costs only itself (the property of issue #14, item 7,
//! that every exchange runs on its real frames): each field of a real
//! ticker replaced by junk, the ticker decodes to what it decodes to
//! without that field, and a junk price or time is counted as one skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_exchange_krakenfutures::KrakenFutures;
use mercury_testkit::junk::{FieldJunk, fixture_lines};
use mercury_testkit::ordered::Ordered;

/// Keys (what a value belongs to) and the fields the decoder reads.
const FIELDS: FieldJunk = FieldJunk {
    exchange: &KrakenFutures,
    keys: &["feed", "product_id"],
    requested: &["markPrice", "index", "last", "bid", "ask", "time"],
};

#[test]
fn a_junk_field_costs_only_itself_in_real_tickers() {
    let mut checked = 0;
    for (file, take) in [
        ("crypto-msg-parser_ticker.jsonl", 2),
        ("ccxt_ticker.jsonl", 1),
        // The greeting and ten acknowledgements, then tickers.
        ("cryptofeed_ticker_lite_session.jsonl", 14),
    ] {
        let frames = fixture_lines(env!("CARGO_MANIFEST_DIR"), file);
        for frame in frames.iter().take(take).filter(|f| f.contains("\"feed\"")) {
            if frame.contains("\"event\"") {
                continue;
            }
            let object = Ordered::parse(frame);
            let fields: Vec<String> = object.0.iter().map(|(k, _)| k.clone()).collect();
            checked += FIELDS.check_every_field(&[], &fields, |f, v| object.with(f, v));
        }
    }
    assert!(checked > 200, "only {checked} mutations");
}

#[test]
fn a_ticker_with_a_junk_time_keeps_its_prices() {
    let frame = r#"{"time":"yesterday","product_id":"PF_XBTUSD","feed":"ticker","bid":1.5,"ask":2,"markPrice":1.75}"#;
    let (quotes, skipped) = FIELDS.decoded(&[frame]);
    assert_eq!(
        quotes,
        [
            "PF_XBTUSD Mark 1.75 None",
            "PF_XBTUSD Bid 1.5 None",
            "PF_XBTUSD Ask 2 None"
        ]
    );
    assert_eq!(skipped, 1);
}
