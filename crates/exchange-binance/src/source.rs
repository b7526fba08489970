//! [`BinanceSource`]: the client side of Binance USDⓈ-M market streams.

use crate::wire::{BinanceEvent, BinanceFrame};
use crate::{ENDPOINTS, EXCHANGE_ID, KINDS};
use mercury_core::{
    Control, DecodeError, Endpoints, Error, ExchangeError, ExchangeId, HeartbeatPolicy, Outgoing,
    Price, Quote, QuoteKind, QuoteSource, SkipReason, SourceEvent, Subscription, Symbol, Timestamp,
    WireFrame,
};
use serde_json::value::RawValue;
use std::time::Duration;

/// After this long without a frame, send a WebSocket ping (mark prices
/// come every second, so silence this long means trouble).
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(10);
/// No frame this long after the ping: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);
/// Binance closes every connection after 24 hours.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(24 * 3600);
/// The most streams mercury puts in one SUBSCRIBE (Binance allows 1024 per
/// connection; some of its pages say 200).
const MAX_STREAMS_PER_REQUEST: usize = 200;
/// The longest symbol mercury will send.
const MAX_SYMBOL_LEN: usize = 32;
/// The largest frame decoded (a `!markPrice@arr` frame is ~100 KB).
const MAX_FRAME_LEN: usize = 4 << 20;

/// The stream that carries `subscription`, e.g. `btcusdt@markPrice@1s`.
///
/// ```
/// use mercury_core::{ExchangeId, QuoteKind, Subscription};
/// use mercury_exchange_binance::stream_name;
/// let sub = Subscription::new(ExchangeId::from_static("binance"), "BTCUSDT", QuoteKind::Bid);
/// assert_eq!(stream_name(&sub).unwrap(), "btcusdt@bookTicker");
/// ```
pub fn stream_name(subscription: &Subscription) -> Result<String, Error> {
    if subscription.exchange != EXCHANGE_ID {
        return Err(Error::InvalidSubscription(format!(
            "{subscription} is not a Binance subscription"
        )));
    }
    let symbol = subscription.symbol.as_str();
    let well_formed = !symbol.is_empty()
        && symbol.len() <= MAX_SYMBOL_LEN
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(Error::InvalidSubscription(format!(
            "{symbol:?} is not a Binance futures symbol (upper-case letters, digits and '_', e.g. BTCUSDT)"
        )));
    }
    let lower = symbol.to_ascii_lowercase();
    match subscription.kind {
        QuoteKind::Mark => Ok(format!("{lower}@markPrice@1s")),
        QuoteKind::Bid | QuoteKind::Ask => Ok(format!("{lower}@bookTicker")),
        other => Err(Error::InvalidSubscription(format!(
            "Binance offers mark, bid and ask here, not {other}"
        ))),
    }
}

/// The client side of one Binance connection. Stateless but for the
/// connection's quote numbering: every event is a whole value.
#[derive(Debug, Default)]
pub struct BinanceSource {
    conn_seq: u64,
}

impl BinanceSource {
    /// A fresh source.
    pub fn new() -> Self {
        Self::default()
    }

    fn quote(
        &mut self,
        symbol: &Symbol,
        kind: QuoteKind,
        price: Price,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Quote {
        self.conn_seq += 1;
        Quote {
            exchange: EXCHANGE_ID,
            symbol: symbol.clone(),
            kind,
            price,
            exchange_time: at,
            received_at: now,
            conn_seq: self.conn_seq,
        }
    }

    /// The quotes of one event, appended to `quotes` (not yet to the
    /// caller's buffer, so that an error appends nothing).
    fn event(
        &mut self,
        raw: &RawValue,
        now: Timestamp,
        quotes: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let event: BinanceEvent = serde_json::from_str(raw.get()).map_err(|e| malformed(&e))?;
        let symbol = Symbol::new(&event.symbol);
        let at = event.event_time.and_then(Timestamp::from_unix_millis);
        let fields = match event.event.as_deref() {
            Some("markPriceUpdate") => vec![(QuoteKind::Mark, event.mark)],
            Some("bookTicker") | None => {
                vec![(QuoteKind::Bid, event.bid), (QuoteKind::Ask, event.ask)]
            }
            Some(other) => {
                quotes.push(SourceEvent::Control(Control::Skipped {
                    reason: SkipReason::UnhandledTable,
                    table: other.to_owned(),
                }));
                return Ok(());
            }
        };
        for (kind, raw) in fields {
            if let Some(price) = raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get()))? {
                let quote = self.quote(&symbol, kind, price, at, now);
                quotes.push(SourceEvent::Quote(quote));
            }
        }
        Ok(())
    }
}

fn malformed(error: &serde_json::Error) -> DecodeError {
    DecodeError::Malformed(error.to_string())
}

impl QuoteSource for BinanceSource {
    fn exchange(&self) -> ExchangeId {
        EXCHANGE_ID
    }

    fn endpoints(&self) -> Endpoints {
        ENDPOINTS
    }

    fn kinds(&self) -> &'static [QuoteKind] {
        KINDS
    }

    fn url_for(&self, base: &str, kind: QuoteKind) -> String {
        let base = base.trim_end_matches('/');
        match kind {
            QuoteKind::Mark => format!("{base}/market/stream"),
            _ => format!("{base}/public/stream"),
        }
    }

    fn subscribe_messages(&self, subscriptions: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
        let mut streams: Vec<String> = Vec::new();
        for subscription in subscriptions {
            let stream = stream_name(subscription)?;
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        Ok(streams
            .chunks(MAX_STREAMS_PER_REQUEST)
            .zip(1u64..)
            .map(|(params, id)| {
                let params = serde_json::to_string(params).unwrap_or_else(|_| "[]".into());
                Outgoing::Text(format!(
                    r#"{{"method":"SUBSCRIBE","params":{params},"id":{id}}}"#
                ))
            })
            .collect())
    }

    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        let frame: BinanceFrame = serde_json::from_str(text).map_err(|e| malformed(&e))?;
        let mut events = Vec::new();
        if let Some(data) = frame.data {
            let items: Vec<&RawValue> = if data.get().trim_start().starts_with('[') {
                serde_json::from_str(data.get()).map_err(|e| malformed(&e))?
            } else {
                vec![data]
            };
            for item in items {
                self.event(item, received_at, &mut events)?;
            }
        } else if frame.event.is_some() || frame.symbol.is_some() {
            let raw: &RawValue = serde_json::from_str(text).map_err(|e| malformed(&e))?;
            self.event(raw, received_at, &mut events)?;
        } else if let Some(error) = frame.error {
            events.push(exchange_error(error.code, error.msg, frame.id));
        } else if frame.code.is_some() && frame.msg.is_some() {
            events.push(exchange_error(frame.code, frame.msg, frame.id));
        } else if let Some(id) = frame.id {
            // `"result":null` (which serde reads as no result) acknowledges
            // a SUBSCRIBE; a value answers a query.
            events.push(SourceEvent::Control(match frame.result {
                None => Control::Subscribed {
                    topic: format!("request {id}"),
                },
                Some(result) => Control::Info(result.get().chars().take(200).collect()),
            }));
        } else {
            return Err(DecodeError::UnknownShape(text.chars().take(120).collect()));
        }
        out.append(&mut events);
        Ok(())
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Ping(b"mercury".to_vec()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn max_connection_age(&self) -> Option<Duration> {
        Some(MAX_CONNECTION_AGE)
    }

    fn reset(&mut self) {
        self.conn_seq = 0;
    }
}

/// Binance's request errors (bad stream name, bad request) do not get better
/// by reconnecting.
fn exchange_error(code: Option<i64>, msg: Option<String>, id: Option<u64>) -> SourceEvent {
    let message = match code {
        Some(code) => format!("code {code}: {}", msg.unwrap_or_default()),
        None => msg.unwrap_or_default(),
    };
    SourceEvent::ExchangeError(ExchangeError {
        status: None,
        message,
        retryable: false,
        retry_after: None,
        request: id.map(|id| format!("request {id}")),
    })
}
