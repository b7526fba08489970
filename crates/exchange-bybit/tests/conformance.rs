//! Bybit passes the conformance kit: every real frame recorded by others
//! (see `fixtures/SOURCES.md`) against prices read by an independent oracle
//! (a plain `serde_json::Value` walk that applies "snapshot first, then
//! only the prices a delta carries").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::QuoteKind;
use mercury_exchange_bybit::Bybit;
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;

const FIELDS: [(&str, QuoteKind); 4] = [
    ("markPrice", QuoteKind::Mark),
    ("lastPrice", QuoteKind::Last),
    ("bid1Price", QuoteKind::Bid),
    ("ask1Price", QuoteKind::Ask),
];

fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    let mut imaged = HashSet::new();
    for frame in &fixture.frames {
        let frame: Value = serde_json::from_str(frame).unwrap();
        if !frame["topic"]
            .as_str()
            .is_some_and(|t| t.starts_with("tickers."))
        {
            continue;
        }
        let symbol = frame["data"]["symbol"].as_str().unwrap().to_owned();
        match frame["type"].as_str() {
            Some("snapshot") => {
                imaged.insert(symbol.clone());
            }
            _ if !imaged.contains(&symbol) => continue,
            _ => {}
        }
        for (field, kind) in FIELDS {
            if let Some(text) = frame["data"][field].as_str().filter(|t| !t.is_empty()) {
                prices
                    .entry((symbol.clone(), kind))
                    .or_default()
                    .push(text.parse().unwrap());
            }
        }
    }
    prices
}

#[test]
fn bybit_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Client requests are not frames a client receives.
    let mut kit = Kit::new(&Bybit, "BTCUSDT");
    let quotes = kit.fixtures_with(Fixture::all_in(dir, &["client_requests"]), oracle);
    assert!(quotes >= 100, "the fixtures hold {quotes} prices");
    kit.run();
}
