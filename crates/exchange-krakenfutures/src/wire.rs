//! Kraken Futures' wire format: one flat object per frame, as a typed
//! struct that borrows from the frame and ignores unknown fields.
//!
//! Every frame is either an *event* (`"event":"info"`, `"subscribed"`,
//! `"error"`, …) or *data* of a feed (`"feed":"ticker"` with no `event`).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Any frame of the public stream: an event or a feed's data.
///
/// A real ticker (crypto-msg-parser's test suite, 2022-06-02):
/// `{"time":1654164951042,"product_id":"PI_XBTUSD","funding_rate":3.216424e-12,…,"feed":"ticker","bid":29914.5,"ask":29925.0,…,"index":29927.42,"premium":-0.0,"last":29929.0,…,"markPrice":29919.75,"maturityTime":0,"post_only":false}`
///
/// A real acknowledgement (cryptofeed's 2021 capture):
/// `{"event":"subscribed","feed":"ticker_lite","product_ids":["PI_XRPUSD"]}`
#[derive(Debug, Deserialize)]
pub struct KrakenFuturesFrame<'a> {
    /// `info`, `subscribed`, `subscribed_failed`, `unsubscribed`,
    /// `error`, …; absent from data frames.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub event: Option<Cow<'a, str>>,
    /// `ticker`, `ticker_lite`, `heartbeat`, `book`, …
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub feed: Option<Cow<'a, str>>,
    /// An error's text: `Invalid product id`, `Json Error`, …
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub message: Option<Cow<'a, str>>,
    /// The products a reply is about (a list of strings), raw.
    #[serde(borrow)]
    pub product_ids: Option<&'a RawValue>,
    /// The product a data frame is about: `PF_XBTUSD`.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub product_id: Option<Cow<'a, str>>,
    /// The greeting's protocol version, raw.
    #[serde(borrow)]
    pub version: Option<&'a RawValue>,
    /// Server time in milliseconds, raw (tickers, heartbeats).
    #[serde(borrow)]
    pub time: Option<&'a RawValue>,
    /// Mark price.
    #[serde(borrow, rename = "markPrice")]
    pub mark: Option<&'a RawValue>,
    /// The product's real-time index.
    #[serde(borrow)]
    pub index: Option<&'a RawValue>,
    /// Price of the last fill.
    #[serde(borrow)]
    pub last: Option<&'a RawValue>,
    /// Best bid.
    #[serde(borrow)]
    pub bid: Option<&'a RawValue>,
    /// Best ask.
    #[serde(borrow)]
    pub ask: Option<&'a RawValue>,
    /// Seconds to wait, on the simulator's rate-limit error only (Kraken
    /// documents no in-band rate-limit frame; see `PROTOCOL-notes.md`).
    #[serde(borrow)]
    pub retry_after: Option<&'a RawValue>,
}
