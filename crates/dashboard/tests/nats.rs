//! The NATS sink on the dashboard (`serve --nats`, #16): its counters,
//! driven here as the publisher drives them, reach `/metrics` and
//! `/health`; a disconnected sink makes `/health` `degraded` with the
//! reason while the connection streams, and a reconnected one `ok` again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use actix::Actor;
use common::{get, quotes};
use mercury_collector::nats::NatsStats;
use mercury_collector::{Collector, Connector, ConnectorConfig};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_dashboard::{Dashboard, DashboardOptions};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::MockServer;
use serde_json::Value;
use std::time::{Duration, Instant};

#[actix::test]
async fn a_disconnected_nats_sink_degrades_health_and_its_counters_show_in_metrics() {
    let nats = NatsStats::new();
    nats.set_connected(true);
    nats.add_published(3);
    nats.add_acknowledged(false);
    nats.add_acknowledged(true);
    nats.set_pending_acks(1);
    nats.add_backpressure_ns(2_500_000_000);

    let server = MockServer::start(quotes());
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    let dashboard = Dashboard::start(
        collector.clone(),
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions {
            subscriptions: subscriptions.clone(),
            nats: Some(nats.clone()),
            ..DashboardOptions::default()
        },
    )
    .unwrap();
    let addr = dashboard.addr();
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    Connector::new(&Bitmex, plan, ConnectorConfig::new(), collector.recipient()).start();

    let health_when = |done: fn(&Value) -> bool| async move {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let health: Value =
                serde_json::from_str(&get(format!("http://{addr}/health")).await).unwrap();
            if done(&health) {
                return health;
            }
            assert!(Instant::now() < deadline, "never so: {health}");
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let health = health_when(|h| h["status"] == "ok").await;
    assert_eq!(health["nats_degraded"], Value::Null, "{health}");
    assert_eq!(health["nats"]["acknowledged"], 2, "{health}");

    let metrics = get(format!("http://{addr}/metrics")).await;
    for line in [
        "mercury_nats_connected 1",
        "mercury_nats_published_total 3",
        "mercury_nats_acknowledged_total 2",
        "mercury_nats_duplicates_total 1",
        "mercury_nats_pending_acks 1",
        "mercury_nats_backpressure_seconds_total 2.500000000",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }

    nats.set_connected(false);
    nats.add_error();
    let health = health_when(|h| h["status"] == "degraded").await;
    assert_eq!(health["connections"][0]["state"], "streaming", "{health}");
    let reason = health["nats_degraded"].as_str().unwrap();
    assert!(reason.contains("NATS sink is disconnected"), "{reason}");
    let metrics = get(format!("http://{addr}/metrics")).await;
    assert!(metrics.lines().any(|l| l == "mercury_nats_connected 0"));
    assert!(metrics.lines().any(|l| l == "mercury_nats_errors_total 1"));

    nats.set_connected(true);
    health_when(|h| h["status"] == "ok" && h["nats_degraded"].is_null()).await;
    dashboard.stop().await;
}
