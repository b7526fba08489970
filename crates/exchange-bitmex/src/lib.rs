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

mod replay;
mod rows;
mod source;
mod stream;
mod subscribe;
mod tables;
mod venue;
pub mod wire;

pub use source::{
    BitmexConfig, BitmexSource, DEFAULT_MAX_FRAME_LEN, HEARTBEAT_IDLE, PONG_DEADLINE,
};
pub use subscribe::{MAX_TOPICS_PER_REQUEST, topic};
pub use tables::Table;
pub use venue::{BitmexVenue, DEFAULT_SYMBOLS};

use mercury_core::{
    Endpoints, ExchangeDescriptor, ExchangeId, QuoteKind, QuoteSource, Venue, VenueConfig,
};

/// `bitmex`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("bitmex");

/// Production `wss://ws.bitmex.com/realtime`, testnet `wss://ws.testnet.bitmex.com/realtime`.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://ws.bitmex.com/realtime",
    testnet: Some("wss://ws.testnet.bitmex.com/realtime"),
};

/// Every kind BitMEX offers.
pub const KINDS: &[QuoteKind] = &QuoteKind::ALL;

/// BitMEX, for the exchange registry.
pub const DESCRIPTOR: ExchangeDescriptor = ExchangeDescriptor {
    id: EXCHANGE_ID,
    name: "BitMEX",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Fair,
    new_source,
    new_venue: Some(new_venue),
};

fn new_source() -> Box<dyn QuoteSource> {
    Box::new(BitmexSource::new())
}

fn new_venue(config: &VenueConfig) -> Box<dyn Venue> {
    Box::new(BitmexVenue::new(config))
}
