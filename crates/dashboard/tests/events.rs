//! The dashboard's event stream (`/ws`) as a browser reads it, against the
//! real stack: simulator → connector → collector → hub → WebSocket. The
//! sequence of states for a normal start, a reconnect and a failure; the
//! origin check; /health and /metrics; a slow browser losing events
//! instead of slowing anyone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use futures_util::StreamExt;
use mercury_collector::{Collector, Connector, ConnectorConfig};
use mercury_core::ConnectionPlan;
use mercury_core::{QuoteKind, Subscription, VenueConfig};
use mercury_dashboard::Dashboard;
use mercury_dashboard::hub::{GetSnapshot, Join};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Faults, Simulator, SimulatorConfig};
use serde_json::Value;
use std::time::{Duration, Instant};

struct Stack {
    simulator: Simulator,
    dashboard: Dashboard,
}

/// A simulator with `faults`, a collector, the dashboard, and (after the
/// caller connected its browser) one BitMEX connector.
async fn stack(faults: Faults) -> (Stack, actix::Addr<Collector>) {
    stack_with(faults, mercury_dashboard::BrowserTimers::default()).await
}

/// Like [`stack`], pinging and dropping browsers as `browsers` say.
async fn stack_with(
    faults: Faults,
    browsers: mercury_dashboard::BrowserTimers,
) -> (Stack, actix::Addr<Collector>) {
    let simulator = Simulator::start(
        SimulatorConfig {
            faults,
            venue: VenueConfig {
                headline_interval: Duration::from_millis(40),
                ..VenueConfig::default()
            },
            ..SimulatorConfig::loopback()
        },
        &Bitmex,
    )
    .unwrap();
    let collector = Collector::new().start();
    let listen = "127.0.0.1:0".parse().unwrap();
    let dashboard = Dashboard::start(
        collector.clone(),
        vec!["bitmex:XBTUSD (fair)".into()],
        listen,
        mercury_dashboard::DashboardOptions {
            allowed_hosts: mercury_dashboard::AllowedHosts(vec!["dash.internal".into()]),
            browsers,
            ..Default::default()
        },
    )
    .unwrap();
    (
        Stack {
            simulator,
            dashboard,
        },
        collector,
    )
}

fn start_connector(stack: &Stack, collector: &actix::Addr<Collector>) {
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &stack.simulator.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff.base = Duration::from_millis(50);
    Connector::new(&Bitmex, plan, config, collector.clone().recipient()).start();
}

type Browser = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

async fn browser(dashboard: &Dashboard) -> Browser {
    let url = format!("ws://{}/ws", dashboard.addr());
    let (_, socket) = awc::Client::new().ws(url).connect().await.unwrap();
    socket
}

/// Reads events until `done` holds for those read so far (10 s at most).
async fn read_until(socket: &mut Browser, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut events = Vec::new();
    while !done(&events) {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = actix_rt::time::timeout(left, socket.next())
            .await
            .unwrap_or_else(|_| panic!("events so far: {events:?}"));
        if let Some(Ok(awc::ws::Frame::Text(text))) = frame {
            events.push(serde_json::from_slice(&text).unwrap());
        }
    }
    events
}

fn states(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "state")
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect()
}

fn quotes(events: &[Value]) -> usize {
    events.iter().filter(|e| e["type"] == "quote").count()
}

#[actix::test]
async fn a_normal_start_says_hello_then_each_state_then_quotes() {
    let (stack, collector) = stack(Faults::default()).await;
    let mut socket = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    let events = read_until(&mut socket, |e| quotes(e) >= 3).await;
    assert_eq!(events[0]["type"], "hello");
    assert_eq!(events[0]["targets"][0], "bitmex:XBTUSD (fair)");
    assert_eq!(states(&events), ["connecting", "subscribing", "streaming"]);
    let quote = events.iter().find(|e| e["type"] == "quote").unwrap();
    assert_eq!(
        (quote["exchange"].as_str(), quote["kind"].as_str()),
        (Some("bitmex"), Some("fair"))
    );
    assert!(
        quote["price"]
            .as_str()
            .unwrap()
            .parse::<mercury_core::Price>()
            .is_ok()
    );
    let stats = read_until(&mut socket, |e| e.iter().any(|e| e["type"] == "stats")).await;
    let stats = stats.iter().find(|e| e["type"] == "stats").unwrap();
    assert_eq!(stats["connections"][0]["state"], "streaming");
}

#[actix::test]
async fn a_reconnect_shows_attempt_delay_and_reason_then_streaming_again() {
    let faults = Faults {
        drop_after: Some(8),
        faulty_connections: 1,
        ..Faults::default()
    };
    let (stack, collector) = stack(faults).await;
    let mut socket = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    let events = read_until(&mut socket, |e| states(e).len() >= 6).await;
    assert_eq!(
        states(&events),
        [
            "connecting",
            "subscribing",
            "streaming",
            "reconnecting",
            "connecting",
            "subscribing"
        ]
    );
    let reconnecting = events
        .iter()
        .find(|e| e["state"] == "reconnecting")
        .unwrap();
    assert_eq!(reconnecting["attempt"], 1);
    assert!(reconnecting["delay_ms"].as_u64().is_some());
    assert!(
        reconnecting["reason"].as_str().unwrap().contains("dropped"),
        "{reconnecting}"
    );
    let after = read_until(&mut socket, |e| e.iter().any(|e| e["after_gap"] == true)).await;
    assert!(states(&after).contains(&"streaming".to_string()));
}

#[actix::test]
async fn a_failure_shows_failed_with_the_reason_and_health_says_down() {
    let (stack, collector) = stack(Faults {
        http_200: true,
        ..Faults::default()
    })
    .await;
    let mut socket = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    let events = read_until(&mut socket, |e| states(e).contains(&"failed".to_string())).await;
    assert_eq!(states(&events), ["connecting", "failed"]);
    let failed = events.iter().find(|e| e["state"] == "failed").unwrap();
    assert!(
        failed["reason"].as_str().unwrap().contains("HTTP 200"),
        "{failed}"
    );
    let health = awc::Client::new()
        .get(format!("http://{}/health", stack.dashboard.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
}

/// Regression (issue #14, item 11): the idle drop never fired while
/// events flowed (its timer was made anew on every pass of the loop). Now a
/// browser that sends nothing, not even a pong to the dashboard's pings, is
/// dropped after the idle limit while quotes stream to it; one that answers
/// stays.
#[actix::test]
async fn a_silent_browser_is_dropped_while_events_flow_and_an_answering_one_stays() {
    let timers = mercury_dashboard::BrowserTimers {
        ping_every: Duration::from_millis(100),
        idle: Duration::from_millis(500),
    };
    let (stack, collector) = stack_with(Faults::default(), timers).await;
    let silent = browser(&stack.dashboard).await;
    let mut answering = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    // The answering browser reads for 1.5 s, answering every ping.
    let until = Instant::now() + Duration::from_millis(1500);
    let mut pings = 0;
    let mut quotes_seen = 0;
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match actix_rt::time::timeout(left, answering.next()).await {
            Ok(Some(Ok(awc::ws::Frame::Ping(bytes)))) => {
                pings += 1;
                futures_util::SinkExt::send(&mut answering, awc::ws::Message::Pong(bytes))
                    .await
                    .unwrap();
            }
            Ok(Some(Ok(awc::ws::Frame::Text(text)))) => {
                let event: Value = serde_json::from_slice(&text).unwrap();
                quotes_seen += usize::from(event["type"] == "quote");
            }
            Ok(Some(Ok(_))) => {}
            Ok(_) => panic!("the answering browser was dropped"),
            Err(_) => break,
        }
    }
    assert!(pings >= 5, "{pings} pings");
    assert!(quotes_seen >= 5, "events flowed: {quotes_seen} quotes");
    let snapshot = stack.dashboard.hub().send(GetSnapshot).await.unwrap();
    assert_eq!(snapshot.clients, 1, "only the answering browser is left");
    drop(silent);
}

/// Regression (issue #14, item 10): `Host: evil.example:PORT` with a
/// matching `Origin` got a 101 — DNS rebinding. Now any host name but
/// localhost and the configured ones is refused on every route (421).
#[actix::test]
async fn a_rebound_host_name_is_refused_on_every_route() {
    let (stack, _collector) = stack(Faults::default()).await;
    let addr = stack.dashboard.addr();
    let port = addr.port();
    let evil = format!("evil.example:{port}");
    let rebound = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .set_header("Host", evil.as_str())
        .origin(format!("http://{evil}").as_str())
        .connect()
        .await;
    assert!(
        matches!(&rebound, Err(awc::error::WsClientError::InvalidResponseStatus(s)) if s.as_u16() == 421),
        "{:?}",
        rebound.as_ref().err().map(ToString::to_string)
    );
    for path in ["/", "/health", "/metrics"] {
        let status = |host: String| {
            let url = format!("http://{addr}{path}");
            async move {
                let response = awc::Client::new()
                    .get(url)
                    .insert_header(("Host", host))
                    .send()
                    .await
                    .unwrap();
                response.status().as_u16()
            }
        };
        assert_eq!(status(evil.clone()).await, 421, "{path}");
        assert_ne!(status(format!("localhost:{port}")).await, 421, "{path}");
        assert_ne!(status(format!("dash.internal:{port}")).await, 421, "{path}");
        assert_ne!(status(format!("127.0.0.1:{port}")).await, 421, "{path}");
    }
    let local = format!("localhost:{port}");
    let same = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .set_header("Host", local.as_str())
        .origin(format!("http://{local}").as_str())
        .connect()
        .await;
    assert!(same.is_ok(), "the page opened as localhost may");
}

#[test]
fn a_dashboard_reachable_from_the_network_is_named() {
    use mercury_dashboard::Dashboard;
    let any: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
    let none = mercury_dashboard::AuthToken::default();
    let warning = Dashboard::exposure(any, &none).unwrap();
    assert!(warning.contains("visible to the network"), "{warning}");
    assert!(warning.contains("no --auth-token"), "{warning}");
    let token = mercury_dashboard::AuthToken::new(Some("s3cret".into()));
    let warning = Dashboard::exposure(any, &token).unwrap();
    assert!(
        warning.contains("needs the token") && !warning.contains("s3cret"),
        "{warning}"
    );
    assert!(Dashboard::exposure("127.0.0.1:8080".parse().unwrap(), &none).is_none());
    assert!(Dashboard::exposure("[::1]:8080".parse().unwrap(), &none).is_none());
}

#[actix::test]
async fn other_origins_are_refused_and_metrics_count_per_exchange() {
    let (stack, collector) = stack(Faults::default()).await;
    let addr = stack.dashboard.addr();
    let refused = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .origin("http://evil.example")
        .connect()
        .await;
    assert!(refused.is_err(), "a page elsewhere may not read the events");
    let same = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .origin(format!("http://{addr}").as_str())
        .connect()
        .await;
    assert!(same.is_ok(), "the dashboard's own page may");
    let mut socket = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    read_until(&mut socket, |e| {
        e.iter().filter(|e| e["type"] == "stats").count() >= 2
    })
    .await;
    let mut response = awc::Client::new()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("mercury_quotes_total{exchange=\"bitmex\""))
        .unwrap_or_else(|| panic!("{text}"));
    let quotes: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(quotes >= 1, "{line}");
    assert!(text.contains("# TYPE mercury_reconnects_total counter"));
    assert!(text.contains("mercury_connection_up{exchange=\"bitmex\",connection="));
    let page = awc::Client::new()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let other = awc::Client::new()
        .get(format!("http://{addr}/etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404, "nothing but its own page");
}

#[actix::test]
async fn a_browser_that_does_not_read_loses_events_counted_and_slows_nobody() {
    let (stack, collector) = stack(Faults::default()).await;
    let hub = stack.dashboard.hub().clone();
    // A queue of one that nobody reads.
    let (queue, _unread) = tokio::sync::mpsc::channel(1);
    hub.send(Join(queue)).await.unwrap();
    let mut socket = browser(&stack.dashboard).await;
    start_connector(&stack, &collector);
    // The reading browser still gets its quotes.
    read_until(&mut socket, |e| quotes(e) >= 10).await;
    let snapshot = hub.send(GetSnapshot).await.unwrap();
    assert_eq!(snapshot.clients, 2);
    assert!(
        snapshot.client_drops >= 9,
        "dropped for the slow one: {}",
        snapshot.client_drops
    );
}
