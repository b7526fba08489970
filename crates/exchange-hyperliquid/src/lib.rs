//! # mercury-exchange-hyperliquid
//!
//! Hyperliquid's public WebSocket (`wss://api.hyperliquid.xyz/ws`), sans
//! I/O: mark (`markPx`) and index (`oraclePx`, the oracle price) from
//! `activeAssetCtx`, best bid and ask from `bbo`, and trades (`px`) from
//! `trades`. This crate never opens a socket; `mercury-collector` drives it.
//!
//! What it knows of the protocol, each fact with its source (details in
//! `PROTOCOL-notes.md`, real frames under `tests/fixtures/`):
//!
//! - one subscription per message,
//!   `{"method":"subscribe","subscription":{"type":"activeAssetCtx","coin":"BTC"}}`,
//!   answered `{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{…}}}`
//!   (docs: *Websocket*, *Subscriptions*);
//! - data frames are `{"channel":…,"data":…}`; every price is a decimal
//!   string (docs' `WsLevel`, `WsTrade`; the frames of JKorf/HyperLiquid.Net
//!   and ccxt);
//! - heartbeat `{"method":"ping"}` → `{"channel":"pong"}`; the server
//!   closes a connection after 60 s without a message (docs: *Timeouts and
//!   heartbeats*);
//! - per IP at most 100 connections, 1000 subscriptions and 2000 messages
//!   a minute (docs: *Rate limits*); errors are `{"channel":"error","data":"…"}`
//!   with plain text (ccxt; nktkas/hyperliquid issue #78).
//!
//! Coins are spelled as Hyperliquid spells them: perpetuals by name (`BTC`,
//! `kPEPE`), spot pairs by index (`@107`), builder-deployed perpetuals with
//! their dex (`xyz:SP500`). `PURR/USDC`, the one spot pair named with a
//! `/`, cannot be asked for: core refuses `/` in every symbol.
//! The mid price (`midPx`, `allMids`) is not offered: mercury has no mid
//! kind, and it is the mean of the bid and ask offered here. Channels that
//! need a user address (`userFills`, `orderUpdates`, …) are left out.
#![deny(missing_docs)]

mod errors;
mod session;
mod venue;
pub mod wire;

pub use session::HyperliquidSession;
pub use venue::HyperliquidVenue;

use mercury_core::{
    Endpoints, Exchange, ExchangeId, ExchangeInfo, HeartbeatPolicy, IpLimits, Outgoing, QuoteKind,
    Session, SubscribeLimits, SymbolRule, Venue, VenueConfig,
};
use std::time::Duration;

/// `hyperliquid`.
pub const EXCHANGE_ID: ExchangeId = ExchangeId::from_static("hyperliquid");

/// The public WebSocket, mainnet and testnet (docs: *Websocket*).
pub const ENDPOINTS: Endpoints = Endpoints {
    production: "wss://api.hyperliquid.xyz/ws",
    testnet: Some("wss://api.hyperliquid-testnet.xyz/ws"),
};

/// The kinds Hyperliquid offers here.
pub const KINDS: &[QuoteKind] = &[
    QuoteKind::Mark,
    QuoteKind::Index,
    QuoteKind::Bid,
    QuoteKind::Ask,
    QuoteKind::Trade,
];

/// The server closes a connection after 60 s without a message; `bbo`
/// and `trades` of a quiet coin can be silent that long, so a ping goes
/// out after 20 s of silence (ccxt keeps the same 20 s).
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(20);
/// No frame this long after the ping: the link is dead (a pong took
/// about 90 ms in the probes others published).
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);

/// Subscriptions one IP may hold, over all its connections (docs: *Rate
/// limits*); a plan asking for more is refused ([`Exchange::per_ip`]).
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// WebSocket connections one IP may hold (docs: *Rate limits*).
pub const MAX_CONNECTIONS: usize = 100;

/// The `type` of the subscription that carries `kind`.
pub(crate) fn channel_of(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Bid | QuoteKind::Ask => wire::BBO,
        QuoteKind::Trade => wire::TRADES,
        _ => wire::ACTIVE_ASSET_CTX,
    }
}

/// Hyperliquid perpetuals and spot, for the exchange registry.
#[derive(Debug, Clone, Copy)]
pub struct Hyperliquid;

/// What Hyperliquid is, as data ([`Exchange::info`]).
static INFO: ExchangeInfo = ExchangeInfo {
    id: EXCHANGE_ID,
    name: "Hyperliquid",
    endpoints: ENDPOINTS,
    kinds: KINDS,
    default_kind: QuoteKind::Mark,
    // Letters of either case (`kPEPE`), digits, `@` (spot by index,
    // `@107`) and `:` (a builder dex, `xyz:SP500`): none needs escaping
    // in the JSON of a subscription.
    symbols: SymbolRule {
        max_len: 40,
        allowed: |b| b.is_ascii_alphanumeric() || b == b'@' || b == b':',
        described: "letters, digits, '@' and ':' as Hyperliquid spells its coins, e.g. BTC, kPEPE, @107, xyz:SP500",
    },
    // One subscription per message (the server takes one `subscription`
    // object); 1000 per IP, so at most 1000 on a connection.
    limits: SubscribeLimits {
        per_request: 1,
        per_connection: MAX_SUBSCRIPTIONS,
    },
};

impl Exchange for Hyperliquid {
    fn info(&self) -> &'static ExchangeInfo {
        &INFO
    }

    fn per_ip(&self) -> Option<IpLimits> {
        Some(IpLimits {
            connections: MAX_CONNECTIONS,
            topics: MAX_SUBSCRIPTIONS,
        })
    }

    /// The subscription object itself, `{"type":"bbo","coin":"BTC"}`: mark
    /// and index share `activeAssetCtx`, bid and ask share `bbo`.
    fn topic(&self, symbol: &str, kind: QuoteKind) -> String {
        wire::subscription(channel_of(kind), symbol)
    }

    fn subscribe_message(&self, topics: &[String], _request: u64) -> Outgoing {
        // `limits` makes every request hold one topic.
        let subscription = topics.first().map_or("{}", String::as_str);
        Outgoing::Text(format!(
            r#"{{"method":"subscribe","subscription":{subscription}}}"#
        ))
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text(wire::PING.into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn new_session(&self) -> Box<dyn Session> {
        Box::new(HyperliquidSession)
    }

    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        Some(Box::new(HyperliquidVenue::new(config)))
    }
}
