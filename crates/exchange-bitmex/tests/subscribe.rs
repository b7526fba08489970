//! Subscribe messages, heartbeat policy, endpoints and the registry entry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{ExchangeId, Outgoing, QuoteKind, QuoteSource, Subscription};
use mercury_exchange_bitmex::{BitmexSource, DESCRIPTOR, MAX_TOPICS_PER_REQUEST};
use std::time::Duration;

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(ExchangeId::from_static("bitmex"), symbol, kind)
}

fn texts(messages: Vec<Outgoing>) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.as_text().unwrap().to_owned())
        .collect()
}

#[test]
fn kinds_map_to_topics_each_once() {
    let source = BitmexSource::new();
    let subs = [
        sub("XBTUSD", QuoteKind::Fair),
        sub("XBTUSD", QuoteKind::Mark), // same topic as fair
        sub("XBTUSD", QuoteKind::Bid),
        sub("XBTUSD", QuoteKind::Ask),
        sub(".BXBT", QuoteKind::Trade),
    ];
    let messages = texts(source.subscribe_messages(&subs).unwrap());
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
    let messages = texts(BitmexSource::new().subscribe_messages(&subs).unwrap());
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
    assert!(
        BitmexSource::new()
            .subscribe_messages(&[])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn unsafe_symbols_and_foreign_subscriptions_are_refused() {
    let source = BitmexSource::new();
    for bad in [
        "",
        "XBT USD",
        "XBT\",\"x",
        "a:b",
        "x".repeat(33).as_str(),
        "ÄBC",
    ] {
        assert!(
            source
                .subscribe_messages(&[sub(bad, QuoteKind::Fair)])
                .is_err(),
            "{bad:?}"
        );
    }
    let foreign = Subscription::new(
        ExchangeId::from_static("binance"),
        "BTCUSDT",
        QuoteKind::Fair,
    );
    assert!(source.subscribe_messages(&[foreign]).is_err());
}

#[test]
fn heartbeat_follows_bitmex_advice() {
    let policy = BitmexSource::new().heartbeat();
    assert_eq!(policy.idle, Duration::from_secs(5));
    assert_eq!(policy.pong_deadline, Duration::from_secs(5));
    assert_eq!(policy.ping, Outgoing::Text("ping".into()));
}

#[test]
fn descriptor_describes_the_source_it_makes() {
    let source = (DESCRIPTOR.new_source)();
    assert_eq!(source.exchange(), DESCRIPTOR.id);
    assert_eq!(DESCRIPTOR.id.as_str(), "bitmex");
    assert_eq!(source.endpoints(), DESCRIPTOR.endpoints);
    assert_eq!(
        DESCRIPTOR.endpoints.production,
        "wss://ws.bitmex.com/realtime"
    );
    assert_eq!(
        DESCRIPTOR.endpoints.testnet,
        Some("wss://ws.testnet.bitmex.com/realtime")
    );
    assert_eq!(source.kinds(), DESCRIPTOR.kinds);
    assert!(DESCRIPTOR.kinds.contains(&DESCRIPTOR.default_kind));
}
