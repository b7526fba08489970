//! One bad field costs only itself (issue #14, item 7), on real OKX rows:
//! every field of a row replaced by junk in turn, the frame decodes to
//! what it decodes to without that field, and a junk field the session
//! reads (a price, `ts`) is counted as one skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_exchange_okx::Okx;
use mercury_testkit::junk::{FieldJunk, fixture_lines};
use mercury_testkit::ordered::{Ordered, with_row_field};

/// Keys (what a value belongs to) and the fields the session reads, over
/// the four channels it reads.
const FIELDS: FieldJunk = FieldJunk {
    exchange: &Okx,
    keys: &["instId"],
    requested: &["markPx", "idxPx", "last", "bids", "asks", "ts"],
};

#[test]
fn a_junk_field_costs_only_itself_in_real_rows() {
    let mut checked = 0;
    for (file, take) in [
        ("cryptofeed_tickers_trades.jsonl", 3),
        ("crypto-msg-parser_tickers.jsonl", 6),
        ("crypto-msg-parser_bbo-tbt.jsonl", 6),
        ("okxdocs-via-gocryptotrader_mark-price.jsonl", 1),
        ("okxdocs-via-gocryptotrader_index-tickers.jsonl", 1),
    ] {
        let frames = fixture_lines(env!("CARGO_MANIFEST_DIR"), file);
        let data_frames = frames.iter().filter(|f| {
            ["\"tickers\"", "bbo-tbt", "mark-price", "index-tickers"]
                .iter()
                .any(|channel| f.contains(channel))
                && f.contains("\"data\"")
        });
        for frame in data_frames.take(take) {
            let data = Ordered::parse(frame).get("data").unwrap().get().to_owned();
            let row = serde_json::from_str::<Vec<Ordered>>(&data)
                .unwrap()
                .remove(0);
            let fields: Vec<String> = row.0.iter().map(|(k, _)| k.clone()).collect();
            checked +=
                FIELDS.check_every_field(&[], &fields, |f, v| with_row_field(frame, 0, f, v));
        }
    }
    assert!(checked > 300, "only {checked} mutations");
}
