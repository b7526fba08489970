//! Regression (issue #14, item 7): one bad field dropped a good value —
//! a Binance event with a valid mark price and a junk `E` (or a bookTicker
//! with a junk bid) failed whole. Now a field that does not parse costs
//! only itself. Property, on real frames: every field replaced by junk,
//! the event decodes to what it decodes to without that field, and a junk
//! requested field is counted as a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_exchange_binance::Binance;
use mercury_testkit::junk::{FieldJunk, fixture_lines};
use mercury_testkit::ordered::{Ordered, with_data_field};

/// Keys (what a value belongs to) and the fields the decoder reads.
const FIELDS: FieldJunk = FieldJunk {
    exchange: &Binance,
    keys: &["e", "s", "stream"],
    requested: &["p", "b", "a", "E"],
};

#[test]
fn a_junk_field_costs_only_itself_in_real_events() {
    let mut checked = 0;
    for file in [
        "binance-docs_usdm_markprice.jsonl",
        "barter-rs_usdm_bookticker.jsonl",
        "crypto-msg-parser_usdm_markprice.jsonl",
        "crypto-msg-parser_usdm_bookticker.jsonl",
    ] {
        for frame in fixture_lines(env!("CARGO_MANIFEST_DIR"), file)
            .iter()
            .take(2)
        {
            let object = Ordered::parse(frame);
            if object.get("data").is_some_and(|d| d.get().starts_with('{')) {
                let data = Ordered::parse(object.get("data").unwrap().get());
                let fields: Vec<String> = data.0.iter().map(|(k, _)| k.clone()).collect();
                checked +=
                    FIELDS.check_every_field(&[], &fields, |f, v| with_data_field(frame, f, v));
            } else if object.get("data").is_none() {
                let fields: Vec<String> = object.0.iter().map(|(k, _)| k.clone()).collect();
                checked += FIELDS.check_every_field(&[], &fields, |f, v| object.with(f, v));
            }
        }
    }
    assert!(checked > 50, "only {checked} mutations");
}

#[test]
fn the_issue_s_event() {
    let frame = r#"{"e":"markPriceUpdate","E":"yesterday","s":"BTCUSDT","p":"11794.15"}"#;
    let (quotes, skipped) = FIELDS.decoded(&[frame]);
    assert_eq!(quotes, ["BTCUSDT Mark 11794.15 None"]);
    assert_eq!(skipped, 1);
}
