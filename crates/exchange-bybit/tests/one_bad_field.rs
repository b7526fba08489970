//! Regression (issue #14, item 7): one bad field dropped a good value —
//! a Bybit ticker with a valid mark price and `lastPrice:"garbage"` (or a
//! junk `ts`) failed whole. Now a field that does not parse costs only
//! itself. Property, on real frames: every field replaced by junk, the
//! ticker decodes to what it decodes to without that field, and a junk
//! requested field is counted as a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_exchange_bybit::Bybit;
use mercury_testkit::junk::{FieldJunk, fixture_lines};
use mercury_testkit::ordered::{Ordered, with_data_field};

/// Keys (what a value belongs to) and the fields the decoder reads.
const FIELDS: FieldJunk = FieldJunk {
    exchange: &Bybit,
    keys: &["symbol"],
    requested: &["markPrice", "lastPrice", "bid1Price", "ask1Price", "ts"],
};

#[test]
fn a_junk_field_costs_only_itself_in_real_tickers() {
    let mut checked = 0;
    for file in [
        "gocryptotrader_tickers_linear.jsonl",
        "bybitdocs_tickers_linear.jsonl",
    ] {
        let frames = fixture_lines(env!("CARGO_MANIFEST_DIR"), file);
        let snapshot = frames
            .iter()
            .find(|f| f.contains(r#""type":"snapshot""#))
            .unwrap();
        for frame in frames
            .iter()
            .filter(|f| f.contains(r#""topic":"tickers."#))
            .take(2)
        {
            // A delta needs its snapshot first; a snapshot stands alone.
            let before: Vec<&str> = if frame == snapshot {
                vec![]
            } else {
                vec![snapshot]
            };
            let data = Ordered::parse(Ordered::parse(frame).get("data").unwrap().get());
            let fields: Vec<String> = data.0.iter().map(|(k, _)| k.clone()).collect();
            checked +=
                FIELDS.check_every_field(&before, &fields, |f, v| with_data_field(frame, f, v));
            let envelope = Ordered::parse(frame);
            checked +=
                FIELDS.check_every_field(&before, &["ts".to_string()], |f, v| envelope.with(f, v));
        }
    }
    assert!(checked > 50, "only {checked} mutations");
}
