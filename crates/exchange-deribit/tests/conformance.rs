//! Deribit passes the conformance kit: every real frame recorded by others
//! (see `fixtures/SOURCES.md`) against prices read by an independent oracle
//! (a plain `serde_json::Value` walk: every ticker is a whole image; a
//! `null` price, or a book side of amount 0, is no price).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::{Price, QuoteKind};
use mercury_exchange_deribit::Deribit;
use serde_json::Value;
use std::path::PathBuf;

/// Each price field, with the amount that must not be 0 for it to count.
const FIELDS: [(&str, Option<&str>, QuoteKind); 5] = [
    ("mark_price", None, QuoteKind::Mark),
    ("index_price", None, QuoteKind::Index),
    ("last_price", None, QuoteKind::Last),
    ("best_bid_price", Some("best_bid_amount"), QuoteKind::Bid),
    ("best_ask_price", Some("best_ask_amount"), QuoteKind::Ask),
];

/// A JSON number's exact value: serde_json keeps it as the shortest `f64`
/// that prints back to the same decimal, which every price here is.
fn number(value: &Value) -> Price {
    value.to_string().parse().unwrap()
}

fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    for frame in &fixture.frames {
        let frame: Value = serde_json::from_str(frame).unwrap();
        let params = &frame["params"];
        let is_ticker = frame["method"] == "subscription"
            && params["channel"]
                .as_str()
                .is_some_and(|c| c.starts_with("ticker."));
        if !is_ticker {
            continue;
        }
        let data = &params["data"];
        let symbol = data["instrument_name"].as_str().unwrap().to_owned();
        for (field, amount, kind) in FIELDS {
            if data[field].is_null() {
                continue;
            }
            if amount.is_some_and(|a| data[a].as_f64() == Some(0.0)) {
                continue;
            }
            prices
                .entry((symbol.clone(), kind))
                .or_default()
                .push(number(&data[field]));
        }
    }
    prices
}

#[test]
fn deribit_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut kit = Kit::new(&Deribit, "BTC-PERPETUAL");
    let prices = kit.fixtures_with(Fixture::all_in(dir, &[]), oracle);
    assert!(prices >= 400, "the fixtures hold {prices} prices");
    kit.run();
}

#[test]
fn the_venue_s_test_requests_are_answered() {
    let kit = Kit::new(&Deribit, "BTC-PERPETUAL");
    assert!(
        kit.check_heartbeat_answers() >= 8,
        "ten heartbeat intervals, a test_request answered in each (but the first)"
    );
}
