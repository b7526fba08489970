//! Hyperliquid specifics the conformance kit does not cover: the exact
//! requests, replies, errors, the heartbeat frames and the venue's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, DecodeError, Decoder, Exchange, ExchangeError, Outgoing, QuoteKind, SkipReason,
    SourceEvent, Subscription, Timestamp, Venue, VenueConfig, VenueFault, WireFrame,
};
use mercury_exchange_hyperliquid::{EXCHANGE_ID, Hyperliquid, HyperliquidVenue};
use std::time::Duration;

fn decode(frame: &str) -> Vec<SourceEvent> {
    Decoder::new(&Hyperliquid)
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap()
}

/// The lines of a real fixture file.
fn fixture(name: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn quotes(events: &[SourceEvent]) -> Vec<(String, QuoteKind, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some((q.symbol.to_string(), q.kind, q.price.to_string())),
            _ => None,
        })
        .collect()
}

fn the_error(frame: &str) -> ExchangeError {
    match &decode(frame)[..] {
        [SourceEvent::ExchangeError(error)] => error.clone(),
        other => panic!("one error from {frame}: {other:?}"),
    }
}

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(EXCHANGE_ID, symbol, kind)
}

#[test]
fn one_request_per_subscription_object_mark_and_index_share_one() {
    let kinds = [
        QuoteKind::Mark,
        QuoteKind::Index,
        QuoteKind::Bid,
        QuoteKind::Ask,
        QuoteKind::Trade,
    ];
    let subs: Vec<Subscription> = kinds.iter().map(|&k| sub("BTC", k)).collect();
    let plans = Hyperliquid
        .plan_at("wss://api.hyperliquid.xyz/ws", &subs)
        .unwrap();
    assert_eq!(plans.len(), 1);
    let texts: Vec<&str> = plans[0]
        .subscribe
        .iter()
        .map(|m| m.as_text().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            r#"{"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":"BTC"}}"#,
            r#"{"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}}"#,
            r#"{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}"#,
        ]
    );
    assert_eq!(
        Hyperliquid.heartbeat().ping,
        Outgoing::Text(r#"{"method":"ping"}"#.into())
    );
}

#[test]
fn coins_are_spelled_as_hyperliquid_spells_them() {
    for coin in ["BTC", "kPEPE", "@107", "xyz:SP500"] {
        let plan = Hyperliquid
            .plan_at("ws://x", &[sub(coin, QuoteKind::Bid)])
            .unwrap_or_else(|e| panic!("{coin}: {e}"));
        let text = plan[0].subscribe[0].as_text().unwrap().to_owned();
        assert!(text.contains(&format!(r#""coin":"{coin}""#)), "{text}");
    }
    // The one spot pair named with a '/' cannot be asked for.
    assert!(
        Hyperliquid
            .plan_at("ws://x", &[sub("PURR/USDC", QuoteKind::Bid)])
            .is_err()
    );
}

#[test]
fn a_thousand_subscriptions_fit_one_connection_and_the_next_is_refused_before_connecting() {
    let subs: Vec<Subscription> = (0..1001)
        .map(|i| sub(&format!("C{i}"), QuoteKind::Mark))
        .collect();
    let plans = Hyperliquid.plan_at("ws://x", &subs[..1000]).unwrap();
    assert_eq!(
        plans.iter().map(|p| p.subscribe.len()).collect::<Vec<_>>(),
        [1000]
    );
    // One IP may hold 1 000 subscriptions over all its connections: a
    // 1 001st would be refused by the server, so the plan refuses it.
    for refused in [
        Hyperliquid.plan_at("ws://x", &subs),
        Hyperliquid.plan("ws://x", &subs),
    ] {
        let error = refused.unwrap_err().to_string();
        assert!(
            error.contains("1000 topics") && error.contains("1001"),
            "{error}"
        );
    }
}

#[test]
fn replies_and_pongs_of_record() {
    // The docs' wscat example.
    let docs = &fixture("hyperliquiddocs_subscription_response.jsonl")[0];
    assert_eq!(
        decode(docs),
        [SourceEvent::Control(Control::Subscribed {
            topic: r#"{"type":"trades","coin":"SOL"}"#.into()
        })]
    );
    assert_eq!(
        decode(&fixture("ccxt_pong.jsonl")[0]),
        [SourceEvent::Control(Control::Pong)]
    );
    // The plain-text greeting the official Python SDK skips.
    assert_eq!(
        decode("Websocket connection established."),
        [SourceEvent::Control(Control::Welcome {
            info: "Websocket connection established.".into()
        })]
    );
    let unsubscribed = r#"{"channel":"subscriptionResponse","data":{"method":"unsubscribe","subscription":{"type":"bbo","coin":"BTC"}}}"#;
    assert!(matches!(
        &decode(unsubscribed)[..],
        [SourceEvent::Control(Control::Unsubscribed { topic })] if topic.contains("bbo")
    ));
}

#[test]
fn errors_of_record_are_typed_limits_retryable_the_rest_not() {
    let errors = fixture("nktkas-issue78_errors.jsonl");
    let retryable: Vec<bool> = errors.iter().map(|f| the_error(f).retryable).collect();
    assert_eq!(retryable, [false, true, true, true]);
    let messages = the_error(&errors[2]);
    assert_eq!(
        messages.message,
        "Cannot send more than 2000 messages per minute."
    );
    assert_eq!((messages.status, messages.retry_after), (Some(429), None));
    let parse = the_error(&fixture("ccxt_error.jsonl")[0]);
    assert!(!parse.retryable);
    assert!(parse.message.starts_with("Error parsing JSON"), "{parse:?}");
    // A subscription sent twice is a notice, not an error (gemwallet #462).
    let twice = r#"{"channel":"error","data":"Already subscribed: {\"type\":\"activeAssetCtx\",\"coin\":\"UNI\"}"}"#;
    assert!(matches!(
        &decode(twice)[..],
        [SourceEvent::Control(Control::Info(text))] if text.starts_with("Already subscribed")
    ));
}

#[test]
fn real_data_frames_give_their_prices_and_times() {
    let bbo = decode(&fixture("hyperliquidnet_bbo.jsonl")[1]);
    assert_eq!(
        quotes(&bbo),
        [
            ("HYPE".into(), QuoteKind::Bid, "23.757".into()),
            ("HYPE".into(), QuoteKind::Ask, "23.758".into())
        ]
    );
    let SourceEvent::Quote(bid) = &bbo[0] else {
        panic!()
    };
    assert_eq!(
        bid.exchange_time,
        Timestamp::from_unix_millis(1_766_566_375_292)
    );
    let trades = decode(&fixture("pybotters_trades.jsonl")[0]);
    assert_eq!(
        quotes(&trades),
        [
            ("AVAX".into(), QuoteKind::Trade, "18.435".into()),
            ("@107".into(), QuoteKind::Trade, "18.620413815".into())
        ]
    );
    let ctx = decode(&fixture("pybotters_active_asset_ctx.jsonl")[0]);
    assert_eq!(
        quotes(&ctx),
        [
            ("BTC".into(), QuoteKind::Mark, "14.3161".into()),
            ("BTC".into(), QuoteKind::Index, "14.32".into())
        ]
    );
    for skipped in ["ccxt_l2book.jsonl", "hyperliquidnet_allmids.jsonl"] {
        let frame = fixture(skipped).pop().unwrap();
        assert!(matches!(
            &decode(&frame)[..],
            [SourceEvent::Control(Control::Skipped {
                reason: SkipReason::Unhandled,
                ..
            })]
        ));
    }
}

#[test]
fn an_empty_side_a_spot_context_and_a_bad_price_cost_only_themselves() {
    let one_sided = r#"{"channel":"bbo","data":{"coin":"BTC","time":1,"bbo":[null,{"px":"84144.0","sz":"1","n":1}]}}"#;
    assert_eq!(
        quotes(&decode(one_sided)),
        [("BTC".into(), QuoteKind::Ask, "84144.0".into())]
    );
    let spot = r#"{"channel":"activeSpotAssetCtx","data":{"coin":"@107","ctx":{"prevDayPx":"20.0","markPx":"18.62","midPx":"18.61","circulatingSupply":"1"}}}"#;
    assert_eq!(
        quotes(&decode(spot)),
        [("@107".into(), QuoteKind::Mark, "18.62".into())]
    );
    let bad = r#"{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"N/A","oraclePx":"84198.0"}}}"#;
    let events = decode(bad);
    assert_eq!(
        quotes(&events),
        [("BTC".into(), QuoteKind::Index, "84198.0".into())]
    );
    assert!(events.contains(&SourceEvent::Control(Control::Skipped {
        reason: SkipReason::InvalidField,
        what: "activeAssetCtx.markPx".into()
    })));
    let odd_time = r#"{"channel":"trades","data":[{"coin":"BTC","px":"1.5","time":"soon"}]}"#;
    let events = decode(odd_time);
    assert_eq!(
        quotes(&events),
        [("BTC".into(), QuoteKind::Trade, "1.5".into())]
    );
    assert!(
        matches!(&events[..], [SourceEvent::Control(Control::Skipped { what, .. }), SourceEvent::Quote(q)]
        if what == "trades.time" && q.exchange_time.is_none())
    );
    let refuse = |frame: &str| {
        Decoder::new(&Hyperliquid)
            .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
            .unwrap_err()
    };
    // A frame without a channel; a book side too many (never more than two
    // levels are read into memory).
    assert!(matches!(
        refuse(r#"{"data":{}}"#),
        DecodeError::UnknownShape(_)
    ));
    let three = r#"{"channel":"bbo","data":{"coin":"BTC","bbo":[null,null,null]}}"#;
    assert!(matches!(refuse(three), DecodeError::Malformed(_)));
}

fn venue_answers(requests: &[&str]) -> Vec<String> {
    let mut venue = HyperliquidVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    for request in requests {
        venue.on_text(request, Timestamp::UNIX_EPOCH, &mut out);
    }
    out
}

#[test]
fn the_venue_answers_like_the_server_of_record() {
    let subscribe = r#"{"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}}"#;
    let out = venue_answers(&[subscribe, subscribe, r#"{"method":"ping"}"#, "{"]);
    assert_eq!(
        out[0],
        r#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}}}"#
    );
    assert!(out[1].starts_with(r#"{"channel":"bbo","data":{"coin":"BTC","time":0,"bbo":[{"px":"#));
    assert!(out[2].contains("Already subscribed"), "{}", out[2]);
    assert_eq!(out[3], r#"{"channel":"pong"}"#);
    assert!(out[4].contains("Error parsing JSON into valid websocket request"));
    let refused =
        venue_answers(&[r#"{"method":"subscribe","subscription":{"type":"bbo","coin":"NOPE"}}"#]);
    let error = the_error(&refused[0]);
    assert!(
        !error.retryable && error.message.contains("NOPE"),
        "{error:?}"
    );
}

#[test]
fn the_venues_rate_limit_reads_back_with_its_wait_and_images_are_padded() {
    let venue = HyperliquidVenue::new(&VenueConfig::default());
    let frame = venue
        .fault_frame(VenueFault::RateLimit {
            retry_after: Duration::from_millis(2500),
            now: Timestamp::UNIX_EPOCH,
        })
        .unwrap();
    let error = the_error(&frame);
    assert!(error.retryable);
    assert_eq!(
        error.retry_after,
        Some(Duration::from_secs(3)),
        "rounded up"
    );
    let trades = &fixture("ccxt_trades.jsonl")[0];
    assert_eq!(
        venue.fault_frame(VenueFault::Padded {
            frame: trades,
            padding: 10
        }),
        None,
        "a trade is not an image"
    );
    let bbo = &fixture("hyperliquidnet_bbo.jsonl")[1];
    let padded = venue
        .fault_frame(VenueFault::Padded {
            frame: bbo,
            padding: 10,
        })
        .unwrap();
    assert_eq!(quotes(&decode(&padded)), quotes(&decode(bbo)));
}
