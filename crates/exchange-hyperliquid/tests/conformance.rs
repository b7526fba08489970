//! Hyperliquid passes the conformance kit: every real frame recorded by
//! others (see `fixtures/SOURCES.md`) against prices read by an
//! independent oracle (a plain `serde_json::Value` walk of the same frames).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::QuoteKind;
use mercury_exchange_hyperliquid::Hyperliquid;
use serde_json::Value;
use std::path::PathBuf;

/// (symbol, kind, price text) of one frame, read without the codec.
fn prices_of(frame: &Value) -> Vec<(String, QuoteKind, String)> {
    let data = &frame["data"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let mut prices = Vec::new();
    match frame["channel"].as_str() {
        Some("activeAssetCtx" | "activeSpotAssetCtx") => {
            let coin = text(&data["coin"]).unwrap();
            for (field, kind) in [("markPx", QuoteKind::Mark), ("oraclePx", QuoteKind::Index)] {
                if let Some(px) = text(&data["ctx"][field]) {
                    prices.push((coin.clone(), kind, px));
                }
            }
        }
        Some("bbo") => {
            let coin = text(&data["coin"]).unwrap();
            for (side, kind) in [(0, QuoteKind::Bid), (1, QuoteKind::Ask)] {
                if let Some(px) = text(&data["bbo"][side]["px"]) {
                    prices.push((coin.clone(), kind, px));
                }
            }
        }
        Some("trades") => {
            for trade in data.as_array().unwrap() {
                let coin = text(&trade["coin"]).unwrap();
                prices.push((coin, QuoteKind::Trade, text(&trade["px"]).unwrap()));
            }
        }
        _ => {}
    }
    prices
}

fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    for frame in &fixture.frames {
        let frame: Value = serde_json::from_str(frame).unwrap();
        for (symbol, kind, px) in prices_of(&frame) {
            prices
                .entry((symbol, kind))
                .or_default()
                .push(px.parse().unwrap());
        }
    }
    prices
}

#[test]
fn hyperliquid_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Client requests are not frames a client receives.
    let mut kit = Kit::new(&Hyperliquid, "BTC");
    let prices = kit.fixtures_with(Fixture::all_in(dir, &["client_requests"]), oracle);
    // Few permissively licensed captures exist (see SOURCES.md).
    assert!(prices >= 8, "the fixtures hold {prices} prices");
    kit.run();
}
