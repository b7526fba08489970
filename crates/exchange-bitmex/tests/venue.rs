//! The simulated venue spoken to by the real codec: everything it sends
//! must decode, and the quotes must be exactly the numbers it sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{
    Control, Exchange, ExchangeId, QuoteKind, SourceEvent, Subscription, Timestamp, Venue,
    VenueConfig, WireFrame,
};
use mercury_exchange_bitmex::{Bitmex, BitmexVenue, decoder};
use mercury_testkit::number_texts;
use std::time::Duration;

const NOW: Timestamp = Timestamp::from_unix_nanos(1_795_500_000_000_000_000);

fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
    Subscription::new(ExchangeId::from_static("bitmex"), symbol, kind)
}

/// Connects, subscribes as the source would, runs `events` market events;
/// returns every frame the venue sent.
fn session(venue: &mut BitmexVenue, subs: &[Subscription], events: usize) -> Vec<String> {
    let mut frames = Vec::new();
    venue.on_connect(None, NOW, &mut frames);
    for message in Bitmex
        .plan_at("ws://sim", subs)
        .unwrap()
        .remove(0)
        .subscribe
    {
        venue.on_text(message.as_text().unwrap(), NOW, &mut frames);
    }
    for _ in 0..events {
        venue.on_event(NOW, &mut frames);
    }
    frames
}

fn decode_all(frames: &[String]) -> Vec<SourceEvent> {
    let mut source = decoder();
    frames
        .iter()
        .flat_map(|f| {
            source
                .decode_to_vec(WireFrame::Text(f), NOW)
                .unwrap_or_else(|e| panic!("{e}: {f}"))
        })
        .collect()
}

fn quote_texts(events: &[SourceEvent], kind: QuoteKind) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) if q.kind == kind => Some(q.price.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_frame_decodes_and_quotes_are_the_numbers_sent() {
    let mut venue = BitmexVenue::new(&VenueConfig::default());
    let subs = [
        sub("XBTUSD", QuoteKind::Fair),
        sub("XBTUSD", QuoteKind::Bid),
        sub("ETHUSD", QuoteKind::Trade),
    ];
    let frames = session(&mut venue, &subs, 40);
    let events = decode_all(&frames);
    for (kind, field) in [
        (QuoteKind::Fair, "fairPrice"),
        (QuoteKind::Bid, "bidPrice"),
        (QuoteKind::Trade, "price"),
    ] {
        let sent: Vec<String> = frames.iter().flat_map(|f| number_texts(f, field)).collect();
        assert_eq!(quote_texts(&events, kind), sent, "{kind}");
    }
    // 1 from the partial, then one every 4th event (updates_per_headline = 4).
    assert_eq!(quote_texts(&events, QuoteKind::Fair).len(), 1 + 40 / 4);
    let subscribed = events
        .iter()
        .filter(|e| matches!(e, SourceEvent::Control(Control::Subscribed { .. })))
        .count();
    assert_eq!(subscribed, 3);
    // Most instrument updates carry no fairPrice.
    let updates = frames
        .iter()
        .filter(|f| f.contains(r#""table":"instrument","action":"update""#))
        .count();
    let with_fair = frames
        .iter()
        .filter(|f| f.contains(r#""action":"update""#) && f.contains("fairPrice"))
        .count();
    assert_eq!((updates, with_fair), (40, 10));
}

#[test]
fn the_url_can_subscribe_and_ping_gets_pong() {
    let mut venue = BitmexVenue::new(&VenueConfig::default());
    let mut frames = Vec::new();
    venue.on_connect(
        Some("subscribe=instrument:XBTUSD,quote:ETHUSD"),
        NOW,
        &mut frames,
    );
    venue.on_text("ping", NOW, &mut frames);
    let events = decode_all(&frames);
    assert!(matches!(
        events[0],
        SourceEvent::Control(Control::Welcome { .. })
    ));
    assert_eq!(quote_texts(&events, QuoteKind::Fair).len(), 1);
    assert_eq!(quote_texts(&events, QuoteKind::Ask).len(), 1);
    assert_eq!(events.last(), Some(&SourceEvent::Control(Control::Pong)));
}

#[test]
fn bad_requests_get_bitmex_errors() {
    let mut venue = BitmexVenue::new(&VenueConfig::default());
    let mut frames = Vec::new();
    for request in [
        r#"{"op":"subscribe","args":["instrumnt:XBTUSD"]}"#,
        r#"{"op":"subscribe","args":["instrument:NOPE"]}"#,
        r#"{"op":"fly","args":[]}"#,
        "hello there",
    ] {
        venue.on_text(request, NOW, &mut frames);
    }
    let errors: Vec<(Option<u16>, String, bool)> = decode_all(&frames)
        .into_iter()
        .filter_map(|e| match e {
            SourceEvent::ExchangeError(e) => Some((e.status, e.message, e.retryable)),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[0].1, "Unknown table: instrumnt");
    assert_eq!(errors[1].1, "Unknown symbol: NOPE");
    assert!(
        errors
            .iter()
            .all(|(status, _, retryable)| *status == Some(400) && !retryable)
    );
}

#[test]
fn unsubscribe_stops_the_data_and_firehose_has_no_pause() {
    let mut venue = BitmexVenue::new(&VenueConfig::default());
    let mut frames = session(&mut venue, &[sub("XBTUSD", QuoteKind::Fair)], 0);
    venue.on_text(
        r#"{"op":"unsubscribe","args":["instrument:XBTUSD"]}"#,
        NOW,
        &mut frames,
    );
    let before = frames.len();
    venue.on_event(NOW, &mut frames);
    assert_eq!(frames.len(), before);
    assert_eq!(venue.next_event_in(), Duration::from_millis(25));
    let firehose = BitmexVenue::new(&VenueConfig {
        firehose: true,
        ..VenueConfig::default()
    });
    assert_eq!(firehose.next_event_in(), Duration::ZERO);
}
