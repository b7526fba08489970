//! Binance specifics the conformance kit does not cover: routing by path,
//! the shape of requests, replies and errors, and the venue's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Decoder, Error, Exchange, Outgoing, QuoteKind, SourceEvent, Subscription, Timestamp,
    Venue, VenueConfig, WireFrame,
};
use mercury_exchange_binance::{Binance, BinanceVenue, EXCHANGE_ID, MAX_CONNECTION_AGE};

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(EXCHANGE_ID, symbol, kind)
}

/// The subscribe messages of one connection for `subs`.
fn subscribe_messages(subs: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
    Ok(Binance.plan_at("ws://x", subs)?.remove(0).subscribe)
}

fn decode(frame: &str) -> Vec<SourceEvent> {
    Decoder::new(&Binance)
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap()
}

#[test]
fn mark_prices_and_the_book_live_on_different_paths() {
    let source = Binance;
    let base = "wss://fstream.binance.com";
    assert_eq!(
        source.route(base, QuoteKind::Mark),
        "wss://fstream.binance.com/market/stream"
    );
    assert_eq!(
        source.route(base, QuoteKind::Bid),
        "wss://fstream.binance.com/public/stream"
    );
    assert_eq!(
        source.route("ws://127.0.0.1:9/", QuoteKind::Ask),
        "ws://127.0.0.1:9/public/stream"
    );
    assert_eq!(source.max_connection_age(), Some(MAX_CONNECTION_AGE));
    assert!(matches!(source.heartbeat().ping, Outgoing::Ping(_)));
}

#[test]
fn one_subscribe_request_with_lower_case_streams_and_an_integer_id() {
    let messages = subscribe_messages(&[
        sub("BTCUSDT", QuoteKind::Mark),
        sub("BTCUSDT", QuoteKind::Bid),
        sub("BTCUSDT", QuoteKind::Ask),
        sub("ETHUSDT", QuoteKind::Mark),
    ])
    .unwrap();
    assert_eq!(
        messages,
        [Outgoing::Text(
            r#"{"method":"SUBSCRIBE","params":["btcusdt@markPrice@1s","btcusdt@bookTicker","ethusdt@markPrice@1s"],"id":1}"#
                .into()
        )]
    );
    let lower = subscribe_messages(&[sub("btcusdt", QuoteKind::Mark)]);
    assert!(lower.unwrap_err().to_string().contains("upper-case"));
}

#[test]
fn acks_errors_and_a_wrapped_array_of_events() {
    assert_eq!(
        decode(r#"{"result":null,"id":7}"#),
        [SourceEvent::Control(Control::Subscribed {
            topic: "request 7".into()
        })]
    );
    let [SourceEvent::ExchangeError(error)] =
        &decode(r#"{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":2}"#)[..]
    else {
        panic!("an error")
    };
    assert_eq!(error.message, "code 2: Invalid request: invalid stream");
    assert!(
        !error.retryable,
        "a bad request does not get better by reconnecting"
    );
    // Fields of odd types: still an error, not a malformed frame.
    let [SourceEvent::ExchangeError(error)] =
        &decode(r#"{"error":{"code":"2","msg":"Invalid request"},"id":{"n":2}}"#)[..]
    else {
        panic!("an error")
    };
    assert_eq!(error.message, "code 2: Invalid request");
    let [SourceEvent::ExchangeError(error)] =
        &decode(r#"{"code":[1],"msg":"Too many requests","id":"9"}"#)[..]
    else {
        panic!("an error")
    };
    assert_eq!(error.message, "Too many requests");
    assert_eq!(error.request.as_deref(), Some("request 9"));
    // crypto-msg-parser's real `!markPrice@arr` frame: two events, in order.
    let frame = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crypto-msg-parser_usdm_markprice.jsonl"
    ))
    .unwrap();
    let events = decode(frame.lines().nth(1).unwrap());
    let quotes: Vec<(String, String, u64)> = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some((q.symbol.to_string(), q.price.to_string(), q.conn_seq)),
            _ => None,
        })
        .collect();
    assert_eq!(
        quotes,
        [
            ("BTCUSDT".into(), "59022.53514719".into(), 1),
            ("ETHUSDT".into(), "1981.15704420".into(), 2)
        ]
    );
}

#[test]
fn the_venue_refuses_what_binance_refuses_and_is_silent_on_unknown_symbols() {
    let mut venue = BinanceVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    let now = Timestamp::UNIX_EPOCH;
    venue.on_text(
        r#"{"method":"SUBSCRIBE","params":["BTCUSDT@markPrice"],"id":1}"#,
        now,
        &mut out,
    );
    venue.on_text(
        r#"{"method":"SUBSCRIBE","params":["btcusdt@markPrice"],"id":"x"}"#,
        now,
        &mut out,
    );
    venue.on_text(r#"{"method":"PING","id":3}"#, now, &mut out);
    venue.on_text("ping", now, &mut out);
    venue.on_text(
        r#"{"method":"SUBSCRIBE","params":["nopeusdt@bookTicker"],"id":5}"#,
        now,
        &mut out,
    );
    assert!(
        out[0].contains(r#""msg":"Invalid request: invalid stream"},"id":1"#),
        "{}",
        out[0]
    );
    assert!(
        out[1].contains("request ID must be an unsigned integer"),
        "{}",
        out[1]
    );
    assert!(out[2].contains("unknown variant"), "{}", out[2]);
    assert!(out[3].contains(r#""code":3"#), "{}", out[3]);
    assert_eq!(out[4], r#"{"result":null,"id":5}"#);
    out.clear();
    for _ in 0..10 {
        venue.on_event(now, &mut out);
    }
    assert!(
        out.is_empty(),
        "no data for a symbol it does not list: {out:?}"
    );
}
