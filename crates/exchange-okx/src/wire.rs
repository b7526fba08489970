//! OKX's wire format, as typed structs that borrow from the frame and
//! ignore unknown fields. Prices stay raw JSON text until
//! [`Price::from_json_value`](mercury_core::Price::from_json_value).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The mark price channel.
pub const MARK_PRICE: &str = "mark-price";
/// The index channel.
pub const INDEX_TICKERS: &str = "index-tickers";
/// The ticker channel (mercury reads its `last`).
pub const TICKERS: &str = "tickers";
/// The tick-by-tick best bid/offer channel.
pub const BBO_TBT: &str = "bbo-tbt";

/// A request mercury sends: `{"op":"subscribe","args":[…]}`.
#[derive(Debug, Serialize)]
pub struct OkxRequest<'a> {
    /// `subscribe`.
    pub op: &'a str,
    /// One arg per channel and instrument.
    pub args: Vec<OkxArgOut<'a>>,
}

/// One arg of a request: `{"channel":"tickers","instId":"BTC-USDT"}`.
#[derive(Debug, Serialize)]
pub struct OkxArgOut<'a> {
    /// The channel.
    pub channel: &'a str,
    /// The instrument (or, for `index-tickers`, the index).
    #[serde(rename = "instId")]
    pub inst_id: &'a str,
}

/// Any JSON frame of the public stream: data, an event reply or an error.
///
/// A real ticker captured by cryptofeed (2022-05-13):
/// `{"arg":{"channel":"tickers","instId":"UNI-USD-SWAP"},"data":[{"instType":"SWAP","instId":"UNI-USD-SWAP","last":"5.123","lastSz":"100","askPx":"5.142","askSz":"25","bidPx":"5.134","bidSz":"96","open24h":"4.799","high24h":"5.458","low24h":"4.537","sodUtc0":"4.654","sodUtc8":"5.204","volCcy24h":"577730.7823","vol24h":"289425","ts":"1652459223143"}]}`;
/// a real ack from the same capture:
/// `{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}`;
/// the docs' error example:
/// `{ "event": "error", "code": "60012", "msg": "Invalid request: …", "connId": "a4d3ae55" }`.
#[derive(Debug, Deserialize)]
pub struct OkxFrame<'a> {
    /// `subscribe`, `unsubscribe`, `error`, `notice`; absent on data.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub event: Option<Cow<'a, str>>,
    /// The subscription a data frame or a reply belongs to.
    #[serde(default, borrow)]
    pub arg: Option<OkxArg<'a>>,
    /// The rows of a data frame, kept raw until the channel is known.
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    /// An error's code, a string of digits (`"60018"`).
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub code: Option<Cow<'a, str>>,
    /// An error's or notice's message.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub msg: Option<Cow<'a, str>>,
}

/// `{"channel":"mark-price","instId":"BTC-USDT-SWAP"}`, as echoed in
/// replies and data frames.
#[derive(Debug, Deserialize)]
pub struct OkxArg<'a> {
    /// The channel.
    #[serde(
        default,
        borrow,
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub channel: Option<Cow<'a, str>>,
    /// The instrument or index.
    #[serde(
        default,
        borrow,
        rename = "instId",
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub inst_id: Option<Cow<'a, str>>,
}

/// One row of `data`, for every channel mercury reads; each channel fills
/// its own fields.
///
/// A real `bbo-tbt` row (crypto-msg-parser's capture, 2022-07-01), which
/// names no instrument (the `arg` does):
/// `{"asks":[["20386.8","7","0","2"]],"bids":[["20386.7","50","0","5"]],"ts":"1656642503092"}`.
#[derive(Debug, Deserialize)]
pub struct OkxRow<'a> {
    /// The instrument (`tickers`, `mark-price`) or index (`index-tickers`).
    #[serde(
        default,
        borrow,
        rename = "instId",
        deserialize_with = "mercury_core::wire::lenient_borrowed"
    )]
    pub inst_id: Option<Cow<'a, str>>,
    /// `mark-price`: the mark price.
    #[serde(borrow, rename = "markPx")]
    pub mark_px: Option<&'a RawValue>,
    /// `index-tickers`: the index price.
    #[serde(borrow, rename = "idxPx")]
    pub idx_px: Option<&'a RawValue>,
    /// `tickers`: the last traded price.
    #[serde(borrow)]
    pub last: Option<&'a RawValue>,
    /// `bbo-tbt`: the best bid level(s), `[[price, size, "0", orders]]`.
    #[serde(borrow)]
    pub bids: Option<&'a RawValue>,
    /// `bbo-tbt`: the best ask level(s).
    #[serde(borrow)]
    pub asks: Option<&'a RawValue>,
    /// Unix milliseconds as a string of digits.
    #[serde(borrow)]
    pub ts: Option<&'a RawValue>,
}

/// The price of the first level of a book side (`[["20386.7","50","0","5"]]`)
/// as raw JSON; `None` for an empty side (`[]`).
pub fn best_level(side: &str) -> Result<Option<&RawValue>, serde_json::Error> {
    let levels: Vec<Vec<&RawValue>> = serde_json::from_str(side)?;
    Ok(levels.first().and_then(|level| level.first()).copied())
}
