//! Regression (issue #14, item 7): one bad field dropped a good value. A
//! row with a valid `fairPrice` and `markPrice:"garbage"` (or
//! `timestamp:"yesterday"`) failed its whole frame, so every value next to
//! a bad one was lost. Now a field that does not parse costs only itself.
//!
//! Property, on real frames: for every field of every row replaced by
//! junk, the frame still decodes, to exactly what it decodes to without
//! that field, and a junk *requested* field is counted as a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::*;
use mercury_core::{Timestamp, WireFrame};
use mercury_exchange_bitmex::decoder;
use mercury_testkit::junk::{JUNK, quotes_and_invalid_fields};
use mercury_testkit::ordered::{Ordered, with_row_field};

/// The fields each table reads, besides its key.
fn requested(table: &str) -> &'static [&'static str] {
    match table {
        "instrument" => &[
            "fairPrice",
            "markPrice",
            "lastPrice",
            "indicativeSettlePrice",
            "timestamp",
        ],
        "quote" => &["bidPrice", "askPrice", "timestamp"],
        "trade" => &["price", "timestamp"],
        _ => &[],
    }
}

/// What a frame yields after a whole-table partial: quotes as
/// (symbol, kind, price, time), and how many fields were skipped as invalid.
fn decoded(table: &str, frame: &str) -> (Vec<String>, usize) {
    let mut source = decoder();
    let partial = format!(r#"{{"table":"{table}","action":"partial","data":[]}}"#);
    source
        .decode_to_vec(WireFrame::Text(&partial), Timestamp::UNIX_EPOCH)
        .unwrap();
    let events = source
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("{e}: {}", &frame[..frame.len().min(300)]));
    quotes_and_invalid_fields(&events)
}

fn check_every_field(frame: &str) -> usize {
    let envelope = Ordered::parse(frame);
    let table: String = serde_json::from_str(envelope.get("table").unwrap().get()).unwrap();
    let rows: Vec<Ordered> = serde_json::from_str(envelope.get("data").unwrap().get()).unwrap();
    let (original, _) = decoded(&table, frame);
    let mut checked = 0;
    for (row, fields) in rows.iter().enumerate().take(3) {
        for (field, _) in fields.0.iter().filter(|(field, _)| field != "symbol") {
            let (without, none_skipped) = decoded(&table, &with_row_field(frame, row, field, None));
            assert_eq!(none_skipped, 0);
            let wanted = requested(&table).contains(&field.as_str());
            if !wanted {
                assert_eq!(without, original, "{table} row {row} without {field}");
            }
            for junk in JUNK {
                let mutated = with_row_field(frame, row, field, Some(junk));
                let (quotes, skipped) = decoded(&table, &mutated);
                assert_eq!(quotes, without, "{table} row {row}: {field}={junk}");
                assert_eq!(
                    skipped,
                    usize::from(wanted),
                    "{table} row {row}: {field}={junk}"
                );
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn a_junk_field_costs_only_itself_in_real_frames() {
    let mut frames = frames("ccxt_instrument-XBTUSD_partial.jsonl");
    frames.extend(frames_of("joliveros_instrument.jsonl"));
    frames.extend(frames_of("crypto-msg-parser_quote.jsonl"));
    frames.extend(frames_of("crypto-msg-parser_trade.jsonl"));
    let mut checked = 0;
    for frame in &frames {
        checked += check_every_field(frame);
    }
    assert!(checked > 1000, "only {checked} mutations");
}

/// The first two table frames of a fixture.
fn frames_of(file: &str) -> Vec<String> {
    frames(file)
        .into_iter()
        .filter(|f| f.starts_with(r#"{"table""#))
        .take(2)
        .collect()
}

#[test]
fn the_issue_s_rows() {
    let partial =
        r#"{"table":"instrument","action":"partial","filter":{"symbol":"XBTUSD"},"data":[]}"#;
    for row in [
        r#"{"symbol":"XBTUSD","fairPrice":43210.5,"markPrice":"garbage","timestamp":"2026-11-24T06:00:05.000Z"}"#,
        r#"{"symbol":"XBTUSD","fairPrice":43210.5,"timestamp":"yesterday"}"#,
        r#"{"symbol":"XBTUSD","fairPrice":43210.5,"lastPrice":{}}"#,
    ] {
        let update = format!(r#"{{"table":"instrument","action":"update","data":[{row}]}}"#);
        let mut source = decoder();
        for frame in [partial, &update] {
            let events = source
                .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
                .unwrap();
            if frame == update {
                let fair: Vec<String> = quotes(&events)
                    .iter()
                    .map(|q| q.price.to_string())
                    .collect();
                assert_eq!(fair, ["43210.5"], "{row}");
            }
        }
    }
}
