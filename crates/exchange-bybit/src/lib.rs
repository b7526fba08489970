//! # mercury-exchange-bybit
//!
//! Bybit v5 public linear tickers (`tickers.<symbol>` on
//! `wss://stream.bybit.com/v5/public/linear`), sans I/O: mark
//! (`markPrice`), last (`lastPrice`), best bid (`bid1Price`) and best ask
//! (`ask1Price`). This crate never opens a socket; `mercury-collector`
//! drives it.
//!
//! What it knows of the protocol (see `PROTOCOL-notes.md` and the real
//! frames under `tests/fixtures/`):
//!
//! - subscribe with `{"op":"subscribe","args":["tickers.BTCUSDT"],"req_id":"1"}`;
//!   the reply `{"success":true,…,"req_id":"1","op":"subscribe"}` does not
//!   name topics; a refusal is `"success":false` with `ret_msg`
//!   (`error:handler not found,topic:…`);
//! - the first ticker frame of a symbol is a `snapshot`; `delta` frames
//!   carry only what changed, so a delta yields quotes only for the prices it
//!   carries, and a delta before its symbol's snapshot is dropped;
//! - every price is a decimal string;
//! - heartbeat is `{"op":"ping"}`, answered `{"success":true,"ret_msg":"pong",…}`
//!   (or `{"op":"pong",…}` on some streams); Bybit recommends one every 20 s.
//!
//! Why Bybit as the third exchange: its snapshot/delta tickers exercise the
//! same "image first, then only what changed" logic as BitMEX's
//! partial/update, on a second wire format, with string prices like
//! Binance's.
#![deny(missing_docs)]

mod session;
mod venue;
pub mod wire;

pub use session::BybitSession;
pub use venue::BybitVenue;

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `bybit`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("bybit");

/// The public linear stream, production and testnet.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://stream.bybit.com/v5/public/linear",
    testnet: Some("wss://stream-testnet.bybit.com/v5/public/linear"),
};

/// The kinds Bybit offers here.
pub const KINDS: &[QuoteKind] = &[
    QuoteKind::Mark,
    QuoteKind::Last,
    QuoteKind::Bid,
    QuoteKind::Ask,
];

/// Bybit recommends a ping every 20 s; tickers flow every 100 ms, so 20 s
/// of silence is already a sign of trouble.
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(20);
/// No frame this long after the ping: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);

/// Bybit linear perpetuals and futures, for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Bybit;

/// What Bybit is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "Bybit linear",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    symbols: SymbolRule {
        max_len: 40,
        allowed: |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-',
        described: "upper-case letters, digits and '-', e.g. BTCUSDT",
    },
    // Linear has no documented limit per request (spot's is 10, kept
    // here); one connection's `args` must stay under 21 000 characters,
    // about 1000 ticker topics.
    limits: SubscribeLimits {
        per_request: 10,
        per_connection: 1000,
    },
};

impl Exchange for Bybit {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// `tickers.BTCUSDT`: every kind comes from the same ticker.
    fn topic(&self, symbol: &str, _kind: QuoteKind) -> String {
        format!("{}{symbol}", session::TICKERS)
    }

    fn subscribe_message(&self, topics: &[String], request: u64) -> Outgoing {
        let args = serde_json::to_string(topics).unwrap_or_else(|_| "[]".into());
        Outgoing::Text(format!(
            r#"{{"op":"subscribe","args":{args},"req_id":"{request}"}}"#
        ))
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text(r#"{"op":"ping"}"#.into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(BybitSession::default())
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(BybitVenue::new(config)))
    }
}
