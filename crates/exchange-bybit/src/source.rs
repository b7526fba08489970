//! [`BybitSource`]: the client side of Bybit's public linear tickers.

use crate::wire::{BybitFrame, BybitTicker};
use crate::{ENDPOINTS, EXCHANGE_ID, KINDS};
use mercury_core::{
    Control, DecodeError, Endpoints, Error, ExchangeError, ExchangeId, HeartbeatPolicy, Outgoing,
    Price, Quote, QuoteKind, QuoteSource, SkipReason, SourceEvent, Subscription, Symbol, Timestamp,
    WireFrame,
};
use std::collections::HashSet;
use std::time::Duration;

/// Bybit recommends a ping every 20 s; tickers flow every 100 ms, so 20 s
/// of silence is already a sign of trouble.
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(20);
/// No frame this long after the ping: the link is dead.
pub const PONG_DEADLINE: Duration = Duration::from_secs(10);
/// Topics per subscribe request (linear has no limit; spot's is 10, and
/// the `args` of one connection must stay under 21 000 characters).
const TOPICS_PER_REQUEST: usize = 10;
/// The longest symbol mercury will send.
const MAX_SYMBOL_LEN: usize = 40;
/// The largest frame decoded (tickers are under 1 KB).
const MAX_FRAME_LEN: usize = 1 << 20;
/// The prefix of ticker topics.
const TICKERS: &str = "tickers.";

/// The topic of `subscription`, e.g. `tickers.BTCUSDT` (every kind comes
/// from the same ticker).
///
/// ```
/// use mercury_core::{ExchangeId, QuoteKind, Subscription};
/// use mercury_exchange_bybit::topic;
/// let sub = Subscription::new(ExchangeId::from_static("bybit"), "BTCUSDT", QuoteKind::Ask);
/// assert_eq!(topic(&sub).unwrap(), "tickers.BTCUSDT");
/// ```
pub fn topic(subscription: &Subscription) -> Result<String, Error> {
    if subscription.exchange != EXCHANGE_ID {
        return Err(Error::InvalidSubscription(format!(
            "{subscription} is not a Bybit subscription"
        )));
    }
    if !KINDS.contains(&subscription.kind) {
        return Err(Error::InvalidSubscription(format!(
            "Bybit tickers give mark, last, bid and ask, not {}",
            subscription.kind
        )));
    }
    let symbol = subscription.symbol.as_str();
    let well_formed = !symbol.is_empty()
        && symbol.len() <= MAX_SYMBOL_LEN
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Err(Error::InvalidSubscription(format!(
            "{symbol:?} is not a Bybit symbol (upper-case letters, digits and '-', e.g. BTCUSDT)"
        )));
    }
    Ok(format!("{TICKERS}{symbol}"))
}

/// The client side of one Bybit connection: which symbols have had their
/// snapshot, and the connection's quote numbering.
#[derive(Debug, Default)]
pub struct BybitSource {
    imaged: HashSet<String>,
    conn_seq: u64,
}

impl BybitSource {
    /// A fresh source.
    pub fn new() -> Self {
        Self::default()
    }

    fn ticker(
        &mut self,
        frame: &BybitFrame<'_>,
        now: Timestamp,
        events: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let data = frame
            .data
            .ok_or_else(|| DecodeError::Malformed("a ticker without data".into()))?;
        let ticker: BybitTicker =
            serde_json::from_str(data.get()).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let snapshot = match frame.kind.as_deref() {
            Some("snapshot") => true,
            Some("delta") => false,
            _ => {
                events.push(skipped(SkipReason::UnknownAction, frame));
                return Ok(());
            }
        };
        if !snapshot && !self.imaged.contains(ticker.symbol.as_ref()) {
            events.push(skipped(SkipReason::BeforePartial, frame));
            return Ok(());
        }
        // Every price is read before any state changes: an error leaves the
        // source as it was.
        let mut prices = Vec::with_capacity(4);
        for (kind, raw) in [
            (QuoteKind::Mark, ticker.mark),
            (QuoteKind::Last, ticker.last),
            (QuoteKind::Bid, ticker.bid),
            (QuoteKind::Ask, ticker.ask),
        ] {
            if let Some(price) = raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get()))? {
                prices.push((kind, price));
            }
        }
        if snapshot {
            self.imaged.insert(ticker.symbol.to_string());
        }
        let symbol = Symbol::new(&ticker.symbol);
        let at = frame.ts.and_then(Timestamp::from_unix_millis);
        for (kind, price) in prices {
            self.conn_seq += 1;
            events.push(SourceEvent::Quote(Quote {
                exchange: EXCHANGE_ID,
                symbol: symbol.clone(),
                kind,
                price,
                exchange_time: at,
                received_at: now,
                conn_seq: self.conn_seq,
            }));
        }
        Ok(())
    }
}

fn skipped(reason: SkipReason, frame: &BybitFrame<'_>) -> SourceEvent {
    SourceEvent::Control(Control::Skipped {
        reason,
        table: frame.topic.as_deref().unwrap_or_default().to_owned(),
    })
}

/// A reply: an ack, a pong or a refusal.
fn reply(frame: &BybitFrame<'_>) -> Option<SourceEvent> {
    let op = frame.op.as_deref()?;
    let message = frame.ret_msg.as_deref().unwrap_or_default();
    let request = frame.req_id.as_deref().unwrap_or_default();
    Some(match (frame.success, op) {
        (Some(false), _) => SourceEvent::ExchangeError(ExchangeError {
            status: None,
            message: message.to_owned(),
            // An unknown topic does not become known by reconnecting.
            retryable: false,
            retry_after: None,
            request: Some(format!("{op} {request}").trim_end().to_owned()),
        }),
        (_, "pong") | (_, "ping") => SourceEvent::Control(Control::Pong),
        (_, "subscribe") => SourceEvent::Control(Control::Subscribed {
            topic: format!("request {request}").trim_end().to_owned(),
        }),
        (_, "unsubscribe") => SourceEvent::Control(Control::Unsubscribed {
            topic: format!("request {request}").trim_end().to_owned(),
        }),
        (_, other) => SourceEvent::Control(Control::Info(format!("{other} {message}"))),
    })
}

impl QuoteSource for BybitSource {
    fn exchange(&self) -> ExchangeId {
        EXCHANGE_ID
    }

    fn endpoints(&self) -> Endpoints {
        ENDPOINTS
    }

    fn kinds(&self) -> &'static [QuoteKind] {
        KINDS
    }

    fn subscribe_messages(&self, subscriptions: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
        let mut topics: Vec<String> = Vec::new();
        for subscription in subscriptions {
            let topic = topic(subscription)?;
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        Ok(topics
            .chunks(TOPICS_PER_REQUEST)
            .zip(1u64..)
            .map(|(args, id)| {
                let args = serde_json::to_string(args).unwrap_or_else(|_| "[]".into());
                Outgoing::Text(format!(
                    r#"{{"op":"subscribe","args":{args},"req_id":"{id}"}}"#
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
        let frame: BybitFrame =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let mut events = Vec::new();
        match frame.topic.as_deref() {
            Some(topic) if topic.starts_with(TICKERS) => {
                self.ticker(&frame, received_at, &mut events)?
            }
            Some(topic) => events.push(SourceEvent::Control(Control::Skipped {
                reason: SkipReason::UnhandledTable,
                table: topic.to_owned(),
            })),
            None => match reply(&frame) {
                Some(event) => events.push(event),
                None => return Err(DecodeError::UnknownShape(text.chars().take(120).collect())),
            },
        }
        out.append(&mut events);
        Ok(())
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text(r#"{"op":"ping"}"#.into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn reset(&mut self) {
        self.imaged.clear();
        self.conn_seq = 0;
    }
}
