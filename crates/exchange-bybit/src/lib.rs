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

mod source;
mod venue;
pub mod wire;

pub use source::{BybitSource, HEARTBEAT_IDLE, PONG_DEADLINE, topic};
pub use venue::BybitVenue;

use mercury_core::{
    Endpoints, ExchangeDescriptor, ExchangeId, QuoteKind, QuoteSource, Venue, VenueConfig,
};

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

/// Bybit linear perpetuals and futures, for the exchange registry.
pub const DESCRIPTOR: ExchangeDescriptor = ExchangeDescriptor {
    id: EXCHANGE_ID,
    name: "Bybit linear",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    new_source,
    new_venue: Some(new_venue),
};

fn new_source() -> Box<dyn QuoteSource> {
    Box::new(BybitSource::new())
}

fn new_venue(config: &VenueConfig) -> Box<dyn Venue> {
    Box::new(BybitVenue::new(config))
}
