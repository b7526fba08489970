//! From the registry to quotes, the way the program does it: look an
//! exchange up by name (a `&'static dyn Exchange`), plan its
//! subscriptions, and decode a real recorded session through a session
//! the exchange makes, keeping only the quotes the plan asks for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_cli::registry;
use mercury_core::{Decoder, Quote, QuoteKind, SourceEvent, Subscription, Timestamp, WireFrame};
use mercury_tests::bitmex_fixtures;

fn read(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(bitmex_fixtures().join(path)).unwrap();
    text.lines().map(str::to_owned).collect()
}

#[test]
fn bitmex_from_the_registry_decodes_a_real_session_through_the_trait() {
    let bitmex = registry::find("bitmex").expect("bitmex is registered");
    let subs = [
        Subscription::new(bitmex.id(), "XBTUSD", QuoteKind::Bid),
        Subscription::new(bitmex.id(), "XBTUSD", QuoteKind::Ask),
    ];
    let plans = bitmex.plan(bitmex.endpoints().production, &subs).unwrap();
    let messages = &plans[0].subscribe;
    assert_eq!(
        messages[0].as_text(),
        Some(r#"{"op":"subscribe","args":["quote:XBTUSD"]}"#)
    );

    let mut source = Decoder::new(bitmex);
    let mut events = Vec::new();
    let mut failures = 0;
    for frame in read("cryptofeed_2021-07-22_session.jsonl") {
        failures += usize::from(
            source
                .decode(WireFrame::Text(&frame), Timestamp::UNIX_EPOCH, &mut events)
                .is_err(),
        );
    }
    assert_eq!(failures, 0);
    let wanted: Vec<Quote> = events
        .into_iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) if subs.iter().any(|s| s.matches(&q)) => Some(q),
            _ => None,
        })
        .collect();
    let bids: Vec<String> = wanted
        .iter()
        .filter(|q| q.kind == QuoteKind::Bid)
        .map(|q| q.price.to_string())
        .collect();
    assert_eq!(
        bids,
        read("expected/cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt")
    );
    // Bid and ask of each row arrive together, bid first, in wire order.
    assert_eq!(wanted.len(), 2 * bids.len());
    assert!(wanted.windows(2).all(|w| w[0].conn_seq < w[1].conn_seq));
}

#[test]
fn every_registered_exchange_has_usable_defaults() {
    for exchange in registry::EXCHANGES {
        assert_eq!(Decoder::new(*exchange).exchange(), &exchange.id());
        assert!(exchange.endpoints().production.starts_with("wss://"));
        let sub = Subscription::new(exchange.id(), "XBTUSD", exchange.default_kind());
        let plans = exchange
            .plan(exchange.endpoints().production, &[sub])
            .unwrap();
        assert!(!plans[0].subscribe.is_empty());
        let policy = exchange.heartbeat();
        assert!(
            policy.idle > std::time::Duration::ZERO
                && policy.pong_deadline > std::time::Duration::ZERO
        );
    }
}
