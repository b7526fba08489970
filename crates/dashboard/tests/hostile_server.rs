//! A server's words reach the page, `/health` and `/metrics` shortened and
//! escaped (issue #14, item 6): an error message of 1 MB with ESC, BEL, CR,
//! quotes, backslashes and newlines, and a Close reason of the same
//! characters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use futures_util::StreamExt;
use mercury_collector::{Collector, Connector, ConnectorConfig};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_dashboard::{Dashboard, DashboardOptions};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::opening;
use mercury_testkit::raw::frame;
use mercury_testkit::{RawScript, RawServer, RawStep, Step};
use serde_json::Value;
use std::time::{Duration, Instant};

/// ESC, CR, BEL, a quote, a backslash, a newline.
const TRICKS: &str = "\u{1b}[2K\r\u{1b}[31mFAKE: all good\u{7}\"\\\n";

fn hostile_server() -> RawServer {
    let message = format!("Rate limit{TRICKS}{}", "A".repeat(1 << 20));
    let mut close = 1011u16.to_be_bytes().to_vec();
    close.extend_from_slice(TRICKS.as_bytes());
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    steps.push(RawStep::Play(Step::Send(format!(
        r#"{{"status":429,"error":{},"meta":{{"retryAfter":0}}}}"#,
        serde_json::to_string(&message).unwrap()
    ))));
    steps.push(RawStep::Bytes(frame(0x8, &close)));
    RawServer::start(RawScript::new(steps))
}

/// No control character, and at most `max` characters.
fn assert_safe(what: &str, text: &str, max: usize) {
    assert!(
        !text.chars().any(char::is_control),
        "{what} holds a control character: {text:?}"
    );
    assert!(
        text.chars().count() <= max,
        "{what}: {} characters",
        text.chars().count()
    );
}

#[actix::test]
async fn a_servers_words_reach_the_page_health_and_metrics_shortened_and_escaped() {
    let server = hostile_server();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let collector = Collector::new().start();
    let dashboard = Dashboard::start(
        collector.clone(),
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions::default(),
    )
    .unwrap();
    let addr = dashboard.addr();
    let (_, mut socket) = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .connect()
        .await
        .unwrap();
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff.base = Duration::from_millis(50);
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();

    // Every event until the first reconnect names its cause.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut reasons = Vec::new();
    while reasons.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = actix_rt::time::timeout(left, socket.next()).await.unwrap();
        if let Some(Ok(awc::ws::Frame::Text(text))) = frame {
            assert!(text.len() < 4096, "an event of {} bytes", text.len());
            let event: Value = serde_json::from_slice(&text).unwrap();
            if let Some(reason) = event["reason"].as_str() {
                reasons.push(reason.to_owned());
            }
        }
    }
    for reason in &reasons {
        assert_safe(
            "a state's reason",
            reason,
            mercury_dashboard::events::MAX_REASON_CHARS,
        );
        assert!(
            reason.contains("FAKE"),
            "the server's words, escaped: {reason}"
        );
    }
    for path in ["/health", "/metrics"] {
        let mut response = awc::Client::new()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        let body = response.body().await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.len() < 16 << 10, "{path}: {} bytes", text.len());
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{path}: {text:?}"
        );
    }
    dashboard.stop().await;
}
