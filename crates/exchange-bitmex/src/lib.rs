//! # mercury-exchange-bitmex
//!
//! The BitMEX realtime WebSocket protocol, sans I/O: endpoints, subscribe
//! messages, frame decoding into exact quotes, table state and heartbeat
//! policy. This crate never opens a socket; `mercury-collector` drives it.
//!
//! What it knows of the protocol (see `PROTOCOL-bitmex.md` in the shared
//! material, and the real frames under `tests/fixtures/`):
//!
//! - the server greets with a welcome object (only `info` is guaranteed);
//! - every topic is acknowledged once, echoing the request (`args` may be a
//!   string or a list);
//! - each table starts with a `partial` image; earlier data is dropped;
//! - `update` rows carry the key plus only the fields that changed, so most
//!   instrument updates carry no `fairPrice` and yield no quote;
//! - errors are `{"status":…,"error":…}` with optional `meta.retryAfter`;
//! - heartbeat is the text `ping`, answered by the text `pong`.
#![deny(missing_docs)]

mod prescan;
mod rows;
mod session;
mod stream;
mod tables;
mod venue;
pub mod wire;

pub use session::{
    BitmexConfig, BitmexSession, DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_SYMBOLS, SESSION_RESTARTED,
    decoder, decoder_with,
};
pub use tables::Table;
pub use venue::{BitmexVenue, DEFAULT_SYMBOLS};

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `bitmex`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("bitmex");

/// Production `wss://ws.bitmex.com/realtime`, testnet `wss://ws.testnet.bitmex.com/realtime`.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://ws.bitmex.com/realtime",
    testnet: Some("wss://ws.testnet.bitmex.com/realtime"),
};

/// Every kind BitMEX offers.
pub const KINDS: &[QuoteKind] = &QuoteKind::ALL;

/// The most topics BitMEX accepts in one subscribe request.
pub const MAX_TOPICS_PER_REQUEST: usize = 20;
/// BitMEX's advice: send `ping` after this long without a message…
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(5);
/// …and consider the link dead if nothing answers within this long.
pub const PONG_DEADLINE: Duration = Duration::from_secs(5);

/// BitMEX, for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Bitmex;

/// What Bitmex is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "BitMEX",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Fair,
    symbols: SymbolRule {
        max_len: 32,
        allowed: |b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'),
        described: "letters, digits, '.', '_' or '-', e.g. XBTUSD",
    },
    // BitMEX documents no limit of topics per connection.
    limits: SubscribeLimits {
        per_request: MAX_TOPICS_PER_REQUEST,
        per_connection: usize::MAX,
    },
};

impl Exchange for Bitmex {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// `table:SYMBOL`: `fair`/`mark`/`last` → `instrument`, `bid`/`ask` →
    /// `quote`, `trade` → `trade`.
    fn topic(&self, symbol: &str, kind: QuoteKind) -> String {
        format!("{}:{symbol}", Table::for_kind(kind).wire_name())
    }

    fn subscribe_message(&self, topics: &[String], _request: u64) -> Outgoing {
        let args = serde_json::to_string(topics).unwrap_or_else(|_| "[]".into());
        Outgoing::Text(format!(r#"{{"op":"subscribe","args":{args}}}"#))
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text("ping".into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(BitmexSession::new())
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(BitmexVenue::new(config)))
    }

    fn embedded_capture(&self) -> Option<&'static str> {
        Some(EMBEDDED_CAPTURE)
    }
}

/// One real BitMEX production session (2021-07-22 22:36 UTC, 30 s: the
/// welcome, 30 acks, 10 `quote` and 10 `trade` partials, 83 quote and 7
/// trade inserts for ten symbols) in mercury's raw capture format, with its
/// recorded receive times: what `collector sim bitmex --replay` serves. It
/// is cryptofeed's `sample_data/BITMEX.ws.1.0` converted by
/// `replay/convert.py`, its `orderBookL2` frames left out; see
/// `replay/SOURCES.md`.
pub const EMBEDDED_CAPTURE: &str = include_str!("../replay/2021-07-22.raw.jsonl");
