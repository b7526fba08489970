//! Deribit's wire format (JSON-RPC 2.0), as typed structs that borrow from
//! the frame and ignore unknown fields. Prices stay raw JSON text until
//! [`Price::from_json_value`](mercury_core::Price::from_json_value).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Any frame: a notification (`method`: `subscription`, `heartbeat`), or
/// the answer to a request (`id` with `result` or `error`).
///
/// The real answer to a subscribe, captured by cryptofeed (trimmed here):
/// `{"jsonrpc":"2.0","id":0,"result":["trades.ETH-30JUL21-2800-C.raw",…],"usIn":…,"usOut":…,"usDiff":…,"testnet":false}`
#[derive(Debug, Deserialize)]
pub struct DeribitFrame<'a> {
    /// `subscription` or `heartbeat` for a notification.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub method: Option<Cow<'a, str>>,
    /// A notification's parameters.
    #[serde(borrow)]
    pub params: Option<&'a RawValue>,
    /// The request an answer is for, as sent.
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_u64")]
    pub id: Option<u64>,
    /// A successful answer: the channels subscribed, `"ok"`, `{"version":…}`.
    #[serde(borrow)]
    pub result: Option<&'a RawValue>,
    /// A refused request.
    #[serde(borrow)]
    pub error: Option<&'a RawValue>,
}

/// The parameters of a `subscription` notification.
///
/// A real one (crypto-msg-parser's 2022 capture, trimmed):
/// `{"channel":"ticker.BTC-PERPETUAL.100ms","data":{"timestamp":1654161785818,…,"mark_price":29932.79,…}}`
#[derive(Debug, Deserialize)]
pub struct DeribitNotification<'a> {
    /// `ticker.BTC-PERPETUAL.100ms`, `book.…`, `trades.…`.
    #[serde(borrow)]
    pub channel: Cow<'a, str>,
    /// The channel's payload.
    #[serde(borrow)]
    pub data: &'a RawValue,
}

/// The parameters of a `heartbeat` notification: `{"type":"test_request"}`
/// (answer it with `public/test`) or `{"type":"heartbeat"}`.
#[derive(Debug, Deserialize)]
pub struct DeribitHeartbeat<'a> {
    /// `test_request` or `heartbeat`.
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub kind: Option<Cow<'a, str>>,
}

/// The fields of a ticker mercury reads. Every ticker is a whole image; a
/// price is `null` when there is none (no trade yet, an empty book side).
#[derive(Debug, Deserialize)]
pub struct DeribitTicker<'a> {
    /// `BTC-PERPETUAL`.
    #[serde(borrow)]
    pub instrument_name: Cow<'a, str>,
    /// Milliseconds since the epoch, as raw JSON (read leniently).
    #[serde(borrow)]
    pub timestamp: Option<&'a RawValue>,
    /// Mark price.
    #[serde(borrow)]
    pub mark_price: Option<&'a RawValue>,
    /// The index price of the underlying.
    #[serde(borrow)]
    pub index_price: Option<&'a RawValue>,
    /// Last traded price.
    #[serde(borrow)]
    pub last_price: Option<&'a RawValue>,
    /// Best bid.
    #[serde(borrow)]
    pub best_bid_price: Option<&'a RawValue>,
    /// The amount at the best bid (0 with an empty side).
    #[serde(borrow)]
    pub best_bid_amount: Option<&'a RawValue>,
    /// Best ask.
    #[serde(borrow)]
    pub best_ask_price: Option<&'a RawValue>,
    /// The amount at the best ask (0 with an empty side).
    #[serde(borrow)]
    pub best_ask_amount: Option<&'a RawValue>,
}

/// A JSON-RPC error object.
///
/// Deribit's documented example (docs.deribit.com/articles/errors):
/// `{"code":13009,"message":"invalid_token","data":{"reason":"token has expired","param":"access_token"}}`
#[derive(Debug, Deserialize)]
pub struct DeribitError<'a> {
    /// The error code: 10028 `too_many_requests`, -32602 `Invalid params`, …
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_i64")]
    pub code: Option<i64>,
    /// The error's name, e.g. `too_many_requests`.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub message: Option<Cow<'a, str>>,
    /// Details: `reason`, `param`; the simulator's rate limit adds
    /// `retry_after_ms`.
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// The part of an error's `data` mercury reads.
#[derive(Debug, Deserialize)]
pub struct DeribitErrorData<'a> {
    /// Why, in words.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub reason: Option<Cow<'a, str>>,
    /// How long to wait, in milliseconds (the simulator's; see
    /// `PROTOCOL-notes.md`).
    #[serde(default, deserialize_with = "mercury_core::wire::lenient_u64")]
    pub retry_after_ms: Option<u64>,
}
