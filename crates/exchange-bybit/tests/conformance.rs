//! Bybit passes the conformance kit: every real frame recorded by others
//! (see `fixtures/SOURCES.md`) against prices read by an independent oracle
//! (a plain `serde_json::Value` walk that applies "snapshot first, then
//! only the prices a delta carries").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit};
use mercury_core::{Price, QuoteKind};
use mercury_exchange_bybit::DESCRIPTOR;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

const FIELDS: [(&str, QuoteKind); 4] = [
    ("markPrice", QuoteKind::Mark),
    ("lastPrice", QuoteKind::Last),
    ("bid1Price", QuoteKind::Bid),
    ("ask1Price", QuoteKind::Ask),
];

fn oracle(fixture: &Fixture) -> BTreeMap<(String, QuoteKind), Vec<Price>> {
    let mut prices: BTreeMap<(String, QuoteKind), Vec<Price>> = BTreeMap::new();
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
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        // Client requests are not frames a client receives.
        .filter(|p| !p.to_string_lossy().contains("client_requests"))
        .collect();
    files.sort();
    let mut kit = Kit::new(&DESCRIPTOR, "BTCUSDT");
    let mut quotes = 0;
    for file in files {
        let fixture = Fixture::from_jsonl(file);
        for ((symbol, kind), prices) in oracle(&fixture) {
            quotes += prices.len();
            kit = kit.expect(&fixture.name, &symbol, kind, prices);
        }
        kit = kit.fixture(fixture);
    }
    assert!(quotes >= 100, "the fixtures hold {quotes} prices");
    kit.run();
}
