//! The codec proven on real BitMEX frames (see `fixtures/SOURCES.md`).
//!
//! Three kinds of check: every frame of every file decodes; the quotes of
//! each frame equal the number texts an independent scan finds in it; and
//! where the shared material gives the answer (`fixtures/expected/`), the
//! decoder reports exactly those values in exactly that order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::*;
use mercury_core::{Control, Price, QuoteKind, SourceEvent};
use mercury_exchange_bitmex::Table;

fn all_fixture_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_frame_decodes() {
    let files = all_fixture_files();
    assert_eq!(
        files.len(),
        18,
        "all shared fixture files are copied: {files:?}"
    );
    let mut total = 0;
    for file in &files {
        let frames = frames(file);
        assert!(!frames.is_empty(), "{file} is empty");
        total += decode_session(&frames).len();
    }
    assert_eq!(total, 2188, "frames decoded");
}

/// Per frame: the quotes of each kind equal the numbers the oracle finds
/// for that kind's field, unless the frame was dropped before its partial.
#[test]
fn quotes_equal_the_numbers_in_each_frame() {
    let mut checked = 0;
    for file in all_fixture_files() {
        let frames = frames(&file);
        for (frame, events) in frames.iter().zip(decode_session(&frames)) {
            let table = frame_table(frame);
            for kind in QuoteKind::ALL {
                let decoded: Vec<String> = quotes(&events)
                    .into_iter()
                    .filter(|q| q.kind == kind)
                    .map(|q| q.price.to_string())
                    .collect();
                let handled = table == Some(Table::for_kind(kind));
                if !handled || dropped_before_partial(&events) {
                    assert!(decoded.is_empty(), "{file}: unexpected {kind} quotes");
                    continue;
                }
                let oracle = number_texts(frame, field_of(kind));
                assert_eq!(decoded.len(), oracle.len(), "{file}: {kind} count");
                for (got, want) in decoded.iter().zip(&oracle) {
                    let want: Price = want.parse().unwrap();
                    assert_eq!(got.parse::<Price>().unwrap(), want, "{file}: {kind}");
                    checked += 1;
                }
            }
        }
    }
    // 286 XBTUSD bids + asks and the other symbols' quotes, trades, fair prices…
    assert!(checked > 1_000, "only {checked} prices checked");
}

fn frame_table(frame: &str) -> Option<Table> {
    let value: serde_json::Value = serde_json::from_str(frame).ok()?;
    Table::from_wire(value.get("table")?.as_str()?)
}

fn decoded_texts(file: &str, symbol: &str, kind: QuoteKind) -> Vec<String> {
    decode_session(&frames(file))
        .iter()
        .flat_map(|events| quotes(events).into_iter().cloned().collect::<Vec<_>>())
        .filter(|q| q.symbol.as_str() == symbol && q.kind == kind)
        .map(|q| q.price.to_string())
        .collect()
}

fn assert_expected(fixture: &str, symbol: &str, kind: QuoteKind, answer: &str) {
    let got = decoded_texts(fixture, symbol, kind);
    let want = expected(answer);
    assert!(!want.is_empty());
    assert_eq!(got.len(), want.len(), "{answer}: count");
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        // The same value, and the same text where the wire had no exponent.
        assert_eq!(
            got.parse::<Price>().unwrap(),
            want.parse::<Price>().unwrap(),
            "{answer}[{i}]"
        );
        if !want.contains(['e', 'E']) {
            assert_eq!(got, want, "{answer}[{i}] keeps the digits sent");
        }
    }
}

#[test]
fn ccxt_xbtusd_partial_gives_the_expected_fair_price() {
    assert_expected(
        "ccxt_instrument-XBTUSD_partial.jsonl",
        "XBTUSD",
        QuoteKind::Fair,
        "ccxt_instrument-XBTUSD_partial.XBTUSD.fairPrice.txt",
    );
}

#[test]
fn joliveros_xbth17_gives_one_fair_price_and_the_update_none() {
    assert_expected(
        "joliveros_instrument.jsonl",
        "XBTH17",
        QuoteKind::Fair,
        "joliveros_instrument.XBTH17.fairPrice.txt",
    );
    // The update frame carries impact prices only: no quote at all.
    let events = decode_session(&frames("joliveros_instrument.jsonl"));
    assert!(quotes(&events[1]).is_empty());
    assert!(!dropped_before_partial(&events[1]));
}

#[test]
fn cryptofeed_session_gives_every_xbtusd_bid_and_ask_in_order() {
    let session = "cryptofeed_2021-07-22_session.jsonl";
    assert_expected(
        session,
        "XBTUSD",
        QuoteKind::Bid,
        "cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt",
    );
    assert_expected(
        session,
        "XBTUSD",
        QuoteKind::Ask,
        "cryptofeed_2021-07-22_session.XBTUSD.askPrice.txt",
    );
}

#[test]
fn cryptofeed_session_control_flow_and_sequence() {
    let events: Vec<SourceEvent> = decode_session(&frames("cryptofeed_2021-07-22_session.jsonl"))
        .into_iter()
        .flatten()
        .collect();
    let count = |pred: &dyn Fn(&SourceEvent) -> bool| events.iter().filter(|e| pred(e)).count();
    assert_eq!(
        count(&|e| matches!(e, SourceEvent::Control(Control::Welcome { .. }))),
        1
    );
    assert_eq!(
        count(&|e| matches!(e, SourceEvent::Control(Control::Subscribed { .. }))),
        30
    );
    assert_eq!(count(&|e| matches!(e, SourceEvent::ExchangeError(_))), 0);
    // 10 orderBookL2 partials + 1969 book changes: valid, unhandled, skipped.
    assert_eq!(
        count(
            &|e| matches!(e, SourceEvent::Control(Control::Skipped { what, .. }) if what == "orderBookL2")
        ),
        1979
    );
    // conn_seq numbers every quote 1, 2, 3, … in decode order.
    let seqs: Vec<u64> = quotes(&events).iter().map(|q| q.conn_seq).collect();
    assert!(!seqs.is_empty());
    assert!(seqs.iter().enumerate().all(|(i, s)| *s == i as u64 + 1));
}

#[test]
fn exponent_prices_from_the_wire_are_exact() {
    // XRPU21 quotes in 2021 were around 1.8e-05: printed in decimal form.
    let bids = decoded_texts(
        "cryptofeed_2021-07-22_session.jsonl",
        "XRPU21",
        QuoteKind::Bid,
    );
    assert_eq!(bids[0], "0.00001814");
    assert_eq!(
        bids[0].parse::<Price>().unwrap(),
        "1.814e-05".parse::<Price>().unwrap()
    );
    // The real session's order-book partials print small prices with
    // exponents (3.5e-7, 1e-10, 235e-08): each parses to exactly the value
    // that shifting its digits by hand gives.
    let frames = frames("cryptofeed_2021-07-22_session.jsonl");
    let exponent_texts: Vec<String> = frames
        .iter()
        .flat_map(|f| number_texts(f, "price"))
        .filter(|t| t.contains('e'))
        .collect();
    assert!(exponent_texts.len() >= 20, "found {exponent_texts:?}");
    for text in &exponent_texts {
        let price: Price = text.parse().unwrap();
        assert_eq!(
            price,
            shift_by_hand(text).parse::<Price>().unwrap(),
            "{text}"
        );
    }
}

/// `235e-08` → `0.00000235`, by moving the decimal point in the text.
fn shift_by_hand(text: &str) -> String {
    let (mantissa, exponent) = text.split_once('e').unwrap();
    let exponent: i32 = exponent.parse().unwrap();
    assert!(exponent < 0, "only negative exponents occur: {text}");
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exponent;
    if point > 0 {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    } else {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    }
}
