//! The raw capture tap of a connector against a real socket: every frame
//! the server sent and every request we sent is recorded once, in order,
//! with the connection's events; and a full capture channel stops the
//! connector (lossless), it never drops a record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::record::Rotation;
use mercury_collector::record::raw::{RawConfig, RawEvent, RawRecord, RawSink, start_raw};
use mercury_collector::{Collector, Connector, ConnectorConfig, Fetch, GetStats, StopConnector};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{SAMPLE_FAIRS as FAIRS, fair_session};
use mercury_testkit::{MockServer, Script, Step};
use std::io::Read;
use std::time::{Duration, Instant};

fn xbt_fair() -> Vec<Subscription> {
    vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)]
}

fn texts_sent_by(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Send(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn connector(
    url: &str,
    raw: RawSink,
    collector: &actix::Addr<Collector>,
) -> actix::Addr<Connector> {
    let plan = ConnectionPlan::new(&Bitmex, url, &xbt_fair()).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff.max_attempts = Some(0);
    config.raw = Some(raw);
    Connector::new(&Bitmex, plan, config, collector.clone().recipient()).start()
}

#[actix::test]
async fn every_frame_both_ways_and_the_events_are_in_the_file_in_order() {
    let steps = fair_session(&FAIRS, Duration::from_millis(1));
    let server = MockServer::start(Script::new(steps.clone()));
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
    };
    let (sink, mut writer) = start_raw(config).unwrap();
    let collector = Collector::new().start();
    let fetch = collector.send(Fetch {
        subscriptions: xbt_fair(),
        n: FAIRS.len() + 1,
        timeout: Duration::from_secs(10),
    });
    let conn = connector(&server.url(), sink, &collector);
    let ticks = fetch.await.unwrap().unwrap();
    conn.send(StopConnector).await.unwrap();
    // Bounded: the connector stops within its close grace.
    let deadline = Instant::now() + Duration::from_secs(10);
    while conn.connected() && Instant::now() < deadline {
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    writer.stop();
    let summary = (&mut writer.done).await.unwrap().unwrap();
    assert_eq!(summary.files.len(), 1);

    let mut text = String::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(&summary.files[0]).unwrap())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        events[..5],
        ["connecting", "open", "subscriptions", "subscribe", "sent"],
        "{events:?}"
    );
    assert_eq!(events[events.len() - 2..], ["stopping", "stopped"]);
    // What the plan asks for, for a replay's filter; one time line for all.
    assert_eq!(
        lines[2]["subscriptions"],
        serde_json::json!(["XBTUSD:fair"])
    );
    let times: Vec<i64> = lines.iter().map(|l| l["at_ns"].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "at_ns strictly increasing"
    );
    let conn_id = ticks[0].connection.0;
    assert!(
        lines
            .iter()
            .all(|l| l["conn"] == conn_id && l["exchange"] == "bitmex")
    );
    assert_eq!(lines[1]["url"], server.url());
    assert_eq!(
        lines[4]["text"],
        server.received()[0],
        "the subscribe request, as sent"
    );
    let received: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "recv")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        received,
        texts_sent_by(&steps),
        "every frame the server sent, once, in order"
    );
    let times: Vec<i64> = lines.iter().map(|l| l["at_ns"].as_i64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "receive times in order"
    );
    let first_quote = ticks[0].quote.received_at.unix_nanos() as i64;
    assert!(
        times.contains(&first_quote),
        "a quote's received_at is its frame's capture time"
    );
}

#[actix::test]
async fn a_full_capture_channel_stops_the_connector_and_loses_nothing() {
    let mut steps = fair_session(&FAIRS, Duration::from_millis(0));
    for i in 0..200u32 {
        steps.push(Step::Send(mercury_testkit::bitmex::fair_update(
            "XBTUSD",
            &format!("{}.5", 9000 + i),
            i,
        )));
    }
    let server = MockServer::start(Script::new(steps.clone()));
    // Room for the four opening records only; nobody reads for now.
    let (sink, mut records) = RawSink::channel(4);
    let collector = Collector::new().start();
    let conn = connector(&server.url(), sink, &collector);
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    let stats = collector.send(GetStats).await.unwrap();
    assert!(
        stats.quotes <= 1,
        "the connector waits for the capture: {} quotes passed",
        stats.quotes
    );

    let expected = texts_sent_by(&steps);
    let mut got: Vec<RawRecord> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got
        .iter()
        .filter(|r| matches!(r.event, RawEvent::Received { .. }))
        .count()
        < expected.len()
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match actix_rt::time::timeout(left, records.recv()).await {
            Ok(Some(record)) => got.push(record),
            _ => panic!("only {} records arrived", got.len()),
        }
    }
    let received: Vec<String> = got
        .iter()
        .filter_map(|r| match &r.event {
            RawEvent::Received { payload, .. } => {
                Some(String::from_utf8(payload.to_vec()).unwrap())
            }
            _ => None,
        })
        .collect();
    assert_eq!(received, expected, "nothing dropped, nothing reordered");
    let stats = collector.send(GetStats).await.unwrap();
    assert!(
        stats.quotes as usize >= FAIRS.len() + 200,
        "{} quotes after the capture caught up",
        stats.quotes
    );
    conn.send(StopConnector).await.unwrap();
}

#[actix::test]
async fn a_connector_stopping_with_a_full_capture_still_records_its_last_events() {
    // Frames keep coming while it stops, into a capture read slowly: the
    // channel is full when its last records are made.
    let mut steps = fair_session(&FAIRS, Duration::from_millis(0));
    for i in 0..150u32 {
        steps.push(Step::Pause(Duration::from_millis(5)));
        let price = format!("{}.5", 9000 + i);
        steps.push(Step::Send(mercury_testkit::bitmex::fair_update(
            "XBTUSD", &price, i,
        )));
    }
    let server = MockServer::start(Script::new(steps.clone()));
    let (sink, mut records) = RawSink::channel(4);
    let collector = Collector::new().start();
    let conn = connector(&server.url(), sink, &collector);
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    conn.do_send(StopConnector);
    // The channel closes when the connector has ended (bounded).
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match actix_rt::time::timeout(left, records.recv()).await {
            Ok(Some(record)) => {
                got.push(record);
                actix_rt::time::sleep(Duration::from_millis(8)).await;
            }
            Ok(None) => break,
            Err(_) => panic!("the connector never ended: {} records", got.len()),
        }
    }
    assert_eq!(
        got.last().map(|r| &r.event),
        Some(&RawEvent::Stopped),
        "{:?}",
        got.last()
    );
    let received: Vec<String> = got
        .iter()
        .filter_map(|r| match &r.event {
            RawEvent::Received { payload, .. } => {
                Some(String::from_utf8(payload.to_vec()).unwrap())
            }
            _ => None,
        })
        .collect();
    let sent = texts_sent_by(&steps);
    assert_eq!(
        received,
        sent[..received.len()],
        "a prefix of what was sent, in order"
    );
}
