//! # mercury-exchange-binance
//!
//! Binance USDⓈ-M futures market streams, sans I/O: mark price
//! (`<symbol>@markPrice@1s` → [`QuoteKind::Mark`]) and best bid/ask
//! (`<symbol>@bookTicker` → [`QuoteKind::Bid`], [`QuoteKind::Ask`]).
//! This crate never opens a socket; `mercury-collector` drives it.
//!
//! What it knows of the protocol (see `PROTOCOL-notes.md` and the real
//! frames under `tests/fixtures/`):
//!
//! - since 2026 the host routes by path: mark prices only on
//!   `/market/stream`, the book only on `/public/stream`; a stream asked for
//!   on the wrong path is acknowledged and then silently never sent, so
//!   [`Exchange::route`] routes each kind, and a plan has one connection
//!   per path;
//! - subscriptions are `{"method":"SUBSCRIBE","params":[…],"id":N}` with an
//!   unsigned integer id, acknowledged `{"result":null,"id":N}`; errors are
//!   `{"error":{"code":…,"msg":…},"id":N}`; stream names use lower-case
//!   symbols, payloads upper-case ones;
//! - combined streams wrap each event as `{"stream":…,"data":…}` (the data
//!   may be an array for `!…@arr` streams); prices are decimal strings;
//! - no welcome and no text heartbeat: the server pings every 3 minutes and
//!   accepts unsolicited pings and pongs; every connection is closed after
//!   24 hours; at most 10 incoming messages per second.
#![deny(missing_docs)]

mod session;
mod venue;
pub mod wire;

pub use session::BinanceSession;
pub use venue::BinanceVenue;

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `binance`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("binance");

/// The USDⓈ-M futures host; [`Exchange::route`] adds the path of each
/// kind. No testnet is wired (its 2026 routing is unverified).
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://fstream.binance.com",
    testnet: None,
};

/// The kinds Binance offers here.
pub const KINDS: &[QuoteKind] = &[QuoteKind::Mark, QuoteKind::Bid, QuoteKind::Ask];

/// After this long without a frame, send a WebSocket ping (mark prices
/// come every second, so silence this long means trouble).
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(10);
/// No frame this long after the ping: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);
/// Binance closes every connection after 24 hours.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(24 * 3600);
/// Streams per SUBSCRIBE, and per connection: Binance allows 1024 per
/// connection, some of its pages say 200; mercury keeps to 200.
pub const MAX_STREAMS: usize = 200;

/// Binance USDⓈ-M futures, for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Binance;

/// What Binance is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "Binance USDⓈ-M futures",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    symbols: SymbolRule {
        max_len: 32,
        allowed: |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_',
        described: "upper-case letters, digits and '_', e.g. BTCUSDT",
    },
    limits: SubscribeLimits {
        per_request: MAX_STREAMS,
        per_connection: MAX_STREAMS,
    },
};

impl Exchange for Binance {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// `btcusdt@markPrice@1s` for the mark, `btcusdt@bookTicker` for the book.
    fn topic(&self, symbol: &str, kind: QuoteKind) -> String {
        let lower = symbol.to_ascii_lowercase();
        match kind {
            QuoteKind::Mark => format!("{lower}@markPrice@1s"),
            _ => format!("{lower}@bookTicker"),
        }
    }

    fn subscribe_message(&self, topics: &[String], request: u64) -> Outgoing {
        let params = serde_json::to_string(topics).unwrap_or_else(|_| "[]".into());
        Outgoing::Text(format!(
            r#"{{"method":"SUBSCRIBE","params":{params},"id":{request}}}"#
        ))
    }

    fn route(&self, base: &str, kind: QuoteKind) -> String {
        let base = base.trim_end_matches('/');
        match kind {
            QuoteKind::Mark => format!("{base}/market/stream"),
            _ => format!("{base}/public/stream"),
        }
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Ping(b"mercury".to_vec()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn max_connection_age(&self) -> Option<Duration> {
        Some(MAX_CONNECTION_AGE)
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(BinanceSession)
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(BinanceVenue::new(config)))
    }
}
