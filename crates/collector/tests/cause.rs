//! What ended a connection decides how long to wait before the next.
//!
//! Regression (issue #12, item 4): the last retryable error frame lived for
//! the whole connection, so an old 429 (`retryAfter` 30 s) became the cause
//! — and set the wait — of an unrelated drop much later. Now the server's
//! error is the cause only if the link ends before another message decodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::{Backoff, Collector, Connector, ConnectorConfig, Fetch};
use mercury_core::{ConnectionPlan, Price, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{fair_update, opening};
use mercury_testkit::{MockServer, Script, Step};
use std::time::{Duration, Instant};

const RATE_LIMITED: &str = r#"{"status":429,"error":"Rate limit exceeded, retry in 30 seconds.","meta":{"retryAfter":30},"request":{"op":"subscribe","args":["instrument:XBTUSD"]}}"#;

#[actix::test]
async fn an_old_rate_limit_does_not_set_the_wait_of_a_later_drop() {
    let mut steps = opening();
    steps.push(Step::Send(RATE_LIMITED.into()));
    // The link goes on: good data after the error…
    steps.push(Step::Send(fair_update("XBTUSD", "43210.5", 1)));
    steps.push(Step::Pause(Duration::from_millis(200)));
    // …then an unrelated drop.
    steps.push(Step::Drop);
    let server = MockServer::start(Script::new(steps));
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    // The partial's and the update's fair prices, then the second
    // connection's partial.
    let fetch = collector.send(Fetch {
        subscriptions: subscriptions.clone(),
        n: 3,
        timeout: Duration::from_secs(20),
    });
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff = Backoff {
        base: Duration::from_millis(50),
        seed: Some(1),
        ..Backoff::default()
    };
    let started = Instant::now();
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();
    let ticks = fetch.await.unwrap().unwrap();
    let p = |s: &str| s.parse::<Price>().unwrap();
    let prices: Vec<Price> = ticks.iter().map(|t| t.quote.price).collect();
    assert_eq!(prices, [p("9277.2"), p("43210.5"), p("9277.2")]);
    assert!(ticks[2].after_gap);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}: the old 429's retryAfter set the wait",
        started.elapsed()
    );
    assert_eq!(server.connections(), 2);
}
