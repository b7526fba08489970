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
//!   [`QuoteSource::url_for`] routes each kind, and a driver opens one
//!   connection per path;
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

mod source;
mod venue;
pub mod wire;

pub use source::{BinanceSource, HEARTBEAT_IDLE, MAX_CONNECTION_AGE, PONG_DEADLINE, stream_name};
pub use venue::BinanceVenue;

use mercury_core::{
    Endpoints, ExchangeDescriptor, ExchangeId, QuoteKind, QuoteSource, Venue, VenueConfig,
};

/// `binance`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("binance");

/// The USDⓈ-M futures host; [`QuoteSource::url_for`] adds the path of
/// each kind. No testnet is wired (its 2026 routing is unverified).
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://fstream.binance.com",
    testnet: None,
};

/// The kinds Binance offers here.
pub const KINDS: &[QuoteKind] = &[QuoteKind::Mark, QuoteKind::Bid, QuoteKind::Ask];

/// Binance USDⓈ-M futures, for the exchange registry.
pub const DESCRIPTOR: ExchangeDescriptor = ExchangeDescriptor {
    id: EXCHANGE_ID,
    name: "Binance USDⓈ-M futures",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    new_source,
    new_venue: Some(new_venue),
};

fn new_source() -> Box<dyn QuoteSource> {
    Box::new(BinanceSource::new())
}

fn new_venue(config: &VenueConfig) -> Box<dyn Venue> {
    Box::new(BinanceVenue::new(config))
}
