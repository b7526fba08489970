//! Binance passes the conformance kit: every real frame recorded by others
//! (see `fixtures/SOURCES.md`) against prices read by an independent oracle
//! (a plain `serde_json::Value` walk of the same frames).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::QuoteKind;
use mercury_exchange_binance::Binance;
use serde_json::Value;
use std::path::PathBuf;

/// The events of a frame: the envelope's `data` (an object or an array),
/// or the frame itself.
fn events(frame: &Value) -> Vec<&Value> {
    match frame.get("data") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(data) => vec![data],
        None if frame.get("s").is_some() => vec![frame],
        None => Vec::new(),
    }
}

/// (symbol, kind) → prices, in frame order, read without the codec.
fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    for frame in &fixture.frames {
        let frame: Value = serde_json::from_str(frame).unwrap();
        for event in events(&frame) {
            let symbol = event["s"].as_str().unwrap().to_owned();
            let fields: &[(&str, QuoteKind)] = match event.get("e").and_then(Value::as_str) {
                Some("markPriceUpdate") => &[("p", QuoteKind::Mark)],
                _ => &[("b", QuoteKind::Bid), ("a", QuoteKind::Ask)],
            };
            for (field, kind) in fields {
                let text = event[field].as_str().unwrap();
                prices
                    .entry((symbol.clone(), *kind))
                    .or_default()
                    .push(text.parse().unwrap());
            }
        }
    }
    prices
}

#[test]
fn binance_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Client requests are not frames a client receives.
    let mut kit = Kit::new(&Binance, "BTCUSDT");
    let quotes = kit.fixtures_with(Fixture::all_in(dir, &["control-requests"]), oracle);
    assert!(quotes >= 20, "the fixtures hold {quotes} prices");
    kit.run();
}
