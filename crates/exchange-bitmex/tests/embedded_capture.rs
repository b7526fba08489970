//! The embedded capture (`EMBEDDED_CAPTURE`, served by `collector sim
//! bitmex --replay`) is a real session in mercury's raw capture format:
//! its frames are exactly the real session's frames (the fixture), in
//! order, orderBookL2 aside; its times only move forward; and decoded by a
//! fresh session it yields the XBTUSD best bids and asks the shared
//! `expected/` answers list (an oracle independent of this crate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::{decode_session, expected};
use mercury_core::raw_line::{RawLine, RawLineEvent};
use mercury_core::{Price, QuoteKind, SourceEvent};
use mercury_exchange_bitmex::EMBEDDED_CAPTURE;

fn records() -> Vec<RawLine<'static>> {
    EMBEDDED_CAPTURE
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn received() -> Vec<String> {
    records()
        .into_iter()
        .filter(|r| r.event() == RawLineEvent::Recv)
        .map(|r| r.text.unwrap().into_owned())
        .collect()
}

#[test]
fn its_frames_are_the_real_sessions_without_the_order_book() {
    let session = mercury_testkit::bitmex_frames("cryptofeed_2021-07-22_session.jsonl");
    let wanted: Vec<&String> = session
        .iter()
        .filter(|f| !f.contains(r#""table":"orderBookL2""#))
        .filter(|f| !f.contains(r#""subscribe":"orderBookL2:"#))
        .collect();
    let received = received();
    assert_eq!(received.len(), 131);
    assert_eq!(received.iter().collect::<Vec<_>>(), wanted);
}

#[test]
fn its_times_move_forward_on_one_connection() {
    let records = records();
    assert!(records.windows(2).all(|w| w[0].at_ns < w[1].at_ns));
    assert!(
        records
            .iter()
            .all(|r| r.conn == 1 && r.exchange == "bitmex")
    );
    assert_eq!(records[0].event(), RawLineEvent::Connecting);
    let subscriptions = records
        .iter()
        .find_map(|r| r.subscriptions.clone())
        .unwrap();
    assert!(subscriptions.contains(&"XBTUSD:bid".to_string()));
}

#[test]
fn decoded_it_gives_the_expected_best_bids_and_asks() {
    let events: Vec<SourceEvent> = decode_session(&received()).into_iter().flatten().collect();
    let of = |kind: QuoteKind| -> Vec<Price> {
        events
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Quote(q) if q.kind == kind && q.symbol.as_str() == "XBTUSD" => {
                    Some(q.price)
                }
                _ => None,
            })
            .collect()
    };
    let answers = |file: &str| -> Vec<Price> {
        expected(file)
            .iter()
            .map(|l| l.trim().parse().unwrap())
            .collect()
    };
    let bids = answers("cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt");
    let asks = answers("cryptofeed_2021-07-22_session.XBTUSD.askPrice.txt");
    assert_eq!(bids.len(), 286);
    assert_eq!(of(QuoteKind::Bid), bids);
    assert_eq!(of(QuoteKind::Ask), asks);
}
