//! # mercury-exchange-krakenfutures
//!
//! Kraken Futures public tickers (the `ticker` feed on
//! `wss://futures.kraken.com/ws/v1`), sans I/O: mark (`markPrice`), index
//! (`index`), last (`last`), best bid (`bid`) and best ask (`ask`). This
//! crate never opens a socket; `mercury-collector` drives it.
//!
//! What it knows of the protocol (each fact with its source in
//! `PROTOCOL-notes.md`; the real frames under `tests/fixtures/`):
//!
//! - on connect the server greets with `{"event":"info","version":1}`
//!   (cryptofeed's 2021 capture);
//! - subscribe with `{"event":"subscribe","feed":"ticker","product_ids":["PF_XBTUSD"]}`;
//!   the server acknowledges **each product** on its own,
//!   `{"event":"subscribed","feed":"ticker","product_ids":["PF_XBTUSD"]}`
//!   (Kraken's ticker docs; the capture: ten products, ten replies);
//! - every `ticker` message carries every field, "even if the value of only
//!   a single field has changed" (Kraken's ticker docs): there is no
//!   snapshot/delta distinction, each frame is a whole image; prices are
//!   JSON **numbers** (`"markPrice":29904.25`), read exactly from their
//!   text; `ticker_lite` frames (bid and ask only) are read too;
//! - errors are `{"event":"error","message":"…"}` with `Invalid product id`,
//!   `Invalid feed` or `Json Error` (Kraken's feed docs), none of which
//!   reconnecting cures;
//! - keep-alive: Kraken asks for "a ping request at least every 60
//!   seconds" and its sample client sends **WebSocket ping frames**
//!   (`run_forever(ping_interval=30)`), so the heartbeat here is
//!   [`Outgoing::Ping`], not a text message, sent every 30 s however
//!   busy the link ([`Exchange::keepalive`]) and after 15 s of silence;
//! - about 100 requests per second per connection (Kraken's rate-limit
//!   guide, as quoted by ccxt and NautilusTrader); the number of products
//!   per request or per connection is not documented (see
//!   [`Exchange::limits`] below for the choice).
//!
//! Symbols are Kraken's product ids, upper case: `PF_XBTUSD` (linear
//! perpetual, the example), `PI_XBTUSD` (inverse perpetual), `PF_ETHUSD`,
//! `FI_XBTUSD_230630` (inverse future with its expiry). The server accepts
//! lower-case ids too but answers in upper case, so a lower-case
//! subscription would never match its quotes: the rule refuses it.
//!
//! Authenticated feeds (`challenge`, `open_orders`, `fills`, `balances`,
//! …) are left out: mercury collects public market data only.
#![deny(missing_docs)]

mod session;
mod venue;
pub mod wire;

pub use session::KrakenFuturesSession;
pub use venue::KrakenFuturesVenue;

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `krakenfutures`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("krakenfutures");

/// The public stream, production and demo.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://futures.kraken.com/ws/v1",
    testnet: Some("wss://demo-futures.kraken.com/ws/v1"),
};

/// The kinds Kraken Futures offers here, all from the `ticker` feed.
pub const KINDS: &[QuoteKind] = &[
    QuoteKind::Mark,
    QuoteKind::Index,
    QuoteKind::Last,
    QuoteKind::Bid,
    QuoteKind::Ask,
];

/// The feed every kind comes from.
pub const TICKER_FEED: &str = "ticker";

/// Tickers are published about once a second per product; this much
/// silence sends a WebSocket ping (Kraken wants one at least every 60 s).
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(15);
/// Kraken wants a client ping at least every 60 s, data or no data; its
/// sample client pings every 30 s, and so does mercury
/// ([`Exchange::keepalive`]).
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// No frame this long after the ping: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);
/// Products per subscribe request: what a real client sent in one request
/// and had acknowledged product by product (cryptofeed's capture: 10).
pub const PRODUCTS_PER_REQUEST: usize = 10;
/// Products per connection: not documented; mercury's own bound, which
/// keeps one connection's subscribe burst to 10 requests (Kraken allows
/// about 100 requests a second).
pub const PRODUCTS_PER_CONNECTION: usize = 100;

/// Kraken Futures (formerly Crypto Facilities), for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct KrakenFutures;

/// What KrakenFutures is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "Kraken Futures",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    symbols: SymbolRule {
        max_len: 40,
        allowed: |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_',
        described: "upper-case letters, digits and '_', e.g. PF_XBTUSD",
    },
    // Neither limit is documented (see `PROTOCOL-notes.md`): 10 products
    // per request as a real client sent them, 100 per connection.
    limits: SubscribeLimits {
        per_request: PRODUCTS_PER_REQUEST,
        per_connection: PRODUCTS_PER_CONNECTION,
    },
};

impl Exchange for KrakenFutures {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// The product id itself: every kind comes from its `ticker` feed.
    fn topic(&self, symbol: &str, _kind: QuoteKind) -> String {
        symbol.to_owned()
    }

    /// `{"event":"subscribe","feed":"ticker","product_ids":[…]}`; Kraken's
    /// requests carry no id, so `request` is not sent.
    fn subscribe_message(&self, topics: &[String], _request: u64) -> Outgoing {
        let products = serde_json::to_string(topics).unwrap_or_else(|_| "[]".into());
        Outgoing::Text(format!(
            r#"{{"event":"subscribe","feed":"{TICKER_FEED}","product_ids":{products}}}"#
        ))
    }

    /// A WebSocket ping frame, as Kraken's own sample client sends.
    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Ping(Vec::new()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    /// Every 30 s, however busy the link: Kraken asks the client to ping.
    fn keepalive(&self) -> Option<Duration> {
        Some(KEEPALIVE)
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(KrakenFuturesSession)
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(KrakenFuturesVenue::new(config)))
    }
}
