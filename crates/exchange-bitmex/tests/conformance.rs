//! BitMEX passes the conformance kit every exchange passes: its real
//! fixtures against the answers recorded beside them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit};
use mercury_core::{Price, QuoteKind};
use mercury_exchange_bitmex::Bitmex;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn answers(file: &str) -> Vec<Price> {
    std::fs::read_to_string(dir().join("expected").join(file))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn bitmex_conforms() {
    let mut kit = Kit::new(&Bitmex, "XBTUSD");
    for fixture in Fixture::all_in(dir(), &[]) {
        kit = kit.fixture(fixture);
    }
    let session = "cryptofeed_2021-07-22_session.jsonl";
    kit.expect(
        "ccxt_instrument-XBTUSD_partial.jsonl",
        "XBTUSD",
        QuoteKind::Fair,
        answers("ccxt_instrument-XBTUSD_partial.XBTUSD.fairPrice.txt"),
    )
    .expect(
        "joliveros_instrument.jsonl",
        "XBTH17",
        QuoteKind::Fair,
        answers("joliveros_instrument.XBTH17.fairPrice.txt"),
    )
    .expect(
        session,
        "XBTUSD",
        QuoteKind::Bid,
        answers("cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt"),
    )
    .expect(
        session,
        "XBTUSD",
        QuoteKind::Ask,
        answers("cryptofeed_2021-07-22_session.XBTUSD.askPrice.txt"),
    )
    .run();
}
