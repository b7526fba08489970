//! OKX specifics the conformance kit does not cover: the exact subscribe
//! requests, replies, errors and their retry rules, the text heartbeat,
//! which channel gives which kind, and the venue's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Decoder, Exchange, ExchangeError, Outgoing, QuoteKind, SkipReason, SourceEvent,
    Subscription, Timestamp, Venue, VenueConfig, WireFrame,
};
use mercury_exchange_okx::{EXCHANGE_ID, Okx, OkxVenue};
use std::time::Duration;

const NOW: Timestamp = Timestamp::from_unix_nanos(1_795_500_000_000_000_000);

fn decode(frame: &str) -> Vec<SourceEvent> {
    Decoder::new(&Okx)
        .decode_to_vec(WireFrame::Text(frame), NOW)
        .unwrap()
}

/// Line `line` (from 0) of a fixture file.
fn real(file: &str, line: usize) -> String {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line).unwrap().to_owned()
}

/// (symbol, kind, price, exchange time in ms) of each quote.
fn quotes(events: &[SourceEvent]) -> Vec<(String, QuoteKind, String, Option<i128>)> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some((
                q.symbol.to_string(),
                q.kind,
                q.price.to_string(),
                q.exchange_time.map(|t| t.unix_nanos() / 1_000_000),
            )),
            _ => None,
        })
        .collect()
}

fn one_error(frame: &str) -> ExchangeError {
    match &decode(frame)[..] {
        [SourceEvent::ExchangeError(error)] => error.clone(),
        other => panic!("not one error: {other:?}"),
    }
}

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(EXCHANGE_ID, symbol, kind)
}

fn texts(subscriptions: &[Subscription]) -> Vec<String> {
    Okx.plan("wss://ws.okx.com:8443/ws/v5/public", subscriptions)
        .unwrap()
        .into_iter()
        .flat_map(|plan| plan.subscribe)
        .map(|message| message.as_text().unwrap().to_owned())
        .collect()
}

#[test]
fn each_kind_is_its_channel_and_bid_and_ask_share_one() {
    let all = [
        sub("BTC-USDT-SWAP", QuoteKind::Mark),
        sub("BTC-USDT", QuoteKind::Index),
        sub("BTC-USDT-SWAP", QuoteKind::Last),
        sub("BTC-USDT-SWAP", QuoteKind::Bid),
        sub("BTC-USDT-SWAP", QuoteKind::Ask),
    ];
    assert_eq!(
        texts(&all),
        [concat!(
            r#"{"op":"subscribe","args":["#,
            r#"{"channel":"mark-price","instId":"BTC-USDT-SWAP"},"#,
            r#"{"channel":"index-tickers","instId":"BTC-USDT"},"#,
            r#"{"channel":"tickers","instId":"BTC-USDT-SWAP"},"#,
            r#"{"channel":"bbo-tbt","instId":"BTC-USDT-SWAP"}]}"#
        )]
    );
}

#[test]
fn args_are_chunked_so_a_connection_sends_at_most_three_requests_of_under_64_kb() {
    let many: Vec<Subscription> = (0..2101)
        .map(|i| sub(&format!("C{i}-USDT-SWAP"), QuoteKind::Mark))
        .collect();
    let plans = Okx.plan("wss://x/ws/v5/public", &many).unwrap();
    let per_connection: Vec<(usize, usize)> = plans
        .iter()
        .map(|p| (p.subscriptions.len(), p.subscribe.len()))
        .collect();
    assert_eq!(per_connection, [(900, 3), (900, 3), (301, 2)]);
    // The longest args OKX could be sent: 40-byte instIds, the longest
    // channel name, a full request.
    let worst: Vec<Subscription> = (0..300)
        .map(|i| sub(&format!("{i:0>40}"), QuoteKind::Index))
        .collect();
    let worst = texts(&worst);
    assert_eq!(worst.len(), 1);
    assert!(worst[0].len() < 24 * 1024, "{} bytes", worst[0].len());
    assert!(worst[0].ends_with(
        r#"{"channel":"index-tickers","instId":"0000000000000000000000000000000000000299"}]}"#
    ));
}

#[test]
fn the_heartbeat_is_the_text_ping_well_inside_thirty_seconds() {
    let policy = Okx.heartbeat();
    assert_eq!(policy.ping, Outgoing::Text("ping".into()));
    assert!(policy.idle + policy.pong_deadline < Duration::from_secs(30));
    assert_eq!(decode("pong"), [SourceEvent::Control(Control::Pong)]);
    let mut venue = OkxVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_text("ping", NOW, &mut out);
    assert_eq!(out, ["pong"]);
}

#[test]
fn acks_name_channel_and_instrument() {
    // A real ack of 2022 (no connId) and one with connId.
    let ack = real("cryptofeed_tickers_trades.jsonl", 0);
    assert_eq!(
        decode(&ack),
        [SourceEvent::Control(Control::Subscribed {
            topic: "tickers:BTC-USD-220527".into()
        })]
    );
    let ack = r#"{"event":"subscribe","arg":{"channel":"bbo-tbt","instId":"BTC-USDT-SWAP"},"connId":"a4d3ae55"}"#;
    assert_eq!(
        decode(ack),
        [SourceEvent::Control(Control::Subscribed {
            topic: "bbo-tbt:BTC-USDT-SWAP".into()
        })]
    );
    let notice = r#"{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}"#;
    assert!(matches!(
        &decode(notice)[..],
        [SourceEvent::Control(Control::Info(text))] if text.starts_with("notice 64008 The connection")
    ));
}

#[test]
fn errors_are_fatal_unless_a_new_connection_can_help() {
    // The docs' example: our request was wrong; reconnecting repeats it.
    let error = one_error(&real("okxdocs-via-gocryptotrader_error.jsonl", 0));
    assert!(!error.retryable);
    assert!(
        error.message.starts_with("60012 Invalid request: "),
        "{}",
        error.message
    );
    let unknown = r#"{"event":"error","code":"60018","msg":"Wrong URL or channel:index-tickers,instId:BTC-USDT-SWAP doesn't exist. Please use the correct URL, channel and parameters referring to API document.","connId":"a4d3ae55"}"#;
    assert!(!one_error(unknown).retryable);
    for code in ["60015", "60016", "63999"] {
        let frame = format!(r#"{{"event":"error","code":"{code}","msg":"x","connId":"a"}}"#);
        let error = one_error(&frame);
        assert!(error.retryable && error.retry_after.is_none(), "{code}");
    }
    // Too frequent: OKX names no wait; its limits are per second.
    let error = one_error(
        r#"{"event":"error","code":"60014","msg":"Requests too frequent.","connId":"a"}"#,
    );
    assert_eq!(
        (error.status, error.retryable, error.retry_after),
        (Some(429), true, Some(Duration::from_secs(1)))
    );
    // Odd types are still an error, not a malformed frame.
    let odd = one_error(r#"{"event":"error","code":60014,"msg":{"x":1}}"#);
    assert!(odd.retryable);
}

#[test]
fn the_venues_rate_limit_names_its_wait() {
    let venue = OkxVenue::new(&VenueConfig::default());
    let frame = venue
        .fault_frame(mercury_core::VenueFault::RateLimit {
            retry_after: Duration::from_secs(5),
            now: NOW,
        })
        .unwrap();
    assert!(
        frame.starts_with(
            r#"{"event":"error","code":"60014","msg":"Requests too frequent. Wait until "#
        ),
        "{frame}"
    );
    assert_eq!(one_error(&frame).retry_after, Some(Duration::from_secs(5)));
}

#[test]
fn a_ticker_gives_only_last_and_the_book_gives_bid_and_ask() {
    // Real: UNI-USD-SWAP's ticker carries bidPx and askPx too.
    let ticker = real("cryptofeed_tickers_trades.jsonl", 16);
    assert!(ticker.contains(r#""instId":"UNI-USD-SWAP""#) && ticker.contains("bidPx"));
    assert_eq!(
        quotes(&decode(&ticker)),
        [(
            "UNI-USD-SWAP".into(),
            QuoteKind::Last,
            "5.123".into(),
            Some(1_652_459_223_143)
        )]
    );
    // Real bbo-tbt of BTC-USDT-SWAP: the instrument comes from the arg.
    let book = real("crypto-msg-parser_bbo-tbt.jsonl", 4);
    assert_eq!(
        quotes(&decode(&book)),
        [
            (
                "BTC-USDT-SWAP".into(),
                QuoteKind::Bid,
                "20386.7".into(),
                Some(1_656_642_503_092)
            ),
            (
                "BTC-USDT-SWAP".into(),
                QuoteKind::Ask,
                "20386.8".into(),
                Some(1_656_642_503_092)
            ),
        ]
    );
    // Real option frames: no bid is no quote, not an error.
    let option_book = real("crypto-msg-parser_bbo-tbt.jsonl", 5);
    assert_eq!(quotes(&decode(&option_book)).len(), 1);
    let option_ticker = real("crypto-msg-parser_tickers.jsonl", 5);
    assert!(option_ticker.contains(r#""bidPx":"""#));
    assert_eq!(quotes(&decode(&option_ticker))[0].2, "0.0005");
}

#[test]
fn the_index_is_quoted_under_the_index_name() {
    let index = real("okxdocs-via-gocryptotrader_index-tickers.jsonl", 0);
    assert_eq!(
        quotes(&decode(&index)),
        [(
            "BTC-USDT".into(),
            QuoteKind::Index,
            "0.1".into(),
            Some(1_597_026_383_085)
        )]
    );
    // The venue refuses the index of a swap, as OKX does, in OKX's words.
    let mut venue = OkxVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_text(
        r#"{"op":"subscribe","args":[{"channel":"index-tickers","instId":"BTC-USDT-SWAP"},{"channel":"index-tickers","instId":"BTC-USDT"}]}"#,
        NOW,
        &mut out,
    );
    let refused = one_error(&out[0]);
    assert!(!refused.retryable);
    assert!(
        refused.message.starts_with(
            "60018 Wrong URL or channel:index-tickers,instId:BTC-USDT-SWAP doesn't exist"
        ),
        "{}",
        refused.message
    );
    assert_eq!(
        decode(&out[1]),
        [SourceEvent::Control(Control::Subscribed {
            topic: "index-tickers:BTC-USDT".into()
        })]
    );
    assert_eq!(quotes(&decode(&out[2]))[0].0, "BTC-USDT");
}

#[test]
fn a_junk_field_costs_only_itself() {
    let ticker = real("crypto-msg-parser_tickers.jsonl", 4);
    let junk_ts = ticker.replace(r#""ts":"1654166233877""#, r#""ts":"soon""#);
    let events = decode(&junk_ts);
    assert_eq!(
        quotes(&events),
        [(
            "BTC-USDT-SWAP".into(),
            QuoteKind::Last,
            "29963".into(),
            None
        )]
    );
    assert!(events.contains(&SourceEvent::Control(Control::Skipped {
        reason: SkipReason::InvalidField,
        what: "tickers.ts".into()
    })));
    let book = real("crypto-msg-parser_bbo-tbt.jsonl", 4);
    let junk_bid = book.replace(r#""20386.7""#, r#""lots""#);
    let events = decode(&junk_bid);
    assert_eq!(quotes(&events).len(), 1, "the ask is kept");
    assert!(events.contains(&SourceEvent::Control(Control::Skipped {
        reason: SkipReason::InvalidField,
        what: "bbo-tbt.bids".into()
    })));
    // Another channel is skipped by name.
    let trade = real("cryptofeed_tickers_trades.jsonl", 20);
    assert!(trade.contains(r#""channel":"trades""#), "{trade}");
    assert_eq!(
        decode(&trade),
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::Unhandled,
            what: "trades".into()
        })]
    );
}

#[test]
fn the_venue_answers_garbage_like_okx() {
    let mut venue = OkxVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_text("hello", NOW, &mut out);
    venue.on_text(r#"{"op":"login","args":[]}"#, NOW, &mut out);
    let codes: Vec<String> = out
        .iter()
        .map(|f| one_error(f).message[..5].to_owned())
        .collect();
    assert_eq!(codes, ["60012", "60019"]);
}
