//! Subscribe messages, heartbeat policy, endpoints and the registry entry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{Error, Exchange, ExchangeId, Outgoing, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, MAX_TOPICS_PER_REQUEST};
use std::time::Duration;

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(ExchangeId::from_static("bitmex"), symbol, kind)
}

/// The subscribe messages of one connection for `subs`.
fn subscribe_messages(subs: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
    Ok(Bitmex
        .plan_at("wss://ws.bitmex.com/realtime", subs)?
        .remove(0)
        .subscribe)
}

fn texts(messages: Vec<Outgoing>) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.as_text().unwrap().to_owned())
        .collect()
}

#[test]
fn kinds_map_to_topics_each_once() {
    let subs = [
        sub("XBTUSD", QuoteKind::Fair),
        sub("XBTUSD", QuoteKind::Mark), // same topic as fair
        sub("XBTUSD", QuoteKind::Bid),
        sub("XBTUSD", QuoteKind::Ask),
        sub(".BXBT", QuoteKind::Trade),
    ];
    let messages = texts(subscribe_messages(&subs).unwrap());
    assert_eq!(
        messages,
        [r#"{"op":"subscribe","args":["instrument:XBTUSD","quote:XBTUSD","trade:.BXBT"]}"#]
    );
    // The message is what the real server echoes back in its acks.
    let echoed: serde_json::Value = serde_json::from_str(&messages[0]).unwrap();
    assert_eq!(echoed["args"][0], "instrument:XBTUSD");
}

#[test]
fn more_than_twenty_topics_are_split() {
    let subs: Vec<Subscription> = (0..45)
        .map(|i| sub(&format!("SYM{i}"), QuoteKind::Fair))
        .collect();
    let messages = texts(subscribe_messages(&subs).unwrap());
    let counts: Vec<usize> = messages
        .iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m).unwrap()["args"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(counts, [MAX_TOPICS_PER_REQUEST, MAX_TOPICS_PER_REQUEST, 5]);
    assert!(subscribe_messages(&[]).unwrap().is_empty());
}

#[test]
fn unsafe_symbols_and_foreign_subscriptions_are_refused() {
    for bad in [
        "",
        "XBT USD",
        "XBT\",\"x",
        "a:b",
        "x".repeat(33).as_str(),
        "ÄBC",
    ] {
        assert!(
            subscribe_messages(&[sub(bad, QuoteKind::Fair)]).is_err(),
            "{bad:?}"
        );
    }
    let foreign = Subscription::new(
        ExchangeId::from_static("binance"),
        "BTCUSDT",
        QuoteKind::Fair,
    );
    assert!(subscribe_messages(&[foreign]).is_err());
}

#[test]
fn heartbeat_follows_bitmex_advice() {
    let policy = Bitmex.heartbeat();
    assert_eq!(policy.idle, Duration::from_secs(5));
    assert_eq!(policy.pong_deadline, Duration::from_secs(5));
    assert_eq!(policy.ping, Outgoing::Text("ping".into()));
}

#[test]
fn the_exchange_describes_bitmex() {
    assert_eq!(Bitmex.id().as_str(), "bitmex");
    assert_eq!(
        Bitmex.endpoints().production,
        "wss://ws.bitmex.com/realtime"
    );
    assert_eq!(
        Bitmex.endpoints().testnet,
        Some("wss://ws.testnet.bitmex.com/realtime")
    );
    assert!(Bitmex.kinds().contains(&Bitmex.default_kind()));
}
