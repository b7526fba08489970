//! A table of hand-made frames, one for every branch of the decoder.
//! (Real frames are in `fixtures.rs`; these are written for the branch.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::*;
use mercury_core::Decoder;
use mercury_core::{
    Control, DecodeError, ExchangeError, QuoteKind, SkipReason, SourceEvent, Timestamp, WireFrame,
};
use mercury_exchange_bitmex::{BitmexSession, decoder};
use std::time::Duration;

const PARTIAL_XBT: &str = r#"{"table":"instrument","action":"partial","keys":["symbol"],"filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","fairPrice":43210.5,"timestamp":"2026-11-24T06:00:00.000Z"}]}"#;

/// Feeds `frames` to a fresh source and returns the events of the last one.
fn last_events(frames: &[&str]) -> Result<Vec<SourceEvent>, DecodeError> {
    let mut source = decoder();
    let mut last = Ok(Vec::new());
    for frame in frames {
        last = source.decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH);
    }
    last
}

/// `(kind, price text)` of each quote the last frame yields.
fn check(frames: &[&str], want: &[(QuoteKind, &str)]) {
    let events = last_events(frames).unwrap_or_else(|e| panic!("{frames:?}: {e}"));
    let got: Vec<(QuoteKind, String)> = quotes(&events)
        .iter()
        .map(|q| (q.kind, q.price.to_string()))
        .collect();
    let want: Vec<(QuoteKind, String)> = want.iter().map(|(k, p)| (*k, p.to_string())).collect();
    assert_eq!(got, want, "frames: {frames:?}");
}

fn update(row: &str) -> String {
    format!(r#"{{"table":"instrument","action":"update","data":[{row}]}}"#)
}

#[test]
fn number_forms_are_exact() {
    let cases = [
        ("1225", "1225"),
        ("43210.5", "43210.5"),
        ("1.814e-05", "0.00001814"),
        ("28667.0", "28667.0"),
        ("1188212.1300000001", "1188212.1300000001"),
        ("\"4321.5\"", "4321.5"),
    ];
    for (wire, printed) in cases {
        let frame = update(&format!(r#"{{"symbol":"XBTUSD","fairPrice":{wire}}}"#));
        check(&[PARTIAL_XBT, &frame], &[(QuoteKind::Fair, printed)]);
    }
}

#[test]
fn update_rows_yield_only_the_fields_they_carry() {
    // Volume moved, nothing priced: no quote.
    check(
        &[PARTIAL_XBT, &update(r#"{"symbol":"XBTUSD","volume":5}"#)],
        &[],
    );
    // Only lastPrice moved.
    check(
        &[
            PARTIAL_XBT,
            &update(r#"{"symbol":"XBTUSD","lastPrice":43211}"#),
        ],
        &[(QuoteKind::Last, "43211")],
    );
    // A null price carries no value.
    check(
        &[
            PARTIAL_XBT,
            &update(r#"{"symbol":"XBTUSD","fairPrice":null}"#),
        ],
        &[],
    );
    // Several fields in one row: fair, mark, last in that order.
    check(
        &[
            PARTIAL_XBT,
            &update(r#"{"symbol":"XBTUSD","lastPrice":3,"markPrice":2,"fairPrice":1}"#),
        ],
        &[
            (QuoteKind::Fair, "1"),
            (QuoteKind::Mark, "2"),
            (QuoteKind::Last, "3"),
        ],
    );
}

#[test]
fn multi_row_frames_keep_row_order_and_number_quotes() {
    let partial = r#"{"table":"instrument","action":"partial","filter":{},"data":[]}"#;
    let frame = update(
        r#"{"symbol":"XBTUSD","fairPrice":1},{"symbol":"ETHUSD","fairPrice":2},{"symbol":"XBTUSD","fairPrice":3}"#,
    );
    let events = last_events(&[partial, &frame]).unwrap();
    let got: Vec<(String, String, u64)> = quotes(&events)
        .iter()
        .map(|q| (q.symbol.to_string(), q.price.to_string(), q.conn_seq))
        .collect();
    assert_eq!(
        got,
        [("XBTUSD", "1", 1), ("ETHUSD", "2", 2), ("XBTUSD", "3", 3)].map(|(s, p, n)| (
            s.to_string(),
            p.to_string(),
            n
        ))
    );
}

#[test]
fn data_before_the_partial_is_dropped() {
    let early = update(r#"{"symbol":"XBTUSD","fairPrice":1}"#);
    let events = last_events(&[&early]).unwrap();
    assert!(quotes(&events).is_empty());
    assert!(dropped_before_partial(&events));
    // A partial for another symbol does not image this one.
    let eth = PARTIAL_XBT.replace("XBTUSD", "ETHUSD");
    let events = last_events(&[&eth, &early]).unwrap();
    assert!(quotes(&events).is_empty() && dropped_before_partial(&events));
    // Once imaged, the same frame yields its quote.
    check(&[PARTIAL_XBT, &early], &[(QuoteKind::Fair, "1")]);
    // A partial without a symbol filter (e.g. `trade:*`) images every symbol.
    let all = r#"{"table":"trade","action":"partial","filter":{},"data":[]}"#;
    let trade = r#"{"table":"trade","action":"insert","data":[{"symbol":"ANY","price":7}]}"#;
    check(&[all, trade], &[(QuoteKind::Trade, "7")]);
    // An image of one table says nothing of another.
    check(&[PARTIAL_XBT, trade], &[]);
}

#[test]
fn partial_emits_its_image_and_insert_and_delete_apply() {
    check(&[PARTIAL_XBT], &[(QuoteKind::Fair, "43210.5")]);
    let insert =
        r#"{"table":"instrument","action":"insert","data":[{"symbol":"XBTUSD","fairPrice":5}]}"#;
    check(&[PARTIAL_XBT, insert], &[(QuoteKind::Fair, "5")]);
    let mut source = decoder();
    for frame in [
        PARTIAL_XBT,
        r#"{"table":"instrument","action":"delete","data":[{"symbol":"XBTUSD"}]}"#,
    ] {
        let events = source
            .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
            .unwrap();
        if frame.contains("delete") {
            assert!(quotes(&events).is_empty());
        }
    }
    assert_eq!(source.session().latest("XBTUSD", QuoteKind::Fair), None);
}

#[test]
fn quote_and_trade_tables() {
    let quote_partial = r#"{"table":"quote","action":"partial","keys":[],"filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","bidPrice":32180,"askPrice":32180.5,"pool":"Primary"}]}"#;
    check(
        &[quote_partial],
        &[(QuoteKind::Bid, "32180"), (QuoteKind::Ask, "32180.5")],
    );
    let one_sided =
        r#"{"table":"quote","action":"insert","data":[{"symbol":"XBTUSD","askPrice":32181}]}"#;
    check(&[quote_partial, one_sided], &[(QuoteKind::Ask, "32181")]);
}

#[test]
fn unknown_tables_and_actions_are_skipped_not_errors() {
    let book = r#"{"table":"orderBookL2","action":"partial","data":[{"symbol":"XBTUSD","id":1,"price":3.5e-7}]}"#;
    let events = last_events(&[book]).unwrap();
    assert_eq!(
        events,
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::Unhandled,
            what: "orderBookL2".into()
        })]
    );
    let odd = r#"{"table":"instrument","action":"merge","data":[]}"#;
    let events = last_events(&[odd]).unwrap();
    assert!(matches!(
        &events[..],
        [SourceEvent::Control(Control::Skipped {
            reason: SkipReason::UnknownAction,
            ..
        })]
    ));
}

fn exchange_error(frame: &str) -> ExchangeError {
    match last_events(&[frame]).unwrap().as_slice() {
        [SourceEvent::ExchangeError(e)] => e.clone(),
        other => panic!("{frame}: {other:?}"),
    }
}

#[test]
fn error_frames_are_typed_with_retry_advice() {
    let e = exchange_error(
        r#"{"status":429,"error":"Rate limit exceeded, retry in 1 seconds.","meta":{"retryAfter":1},"request":{"op":"subscribe","args":["instrument:XBTUSD"]}}"#,
    );
    assert_eq!(e.status, Some(429));
    assert!(e.retryable);
    assert_eq!(e.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(e.message, "Rate limit exceeded, retry in 1 seconds.");
    assert!(e.request.unwrap().contains("instrument:XBTUSD"));

    let e = exchange_error(
        r#"{"status":400,"error":"Unknown table: instrumnt","meta":{},"request":{"op":"subscribe","args":["instrumnt:XBTUSD"]}}"#,
    );
    assert_eq!(
        (e.status, e.retryable, e.retry_after),
        (Some(400), false, None)
    );
    assert_eq!(e.message, "Unknown table: instrumnt");

    // Without meta or request.
    let e = exchange_error(r#"{"status":401,"error":"Signature not valid."}"#);
    assert_eq!((e.status, e.retryable, e.request), (Some(401), false, None));
    // Without status.
    let e = exchange_error(
        r#"{"error":"Unrecognized request. See the docs or send 'help' for more details."}"#,
    );
    assert_eq!((e.status, e.retryable), (None, false));
    // Server trouble is retryable; fractional retryAfter is kept to the millisecond.
    let e = exchange_error(r#"{"status":503,"error":"busy","meta":{"retryAfter":0.25}}"#);
    assert!(e.retryable);
    assert_eq!(e.retry_after, Some(Duration::from_millis(250)));
}

/// Regression (issue #14, item 5): an error frame whose `meta` was odd was
/// dropped whole as malformed, so a 429 was never seen as a rate limit and
/// a fatal 400 never failed the fetch. Now what can be read is: the status
/// and message always, the wait when it is one (clamped to an hour).
#[test]
fn error_frames_with_odd_meta_are_still_read() {
    let hour = Some(mercury_core::MAX_RETRY_AFTER);
    for (meta, wait) in [
        (r#"{"retryAfter":1e12}"#, hour),
        (r#"{"retryAfter":1e400}"#, hour),
        (r#"{"retryAfter":99999999999999999999999}"#, hour),
        (r#"{"retryAfter":"5"}"#, Some(Duration::from_secs(5))),
        (r#"{"retryAfter":2.5e0}"#, Some(Duration::from_millis(2500))),
        (r#"{"retryAfter":"soon"}"#, None),
        (r#"{"retryAfter":-5}"#, None),
        (r#"{"retryAfter":{"seconds":5}}"#, None),
        (r#"{"retryAfter":[5]}"#, None),
        (r#"{"retryAfter":null}"#, None),
        (r#"{"retryAfter":true}"#, None),
        (r#""soon""#, None),
        ("[]", None),
        ("7", None),
        (r#"{"retryAfter":{"a":{"b":[1,{"c":"d"}]}}}"#, None),
    ] {
        let rate_limited = format!(
            r#"{{"status":429,"error":"Rate limit exceeded, retry later.","meta":{meta}}}"#
        );
        let e = exchange_error(&rate_limited);
        assert_eq!(e.status, Some(429), "{meta}");
        assert!(e.retryable, "{meta}");
        assert_eq!(e.retry_after, wait, "{meta}");
        assert_eq!(e.message, "Rate limit exceeded, retry later.");

        let unknown = format!(
            r#"{{"status":400,"error":"Unknown symbol: XBTUSDX","meta":{meta},"request":{{"op":"subscribe","args":["instrument:XBTUSDX"]}}}}"#
        );
        let e = exchange_error(&unknown);
        assert_eq!((e.status, e.retryable), (Some(400), false), "{meta}");
        assert_eq!(e.message, "Unknown symbol: XBTUSDX");
    }
    // A status or message of the wrong type is left out or quoted, not fatal.
    let e = exchange_error(r#"{"status":"429","error":"slow down","meta":{"retryAfter":"3"}}"#);
    assert_eq!((e.status, e.retryable), (Some(429), true));
    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    let e = exchange_error(r#"{"status":"bad","error":{"why":"x"}}"#);
    assert_eq!((e.status, e.retryable), (None, false));
    assert_eq!(e.message, r#"{"why":"x"}"#);
    let e = exchange_error(r#"{"status":70000,"error":"odd"}"#);
    assert_eq!((e.status, e.message.as_str()), (None, "odd"));
}

#[test]
fn acks_with_args_as_string_or_array() {
    let array = r#"{"success":true,"subscribe":"instrument:XBTUSD","request":{"op":"subscribe","args":["instrument:XBTUSD"]}}"#;
    let string = r#"{"success":true,"subscribe":"trade:*","request":{"op":"subscribe","args":"trade:*"},"pool":"Aggregated"}"#;
    for (frame, topic) in [(array, "instrument:XBTUSD"), (string, "trade:*")] {
        assert_eq!(
            last_events(&[frame]).unwrap(),
            [SourceEvent::Control(Control::Subscribed {
                topic: topic.into()
            })]
        );
        let mercury_exchange_bitmex::wire::BitmexMessage::Ack(ack) =
            mercury_exchange_bitmex::wire::BitmexMessage::parse(frame).unwrap()
        else {
            panic!("an ack")
        };
        assert_eq!(ack.request.unwrap().args, [topic]);
    }
    let unsub = r#"{"success":true,"unsubscribe":"quote:XBTUSD","request":{"op":"unsubscribe","args":["quote:XBTUSD"]}}"#;
    assert_eq!(
        last_events(&[unsub]).unwrap(),
        [SourceEvent::Control(Control::Unsubscribed {
            topic: "quote:XBTUSD".into()
        })]
    );
    let refused = r#"{"success":false,"subscribe":"quote:XBTUSD"}"#;
    assert!(
        matches!(last_events(&[refused]).unwrap().as_slice(), [SourceEvent::ExchangeError(e)] if !e.retryable)
    );
}

#[test]
fn welcomes_old_and_new_reset_the_tables_and_help_is_only_info() {
    let welcomes = [
        r#"{"info":"Welcome to the BitMEX Realtime API.","version":"2021-07-14T01:26:29.000Z","timestamp":"2021-07-22T22:36:07.865Z","docs":"https://www.bitmex.com/app/wsAPI","limit":{"remaining":39}}"#,
        r#"{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0","timestamp":"2026-11-24T06:00:00.000Z","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false,"appName":"ws-feedhandler"}"#,
        r#"{"info":"Welcome to the BitMEX Realtime API."}"#,
    ];
    let later = update(r#"{"symbol":"XBTUSD","fairPrice":1}"#);
    for welcome in welcomes {
        let events = last_events(&[welcome]).unwrap();
        assert!(matches!(
            &events[..],
            [SourceEvent::Control(Control::Welcome { .. })]
        ));
        // After a welcome the old image is void: the update is dropped.
        let events = last_events(&[PARTIAL_XBT, welcome, &later]).unwrap();
        assert!(quotes(&events).is_empty() && dropped_before_partial(&events));
    }
    let help = &frames("official-nodejs_help-reply.jsonl")[0];
    assert!(matches!(
        last_events(&[help]).unwrap().as_slice(),
        [SourceEvent::Control(Control::Info(_))]
    ));
    assert_eq!(
        last_events(&["pong"]).unwrap(),
        [SourceEvent::Control(Control::Pong)]
    );
}

#[test]
fn a_new_session_forgets_images_and_restarts_the_sequence() {
    let mut source = decoder();
    let decode = |s: &mut Decoder<BitmexSession>, f: &str| {
        s.decode_to_vec(WireFrame::Text(f), Timestamp::UNIX_EPOCH)
            .unwrap()
    };
    decode(&mut source, PARTIAL_XBT);
    let events = decode(&mut source, &update(r#"{"symbol":"XBTUSD","fairPrice":2}"#));
    assert_eq!(quotes(&events)[0].conn_seq, 2);
    assert_eq!(
        source
            .session()
            .latest("XBTUSD", QuoteKind::Fair)
            .unwrap()
            .to_string(),
        "2"
    );
    source = decoder(); // a new connection, a new session
    assert_eq!(source.session().latest("XBTUSD", QuoteKind::Fair), None);
    let events = decode(&mut source, &update(r#"{"symbol":"XBTUSD","fairPrice":3}"#));
    assert!(dropped_before_partial(&events));
    let events = decode(&mut source, PARTIAL_XBT);
    assert_eq!(quotes(&events)[0].conn_seq, 1);
}

#[test]
fn quotes_carry_exchange_time_and_receive_time() {
    let mut source = decoder();
    let received: Timestamp = "2026-11-24T06:00:00.013Z".parse().unwrap();
    let events = source
        .decode_to_vec(WireFrame::Text(PARTIAL_XBT), received)
        .unwrap();
    let quote = quotes(&events)[0].clone();
    assert_eq!(quote.exchange.as_str(), "bitmex");
    assert_eq!(quote.symbol.as_str(), "XBTUSD");
    assert_eq!(
        quote.exchange_time.unwrap().to_string(),
        "2026-11-24T06:00:00.000Z"
    );
    assert_eq!(quote.received_at, received);
}

/// Regression (issue #14, item 8): a second welcome mid-stream silently
/// cleared the table image, and a fetch then waited to its timeout with a
/// hint about the symbol. Now the session says the server restarted it: a
/// retryable error the collector keeps as the connection's current trouble.
#[test]
fn a_second_welcome_is_a_session_restart() {
    let welcome = r#"{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0"}"#;
    let mut source = decoder();
    let mut decode = |frame: &str| {
        source
            .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
            .unwrap()
    };
    // The first welcome opens the session: nothing to say.
    assert!(matches!(
        &decode(welcome)[..],
        [SourceEvent::Control(Control::Welcome { .. })]
    ));
    assert_eq!(quotes(&decode(PARTIAL_XBT)).len(), 1);
    assert_eq!(
        quotes(&decode(&update(r#"{"symbol":"XBTUSD","fairPrice":1}"#))).len(),
        1
    );
    // The second one restarts it.
    let events = decode(welcome);
    assert!(
        matches!(
            &events[..],
            [
                SourceEvent::Control(Control::Welcome { .. }),
                SourceEvent::Control(Control::SessionRestarted),
            ]
        ),
        "{events:?}"
    );
    // The image is void until a new partial…
    let events = decode(&update(r#"{"symbol":"XBTUSD","fairPrice":2}"#));
    assert!(quotes(&events).is_empty() && dropped_before_partial(&events));
    // …after which quotes flow again.
    assert_eq!(quotes(&decode(PARTIAL_XBT)).len(), 1);
}
