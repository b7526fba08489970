//! Kraken Futures specifics the conformance kit does not cover: the exact
//! subscribe requests, the greeting and per-product acknowledgements, the
//! errors and which are retryable, the ping, and the venue's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Decoder, Exchange, ExchangeError, Outgoing, QuoteKind, SkipReason, SourceEvent,
    Subscription, Timestamp, Venue, VenueConfig, WireFrame,
};
use mercury_exchange_krakenfutures::{EXCHANGE_ID, KrakenFutures, KrakenFuturesVenue};
use std::time::Duration;

fn decode(frame: &str) -> Vec<SourceEvent> {
    Decoder::new(&KrakenFutures)
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap()
}

fn fixture(file: &str, line: usize) -> String {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(line).unwrap().to_owned()
}

fn the_error(events: &[SourceEvent]) -> ExchangeError {
    match events {
        [SourceEvent::ExchangeError(error)] => error.clone(),
        other => panic!("one error expected: {other:?}"),
    }
}

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(EXCHANGE_ID, symbol, kind)
}

#[test]
fn one_ticker_request_serves_every_kind_and_ten_products_make_a_request() {
    let plans = KrakenFutures
        .plan_at(
            "ws://x",
            &[
                sub("PF_XBTUSD", QuoteKind::Mark),
                sub("PF_XBTUSD", QuoteKind::Index),
                sub("PF_XBTUSD", QuoteKind::Ask),
            ],
        )
        .unwrap();
    assert_eq!(
        plans[0].subscribe,
        [Outgoing::Text(
            r#"{"event":"subscribe","feed":"ticker","product_ids":["PF_XBTUSD"]}"#.into()
        )]
    );
    let many: Vec<Subscription> = (0..11)
        .map(|i| sub(&format!("FI_XBTUSD_2{i:05}"), QuoteKind::Mark))
        .collect();
    let plans = KrakenFutures.plan_at("ws://x", &many).unwrap();
    assert_eq!(plans.len(), 1);
    let texts: Vec<&str> = plans[0]
        .subscribe
        .iter()
        .map(|m| m.as_text().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(texts[0].matches("FI_XBTUSD_2").count(), 10);
    assert_eq!(
        texts[1],
        r#"{"event":"subscribe","feed":"ticker","product_ids":["FI_XBTUSD_200010"]}"#
    );
}

#[test]
fn product_ids_are_upper_case_and_the_heartbeat_is_a_websocket_ping() {
    for good in ["PF_XBTUSD", "PI_XBTUSD", "FI_XBTUSD_230630", "PF_ETHUSD"] {
        assert!(KrakenFutures.check(&sub(good, QuoteKind::Mark)).is_ok());
    }
    // The server would answer `PF_XBTUSD`, which a lower-case subscription
    // never matches.
    for bad in ["pf_xbtusd", "PF-XBTUSD", "PF_XBTUSD\"]", ""] {
        assert!(KrakenFutures.check(&sub(bad, QuoteKind::Mark)).is_err());
    }
    let heartbeat = KrakenFutures.heartbeat();
    assert_eq!(heartbeat.ping, Outgoing::Ping(Vec::new()));
    assert!(heartbeat.idle + heartbeat.pong_deadline < Duration::from_secs(60));
    // Kraken wants a client ping at least every 60 s, even while tickers
    // flow: the keep-alive pings every 30 s whatever the traffic.
    assert_eq!(KrakenFutures.keepalive(), Some(Duration::from_secs(30)));
}

#[test]
fn the_greeting_and_each_products_acknowledgement() {
    let session = "cryptofeed_ticker_lite_session.jsonl";
    assert_eq!(
        decode(&fixture(session, 0)),
        [SourceEvent::Control(Control::Welcome {
            info: "version 1".into()
        })]
    );
    assert_eq!(
        decode(&fixture(session, 2)),
        [SourceEvent::Control(Control::Subscribed {
            topic: "ticker_lite:PI_XRPUSD".into()
        })]
    );
    assert_eq!(
        decode(&fixture("krakendocs_ticker_subscribed.jsonl", 0)),
        [SourceEvent::Control(Control::Subscribed {
            topic: "ticker:PF_XBTUSD".into()
        })]
    );
    assert_eq!(
        decode(
            r#"{"event":"unsubscribed","feed":"ticker","product_ids":["PI_XBTUSD","PF_ETHUSD"]}"#
        ),
        [
            SourceEvent::Control(Control::Unsubscribed {
                topic: "ticker:PI_XBTUSD".into()
            }),
            SourceEvent::Control(Control::Unsubscribed {
                topic: "ticker:PF_ETHUSD".into()
            }),
        ]
    );
}

#[test]
fn a_real_ticker_gives_five_exact_prices_at_its_time() {
    let events = decode(&fixture("crypto-msg-parser_ticker.jsonl", 1));
    let quotes: Vec<(QuoteKind, String, Option<Timestamp>)> = events
        .iter()
        .map(|e| match e {
            SourceEvent::Quote(q) => {
                assert_eq!(q.symbol.as_str(), "PI_XBTUSD");
                (q.kind, q.price.to_string(), q.exchange_time)
            }
            other => panic!("a quote expected: {other:?}"),
        })
        .collect();
    let at = Timestamp::from_unix_millis(1_654_164_951_042);
    assert_eq!(
        quotes,
        [
            (QuoteKind::Mark, "29919.75".into(), at),
            (QuoteKind::Index, "29927.42".into(), at),
            (QuoteKind::Last, "29929.0".into(), at),
            (QuoteKind::Bid, "29914.5".into(), at),
            (QuoteKind::Ask, "29925.0".into(), at),
        ]
    );
    // 17 significant digits survive (an f64 would too here, but exactly
    // from the text is the rule).
    let events = decode(&fixture("ccxt_ticker.jsonl", 0));
    assert!(events.iter().any(|e| matches!(
        e,
        SourceEvent::Quote(q) if q.kind == QuoteKind::Mark && q.price.to_string() == "28064.92082724592"
    )));
}

#[test]
fn a_junk_price_costs_only_itself() {
    let frame =
        fixture("crypto-msg-parser_ticker.jsonl", 1).replace("\"last\":29929.0", "\"last\":\"x\"");
    let events = decode(&frame);
    assert!(events.contains(&SourceEvent::Control(Control::Skipped {
        reason: SkipReason::InvalidField,
        what: "ticker.last".into()
    })));
    let kinds: Vec<QuoteKind> = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some(q.kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            QuoteKind::Mark,
            QuoteKind::Index,
            QuoteKind::Bid,
            QuoteKind::Ask
        ]
    );
    // A ticker without its product is no ticker.
    let orphan = r#"{"feed":"ticker","bid":1.5}"#;
    assert!(
        Decoder::new(&KrakenFutures)
            .decode_to_vec(WireFrame::Text(orphan), Timestamp::UNIX_EPOCH)
            .is_err()
    );
}

#[test]
fn documented_errors_are_final_and_a_rate_limit_waits() {
    let json = the_error(&decode(&fixture("krakendocs_errors.jsonl", 0)));
    assert_eq!(json.message, "Json Error");
    assert!(!json.retryable);
    for final_error in [
        r#"{"event":"error","message":"Invalid product id"}"#,
        r#"{"event":"error","message":"Invalid feed"}"#,
        r#"{"event":"subscribed_failed","feed":"ticker","product_ids":["PF_NOPE"]}"#,
    ] {
        assert!(!the_error(&decode(final_error)).retryable, "{final_error}");
    }
    let limited = the_error(&decode(
        r#"{"event":"error","message":"apiLimitExceeded","retry_after":2.500}"#,
    ));
    assert!(limited.retryable);
    assert_eq!(limited.status, Some(429));
    assert_eq!(limited.retry_after, Some(Duration::from_millis(2500)));
    // The server's own trouble is worth another try.
    let unknown = the_error(&decode(r#"{"event":"error","message":"Internal error"}"#));
    assert!(unknown.retryable);
    assert_eq!(unknown.retry_after, None);
    // Odd types are still an error, not a malformed frame.
    let odd = the_error(&decode(r#"{"event":"error","message":17}"#));
    assert_eq!(odd.message, "17");
}

#[test]
fn heartbeats_pongs_and_private_feeds_carry_no_quote() {
    assert_eq!(
        decode(&fixture("krakendocs_heartbeat_feed.jsonl", 1)),
        [SourceEvent::Control(Control::Info("heartbeat".into()))]
    );
    assert_eq!(
        decode(r#"{"event":"pong"}"#),
        [SourceEvent::Control(Control::Pong)]
    );
    assert_eq!(
        decode(r#"{"event":"challenge","message":"226aee50-88fc-4618-a42a-34f7709570b2"}"#),
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::Unhandled,
            what: "challenge".into()
        })]
    );
}

#[test]
fn the_venue_greets_acknowledges_each_product_and_refuses_like_kraken() {
    let mut venue = KrakenFuturesVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_connect(None, Timestamp::UNIX_EPOCH, &mut out);
    assert_eq!(out, [r#"{"event":"info","version":1}"#]);
    out.clear();
    venue.on_text(
        r#"{"event":"subscribe","feed":"ticker","product_ids":["PF_XBTUSD","PF_NOPE","pf_ethusd"]}"#,
        Timestamp::UNIX_EPOCH,
        &mut out,
    );
    assert_eq!(out.len(), 5, "{out:#?}");
    assert_eq!(
        out[0],
        r#"{"event":"subscribed","feed":"ticker","product_ids":["PF_XBTUSD"]}"#
    );
    assert!(out[1].contains(r#""feed":"ticker","#) && out[1].contains("PF_XBTUSD"));
    assert_eq!(
        out[2],
        r#"{"event":"error","message":"Invalid product id"}"#
    );
    // Lower case in, upper case out, as the real server answers.
    assert_eq!(
        out[3],
        r#"{"event":"subscribed","feed":"ticker","product_ids":["PF_ETHUSD"]}"#
    );
    out.clear();
    venue.on_text("not json", Timestamp::UNIX_EPOCH, &mut out);
    venue.on_text(
        r#"{"event":"subscribe","feed":"book","product_ids":["PF_XBTUSD"]}"#,
        Timestamp::UNIX_EPOCH,
        &mut out,
    );
    assert_eq!(
        out,
        [
            r#"{"event":"error","message":"Json Error"}"#,
            r#"{"event":"error","message":"Invalid feed"}"#
        ]
    );
}
