//! The real 2021-07-22 BitMEX production session (2120 frames, one of them
//! a 709 KB order-book partial) replayed by a WebSocket server on
//! 127.0.0.1 and read through the whole stack: awc connector, BitMEX
//! source, collector. The XBTUSD best bids and asks must come out exactly
//! as the shared `expected/` answers list them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::{Collector, Connector, ConnectorConfig, Fetch};
use mercury_core::ConnectionPlan;
use mercury_core::{QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::{MockServer, Script, Step, bitmex_fixture, bitmex_frames};
use std::time::Duration;

#[actix::test]
async fn real_session_through_the_whole_stack() {
    let mut steps = vec![];
    let frames = bitmex_frames("cryptofeed_2021-07-22_session.jsonl");
    steps.push(Step::Send(frames[0].clone())); // the welcome
    steps.push(Step::AwaitText("quote:XBTUSD".into()));
    steps.extend(frames[1..].iter().cloned().map(Step::Send));
    let server = MockServer::start(Script::new(steps));

    let subscriptions = vec![
        Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Bid),
        Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Ask),
    ];
    let expected = |file: &str| -> Vec<String> {
        bitmex_fixture(&format!("expected/{file}"))
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let bids = expected("cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt");
    let asks = expected("cryptofeed_2021-07-22_session.XBTUSD.askPrice.txt");

    let collector = Collector::new().start();
    let fetch = collector.send(Fetch {
        subscriptions: subscriptions.clone(),
        n: bids.len() + asks.len(),
        timeout: Duration::from_secs(30),
    });
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let config = ConnectorConfig::new();
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();
    let ticks = fetch.await.unwrap().unwrap();

    let texts = |kind| {
        ticks
            .iter()
            .filter(|t| t.quote.kind == kind)
            .map(|t| t.quote.price.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(QuoteKind::Bid), bids);
    assert_eq!(texts(QuoteKind::Ask), asks);
    // Bid then ask of the same row, row after row: seq and conn_seq agree.
    assert!(
        ticks
            .windows(2)
            .all(|w| w[1].seq == w[0].seq + 1 && w[1].quote.conn_seq > w[0].quote.conn_seq)
    );
    assert_eq!(
        server.received()[0],
        r#"{"op":"subscribe","args":["quote:XBTUSD"]}"#
    );
}
