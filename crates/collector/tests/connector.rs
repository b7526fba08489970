//! The connector and collector against a mock WebSocket server on
//! 127.0.0.1 serving real BitMEX frames (plus labelled synthetic updates).
//! Expected quotes are computed from what the server sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::{
    Collector, Connector, ConnectorConfig, ConnectorError, Fetch, FetchError, FetchFailed, Tick,
};
use mercury_core::ConnectionPlan;
use mercury_core::{HeartbeatPolicy, Outgoing, Price, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{self, SAMPLE_FAIRS as FAIRS, fair_prices_sent, fair_session};
use mercury_testkit::{MockServer, Script, Step};
use std::time::Duration;

fn xbt_fair() -> Vec<Subscription> {
    vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)]
}

async fn fetch_with(
    url: String,
    n: usize,
    tweak: impl FnOnce(&mut ConnectorConfig),
) -> Result<Vec<Tick>, FetchFailed> {
    let collector = Collector::new().start();
    let fetch = collector.send(Fetch {
        subscriptions: xbt_fair(),
        n,
        timeout: Duration::from_secs(10),
    });
    let plan = ConnectionPlan::new(&Bitmex, &url, &xbt_fair()).unwrap();
    let mut config = ConnectorConfig::new();
    // One connection per test here; reconnecting is tested in reconnect.rs.
    config.backoff.max_attempts = Some(0);
    tweak(&mut config);
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();
    fetch.await.unwrap()
}

fn prices(ticks: &[Tick]) -> Vec<Price> {
    ticks.iter().map(|t| t.quote.price).collect()
}

fn parsed(texts: &[String]) -> Vec<Price> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn connection_error(failed: FetchFailed) -> ConnectorError {
    match failed.reason {
        FetchError::Connection { error } => error,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[actix::test]
async fn ten_fair_quotes_in_arrival_order_skipping_updates_without_fair() {
    let steps = fair_session(&FAIRS, Duration::from_millis(2));
    let server = MockServer::start(Script::new(steps.clone()));
    let ticks = fetch_with(server.url(), 10, |_| {}).await.unwrap();
    let sent = fair_prices_sent(&steps);
    assert_eq!(prices(&ticks), parsed(&sent[..10]));
    assert_eq!(
        ticks[0].quote.price.to_string(),
        "9277.2",
        "the real partial's fairPrice comes first"
    );
    assert_eq!(
        ticks.iter().map(|t| t.seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<u64>>()
    );
    assert!(
        ticks
            .windows(2)
            .all(|w| w[0].quote.conn_seq < w[1].quote.conn_seq)
    );
    assert!(
        ticks
            .iter()
            .all(|t| t.quote.kind == QuoteKind::Fair && t.quote.symbol.as_str() == "XBTUSD")
    );
    assert_eq!(
        server.received()[0],
        r#"{"op":"subscribe","args":["instrument:XBTUSD"]}"#
    );
}

#[actix::test]
async fn data_before_the_partial_is_dropped_and_multi_row_updates_keep_order() {
    let mut steps = vec![
        Step::Send(bitmex::welcome()),
        Step::AwaitText("subscribe".into()),
    ];
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "1", 0))); // before any partial
    steps.push(Step::Send(bitmex::ack("instrument:XBTUSD")));
    steps.push(Step::Send(bitmex::instrument_partial()));
    steps.push(Step::Send(
        r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":2},{"symbol":"XBTUSD","lastPrice":9},{"symbol":"XBTUSD","fairPrice":3}]}"#.into(),
    ));
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "4", 1)));
    let server = MockServer::start(Script::new(steps.clone()));
    let ticks = fetch_with(server.url(), 4, |_| {}).await.unwrap();
    let sent = fair_prices_sent(&steps);
    assert_eq!(
        sent,
        ["9277.2", "2", "3", "4"],
        "the oracle skips the early update too"
    );
    assert_eq!(prices(&ticks), parsed(&sent));
}

#[actix::test]
async fn an_unknown_symbol_ends_the_fetch_with_the_exchanges_message() {
    let error = r#"{"status":400,"error":"Unknown symbol: XBTUSDX","meta":{},"request":{"op":"subscribe","args":["instrument:XBTUSDX"]}}"#;
    let steps = vec![
        Step::Send(bitmex::welcome()),
        Step::AwaitText("subscribe".into()),
        Step::Send(error.into()),
    ];
    let server = MockServer::start(Script::new(steps));
    let error = connection_error(fetch_with(server.url(), 10, |_| {}).await.unwrap_err());
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "the exchange reported an error (status 400): Unknown symbol: XBTUSDX"
    );
}

#[actix::test]
async fn a_server_close_mid_fetch_ends_it_with_what_arrived() {
    let mut steps = fair_session(&FAIRS[..3], Duration::from_millis(1));
    steps.push(Step::Close(1001));
    let server = MockServer::start(Script::new(steps.clone()));
    let failed = fetch_with(server.url(), 10, |_| {}).await.unwrap_err();
    assert_eq!(prices(&failed.received), parsed(&fair_prices_sent(&steps)));
    assert_eq!(
        connection_error(failed),
        ConnectorError::Closed {
            code: Some(1001),
            reason: None
        }
    );
}

#[actix::test]
async fn a_dropped_connection_is_reported() {
    let mut steps = fair_session(&FAIRS[..1], Duration::from_millis(1));
    steps.push(Step::Drop);
    let server = MockServer::start(Script::new(steps));
    let error = connection_error(fetch_with(server.url(), 10, |_| {}).await.unwrap_err());
    assert!(
        matches!(
            error,
            ConnectorError::Disconnected | ConnectorError::Protocol(_)
        ),
        "{error:?}"
    );
}

#[actix::test]
async fn silence_fires_the_heartbeat_then_a_clear_error() {
    let mut steps = bitmex::opening();
    steps.push(Step::Stall);
    let server = MockServer::start(Script::new(steps));
    let failed = fetch_with(server.url(), 10, |c| {
        c.heartbeat = Some(HeartbeatPolicy {
            idle: Duration::from_millis(150),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_millis(150),
        })
    })
    .await
    .unwrap_err();
    assert_eq!(
        failed.received.len(),
        1,
        "the partial's quote arrived before the stall"
    );
    let error = connection_error(failed);
    let ConnectorError::HeartbeatTimeout { silent_for } = error else {
        panic!("{error:?}")
    };
    assert!(silent_for >= Duration::from_millis(300), "{silent_for:?}");
    assert!(
        server.received().iter().any(|m| m == "ping"),
        "the ping was sent: {:?}",
        server.received()
    );
}

#[actix::test]
async fn a_live_link_answers_pings_and_stays_up() {
    // Heartbeat pings get pongs from the server, so a quiet but live link
    // survives many idle periods.
    let mut steps = bitmex::opening();
    steps.push(Step::Pause(Duration::from_millis(400)));
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "5", 1)));
    let server = MockServer::start(Script::new(steps));
    let ticks = fetch_with(server.url(), 2, |c| {
        c.heartbeat = Some(HeartbeatPolicy {
            idle: Duration::from_millis(50),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_millis(100),
        })
    })
    .await
    .unwrap();
    assert_eq!(ticks[1].quote.price.to_string(), "5");
    assert!(server.received().iter().filter(|m| *m == "ping").count() >= 2);
}

#[actix::test]
async fn big_and_fragmented_frames_are_read_whole() {
    let padding = "x".repeat(1 << 20);
    let big = format!(
        r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","padding":"{padding}","fairPrice":1.5}}]}}"#
    );
    let mut steps = bitmex::opening();
    steps.push(Step::Send(big));
    steps.push(Step::SendFragmented(
        bitmex::fair_update("XBTUSD", "2.5", 1),
        7,
    ));
    steps.push(Step::Send(bitmex_book_partial()));
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "3.5", 2)));
    let server = MockServer::start(Script::new(steps.clone()));
    let ticks = fetch_with(server.url(), 4, |_| {}).await.unwrap();
    assert_eq!(prices(&ticks), parsed(&fair_prices_sent(&steps)));
}

/// The real 709 KB XBTUSD orderBookL2 partial (a table the source skips).
fn bitmex_book_partial() -> String {
    mercury_testkit::bitmex_frames("cryptofeed_2021-07-22_session.jsonl")
        .into_iter()
        .filter(|f| f.contains(r#""table":"orderBookL2","action":"partial""#))
        .max_by_key(String::len)
        .unwrap()
}

#[actix::test]
async fn a_frame_over_the_limit_is_a_protocol_error() {
    let mut steps = bitmex::opening();
    steps.push(Step::Send(format!(
        r#"{{"table":"x","data":"{}"}}"#,
        "y".repeat(64 << 10)
    )));
    let server = MockServer::start(Script::new(steps));
    let error = connection_error(
        fetch_with(server.url(), 10, |c| c.max_frame_size = 32 << 10)
            .await
            .unwrap_err(),
    );
    assert!(matches!(error, ConnectorError::Protocol(_)), "{error:?}");
}

#[actix::test]
async fn garbage_is_skipped_and_server_pings_are_answered() {
    let mut steps = bitmex::opening();
    steps.push(Step::Send("garbage".into()));
    steps.push(Step::Send(
        "{\"table\":\"instrument\",\"action\":\"upd".into(),
    ));
    steps.push(Step::SendBinary(vec![0xde, 0xad, 0xbe, 0xef]));
    steps.push(Step::Ping(b"are you there".to_vec()));
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "7", 1)));
    steps.push(Step::Pause(Duration::from_millis(50)));
    steps.push(Step::Send(bitmex::fair_update("XBTUSD", "8", 2)));
    let server = MockServer::start(Script::new(steps.clone()));
    let ticks = fetch_with(server.url(), 3, |_| {}).await.unwrap();
    assert_eq!(prices(&ticks), parsed(&fair_prices_sent(&steps)));
    assert_eq!(server.pongs(), 1);
}

#[actix::test]
async fn only_garbage_ends_in_no_data_saying_what_was_received() {
    let steps = vec![
        Step::Send(bitmex::welcome()),
        Step::Send("garbage".into()),
        Step::Send("[1,2,3]".into()),
    ];
    let server = MockServer::start(Script::new(steps));
    let error = connection_error(
        fetch_with(server.url(), 10, |c| {
            c.timeouts.first_data = Duration::from_millis(300)
        })
        .await
        .unwrap_err(),
    );
    assert_eq!(
        error,
        ConnectorError::NoData {
            after: Duration::from_millis(300),
            frames: 3,
            skipped: 2
        }
    );
}

#[actix::test]
async fn http_200_instead_of_an_upgrade_names_the_status() {
    let server = MockServer::start(Script::reject(200));
    let error = connection_error(fetch_with(server.url(), 10, |_| {}).await.unwrap_err());
    assert_eq!(
        error,
        ConnectorError::HandshakeRejected {
            url: server.url(),
            status: 200,
            retry_after: None,
        }
    );
    let server = MockServer::start(Script::reject(429));
    let error = connection_error(fetch_with(server.url(), 10, |_| {}).await.unwrap_err());
    assert!(error.is_retryable());
    let ConnectorError::HandshakeRejected { retry_after, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        retry_after,
        Some(Duration::from_secs(1)),
        "read from the Retry-After header"
    );
}

#[actix::test]
async fn nothing_listening_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/realtime");
    let error = connection_error(fetch_with(url, 10, |_| {}).await.unwrap_err());
    assert!(
        matches!(&error, ConnectorError::Connect { detail, .. } if detail.contains("refused")),
        "{error:?}"
    );
}

#[actix::test]
async fn a_server_that_never_answers_the_upgrade_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // accepts, never answers
    let url = format!("ws://{}/realtime", listener.local_addr().unwrap());
    let error = connection_error(
        fetch_with(url, 10, |c| {
            c.timeouts.handshake = Duration::from_millis(300)
        })
        .await
        .unwrap_err(),
    );
    assert!(
        matches!(error, ConnectorError::HandshakeTimeout { .. }),
        "{error:?}"
    );
    drop(listener);
}

#[actix::test]
async fn bad_urls_fail_before_any_io() {
    let error = connection_error(
        fetch_with("http://127.0.0.1:1/".into(), 1, |_| {})
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(error, ConnectorError::InvalidUrl { .. }),
        "{error:?}"
    );
}
