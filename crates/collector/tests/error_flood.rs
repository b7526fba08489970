//! A server that floods error frames cannot grow the collector's mailbox,
//! and no error goes uncounted.
//!
//! Regression (issue #14, item 4): a connector sent every exchange error
//! (and its counters) with `do_send`, outside the in-flight bound of its
//! quotes: while the collector waited for a slow lossless reader, each
//! error frame added a message to its unbounded mailbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{Collector, Connector, ConnectorConfig, GetStats, OpenStream};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{fair_update, opening};
use mercury_testkit::raw::frame;
use mercury_testkit::{RawScript, RawServer, RawStep, Step};
use std::time::{Duration, Instant};

/// Error frames the server sends.
const ERRORS: u64 = 300_000;
/// The most this process may grow while they arrive.
const RSS_BOUND_KIB: u64 = 24 << 10;

/// This process's resident set in KiB.
fn rss_kib() -> u64 {
    mercury_testkit::rss_kib(std::process::id()).unwrap()
}

#[actix::test]
async fn an_error_flood_does_not_grow_the_mailbox_and_every_error_is_counted() {
    // Quotes that fill the reader's queue (the collector then waits for
    // it), a flood of retryable errors (none ends the link), then a drop.
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    for second in 1..=4 {
        steps.push(RawStep::Play(Step::Send(fair_update(
            "XBTUSD", "7", second,
        ))));
    }
    let overloaded =
        r#"{"status":503,"error":"The system is currently overloaded. Please try again later."}"#;
    steps.push(RawStep::Repeat(frame(0x1, overloaded.as_bytes()), ERRORS));
    steps.push(RawStep::Play(Step::Drop));
    let server = RawServer::start(RawScript::new(steps));
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    // A lossless reader that reads nothing until the flood is over.
    let mut stream = collector
        .send(OpenStream {
            subscriptions: subscriptions.clone(),
            n: None,
            timeout: Some(Duration::from_secs(30)),
            capacity: 1,
        })
        .await
        .unwrap();
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff.max_attempts = Some(0);
    let before = rss_kib();
    let mut peak = before;
    let started = Instant::now();
    Connector::new(&Bitmex, plan, config, collector.clone().recipient()).start();
    // Until the server has sent everything and dropped us, and a moment
    // more for the client to read the rest.
    let mut gone_at = None;
    while gone_at.is_none_or(|at: Instant| at.elapsed() < Duration::from_millis(500)) {
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        peak = peak.max(rss_kib());
        if gone_at.is_none()
            && server
                .connections()
                .first()
                .is_some_and(|c| c.gone.is_some())
        {
            gone_at = Some(Instant::now());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the flood did not end"
        );
    }
    let grown = peak.saturating_sub(before);
    // Now read: the collector goes on, the stream ends with the failure.
    let mut quotes = 0;
    while let Some(_tick) = stream.ticks.recv().await {
        quotes += 1;
    }
    let end = stream.end.await.unwrap();
    // Every error is counted: the connector's final counters say how many.
    let deadline = Instant::now() + Duration::from_secs(5);
    let counted = loop {
        let stats = collector.send(GetStats).await.unwrap();
        let counted = stats.connections.first().map_or(0, |c| c.exchange_errors);
        if counted == ERRORS || Instant::now() > deadline {
            break counted;
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    };
    println!(
        "RSS {before} → peak {peak} KiB (+{grown}) over {:?}; {quotes} quotes, {counted} errors counted; end: {end:?}",
        started.elapsed()
    );
    assert!(grown < RSS_BOUND_KIB, "RSS grew by {grown} KiB");
    assert_eq!(quotes, 5, "the partial's quote and four updates");
    assert_eq!(counted, ERRORS);
}
