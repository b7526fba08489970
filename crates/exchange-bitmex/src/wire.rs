//! Typed wire structs for what BitMEX sends, named after the venue.
//!
//! Every struct borrows from the frame text where it can and ignores fields
//! it does not know: BitMEX adds fields over time (`pool` on acks and quote
//! rows since 2026), and a decoder that rejects them breaks on a Tuesday.
//! Prices stay as the raw JSON number text ([`RawValue`]) until they are
//! turned into exact [`Price`]s — never through `f64`.

use mercury_core::{DecodeError, MAX_RETRY_AFTER, Price, QuoteKind, Timestamp, excerpt};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::time::Duration;
use tracing::debug;

/// Every message BitMEX sends, as one flat envelope: which fields are
/// present decides what the message is (see [`BitmexMessage`]).
#[derive(Debug, Deserialize)]
pub(crate) struct BitmexEnvelope<'a> {
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub table: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub filter: Option<BitmexFilter<'a>>,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub subscribe: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub unsubscribe: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub request: Option<&'a RawValue>,
    // An error frame is read leniently: whatever `status`, `error` and
    // `meta` hold, the error is reported (see `error_of`).
    #[serde(borrow, default)]
    pub status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub meta: Option<&'a RawValue>,
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub info: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub docs: Option<&'a RawValue>,
    #[serde(default)]
    pub limit: Option<BitmexLimit>,
    #[serde(borrow, default)]
    pub usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub ops: Option<&'a RawValue>,
}

/// The `filter` object of a `partial`: which symbol the image covers.
///
/// `{"symbol":"XBTUSD"}` for `instrument:XBTUSD`; `{}` for `trade:*`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BitmexFilter<'a> {
    /// The one symbol the image covers; absent when it covers every symbol.
    #[serde(
        borrow,
        default,
        deserialize_with = "mercury_core::wire::borrowed_option"
    )]
    pub symbol: Option<Cow<'a, str>>,
}

/// The `meta` object of an error frame.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BitmexMeta<'a> {
    /// Seconds to wait before retrying, on 429 (`{"retryAfter":1}`); read
    /// leniently (a number, or a string holding one).
    #[serde(borrow, default, rename = "retryAfter")]
    pub retry_after: Option<&'a RawValue>,
}

/// The `limit` object of a welcome: `{"remaining":39}`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct BitmexLimit {
    /// Connections this IP may still open.
    #[serde(default)]
    pub remaining: Option<u64>,
}

/// The greeting on a new connection. Only `info` is guaranteed:
///
/// `{"info":"Welcome to the BitMEX Realtime API.","version":"2021-07-14T01:26:29.000Z","timestamp":"2021-07-22T22:36:07.865Z","docs":"https://www.bitmex.com/app/wsAPI","limit":{"remaining":39}}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmexWelcome {
    /// The greeting text.
    pub info: String,
    /// The server build (a timestamp in 2020–21, `2.0.0` in 2026), as sent.
    pub version: Option<String>,
    /// Connections this IP may still open, when the server says.
    pub limit_remaining: Option<u64>,
}

/// A subscribe or unsubscribe acknowledgement, one per topic:
///
/// `{"success":true,"subscribe":"trade:*","request":{"op":"subscribe","args":"trade:*"}}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmexAck {
    /// Whether the server accepted the request.
    pub success: bool,
    /// The topic subscribed to, e.g. `instrument:XBTUSD`.
    pub subscribe: Option<String>,
    /// The topic unsubscribed from.
    pub unsubscribe: Option<String>,
    /// The request the ack answers, as echoed.
    pub request: Option<BitmexRequest>,
}

/// A client request as the server echoes it. `args` may be one string or a
/// list: `{"op":"subscribe","args":"trade:*"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct BitmexRequest {
    /// The operation, e.g. `subscribe`.
    #[serde(default)]
    pub op: String,
    /// The arguments, always as a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub args: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(arg) => vec![arg],
        OneOrMany::Many(args) => args,
    })
}

/// An error the server reports in-band. `meta` and `request` can be absent:
///
/// `{"status":429,"error":"Rate limit exceeded, retry in 1 seconds.","meta":{"retryAfter":1},"request":{"op":"subscribe","args":["instrument:XBTUSD"]}}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmexError {
    /// 400 (bad request, unknown table or symbol), 401 (auth), 429 (rate
    /// limit), …; absent on some old frames, and left out when it is not
    /// a number (or a string holding one) in 100–599.
    pub status: Option<u16>,
    /// The server's message, verbatim (quoted as JSON if not a string).
    pub error: String,
    /// `meta.retryAfter`, when it is a number of seconds (or a string
    /// holding one), at most [`MAX_RETRY_AFTER`].
    pub retry_after: Option<Duration>,
    /// The request echoed back, as JSON text.
    pub request: Option<String>,
}

/// One `table` frame: `{"table":"instrument","action":"update","data":[…]}`.
#[derive(Debug, Clone)]
pub struct BitmexTable<'a> {
    /// The table, e.g. `instrument`, `quote`, `trade`, `orderBookL2`.
    pub table: Cow<'a, str>,
    /// `partial`, `update`, `insert` or `delete`.
    pub action: BitmexAction,
    /// The `filter` of a partial (which symbol the image covers).
    pub filter: Option<BitmexFilter<'a>>,
    /// The rows, still as JSON text; decoded per table.
    pub data: Option<&'a RawValue>,
}

/// What a table frame does to the client's image of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitmexAction {
    /// The full image of the table (for the filter); the first frame of any table.
    Partial,
    /// Rows changed; each carries its key plus only the fields that changed.
    Update,
    /// New rows.
    Insert,
    /// Rows removed.
    Delete,
    /// An action this client does not know.
    Other,
}

impl BitmexAction {
    pub(crate) fn parse(action: &str) -> Self {
        match action {
            "partial" => BitmexAction::Partial,
            "update" => BitmexAction::Update,
            "insert" => BitmexAction::Insert,
            "delete" => BitmexAction::Delete,
            _ => BitmexAction::Other,
        }
    }
}

/// Everything BitMEX can send, classified.
#[derive(Debug, Clone)]
pub enum BitmexMessage<'a> {
    /// The greeting on connect.
    Welcome(BitmexWelcome),
    /// A subscribe/unsubscribe acknowledgement.
    Ack(BitmexAck),
    /// An in-band error.
    Error(BitmexError),
    /// Table data.
    Table(BitmexTable<'a>),
    /// The text `pong`, the answer to the text `ping`.
    Pong,
    /// An informational object that is not a welcome (the reply to `help`).
    Info(String),
}

impl<'a> BitmexMessage<'a> {
    /// Parses and classifies one text frame.
    ///
    /// ```
    /// use mercury_exchange_bitmex::wire::BitmexMessage;
    /// let frame = r#"{"success":true,"subscribe":"instrument:XBTUSD","request":{"op":"subscribe","args":["instrument:XBTUSD"]}}"#;
    /// assert!(matches!(BitmexMessage::parse(frame), Ok(BitmexMessage::Ack(_))));
    /// ```
    pub fn parse(text: &'a str) -> Result<Self, DecodeError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(DecodeError::Empty);
        }
        if trimmed == "pong" {
            return Ok(BitmexMessage::Pong);
        }
        if !trimmed.starts_with('{') {
            return match serde_json::from_str::<serde::de::IgnoredAny>(trimmed) {
                Ok(_) => Err(DecodeError::UnknownShape(mercury_core::excerpt(trimmed))),
                Err(e) => Err(DecodeError::malformed(&e)),
            };
        }
        let envelope: BitmexEnvelope<'a> =
            serde_json::from_str(trimmed).map_err(|e| DecodeError::malformed(&e))?;
        classify(envelope, trimmed)
    }
}

fn classify<'a>(env: BitmexEnvelope<'a>, text: &str) -> Result<BitmexMessage<'a>, DecodeError> {
    if let Some(table) = env.table {
        let action = env
            .action
            .as_deref()
            .map_or(BitmexAction::Other, BitmexAction::parse);
        return Ok(BitmexMessage::Table(BitmexTable {
            table,
            action,
            filter: env.filter,
            data: env.data,
        }));
    }
    if env.status.is_some() || env.error.is_some() {
        return Ok(BitmexMessage::Error(error_of(&env)));
    }
    if let Some(success) = env.success {
        let request = match env.request {
            Some(raw) => {
                Some(serde_json::from_str(raw.get()).map_err(|e| DecodeError::malformed(&e))?)
            }
            None => None,
        };
        return Ok(BitmexMessage::Ack(BitmexAck {
            success,
            subscribe: env.subscribe.map(Cow::into_owned),
            unsubscribe: env.unsubscribe.map(Cow::into_owned),
            request,
        }));
    }
    if let Some(info) = env.info {
        if env.usage.is_some() || env.ops.is_some() {
            return Ok(BitmexMessage::Info(mercury_core::excerpt(&info)));
        }
        let version = env
            .version
            .map(|raw| match serde_json::from_str::<String>(raw.get()) {
                Ok(text) => text,
                Err(_) => mercury_core::excerpt(raw.get()),
            });
        let _ = (env.timestamp, env.docs);
        return Ok(BitmexMessage::Welcome(BitmexWelcome {
            info: info.into_owned(),
            version,
            limit_remaining: env.limit.and_then(|l| l.remaining),
        }));
    }
    Err(DecodeError::UnknownShape(mercury_core::excerpt(text)))
}

/// An error frame, read as far as it can be: a status that is not a
/// number in 100–599 is left out, a message that is not a string is quoted
/// as JSON, and a `retryAfter` that is not a number of seconds is ignored
/// (or, beyond [`MAX_RETRY_AFTER`], clamped) — each with a debug line.
/// Whatever `meta` holds, the status and message are reported.
fn error_of(env: &BitmexEnvelope<'_>) -> BitmexError {
    let status = env.status.and_then(|raw| {
        let status = status_of(raw.get());
        if status.is_none() {
            debug!(status = %excerpt(raw.get()), "an error frame's status is not an HTTP status; left out");
        }
        status
    });
    let error = env.error.map_or_else(String::new, |raw| {
        match serde_json::from_str::<Cow<'_, str>>(raw.get()) {
            Ok(text) => text.into_owned(),
            Err(_) => excerpt(raw.get()),
        }
    });
    BitmexError {
        status,
        error,
        retry_after: env.meta.and_then(|meta| retry_after_of(meta.get())),
        request: env.request.map(|r| excerpt(r.get())),
    }
}

/// `429` or `"429"`, if it is a status (100–599).
fn status_of(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    let text = raw
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(raw);
    text.parse::<u16>()
        .ok()
        .filter(|status| (100..=599).contains(status))
}

/// `meta.retryAfter` as a wait, if it is one; see [`error_of`].
fn retry_after_of(meta: &str) -> Option<Duration> {
    let raw = match serde_json::from_str::<BitmexMeta<'_>>(meta) {
        Ok(meta) => meta.retry_after?,
        Err(_) => {
            debug!(meta = %excerpt(meta), "an error frame's meta is not an object; ignored");
            return None;
        }
    };
    match mercury_core::wire::seconds_from_json(raw.get()) {
        Ok(wait) if wait > MAX_RETRY_AFTER => {
            debug!(asked = %excerpt(raw.get()), max = ?MAX_RETRY_AFTER, "retryAfter clamped to the longest wait we honour");
            Some(MAX_RETRY_AFTER)
        }
        Ok(wait) => Some(wait),
        Err(why) => {
            debug!(asked = %excerpt(raw.get()), ?why, "retryAfter is not a number of seconds; ignored");
            None
        }
    }
}

/// An exact price from the raw JSON of a field: a number, or a string
/// holding one. `null` carries no value.
pub(crate) fn price_of(raw: Option<&RawValue>) -> Result<Option<Price>, DecodeError> {
    raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get()))
}

/// A timestamp from the raw JSON of a row's `timestamp` field: a string
/// holding an ISO-8601 UTC time. `null` carries no value.
pub(crate) fn time_of(raw: Option<&RawValue>) -> Result<Option<Timestamp>, DecodeError> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = || DecodeError::InvalidTimestamp(mercury_core::excerpt(raw.get()));
    if raw.get() == "null" {
        return Ok(None);
    }
    let text: Cow<'_, str> = serde_json::from_str(raw.get()).map_err(|_| invalid())?;
    text.parse().map(Some).map_err(|_| invalid())
}

/// The wire field that carries `kind` in its table.
pub(crate) const fn field_of(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Fair => "fairPrice",
        QuoteKind::Mark => "markPrice",
        QuoteKind::Last => "lastPrice",
        QuoteKind::Bid => "bidPrice",
        QuoteKind::Ask => "askPrice",
        QuoteKind::Trade => "price",
        QuoteKind::Index => "indicativeSettlePrice",
    }
}

/// A row of the `instrument` table; only the fields mercury uses.
///
/// `{"symbol":"XBTUSD","fairPrice":9277.2,"markPrice":9277.2,"lastPrice":9281,"timestamp":"2020-01-29T11:31:20.000Z",…}`
#[derive(Debug, Deserialize)]
pub struct BitmexInstrumentRow<'a> {
    /// The instrument.
    #[serde(borrow)]
    pub symbol: Cow<'a, str>,
    /// The row's time, as raw JSON (read leniently: a bad one costs only itself).
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    /// `fairPrice`, when this row carries it.
    #[serde(borrow, default, rename = "fairPrice")]
    pub fair_price: Option<&'a RawValue>,
    /// `markPrice`, when this row carries it.
    #[serde(borrow, default, rename = "markPrice")]
    pub mark_price: Option<&'a RawValue>,
    /// `lastPrice`, when this row carries it.
    #[serde(borrow, default, rename = "lastPrice")]
    pub last_price: Option<&'a RawValue>,
    /// `indicativeSettlePrice` (the index the contract settles on), when
    /// this row carries it.
    #[serde(borrow, default, rename = "indicativeSettlePrice")]
    pub indicative_settle_price: Option<&'a RawValue>,
}

/// A row of the `quote` table (best bid and ask).
///
/// `{"timestamp":"2021-07-22T22:35:53.978Z","symbol":"XRPU21","bidSize":15,"bidPrice":0.00001814,"askPrice":0.00001819,"askSize":1703}`
#[derive(Debug, Deserialize)]
pub struct BitmexQuoteRow<'a> {
    /// The instrument.
    #[serde(borrow)]
    pub symbol: Cow<'a, str>,
    /// The row's time, as raw JSON (read leniently: a bad one costs only itself).
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    /// Best bid.
    #[serde(borrow, default, rename = "bidPrice")]
    pub bid_price: Option<&'a RawValue>,
    /// Best ask.
    #[serde(borrow, default, rename = "askPrice")]
    pub ask_price: Option<&'a RawValue>,
}

/// A row of the `trade` table.
///
/// `{"timestamp":"2021-03-12T02:00:04.608Z","symbol":"XBTUSD","side":"Sell","size":900,"price":56927,…}`
#[derive(Debug, Deserialize)]
pub struct BitmexTradeRow<'a> {
    /// The instrument.
    #[serde(borrow)]
    pub symbol: Cow<'a, str>,
    /// The trade's time, as raw JSON (read leniently).
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    /// The trade price.
    #[serde(borrow, default)]
    pub price: Option<&'a RawValue>,
}
