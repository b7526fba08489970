//! Hyperliquid's wire format, as typed structs that borrow from the frame
//! and ignore unknown fields. Prices stay raw JSON until
//! `Price::from_json_value` reads their text exactly.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The asset context channel: mark, oracle and mid price of a perpetual.
pub const ACTIVE_ASSET_CTX: &str = "activeAssetCtx";
/// The channel a spot coin's `activeAssetCtx` subscription answers on.
pub const ACTIVE_SPOT_ASSET_CTX: &str = "activeSpotAssetCtx";
/// The best bid and offer channel.
pub const BBO: &str = "bbo";
/// The trades channel.
pub const TRADES: &str = "trades";
/// The reply to a subscribe or unsubscribe request.
pub const SUBSCRIPTION_RESPONSE: &str = "subscriptionResponse";
/// The reply to a ping.
pub const PONG: &str = "pong";
/// An error, its `data` a plain text.
pub const ERROR: &str = "error";
/// The plain-text greeting the official Python SDK expects and skips
/// (`hyperliquid/websocket_manager.py`, `on_message`).
pub const WELCOME: &str = "Websocket connection established.";
/// The heartbeat request (docs: *Timeouts and heartbeats*).
pub const PING: &str = r#"{"method":"ping"}"#;

/// The subscription object of `channel` for `coin`, as sent and echoed:
/// `{"type":"activeAssetCtx","coin":"BTC"}`. `coin` has passed the
/// exchange's symbol rule (no character that needs escaping).
pub fn subscription(channel: &str, coin: &str) -> String {
    format!(r#"{{"type":"{channel}","coin":"{coin}"}}"#)
}

/// Every frame the server sends: a channel and its data.
///
/// A real one (JKorf/HyperLiquid.Net's test file, compacted):
/// `{"channel":"bbo","data":{"coin":"HYPE","time":1766566375292,"bbo":[{"px":"23.757","sz":"42.09","n":1},{"px":"23.758","sz":"100.26","n":2}]}}`
#[derive(Debug, Deserialize)]
pub struct HyperliquidFrame<'a> {
    /// `activeAssetCtx`, `bbo`, `trades`, `subscriptionResponse`, `pong`,
    /// `error`, …
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub channel: Option<Cow<'a, str>>,
    /// What the channel carries (absent from `pong`).
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// `data` of `activeAssetCtx` (and `activeSpotAssetCtx`).
///
/// The shape (pybotters' test frame, whose `ctx` is the docs' example):
/// `{"coin":"BTC","ctx":{"dayNtlVlm":"1169046.29406","prevDayPx":"15.322","markPx":"14.3161","midPx":"14.314","funding":"0.0000125","openInterest":"688.11","oraclePx":"14.32"}}`
#[derive(Debug, Deserialize)]
pub struct HyperliquidAssetCtx<'a> {
    /// The coin, as subscribed.
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    /// The context.
    #[serde(borrow)]
    pub ctx: HyperliquidCtx<'a>,
}

/// The prices of an asset context that mercury reads.
#[derive(Debug, Deserialize)]
pub struct HyperliquidCtx<'a> {
    /// Mark price.
    #[serde(borrow, rename = "markPx")]
    pub mark: Option<&'a RawValue>,
    /// Oracle price (perpetuals only): mercury's index.
    #[serde(borrow, rename = "oraclePx")]
    pub oracle: Option<&'a RawValue>,
}

/// `data` of `bbo`: the best bid and ask, each a level or `null`.
///
/// A real one (JKorf/HyperLiquid.Net):
/// `{"coin":"HYPE","time":1766566375292,"bbo":[{"px":"23.757","sz":"42.09","n":1},{"px":"23.758","sz":"100.26","n":2}]}`
#[derive(Debug, Deserialize)]
pub struct HyperliquidBbo<'a> {
    /// The coin.
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    /// Milliseconds since the epoch, raw (read leniently).
    #[serde(borrow)]
    pub time: Option<&'a RawValue>,
    /// `[bid, ask]`, each `null` when that side is empty.
    #[serde(borrow, default)]
    pub bbo: (Option<HyperliquidLevel<'a>>, Option<HyperliquidLevel<'a>>),
}

/// One price level, `{"px":"23.757","sz":"42.09","n":1}`.
#[derive(Debug, Deserialize)]
pub struct HyperliquidLevel<'a> {
    /// The price.
    #[serde(borrow)]
    pub px: Option<&'a RawValue>,
}

/// One element of `trades`' `data` array.
///
/// A real one (ccxt's `handleTrades` comment):
/// `{"coin":"BTC","side":"A","px":"68517.0","sz":"0.005","time":1710125266669,"hash":"0xc872…e959","tid":981894269203506}`
#[derive(Debug, Deserialize)]
pub struct HyperliquidTrade<'a> {
    /// The coin.
    #[serde(borrow)]
    pub coin: Cow<'a, str>,
    /// The price.
    #[serde(borrow)]
    pub px: Option<&'a RawValue>,
    /// Milliseconds since the epoch, raw (read leniently).
    #[serde(borrow)]
    pub time: Option<&'a RawValue>,
}

/// `data` of `subscriptionResponse`: the request echoed.
///
/// The docs' example:
/// `{"method":"subscribe","subscription":{"type":"trades","coin":"SOL"}}`
#[derive(Debug, Deserialize)]
pub struct HyperliquidSubscriptionResponse<'a> {
    /// `subscribe` or `unsubscribe`.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub method: Option<Cow<'a, str>>,
    /// The subscription object, as the server echoes it.
    #[serde(borrow)]
    pub subscription: Option<&'a RawValue>,
}
