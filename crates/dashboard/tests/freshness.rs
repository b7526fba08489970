//! Freshness (issue #14, item 9): a connection that stays up but brings no
//! quote turns `/health` `degraded`, naming the subscription, and its age
//! grows in `/metrics`; when quotes come again, health is `ok` again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::{Collector, Connector, ConnectorConfig};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_dashboard::{Dashboard, DashboardOptions};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{fair_update, opening};
use mercury_testkit::{MockServer, Script, Step};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The staleness limit of the test.
const STALE_AFTER: Duration = Duration::from_millis(800);

/// One quote (the partial's), 3 s of WebSocket pings only, then a quote
/// every 100 ms for 4 s.
fn one_quote_then_pings_then_quotes() -> Script {
    let mut steps = opening();
    for _ in 0..15 {
        steps.push(Step::Ping(b"hb".to_vec()));
        steps.push(Step::Pause(Duration::from_millis(200)));
    }
    for i in 0..40 {
        steps.push(Step::Send(fair_update("XBTUSD", &format!("9300.{i}"), i)));
        steps.push(Step::Pause(Duration::from_millis(100)));
    }
    Script::new(steps)
}

async fn get(url: String) -> (u16, String) {
    let mut response = awc::Client::new().get(url).send().await.unwrap();
    let body = response.body().await.unwrap();
    (
        response.status().as_u16(),
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// Polls `/health` until `done` holds for its body (8 s at most).
async fn health_until(addr: std::net::SocketAddr, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let (_, body) = get(format!("http://{addr}/health")).await;
        let health: Value = serde_json::from_str(&body).unwrap();
        if done(&health) {
            return health;
        }
        assert!(Instant::now() < deadline, "last /health: {health}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the first `/metrics` line starting with `prefix`.
async fn metric(addr: std::net::SocketAddr, prefix: &str) -> String {
    let (_, text) = get(format!("http://{addr}/metrics")).await;
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

/// Regression (issue #14, item 9): `/health` said `ok` and
/// `mercury_connection_up` was 1 twenty seconds after the only quote.
#[actix::test]
async fn a_silent_subscription_degrades_health_and_its_age_grows_until_quotes_resume() {
    let server = MockServer::start(one_quote_then_pings_then_quotes());
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    let dashboard = Dashboard::start(
        collector.clone(),
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions {
            subscriptions: subscriptions.clone(),
            stale_after: STALE_AFTER,
            ..DashboardOptions::default()
        },
    )
    .unwrap();
    let addr = dashboard.addr();
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    Connector::new(&Bitmex, plan, ConnectorConfig::new(), collector.recipient()).start();

    let ok = health_until(addr, |h| {
        h["status"] == "ok" && h["quotes"][0]["quoted"] == true
    })
    .await;
    assert_eq!(ok["stale"], serde_json::json!([]), "{ok}");

    let degraded = health_until(addr, |h| h["status"] != "ok").await;
    assert_eq!(degraded["status"], "degraded", "{degraded}");
    assert_eq!(degraded["stale"], serde_json::json!(["bitmex:XBTUSD:fair"]));
    assert_eq!(degraded["connections"][0]["state"], "streaming", "still up");
    let age_of = |h: &Value| h["quotes"][0]["age_ms"].as_u64().unwrap();
    assert!(age_of(&degraded) > 800, "{degraded}");

    // Up, yet stale, and the age grows.
    let series = "mercury_quote_age_seconds{exchange=\"bitmex\",symbol=\"XBTUSD\",kind=\"fair\"}";
    let first: f64 = metric(addr, series).await.parse().unwrap();
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let second: f64 = metric(addr, series).await.parse().unwrap();
    assert!(second > first && first > 0.8, "{first} then {second}");
    let stale = "mercury_quote_stale{exchange=\"bitmex\",symbol=\"XBTUSD\",kind=\"fair\"}";
    assert_eq!(metric(addr, stale).await, "1");

    let again = health_until(addr, |h| h["status"] == "ok").await;
    assert!(age_of(&again) < 800, "{again}");
    assert_eq!(metric(addr, stale).await, "0");
    dashboard.stop().await;
}
