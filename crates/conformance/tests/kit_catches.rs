//! The kit itself: a sound toy exchange passes, and each kind of broken
//! one fails the check meant for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod toy;

use mercury_conformance::{Fixture, Kit};
use mercury_core::{Exchange, QuoteKind, Subscription};
use toy::{Defect, TOY, Toy};

static PANICS: Toy = Toy(Defect::PanicsOnGarbage);
static SHARED: Toy = Toy(Defect::SharedState);
static APPENDS: Toy = Toy(Defect::AppendsThenFails);
static FATAL: Toy = Toy(Defect::RateLimitIsFatal);
static DEAF: Toy = Toy(Defect::IgnoresTestRequests);

fn kit(exchange: &'static Toy, expected: &[&str]) -> Kit {
    let fixture = Fixture {
        name: "toy.jsonl".into(),
        frames: vec![
            r#"{"s":"X","p":"1.5"}"#.into(),
            r#"{"ack":"X"}"#.into(),
            r#"{"s":"X","p":"2e-3"}"#.into(),
        ],
    };
    let prices = expected.iter().map(|p| p.parse().unwrap()).collect();
    Kit::new(exchange, "X")
        .fixture(fixture)
        .expect("toy.jsonl", "X", QuoteKind::Mark, prices)
}

#[test]
fn a_sound_exchange_passes() {
    kit(&TOY, &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "prices")]
fn wrong_prices_fail() {
    kit(&TOY, &["1.5", "0.2"]).run();
}

#[test]
#[should_panic(expected = "boom")]
fn a_panic_on_garbage_fails() {
    kit(&PANICS, &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "on a second connection")]
fn state_that_survives_a_connection_fails() {
    kit(&SHARED, &["1.5", "0.002"]).run();
}

/// A session cannot break the commit rule: what it emitted before failing
/// never reaches the caller, so this defect passes.
#[test]
fn emitting_before_an_error_is_discarded_by_the_emitter() {
    kit(&APPENDS, &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "rate limit not retryable")]
fn a_rate_limit_read_as_fatal_fails() {
    kit(&FATAL, &["1.5", "0.002"]).run();
}

/// The toy's limits (2 topics a request, 3 a connection) are the core's
/// to apply: 5 symbols, each asked twice, make 2 connections of 2 + 1
/// and 1 requests.
#[test]
fn topics_are_spread_over_requests_and_connections() {
    let exchange: &dyn Exchange = &TOY;
    let subs: Vec<Subscription> = ["A", "B", "C", "A", "D", "E", "B"]
        .iter()
        .map(|s| Subscription::new(exchange.id(), *s, QuoteKind::Mark))
        .collect();
    let plans = exchange.plan("wss://toy.invalid/ws", &subs).unwrap();
    let texts: Vec<Vec<&str>> = plans
        .iter()
        .map(|p| p.subscribe.iter().filter_map(|m| m.as_text()).collect())
        .collect();
    assert_eq!(
        texts,
        [
            vec![r#"{"sub":["A","B"]}"#, r#"{"sub":["C"]}"#],
            vec![r#"{"sub":["D","E"]}"#]
        ]
    );
    assert_eq!(plans[0].subscriptions.len(), 3);
    let bad = Subscription::new(exchange.id(), "x\u{1b}[31m", QuoteKind::Mark);
    let error = exchange
        .plan("wss://toy.invalid/ws", &[bad])
        .unwrap_err()
        .to_string();
    assert!(!error.contains('\u{1b}'), "{error:?}");
}

#[test]
#[should_panic(expected = "answered none of its")]
fn leaving_the_venue_s_heartbeat_unanswered_fails() {
    kit(&DEAF, &["1.5", "0.002"]).run();
}

#[test]
fn the_sound_toy_answers_the_venue_s_heartbeat() {
    assert!(kit(&TOY, &["1.5", "0.002"]).check_heartbeat_answers() >= 8);
}
