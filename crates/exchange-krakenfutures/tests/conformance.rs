//! Kraken Futures passes the conformance kit: every real frame recorded by
//! others (see `fixtures/SOURCES.md`) against prices read by an
//! independent oracle — a plain `serde_json::Value` walk that finds the
//! ticker frames, and a text scan that copies each price's number text
//! (the exact decimal; `Value` would round it through `f64`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::QuoteKind;
use mercury_exchange_krakenfutures::KrakenFutures;
use serde_json::Value;
use std::path::PathBuf;

const TICKER: [(&str, QuoteKind); 5] = [
    ("markPrice", QuoteKind::Mark),
    ("index", QuoteKind::Index),
    ("last", QuoteKind::Last),
    ("bid", QuoteKind::Bid),
    ("ask", QuoteKind::Ask),
];

/// The text of the number after `"field":` in a flat JSON object.
fn number_text(frame: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\"");
    let at = frame.find(&key)? + key.len();
    let rest = frame[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned())
}

fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    for frame in &fixture.frames {
        let value: Value = serde_json::from_str(frame).unwrap();
        if value.get("event").is_some() {
            continue;
        }
        let fields: &[(&str, QuoteKind)] = match value["feed"].as_str() {
            Some("ticker") => &TICKER,
            Some("ticker_lite") => &TICKER[3..],
            _ => continue,
        };
        let product = value["product_id"].as_str().unwrap().to_owned();
        for &(field, kind) in fields {
            if value.get(field).is_some_and(Value::is_number) {
                let text = number_text(frame, field).unwrap();
                prices
                    .entry((product.clone(), kind))
                    .or_default()
                    .push(text.parse().unwrap());
            }
        }
    }
    prices
}

#[test]
fn the_oracle_copies_number_text() {
    let frame = r#"{"bid_size": 2844,"bid": 28060,"markPrice":28064.92082724592}"#;
    assert_eq!(number_text(frame, "bid").as_deref(), Some("28060"));
    assert_eq!(
        number_text(frame, "markPrice").as_deref(),
        Some("28064.92082724592")
    );
    assert_eq!(number_text(frame, "ask"), None);
}

#[test]
fn krakenfutures_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Client requests are not frames a client receives.
    let mut kit = Kit::new(&KrakenFutures, "PF_XBTUSD");
    let quotes = kit.fixtures_with(Fixture::all_in(dir, &["client_requests"]), oracle);
    assert!(quotes >= 200, "the fixtures hold {quotes} prices");
    kit.run();
}
