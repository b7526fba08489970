//! One bad field costs only itself (the property of issue #14, item 7),
//! on real Deribit tickers: every field of `params.data` replaced by junk
//! in turn, the ticker decodes to what it decodes to without that field,
//! and a junk price or time is counted as one skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_exchange_deribit::Deribit;
use mercury_testkit::junk::{FieldJunk, fixture_lines};
use mercury_testkit::ordered::Ordered;
use serde_json::value::RawValue;

/// Keys (what a value belongs to) and the fields the decoder reads. The
/// book amounts are read only to tell an empty side: junk there is no
/// price of 0, and no skip either.
const FIELDS: FieldJunk = FieldJunk {
    exchange: &Deribit,
    keys: &["instrument_name"],
    requested: &[
        "mark_price",
        "index_price",
        "last_price",
        "best_bid_price",
        "best_ask_price",
        "timestamp",
    ],
};

/// `frame` with `params.data.field` set to `value` (removed if `None`).
fn with_ticker_field(frame: &str, field: &str, value: Option<&str>) -> String {
    let envelope = Ordered::parse(frame);
    let params = Ordered::parse(envelope.get("params").map(RawValue::get).unwrap());
    let data = Ordered::parse(params.get("data").map(RawValue::get).unwrap());
    let params = params.with("data", Some(&data.with(field, value)));
    envelope.with("params", Some(&params))
}

#[test]
fn a_junk_field_costs_only_itself_in_real_tickers() {
    let mut checked = 0;
    for (file, take) in [
        ("cryptomsgparser_tickers_100ms.jsonl", 3),
        ("cryptofeed_options_raw.jsonl", 4),
    ] {
        let frames = fixture_lines(env!("CARGO_MANIFEST_DIR"), file);
        for frame in frames
            .iter()
            .filter(|f| f.contains(r#""channel":"ticker."#))
            .take(take)
        {
            let params = Ordered::parse(Ordered::parse(frame).get("params").unwrap().get());
            let data = Ordered::parse(params.get("data").unwrap().get());
            let fields: Vec<String> = data.0.iter().map(|(k, _)| k.clone()).collect();
            checked +=
                FIELDS.check_every_field(&[], &fields, |f, v| with_ticker_field(frame, f, v));
        }
    }
    assert!(checked > 300, "only {checked} mutations");
}
