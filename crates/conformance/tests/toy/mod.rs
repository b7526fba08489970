//! A toy exchange, whole: what a new exchange crate holds, and nothing
//! more. The static side ([`Toy`]: names, endpoints, kinds, symbol rule,
//! limits, topic and request format, heartbeat), one connection's
//! [`ToySession`], and the simulated [`ToyVenue`] with its fault frames.
//! Validation, de-duplication, chunking, planning, `conn_seq`, the commit
//! rule and error-text shortening all come from `mercury-core`.
//!
//! The protocol: `{"sub":["X",…]}` is answered `{"ack":"X"}` per topic;
//! data is `{"s":"X","p":"1.5"}` (a mark price); the heartbeat `ping` is
//! answered `{"pong":true}`; errors are `{"error":"…"}`, with `"wait":S`
//! seconds when it is a rate limit. With a venue heartbeat
//! (`VenueConfig::heartbeat`) the venue sends `{"test":true}` every
//! interval, which the session answers `tested` (`Emitter::reply`); one
//! still unanswered at the next ends the connection (close code 4000).

use mercury_core::{
    Control, DecodeError, Emitter, Endpoints, Exchange, ExchangeError, ExchangeId, ExchangeInfo,
    HeartbeatPolicy, Outgoing, Price, QuoteKind, Session, SubscribeLimits, Symbol, SymbolRule,
    Timestamp, Venue, VenueConfig, VenueFault, WireFrame, pad_object,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What is wrong with a toy, for the tests that show the kit catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    None,
    PanicsOnGarbage,
    /// Sessions share state: what one connection saw leaks into the next.
    SharedState,
    /// Emits a control event, then fails: the emitter must discard it.
    AppendsThenFails,
    /// Reads its own rate-limit frame as a fatal error.
    RateLimitIsFatal,
    /// Leaves the venue's heartbeat requests unanswered.
    IgnoresTestRequests,
}

/// The toy exchange; `Toy(Defect::None)` is sound.
#[derive(Debug, Clone, Copy)]
pub struct Toy(pub Defect);

/// A sound toy, for registries.
pub static TOY: Toy = Toy(Defect::None);

/// Frames decoded by every `SharedState` session, together.
static SHARED: AtomicU64 = AtomicU64::new(0);

/// What Toy is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: ExchangeId::from_static("toy"),
    name: "Toy",
    endpoints: Endpoints {
        production: "wss://toy.invalid/ws",
        testnet: None,
    },
    kinds: &[QuoteKind::Mark],
    default_kind: QuoteKind::Mark,
    symbols: SymbolRule {
        max_len: 12,
        allowed: |b| b.is_ascii_uppercase() || b.is_ascii_digit(),
        described: "upper-case letters and digits",
    },
    limits: SubscribeLimits {
        per_request: 2,
        per_connection: 3,
    },
};

impl Exchange for Toy {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    fn topic(&self, symbol: &str, _kind: QuoteKind) -> String {
        symbol.to_owned()
    }

    fn subscribe_message(&self, topics: &[String], _request: u64) -> Outgoing {
        Outgoing::Text(serde_json::json!({ "sub": topics }).to_string())
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: Duration::from_secs(5),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_secs(5),
        }
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(ToySession { defect: self.0 })
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(ToyVenue {
            symbols: config.symbols_or(&["X"]),
            subscribed: Vec::new(),
            step: 0,
            beat: config.heartbeat,
            next_beat: None,
            awaiting: false,
            closed: None,
        }))
    }
}

/// One toy connection (stateless unless defective).
pub struct ToySession {
    defect: Defect,
}

impl Session for ToySession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        _now: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(1 << 20)?;
        if self.defect == Defect::PanicsOnGarbage && text.contains('\u{1}') {
            panic!("boom");
        }
        if self.defect == Defect::SharedState {
            let seen = SHARED.fetch_add(1, Ordering::SeqCst);
            out.control(Control::Info(format!("frame {seen}")));
        }
        let appends = self.defect == Defect::AppendsThenFails;
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                if appends {
                    out.control(Control::Pong);
                }
                return Err(DecodeError::Malformed(error.to_string()));
            }
        };
        if let Some(topic) = value["ack"].as_str() {
            out.control(Control::Subscribed {
                topic: topic.to_owned(),
            });
        } else if value["pong"] == true {
            out.control(Control::Pong);
        } else if value["test"] == true {
            if self.defect != Defect::IgnoresTestRequests {
                out.reply(Outgoing::Text("tested".into()));
            }
        } else if let Some(message) = value["error"].as_str() {
            let wait = value["wait"].as_u64().map(Duration::from_secs);
            out.exchange_error(ExchangeError {
                status: None,
                message: message.to_owned(),
                retryable: wait.is_some() && self.defect != Defect::RateLimitIsFatal,
                retry_after: wait,
                request: None,
            });
        } else {
            let (Some(symbol), Some(price)) = (value["s"].as_str(), value["p"].as_str()) else {
                return Err(DecodeError::UnknownShape(mercury_core::excerpt(text)));
            };
            let price: Price = price
                .parse()
                .map_err(|_| DecodeError::InvalidPrice(price.into()))?;
            out.quote(&Symbol::new(symbol), QuoteKind::Mark, price, None);
        }
        Ok(())
    }
}

/// The toy's simulated side: acks, pongs, a price per subscribed symbol
/// per event.
pub struct ToyVenue {
    symbols: Vec<String>,
    subscribed: Vec<String>,
    step: u64,
    /// The heartbeat interval, if the venue drives one.
    beat: Option<Duration>,
    next_beat: Option<Timestamp>,
    awaiting: bool,
    closed: Option<u16>,
}

impl Venue for ToyVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, .. } => Some(
                serde_json::json!({ "error": "slow down", "wait": retry_after.as_secs() })
                    .to_string(),
            ),
            VenueFault::Padded { frame, padding } => pad_object(frame, padding),
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {}

    fn on_text(&mut self, text: &str, _now: Timestamp, out: &mut Vec<String>) {
        if text == "ping" {
            return out.push(r#"{"pong":true}"#.into());
        }
        if text == "tested" {
            self.awaiting = false;
            return;
        }
        let Ok(request) = serde_json::from_str::<serde_json::Value>(text) else {
            return out.push(r#"{"error":"bad request"}"#.into());
        };
        for topic in request["sub"].as_array().into_iter().flatten() {
            let topic = topic.as_str().unwrap_or_default().to_owned();
            out.push(serde_json::json!({ "ack": topic }).to_string());
            if self.symbols.contains(&topic) {
                self.subscribed.push(topic);
            }
        }
    }

    fn next_event_in(&self) -> Duration {
        Duration::from_millis(10)
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        if let Some(beat) = self.beat {
            let next = *self.next_beat.get_or_insert(now.saturating_add(beat));
            if now >= next {
                if self.awaiting {
                    self.closed = Some(4000);
                    return;
                }
                out.push(r#"{"test":true}"#.into());
                self.awaiting = true;
                self.next_beat = Some(now.saturating_add(beat));
            }
        }
        self.step += 1;
        for symbol in &self.subscribed {
            let price = format!("{}.5", 100 + self.step);
            out.push(serde_json::json!({ "s": symbol, "p": price }).to_string());
        }
    }

    fn close_code(&self) -> Option<u16> {
        self.closed
    }
}
