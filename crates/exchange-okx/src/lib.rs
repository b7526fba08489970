//! # mercury-exchange-okx
//!
//! OKX's v5 public WebSocket (`wss://ws.okx.com:8443/ws/v5/public`), sans
//! I/O: mark (`mark-price` → `markPx`, the default), index
//! (`index-tickers` → `idxPx`), last (`tickers` → `last`) and the best bid
//! and ask (`bbo-tbt` → `bids[0][0]`, `asks[0][0]`). This crate never opens
//! a socket; `mercury-collector` drives it. Channels that need a login
//! (orders, positions, account) are left out.
//!
//! What it knows of the protocol, each fact with its source in
//! `PROTOCOL-notes.md` (beside `Cargo.toml`), checked on the real frames
//! under `tests/fixtures/` (`SOURCES.md` there):
//!
//! - subscribe with `{"op":"subscribe","args":[{"channel":"mark-price","instId":"BTC-USDT-SWAP"}]}`
//!   (a real request: cryptofeed's capture); OKX answers each arg with
//!   `{"event":"subscribe","arg":{…},"connId":…}` and refuses with
//!   `{"event":"error","code":"60018","msg":…}` (OKX's docs);
//! - data frames are `{"arg":{"channel":…,"instId":…},"data":[rows]}`, every
//!   push a whole image (no deltas), every price a decimal string;
//! - the heartbeat is the text `ping`, answered by the text `pong`; OKX cuts
//!   a connection after 30 s without data, so mercury pings after 15 s of
//!   silence (OKX's docs, via skip-mev/connect's quotation);
//! - limits: 3 connections a second per IP, 480 subscribe requests an hour
//!   per connection, 64 KB of args per request (OKX's docs): the plan sends
//!   at most [`ARGS_PER_REQUEST`] args a request and [`ARGS_PER_CONNECTION`]
//!   a connection.
//!
//! Two choices, and why:
//!
//! - **Bid and ask come from `bbo-tbt`**, OKX's tick-by-tick best bid/offer
//!   (public since 2022, OKX's announcement), not from `tickers`, which
//!   pushes at most every 100 ms and so samples the book. A `tickers` row
//!   gives only `last`, so that no kind comes from two channels.
//! - **An index is asked for by its own name.** OKX's `index-tickers` takes
//!   an index (`BTC-USDT`), and its rows carry that name; the index of the
//!   swap `BTC-USDT-SWAP` is its underlying, so one asks
//!   `collector fetch okx BTC-USDT --kind index`. A session cannot know
//!   which swap an index row was wanted for, so `BTC-USDT-SWAP --kind
//!   index` is sent as asked, and OKX refuses it (60018, not retried).
#![deny(missing_docs)]

mod session;
mod venue;
pub mod wire;

pub use session::OkxSession;
pub use venue::{DEFAULT_SYMBOLS, OkxVenue};

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, Outgoing, QuoteKind, Session,
    SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `okx`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("okx");

/// The public stream, production and demo trading.
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://ws.okx.com:8443/ws/v5/public",
    testnet: Some("wss://wspap.okx.com:8443/ws/v5/public"),
};

/// The kinds OKX offers here; mark is the default.
pub const KINDS: &[QuoteKind] = &[
    QuoteKind::Mark,
    QuoteKind::Index,
    QuoteKind::Last,
    QuoteKind::Bid,
    QuoteKind::Ask,
];

/// Ping after this much silence: half the 30 s after which OKX cuts a
/// connection that received nothing, so that a quiet `index-tickers` link
/// (one push a minute when the index does not move) stays open.
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(15);
/// No frame this long after the ping: the link is dead (25 s in all, still
/// under OKX's 30 s).
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);

/// Args in one subscribe request. An arg is at most 79 bytes (the longest
/// channel name and a 40-byte instId) and a comma, so a request stays under
/// 24 KB, well inside the 64 KB OKX allows.
pub const ARGS_PER_REQUEST: usize = 300;
/// Args on one connection: 3 requests, so a new connection sends no more
/// than OKX's "3 requests per second" even where that limit is read as
/// one on subscribe requests rather than on connections, and far from its
/// 480 an hour per connection; OKX documents no cap of its own on a public
/// connection's channels.
pub const ARGS_PER_CONNECTION: usize = 900;

/// The text OKX's heartbeat sends (and `pong` answers).
pub const PING: &str = "ping";

/// OKX (v5 public channels), for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Okx;

/// The channel that carries `kind`.
fn channel(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Index => wire::INDEX_TICKERS,
        QuoteKind::Last => wire::TICKERS,
        QuoteKind::Bid | QuoteKind::Ask => wire::BBO_TBT,
        _ => wire::MARK_PRICE,
    }
}

/// What Okx is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "OKX",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    symbols: SymbolRule {
        max_len: 40,
        allowed: |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-',
        described: "upper-case letters, digits and '-', e.g. BTC-USDT-SWAP (an index: BTC-USDT)",
    },
    limits: SubscribeLimits {
        per_request: ARGS_PER_REQUEST,
        per_connection: ARGS_PER_CONNECTION,
    },
};

impl Exchange for Okx {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    /// `mark-price:BTC-USDT-SWAP`: the channel and the instId, as the
    /// session names an acknowledged subscription.
    fn topic(&self, symbol: &str, kind: QuoteKind) -> String {
        format!("{}:{symbol}", channel(kind))
    }

    /// `{"op":"subscribe","args":[{"channel":…,"instId":…},…]}`.
    fn subscribe_message(&self, topics: &[String], _request: u64) -> Outgoing {
        let args: Vec<wire::OkxArgOut<'_>> = topics
            .iter()
            .map(|topic| {
                let (channel, inst_id) = topic.split_once(':').unwrap_or((topic.as_str(), ""));
                wire::OkxArgOut { channel, inst_id }
            })
            .collect();
        let request = wire::OkxRequest {
            op: "subscribe",
            args,
        };
        Outgoing::Text(serde_json::to_string(&request).unwrap_or_default())
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text(PING.into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(OkxSession)
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(OkxVenue::new(config)))
    }
}
