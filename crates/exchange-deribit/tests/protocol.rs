//! Deribit specifics the conformance kit does not cover: the opening and
//! subscribe requests, the heartbeat's `test_request` and its answer,
//! answers and refusals, an empty book side, and the venue's rules.
//!
//! Frames written here (not read from `fixtures/`) are in the shapes the
//! Deribit docs give; they are test inputs, not recordings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Decoder, Exchange, Outgoing, QuoteKind, SourceEvent, Subscription, Timestamp, Venue,
    VenueConfig, WireFrame,
};
use mercury_exchange_deribit::{Deribit, DeribitVenue, EXCHANGE_ID, TEST_ID};
use std::time::Duration;

const TEST_REQUEST: &str =
    r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#;

fn decode(source: &mut Decoder, frame: &str) -> Vec<SourceEvent> {
    source
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap()
}

fn fixture_line(file: &str, line: usize) -> String {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line).unwrap().to_owned()
}

fn public_test() -> Outgoing {
    Outgoing::Text(format!(
        r#"{{"jsonrpc":"2.0","id":{TEST_ID},"method":"public/test","params":{{}}}}"#
    ))
}

#[test]
fn a_connection_sets_the_heartbeat_then_subscribes_every_kind_with_one_channel() {
    let sub = |kind| Subscription::new(EXCHANGE_ID, "BTC-PERPETUAL", kind);
    let plan = Deribit
        .plan_at("ws://x", &[sub(QuoteKind::Mark), sub(QuoteKind::Index)])
        .unwrap()
        .remove(0);
    assert_eq!(
        plan.open,
        [Outgoing::Text(
            r#"{"jsonrpc":"2.0","id":1000000,"method":"public/set_heartbeat","params":{"interval":10}}"#
                .into()
        )]
    );
    assert_eq!(
        plan.subscribe,
        [Outgoing::Text(
            r#"{"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["ticker.BTC-PERPETUAL.100ms"]}}"#
                .into()
        )]
    );
    assert_eq!(Deribit.heartbeat().ping, public_test());
}

#[test]
fn a_test_request_is_answered_with_public_test_and_a_heartbeat_is_only_alive() {
    let mut source = Decoder::new(&Deribit);
    assert_eq!(
        decode(&mut source, TEST_REQUEST),
        [SourceEvent::Reply(public_test())]
    );
    // Every one is answered: the bound is per frame.
    assert_eq!(
        decode(&mut source, TEST_REQUEST),
        [SourceEvent::Reply(public_test())]
    );
    let beat = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}"#;
    assert_eq!(
        decode(&mut source, beat),
        [SourceEvent::Control(Control::Info("heartbeat".into()))]
    );
    let pong = format!(
        r#"{{"jsonrpc":"2.0","id":{TEST_ID},"result":{{"version":"1.2.26"}},"usIn":1,"usOut":2,"usDiff":1,"testnet":false}}"#
    );
    assert_eq!(
        decode(&mut source, &pong),
        [SourceEvent::Control(Control::Pong)]
    );
}

#[test]
fn the_real_subscribe_answer_names_each_channel_and_an_empty_one_is_refused() {
    let mut source = Decoder::new(&Deribit);
    let events = decode(
        &mut source,
        &fixture_line("cryptofeed_options_raw.jsonl", 0),
    );
    assert_eq!(events.len(), 30, "30 channels in the real answer");
    assert_eq!(
        events[0],
        SourceEvent::Control(Control::Subscribed {
            topic: "trades.ETH-30JUL21-2800-C.raw".into()
        })
    );
    let nothing =
        r#"{"jsonrpc":"2.0","id":1,"result":[],"usIn":1,"usOut":2,"usDiff":1,"testnet":false}"#;
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, nothing)[..] else {
        panic!("an error")
    };
    assert!(!error.retryable, "{error:?}");
    assert_eq!(error.request.as_deref(), Some("request 1"));
    let ok = r#"{"jsonrpc":"2.0","id":1000000,"result":"ok"}"#;
    assert!(matches!(
        &decode(&mut source, ok)[..],
        [SourceEvent::Control(Control::Info(_))]
    ));
}

#[test]
fn errors_say_whether_to_retry_and_how_long_to_wait() {
    let mut source = Decoder::new(&Deribit);
    let limited = r#"{"jsonrpc":"2.0","id":7,"error":{"message":"too_many_requests","code":10028,"data":{"reason":"rate limit","retry_after_ms":2500}}}"#;
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, limited)[..] else {
        panic!("an error")
    };
    assert!(error.retryable);
    assert_eq!(error.status, Some(429));
    assert_eq!(error.retry_after, Some(Duration::from_millis(2500)));
    assert_eq!(error.message, "10028 too_many_requests: rate limit");
    // Deribit's documented error example: not retryable.
    let token = r#"{"jsonrpc":"2.0","error":{"code":13009,"message":"invalid_token","data":{"reason":"token has expired","param":"access_token"}},"usIn":1704153600000000,"usOut":1704153600001234,"usDiff":1234,"id":42}"#;
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, token)[..] else {
        panic!("an error")
    };
    assert!(!error.retryable);
    assert_eq!(error.retry_after, None);
    assert_eq!(error.request.as_deref(), Some("request 42"));
    // A wait past the longest honoured is clamped.
    let long = limited.replace("2500", "99999999999");
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, &long)[..] else {
        panic!("an error")
    };
    assert_eq!(error.retry_after, Some(mercury_core::MAX_RETRY_AFTER));
}

#[test]
fn an_empty_book_side_is_no_price_in_a_real_ticker() {
    // ETH-27AUG21-4000-P: "best_bid_price":0.0,"best_bid_amount":0.0 (and the ask).
    let frame = fixture_line("cryptofeed_options_raw.jsonl", 2);
    assert!(frame.contains(r#""best_bid_price":0.0,"best_bid_amount":0.0"#));
    let kinds: Vec<(QuoteKind, String)> = decode(&mut Decoder::new(&Deribit), &frame)
        .into_iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some((q.kind, q.price.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (QuoteKind::Mark, "1.005718".into()),
            (QuoteKind::Index, "2006.72".into()),
            (QuoteKind::Last, "1.0165".into())
        ]
    );
}

/// The venue with a heartbeat every second, `BTC-PERPETUAL` subscribed.
fn venue_with_heartbeat() -> (DeribitVenue, Vec<String>) {
    let mut venue = DeribitVenue::new(&VenueConfig {
        heartbeat: Some(Duration::from_secs(1)),
        ..VenueConfig::default()
    });
    let mut out = Vec::new();
    let plan = Deribit
        .plan_at(
            "ws://x",
            &[Subscription::new(
                EXCHANGE_ID,
                "BTC-PERPETUAL",
                QuoteKind::Mark,
            )],
        )
        .unwrap()
        .remove(0);
    for message in plan.open.iter().chain(&plan.subscribe) {
        venue.on_text(message.as_text().unwrap(), Timestamp::UNIX_EPOCH, &mut out);
    }
    (venue, out)
}

fn at(ms: u64) -> Timestamp {
    Timestamp::UNIX_EPOCH.saturating_add(Duration::from_millis(ms))
}

#[test]
fn the_venue_closes_a_client_that_leaves_a_test_request_unanswered() {
    let (mut venue, mut out) = venue_with_heartbeat();
    assert!(out[0].contains(r#""result":"ok""#), "{}", out[0]);
    out.clear();
    venue.on_event(at(1000), &mut out);
    assert_eq!(out[0], TEST_REQUEST);
    assert_eq!(venue.close_code(), None);
    venue.on_event(at(1500), &mut out);
    assert_eq!(venue.close_code(), None, "half an interval is not late");
    venue.on_event(at(2000), &mut out);
    assert_eq!(venue.close_code(), Some(1000));
}

#[test]
fn the_venue_keeps_a_client_that_answers_with_public_test() {
    let (mut venue, _) = venue_with_heartbeat();
    let mut source = Decoder::new(&Deribit);
    for second in 1..=5 {
        let mut out = Vec::new();
        venue.on_event(at(second * 1000), &mut out);
        for frame in out {
            for event in decode(&mut source, &frame) {
                if let SourceEvent::Reply(reply) = event {
                    let mut answer = Vec::new();
                    venue.on_text(reply.as_text().unwrap(), at(second * 1000), &mut answer);
                    assert!(answer[0].contains(r#""version""#), "{answer:?}");
                }
            }
        }
        assert_eq!(venue.close_code(), None, "closed after {second} s");
    }
}

#[test]
fn the_venue_refuses_a_short_interval_and_leaves_out_an_unknown_instrument() {
    let mut venue = DeribitVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_text(
        r#"{"jsonrpc":"2.0","id":3,"method":"public/set_heartbeat","params":{"interval":5}}"#,
        Timestamp::UNIX_EPOCH,
        &mut out,
    );
    assert!(out[0].contains(r#""code":-32602"#), "{}", out[0]);
    out.clear();
    venue.on_text(
        r#"{"jsonrpc":"2.0","id":4,"method":"public/subscribe","params":{"channels":["ticker.NOPE.100ms"]}}"#,
        Timestamp::UNIX_EPOCH,
        &mut out,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let events = decode(&mut Decoder::new(&Deribit), &out[0]);
    assert!(
        matches!(&events[..], [SourceEvent::ExchangeError(e)] if !e.retryable),
        "{events:?}"
    );
    venue.on_event(at(25), &mut out);
    assert_eq!(out.len(), 1, "no data for a refused channel");
}
