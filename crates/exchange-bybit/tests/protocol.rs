//! Bybit specifics the conformance kit does not cover: deltas before a
//! snapshot, replies, refusals and the venue's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Decoder, Exchange, Outgoing, QuoteKind, SkipReason, SourceEvent, Subscription,
    Timestamp, Venue, VenueConfig, WireFrame,
};
use mercury_exchange_bybit::{Bybit, BybitVenue, EXCHANGE_ID};

fn decode(source: &mut Decoder, frame: &str) -> Vec<SourceEvent> {
    source
        .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
        .unwrap()
}

/// The gocryptotrader capture: a BTCUSDT snapshot, then a delta.
fn real(line: usize) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gocryptotrader_tickers_linear.jsonl"
    ))
    .unwrap();
    text.lines().nth(line).unwrap().to_owned()
}

#[test]
fn a_delta_before_its_snapshot_is_dropped_then_only_what_it_carries() {
    let mut source = Decoder::new(&Bybit);
    let delta = real(1);
    assert_eq!(
        decode(&mut source, &delta),
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::BeforeSnapshot,
            what: "tickers.BTCUSDT".into()
        })]
    );
    let snapshot = decode(&mut source, &real(0));
    let kinds = |events: &[SourceEvent]| -> Vec<(QuoteKind, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Quote(q) => Some((q.kind, q.price.to_string())),
                _ => None,
            })
            .collect()
    };
    assert_eq!(kinds(&snapshot).len(), 4, "mark, last, bid and ask");
    // The real delta carries markPrice and bid1Price only.
    assert_eq!(
        kinds(&decode(&mut source, &delta)),
        [
            (QuoteKind::Mark, "61875.06".into()),
            (QuoteKind::Bid, "61873.90".into())
        ]
    );
    source = Decoder::new(&Bybit); // a new connection, a new session
    assert!(matches!(
        decode(&mut source, &delta)[..],
        [SourceEvent::Control(Control::Skipped { .. })]
    ));
}

#[test]
fn replies_pongs_and_refusals() {
    let mut source = Decoder::new(&Bybit);
    let ack = r#"{"success":true,"ret_msg":"","conn_id":"x","req_id":"1","op":"subscribe"}"#;
    assert_eq!(
        decode(&mut source, ack),
        [SourceEvent::Control(Control::Subscribed {
            topic: "request 1".into()
        })]
    );
    let pong = r#"{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"","op":"ping"}"#;
    assert_eq!(
        decode(&mut source, pong),
        [SourceEvent::Control(Control::Pong)]
    );
    assert_eq!(
        decode(&mut source, r#"{"args":["1672916271846"],"op":"pong"}"#),
        [SourceEvent::Control(Control::Pong)]
    );
    let refused = r#"{"success":false,"ret_msg":"error:handler not found,topic:tickers.NOPE","conn_id":"x","req_id":"1","op":"subscribe"}"#;
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, refused)[..] else {
        panic!("an error")
    };
    assert_eq!(error.message, "error:handler not found,topic:tickers.NOPE");
    assert!(!error.retryable);
    // The same refusal with fields of odd types is still a refusal, not a
    // malformed frame.
    let odd = r#"{"success":"false","ret_msg":"error:handler not found","conn_id":{"x":1},"req_id":17,"op":"subscribe"}"#;
    let [SourceEvent::ExchangeError(error)] = &decode(&mut source, odd)[..] else {
        panic!("an error: {:?}", decode(&mut source, odd))
    };
    assert_eq!(error.message, "error:handler not found");
    assert_eq!(error.request.as_deref(), Some("subscribe 17"));
    let odder = r#"{"success":false,"ret_msg":{"text":"?"},"req_id":[1],"op":"subscribe"}"#;
    assert!(matches!(
        &decode(&mut source, odder)[..],
        [SourceEvent::ExchangeError(_)]
    ));
}

#[test]
fn subscribe_requests_and_the_venue_refusing_an_unknown_symbol() {
    let sub = |symbol: &str, kind| Subscription::new(EXCHANGE_ID, symbol, kind);
    let messages = Bybit
        .plan_at(
            "ws://x",
            &[
                sub("BTCUSDT", QuoteKind::Mark),
                sub("BTCUSDT", QuoteKind::Bid),
            ],
        )
        .unwrap()
        .remove(0)
        .subscribe;
    assert_eq!(
        messages,
        [Outgoing::Text(
            r#"{"op":"subscribe","args":["tickers.BTCUSDT"],"req_id":"1"}"#.into()
        )]
    );
    let mut venue = BybitVenue::new(&VenueConfig::default());
    let mut out = Vec::new();
    venue.on_text(
        r#"{"op":"subscribe","args":["tickers.NOPE"],"req_id":"9"}"#,
        Timestamp::UNIX_EPOCH,
        &mut out,
    );
    assert!(
        out[0]
            .contains(r#""success":false,"ret_msg":"error:handler not found,topic:tickers.NOPE""#),
        "{}",
        out[0]
    );
    assert!(out[0].contains(r#""req_id":"9""#));
    venue.on_event(Timestamp::UNIX_EPOCH, &mut out);
    assert_eq!(out.len(), 1, "no data for a refused topic");
}
