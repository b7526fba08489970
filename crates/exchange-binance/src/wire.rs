//! Binance's wire format, as typed structs that borrow from the frame and
//! ignore unknown fields (Binance adds some, e.g. `ap` and `st` in 2026).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Any frame: a combined-stream envelope, a bare event, a reply or an error.
///
/// `{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate",…}}`
#[derive(Debug, Deserialize)]
pub struct BinanceFrame<'a> {
    /// The stream name of a combined-stream envelope.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub stream: Option<Cow<'a, str>>,
    /// The event (or array of events) of an envelope.
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    /// The event type of a bare event: `markPriceUpdate`, `bookTicker`.
    #[serde(
        default,
        borrow,
        rename = "e",
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub event: Option<Cow<'a, str>>,
    /// The symbol of a bare event (spot `bookTicker` payloads have no `e`).
    #[serde(
        default,
        borrow,
        rename = "s",
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub symbol: Option<Cow<'a, str>>,
    /// A reply's result: a list for LIST_SUBSCRIPTIONS; `null` (read as
    /// `None`) for SUBSCRIBE.
    #[serde(borrow)]
    pub result: Option<&'a RawValue>,
    /// A reply's request id.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_u64")]
    pub id: Option<u64>,
    /// An error reply: `{"error":{"code":2,"msg":"Invalid request: …"},"id":1}`.
    pub error: Option<BinanceError>,
    /// A bare error's code: `{"code":2,"msg":"…"}`.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_i64")]
    pub code: Option<i64>,
    /// A bare error's message.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_text")]
    pub msg: Option<String>,
}

/// `{"code":2,"msg":"Invalid request: invalid stream"}`.
#[derive(Debug, Deserialize)]
pub struct BinanceError {
    /// Binance's error code (0–3 on market streams; not an HTTP status).
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_i64")]
    pub code: Option<i64>,
    /// Its message.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_text")]
    pub msg: Option<String>,
}

/// The fields of an event that mercury reads.
///
/// Mark price (`markPriceUpdate`), from Binance's documentation:
/// `{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}`
///
/// Best bid/ask (`bookTicker`), captured by barter-rs:
/// `{"e":"bookTicker","u":2286618712950,"s":"BTCUSDT","b":"16858.90","B":"13.692","a":"16859.00","A":"30.219","T":1671621244670,"E":1671621244673}`
#[derive(Debug, Deserialize)]
pub struct BinanceEvent<'a> {
    /// Event type (absent from spot bookTicker payloads).
    #[serde(
        default,
        borrow,
        rename = "e",
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub event: Option<Cow<'a, str>>,
    /// Event time, milliseconds since the epoch, as raw JSON (read
    /// leniently: a bad one costs only itself).
    #[serde(borrow, rename = "E")]
    pub event_time: Option<&'a RawValue>,
    /// Symbol, upper case.
    #[serde(borrow, rename = "s")]
    pub symbol: Cow<'a, str>,
    /// Mark price.
    #[serde(borrow, rename = "p")]
    pub mark: Option<&'a RawValue>,
    /// Best bid price.
    #[serde(borrow, rename = "b")]
    pub bid: Option<&'a RawValue>,
    /// Best ask price.
    #[serde(borrow, rename = "a")]
    pub ask: Option<&'a RawValue>,
}
