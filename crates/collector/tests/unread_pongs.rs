//! A server that floods pings and never reads what we send back cannot
//! grow us: pongs are coalesced (RFC 6455 §5.5.3 allows answering only the
//! most recent ping), and a peer that leaves what we must send unread for
//! `max_write_stall` is a dead link — one typed, retryable failure, then
//! the usual reconnect.
//!
//! Regression (issue #14, item 2): every ping queued one pong in the
//! sink's unbounded buffer and reset the heartbeat, so the client grew by
//! ~30 MB/s (6 → 873 MB in 30 s) while its link looked healthy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::{States, rss_kib};

use actix::prelude::*;
use mercury_collector::{
    Backoff, ConnectionState, Connector, ConnectorConfig, ConnectorError, StopConnector,
};
use mercury_core::{ConnectionPlan, HeartbeatPolicy, Outgoing, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::opening;
use mercury_testkit::{RawScript, RawServer, RawStep, Step};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long the server floods each connection (the test ends long before
/// unless the client lets the flood run).
const FLOOD: Duration = Duration::from_secs(8);
/// The stall after which the client gives up on the peer (test setting).
const STALL: Duration = Duration::from_millis(500);
/// The most this process may grow during the flood.
const RSS_BOUND_KIB: u64 = 32 << 10;

/// The first failure of a connector to `server` with this heartbeat and
/// stall limit, and when it came.
async fn first_failure(
    server: &RawServer,
    heartbeat: HeartbeatPolicy,
    stall: Duration,
) -> (ConnectorError, Duration) {
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.max_write_stall = stall;
    config.heartbeat = Some(heartbeat);
    config.backoff.max_attempts = Some(0);
    let (tx, mut states) = mpsc::unbounded_channel();
    let recorder = States(tx).start();
    let started = Instant::now();
    let _connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();
    loop {
        let state = actix_rt::time::timeout(FLOOD, states.recv())
            .await
            .expect("a verdict while the server pings")
            .unwrap();
        if let ConnectionState::Failed(error) = state {
            return (error, started.elapsed());
        }
    }
}

#[actix::test]
async fn a_peer_that_floods_pings_and_reads_nothing_is_a_dead_link() {
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    steps.push(RawStep::PingFlood {
        payload: 125,
        limit: FLOOD,
    });
    let server = RawServer::start(RawScript::new(steps));
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.max_write_stall = STALL;
    // A heartbeat that cannot decide first: the verdict must be ours.
    config.heartbeat = Some(HeartbeatPolicy {
        idle: Duration::from_secs(60),
        ping: Outgoing::Text("ping".into()),
        pong_deadline: Duration::from_secs(60),
    });
    config.backoff = Backoff {
        base: Duration::from_millis(10),
        seed: Some(1),
        ..Backoff::default()
    };
    let (tx, mut states) = mpsc::unbounded_channel();
    let recorder = States(tx).start();
    let before = rss_kib();
    let mut peak = before;
    let started = Instant::now();
    let connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();
    let mut failures = Vec::new();
    let mut subscribed = 0;
    // Until the second connection is up: one failure, one reconnect.
    while subscribed < 2 {
        let next = actix_rt::time::timeout(Duration::from_millis(50), states.recv()).await;
        peak = peak.max(rss_kib());
        assert!(
            started.elapsed() < FLOOD,
            "no verdict while the flood lasted; RSS {before} → {peak} KiB, states {failures:?}"
        );
        match next {
            Ok(Some(ConnectionState::Subscribing)) => subscribed += 1,
            Ok(Some(ConnectionState::Reconnecting { error, .. })) => failures.push(error),
            Ok(Some(ConnectionState::Failed(error))) => panic!("gave up: {error:?}"),
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("the connector went away"),
        }
    }
    connector.do_send(StopConnector);
    let grown = peak.saturating_sub(before);
    println!(
        "RSS {before} → peak {peak} KiB (+{grown}) over {:?}; failures: {failures:?}",
        started.elapsed()
    );
    assert!(grown < RSS_BOUND_KIB, "RSS grew by {grown} KiB");
    assert_eq!(failures.len(), 1, "{failures:?}");
    let error = &failures[0];
    assert!(
        matches!(error, ConnectorError::PeerNotReading { stalled_for, .. } if *stalled_for >= STALL),
        "{error:?}"
    );
    assert!(error.is_retryable());
    // The dead connection's socket is released soon (not held open by a
    // write that can never finish).
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.connections()[0].gone.is_none() {
        assert!(Instant::now() < deadline, "the dead socket is still open");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.connections().len(), 2);
}

#[actix::test]
async fn server_pings_alone_do_not_keep_a_link_alive() {
    // Data once, then only pings (read and answered), never an answer to
    // our heartbeat: before, each ping reset the heartbeat, forever.
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    for _ in 0..(FLOOD.as_millis() / 100) {
        steps.push(RawStep::Play(Step::Ping(b"still here".to_vec())));
        steps.push(RawStep::Play(Step::Pause(Duration::from_millis(100))));
    }
    let server = RawServer::start(RawScript::new(steps));
    let heartbeat = HeartbeatPolicy {
        idle: Duration::from_millis(300),
        ping: Outgoing::Text("ping".into()),
        pong_deadline: Duration::from_millis(300),
    };
    let (error, after) = first_failure(&server, heartbeat, STALL).await;
    assert!(
        matches!(error, ConnectorError::HeartbeatTimeout { .. }),
        "{error:?}"
    );
    assert!(after < Duration::from_secs(3), "{after:?}");
}
