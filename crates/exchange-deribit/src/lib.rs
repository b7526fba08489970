//! # mercury-exchange-deribit
//!
//! Deribit's public tickers (`ticker.{instrument}.100ms` on the JSON-RPC
//! 2.0 WebSocket `wss://www.deribit.com/ws/api/v2`), sans I/O: mark
//! (`mark_price`), index (`index_price`), last (`last_price`), best bid
//! (`best_bid_price`) and best ask (`best_ask_price`). This crate never
//! opens a socket; `mercury-collector` drives it.
//!
//! What it knows of the protocol (each fact with its source in
//! `PROTOCOL-notes.md`; real frames under `tests/fixtures/`):
//!
//! - subscribe with `{"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["ticker.BTC-PERPETUAL.100ms"]}}`;
//!   the answer's `result` lists the channels subscribed (a real one in
//!   `cryptofeed_options_raw.jsonl`); `public/subscribe` is limited to about
//!   3.3 requests a second (docs.deribit.com, public-subscribe);
//! - notifications are `{"jsonrpc":"2.0","method":"subscription","params":{"channel":…,"data":{…}}}`;
//!   every ticker is a whole image (no deltas), prices are JSON numbers,
//!   `null` (or a side of amount 0: an empty book, as in the real 2021
//!   capture) when there is none;
//! - **the heartbeat is the server's.** A fresh connection first sends
//!   `public/set_heartbeat` with an interval of [`HEARTBEAT_INTERVAL_SECS`]
//!   (the least Deribit accepts; [`Exchange::opening_messages`]); the server
//!   then sends `{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}`,
//!   which the session answers with `public/test` through
//!   [`Emitter::reply`](mercury_core::Emitter::reply); a `test_request` left
//!   unanswered makes Deribit close the connection (docs.deribit.com,
//!   public-set_heartbeat). On top, mercury's own idle heartbeat sends
//!   `public/test` after [`HEARTBEAT_IDLE`] of silence, so a server that
//!   stops sending anything is noticed too;
//! - errors are JSON-RPC `error` objects with a numeric `code`: 10028
//!   `too_many_requests` is retryable (status 429), as are the few codes
//!   that say "try again" (see `session.rs`); the rest are not.
//!
//! Channels that need authentication (`user.*`, and the `raw` interval of
//! `ticker.*`, for which ccxt authenticates first) are left out: mercury
//! reads public data only. The session still reads a `raw` ticker (the
//! real 2021 capture is of `raw` option tickers).
#![deny(missing_docs)]

mod session;
mod venue;
pub mod wire;

pub use session::DeribitSession;
pub use venue::DeribitVenue;

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `deribit`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("deribit");

/// The public JSON-RPC WebSocket, production and testnet.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://www.deribit.com/ws/api/v2",
    testnet: Some("wss://test.deribit.com/ws/api/v2"),
};

/// The kinds Deribit's ticker carries.
pub const KINDS: &[QuoteKind] = &[
    QuoteKind::Mark,
    QuoteKind::Index,
    QuoteKind::Last,
    QuoteKind::Bid,
    QuoteKind::Ask,
];

/// The interval asked for with `public/set_heartbeat`, in seconds: the
/// least Deribit accepts ("not less than 10").
pub const HEARTBEAT_INTERVAL_SECS: u64 = 10;
/// With the server's heartbeat every 10 s and tickers every 100 ms, 15 s of
/// silence means a beat was missed: send `public/test` ourselves.
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(15);
/// No frame this long after our `public/test`: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);

/// The JSON-RPC id of `public/set_heartbeat`.
pub const SET_HEARTBEAT_ID: u64 = 1_000_000;
/// The JSON-RPC id of every `public/test` (ours after a silence, and the
/// answers to `test_request`). Subscribe requests are numbered from 1.
pub const TEST_ID: u64 = 1_000_001;

/// `public/test`, the heartbeat answer and our own ping.
pub(crate) fn public_test() -> Outgoing {
    Outgoing::Text(format!(
        r#"{{"jsonrpc":"2.0","id":{TEST_ID},"method":"public/test","params":{{}}}}"#
    ))
}

/// Deribit futures, perpetuals and options, for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Deribit;

/// What Deribit is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "Deribit",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    // Instrument names: `BTC-PERPETUAL`, `BTC_USDC-PERPETUAL`,
    // `BTC-30SEP22-60000-C`, `XRP_USDC-30MAY25-2d5-C` (a `d` for the
    // decimal point of a strike).
    symbols: SymbolRule {
        max_len: 64,
        allowed: |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
        described: "letters, digits, '-' and '_', e.g. BTC-PERPETUAL",
    },
    // Deribit documents no number of channels per request or connection;
    // `public/subscribe` costs credits (about 3.3 requests a second
    // sustained), so requests are made large: 100 channels each, 5 at
    // most per connection (within the burst), 500 channels a connection.
    limits: SubscribeLimits {
        per_request: 100,
        per_connection: 500,
    },
};

impl Exchange for Deribit {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// `ticker.BTC-PERPETUAL.100ms`: every kind comes from the same ticker.
    fn topic(&self, symbol: &str, _kind: QuoteKind) -> String {
        format!("{}{symbol}{}", session::TICKER, session::INTERVAL)
    }

    fn subscribe_message(&self, topics: &[String], request: u64) -> Outgoing {
        let channels = serde_json::to_string(topics).unwrap_or_else(|_| "[]".into());
        Outgoing::Text(format!(
            r#"{{"jsonrpc":"2.0","id":{request},"method":"public/subscribe","params":{{"channels":{channels}}}}}"#
        ))
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: public_test(),
            pong_deadline: PONG_DEADLINE,
        }
    }

    /// `public/set_heartbeat`: from then on the server sends
    /// `test_request`s, which the session answers.
    fn opening_messages(&self) -> Vec<Outgoing> {
        vec![Outgoing::Text(format!(
            r#"{{"jsonrpc":"2.0","id":{SET_HEARTBEAT_ID},"method":"public/set_heartbeat","params":{{"interval":{HEARTBEAT_INTERVAL_SECS}}}}}"#
        ))]
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(DeribitSession)
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(DeribitVenue::new(config)))
    }
}
