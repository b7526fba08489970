//! Bybit's wire format, as typed structs that borrow from the frame and
//! ignore unknown fields.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Any frame of the public stream: a ticker, a reply or a pong.
///
/// A real delta captured by ccxt:
/// `{"topic":"tickers.AAVEUSDT","type":"delta","data":{"symbol":"AAVEUSDT","bid1Price":"112.89","bid1Size":"2.12","ask1Price":"112.90","ask1Size":"5.02"},"cs":78039939929,"ts":1709210212704}`
#[derive(Debug, Deserialize)]
pub struct BybitFrame<'a> {
    /// `tickers.BTCUSDT`.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub topic: Option<Cow<'a, str>>,
    /// `snapshot` or `delta`.
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub kind: Option<Cow<'a, str>>,
    /// The ticker.
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    /// Generation time, milliseconds, as raw JSON (read leniently).
    #[serde(borrow)]
    pub ts: Option<&'a RawValue>,
    /// A reply's outcome.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_bool")]
    pub success: Option<bool>,
    /// A reply's message: `""`, `pong`, or why it failed.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub ret_msg: Option<Cow<'a, str>>,
    /// What the reply answers: `subscribe`, `unsubscribe`, `ping`, `pong`.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub op: Option<Cow<'a, str>>,
    /// The request id echoed.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub req_id: Option<Cow<'a, str>>,
}

/// The fields of a linear ticker that mercury reads; each is absent from a
/// delta when it did not change.
#[derive(Debug, Deserialize)]
pub struct BybitTicker<'a> {
    /// The symbol (carried by every delta).
    #[serde(borrow)]
    pub symbol: Cow<'a, str>,
    /// Mark price.
    #[serde(borrow, rename = "markPrice")]
    pub mark: Option<&'a RawValue>,
    /// Last traded price.
    #[serde(borrow, rename = "lastPrice")]
    pub last: Option<&'a RawValue>,
    /// Best bid.
    #[serde(borrow, rename = "bid1Price")]
    pub bid: Option<&'a RawValue>,
    /// Best ask.
    #[serde(borrow, rename = "ask1Price")]
    pub ask: Option<&'a RawValue>,
}
