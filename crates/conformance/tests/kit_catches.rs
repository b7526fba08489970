//! The kit itself: a sound toy exchange passes, and each kind of broken
//! source fails the check meant for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_conformance::{Fixture, Kit};
use mercury_core::{
    Control, DecodeError, Endpoints, Error, ExchangeDescriptor, ExchangeId, HeartbeatPolicy,
    Outgoing, Price, Quote, QuoteKind, QuoteSource, SourceEvent, Subscription, Symbol, Timestamp,
    WireFrame,
};
use std::time::Duration;

const ID: ExchangeId = ExchangeId::from_static("toy");
const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://toy.invalid/ws",
    testnet: None,
};

#[derive(Clone, Copy, PartialEq)]
enum Defect {
    None,
    PanicsOnGarbage,
    ResetKeepsSeq,
    AppendsThenFails,
}

/// `{"s":"X","p":"1.5"}` → a mark price of X.
struct Toy {
    defect: Defect,
    seq: u64,
}

impl QuoteSource for Toy {
    fn exchange(&self) -> ExchangeId {
        ID
    }

    fn endpoints(&self) -> Endpoints {
        ENDPOINTS
    }

    fn kinds(&self) -> &'static [QuoteKind] {
        &[QuoteKind::Mark]
    }

    fn subscribe_messages(&self, subs: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
        subs.iter()
            .map(|s| {
                let ok = s.exchange == ID
                    && s.kind == QuoteKind::Mark
                    && !s.symbol.as_str().is_empty()
                    && s.symbol.as_str().bytes().all(|b| b.is_ascii_alphanumeric());
                ok.then(|| Outgoing::Text(format!("sub {}", s.symbol)))
                    .ok_or_else(|| Error::InvalidSubscription(s.to_string()))
            })
            .collect()
    }

    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        now: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let WireFrame::Text(text) = frame else {
            return Err(DecodeError::UnexpectedBinary { len: 0 });
        };
        if self.defect == Defect::PanicsOnGarbage && text.contains('\u{1}') {
            panic!("boom");
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let symbol = value["s"].as_str();
        if self.defect == Defect::AppendsThenFails && symbol.is_none() {
            out.push(SourceEvent::Control(Control::Pong));
        }
        let (Some(symbol), Some(price)) = (symbol, value["p"].as_str()) else {
            return Err(DecodeError::UnknownShape(text.chars().take(40).collect()));
        };
        let price: Price = price
            .parse()
            .map_err(|_| DecodeError::InvalidPrice(price.into()))?;
        self.seq += 1;
        out.push(SourceEvent::Quote(Quote {
            exchange: ID,
            symbol: Symbol::new(symbol),
            kind: QuoteKind::Mark,
            price,
            exchange_time: None,
            received_at: now,
            conn_seq: self.seq,
        }));
        Ok(())
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: Duration::from_secs(5),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_secs(5),
        }
    }

    fn reset(&mut self) {
        if self.defect != Defect::ResetKeepsSeq {
            self.seq = 0;
        }
    }
}

fn descriptor(new_source: fn() -> Box<dyn QuoteSource>) -> ExchangeDescriptor {
    ExchangeDescriptor {
        id: ID,
        name: "Toy",
        endpoints: ENDPOINTS,
        kinds: &[QuoteKind::Mark],
        default_kind: QuoteKind::Mark,
        new_source,
        new_venue: None,
    }
}

fn kit(new_source: fn() -> Box<dyn QuoteSource>, expected: &[&str]) -> Kit {
    let fixture = Fixture {
        name: "toy.jsonl".into(),
        frames: vec![
            r#"{"s":"X","p":"1.5"}"#.into(),
            r#"{"s":"X","p":"2e-3"}"#.into(),
        ],
    };
    let prices = expected.iter().map(|p| p.parse().unwrap()).collect();
    Kit::new(&descriptor(new_source), "X")
        .fixture(fixture)
        .expect("toy.jsonl", "X", QuoteKind::Mark, prices)
}

fn toy(defect: Defect) -> Box<dyn QuoteSource> {
    Box::new(Toy { defect, seq: 0 })
}

#[test]
fn a_sound_source_passes() {
    kit(|| toy(Defect::None), &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "prices")]
fn wrong_prices_fail() {
    kit(|| toy(Defect::None), &["1.5", "0.2"]).run();
}

#[test]
#[should_panic(expected = "boom")]
fn a_panic_on_garbage_fails() {
    kit(|| toy(Defect::PanicsOnGarbage), &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "after reset()")]
fn a_reset_that_forgets_nothing_fails() {
    kit(|| toy(Defect::ResetKeepsSeq), &["1.5", "0.002"]).run();
}

#[test]
#[should_panic(expected = "events appended despite")]
fn appending_before_an_error_fails() {
    kit(|| toy(Defect::AppendsThenFails), &["1.5", "0.002"]).run();
}
