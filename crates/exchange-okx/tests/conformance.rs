//! OKX passes the conformance kit: every frame recorded by others (see
//! `fixtures/SOURCES.md`) against prices read by an independent oracle, a
//! plain `serde_json::Value` walk: per data row, the one field its channel
//! carries (`bbo-tbt`: the first level of each side), an empty string or
//! side being no price.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit, Oracle};
use mercury_core::{Price, QuoteKind};
use mercury_exchange_okx::Okx;
use serde_json::Value;
use std::path::PathBuf;

/// The price text a row carries for `kind` on `channel`, if any.
fn price<'a>(channel: &str, kind: QuoteKind, row: &'a Value) -> Option<&'a str> {
    let text = match (channel, kind) {
        ("mark-price", QuoteKind::Mark) => row["markPx"].as_str(),
        ("index-tickers", QuoteKind::Index) => row["idxPx"].as_str(),
        ("tickers", QuoteKind::Last) => row["last"].as_str(),
        ("bbo-tbt", QuoteKind::Bid) => row["bids"][0][0].as_str(),
        ("bbo-tbt", QuoteKind::Ask) => row["asks"][0][0].as_str(),
        _ => None,
    };
    text.filter(|t| !t.is_empty())
}

fn oracle(fixture: &Fixture) -> Oracle {
    let mut prices = Oracle::new();
    for frame in &fixture.frames {
        let frame: Value = serde_json::from_str(frame).unwrap();
        let (Some(channel), Some(rows)) =
            (frame["arg"]["channel"].as_str(), frame["data"].as_array())
        else {
            continue;
        };
        for row in rows {
            let symbol = row["instId"]
                .as_str()
                .or(frame["arg"]["instId"].as_str())
                .unwrap();
            for kind in [
                QuoteKind::Mark,
                QuoteKind::Index,
                QuoteKind::Last,
                QuoteKind::Bid,
                QuoteKind::Ask,
            ] {
                if let Some(text) = price(channel, kind, row) {
                    let price: Price = text.parse().unwrap();
                    prices
                        .entry((symbol.to_owned(), kind))
                        .or_default()
                        .push(price);
                }
            }
        }
    }
    prices
}

#[test]
fn okx_conforms() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // BTC-USDT: a spot pair with a mark price (margin), a ticker, a book and
    // an index of the same name, so every kind is asked of one symbol.
    let mut kit = Kit::new(&Okx, "BTC-USDT");
    let quotes = kit.fixtures_with(Fixture::all_in(dir, &[]), oracle);
    assert!(quotes >= 45, "the fixtures hold {quotes} prices");
    kit.run();
}
