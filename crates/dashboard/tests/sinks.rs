//! A recording run's file sinks on the dashboard (`serve --out`, #15): a
//! writer that fails makes `/health` `degraded` (naming the sink and why,
//! while the connection streams) and shows in `/metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use actix::Actor;
use common::{get, quotes};
use mercury_collector::record::Rotation;
use mercury_collector::record::quotes::{QuotesConfig, start_quotes};
use mercury_collector::{Collector, ConnectionId, Connector, ConnectorConfig, Tick};
use mercury_core::{ConnectionPlan, Quote, QuoteKind, Subscription, Symbol, Timestamp};
use mercury_dashboard::{Dashboard, DashboardOptions};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::MockServer;
use serde_json::Value;
use std::time::{Duration, Instant};

#[actix::test]
async fn a_failed_sink_degrades_health_and_shows_in_metrics() {
    // A real quote writer that cannot write: a file where its directory goes.
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("bitmex"), b"in the way").unwrap();
    let config = QuotesConfig {
        dir: out.path().to_owned(),
        rotation: Rotation::HOURLY,
        compress: false,
    };
    let (ticks, receiver) = tokio::sync::mpsc::channel(4);
    let writer = start_quotes(config, receiver).unwrap();
    let tick = Tick {
        seq: 1,
        connection: ConnectionId(1),
        conn_seq: 1,
        quote: Quote {
            exchange: EXCHANGE_ID,
            symbol: Symbol::new("XBTUSD"),
            kind: QuoteKind::Fair,
            price: "1.814e-05".parse().unwrap(),
            exchange_time: None,
            received_at: Timestamp::from_unix_nanos(1_764_651_600_000_000_000),
            conn_seq: 1,
        },
        after_gap: false,
    };
    ticks.send(tick).await.unwrap();
    assert!(writer.done.await.unwrap().is_err(), "the writer failed");

    let server = MockServer::start(quotes());
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    let dashboard = Dashboard::start(
        collector.clone(),
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions {
            subscriptions: subscriptions.clone(),
            sinks: writer.stats.clone(),
            ..DashboardOptions::default()
        },
    )
    .unwrap();
    let addr = dashboard.addr();
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    Connector::new(&Bitmex, plan, ConnectorConfig::new(), collector.recipient()).start();

    let deadline = Instant::now() + Duration::from_secs(8);
    let health = loop {
        let health: Value =
            serde_json::from_str(&get(format!("http://{addr}/health")).await).unwrap();
        if health["connections"][0]["state"] == "streaming" {
            break health;
        }
        assert!(Instant::now() < deadline, "never streaming: {health}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        health["status"], "degraded",
        "streaming, but a sink failed: {health}"
    );
    assert_eq!(health["sinks_degraded"], serde_json::json!(["jsonl"]));
    let failed = health["sinks"][0]["failed"].as_str().unwrap();
    assert!(
        failed.starts_with("cannot create the directory"),
        "{failed}"
    );
    assert_eq!(
        health["sinks"][0]["last_write"],
        Value::Null,
        "nothing was written"
    );

    let metrics = get(format!("http://{addr}/metrics")).await;
    for line in [
        "mercury_sink_up{sink=\"jsonl\"} 0",
        "mercury_sink_errors_total{sink=\"jsonl\"} 1",
        "mercury_sink_files_finished_total{sink=\"jsonl\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    dashboard.stop().await;
}
