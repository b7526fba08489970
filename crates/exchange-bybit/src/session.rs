//! [`BybitSession`]: the client side of one Bybit public linear connection.

use crate::wire::{BybitFrame, BybitTicker};
use mercury_core::{
    Control, DecodeError, Emitter, ExchangeError, MAX_RETRY_AFTER, Price, QuoteKind, Session,
    SkipReason, Symbol, Timestamp, WireFrame, excerpt,
};
use std::collections::HashSet;
use std::time::Duration;
use tracing::debug;

/// The largest frame decoded (tickers are under 1 KB).
const MAX_FRAME_LEN: usize = 1 << 20;
/// The prefix of ticker topics.
pub(crate) const TICKERS: &str = "tickers.";
/// Bybit's rate-limit message (code 10006).
pub(crate) const TOO_MANY_VISITS: &str = "Too many visits!";
/// What precedes the reset time (ms) in a rate-limit refusal.
const RESET_AT: &str = "X-Bapi-Limit-Reset-Timestamp: ";

/// One Bybit connection: which symbols have had their snapshot on it.
#[derive(Debug, Default)]
pub struct BybitSession {
    imaged: HashSet<String>,
}

impl BybitSession {
    fn ticker(&mut self, frame: &BybitFrame<'_>, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
        let topic = frame.topic.as_deref().unwrap_or_default();
        let data = frame
            .data
            .ok_or_else(|| DecodeError::Malformed("a ticker without data".into()))?;
        let ticker: BybitTicker =
            serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
        let snapshot = match frame.kind.as_deref() {
            Some("snapshot") => true,
            Some("delta") => false,
            _ => {
                out.skipped(SkipReason::UnknownAction, topic);
                return Ok(());
            }
        };
        if !snapshot && !self.imaged.contains(ticker.symbol.as_ref()) {
            out.skipped(SkipReason::BeforeSnapshot, topic);
            return Ok(());
        }
        // Every price is read before the image changes; a field that does
        // not parse costs only itself (skipped, logged at debug).
        let invalid = |field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>| {
            debug!(topic = %excerpt(topic), field, %error, "a field that does not parse; the ticker's others are kept");
            out.skipped(SkipReason::InvalidField, format!("tickers.{field}"));
        };
        let mut prices = Vec::with_capacity(4);
        for (field, kind, raw) in [
            ("markPrice", QuoteKind::Mark, ticker.mark),
            ("lastPrice", QuoteKind::Last, ticker.last),
            ("bid1Price", QuoteKind::Bid, ticker.bid),
            ("ask1Price", QuoteKind::Ask, ticker.ask),
        ] {
            match raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get())) {
                Ok(Some(price)) => prices.push((kind, price)),
                Ok(None) => {}
                Err(error) => invalid(field, &error, out),
            }
        }
        if snapshot {
            self.imaged.insert(ticker.symbol.to_string());
        }
        let symbol = Symbol::new(&ticker.symbol);
        let at = frame.ts.and_then(|raw| {
            mercury_core::wire::millis_from_json(raw.get())
                .inspect_err(|_| invalid("ts", &excerpt(raw.get()), out))
                .unwrap_or(None)
        });
        for (kind, price) in prices {
            out.quote(&symbol, kind, price, at);
        }
        Ok(())
    }
}

/// A reply: an ack, a pong or a refusal.
fn reply(frame: &BybitFrame<'_>, now: Timestamp, out: &mut Emitter<'_>) -> bool {
    let Some(op) = frame.op.as_deref() else {
        return false;
    };
    let message = frame.ret_msg.as_deref().unwrap_or_default();
    let req_id = frame.req_id.as_deref().unwrap_or_default();
    let tagged = |tag: &str| format!("{tag} {req_id}").trim_end().to_owned();
    match (frame.success, op) {
        (Some(false), _) => {
            // An unknown topic does not become known by reconnecting; too
            // many visits pass once the limit resets.
            let rate_limited = message.starts_with(TOO_MANY_VISITS);
            out.exchange_error(ExchangeError {
                status: rate_limited.then_some(429),
                message: message.to_owned(),
                retryable: rate_limited,
                retry_after: rate_limited.then(|| reset_in(message, now)).flatten(),
                request: Some(tagged(op)),
            });
        }
        (_, "pong" | "ping") => out.control(Control::Pong),
        (_, "subscribe") => out.control(Control::Subscribed {
            topic: tagged("request"),
        }),
        (_, "unsubscribe") => out.control(Control::Unsubscribed {
            topic: tagged("request"),
        }),
        (_, other) => out.control(Control::Info(excerpt(&format!("{other} {message}")))),
    }
    true
}

/// The wait until the reset time a rate-limit refusal names, in whole
/// seconds rounded up.
fn reset_in(message: &str, now: Timestamp) -> Option<Duration> {
    let wait = mercury_core::wire::wait_until_millis_after(message, RESET_AT, now)?;
    if wait > MAX_RETRY_AFTER {
        debug!(?wait, max = ?MAX_RETRY_AFTER, "a reset time clamped to the longest wait we honour");
    }
    Some(wait.min(MAX_RETRY_AFTER))
}

impl Session for BybitSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        let frame: BybitFrame = serde_json::from_str(text).map_err(DecodeError::malformed)?;
        match frame.topic.as_deref() {
            Some(topic) if topic.starts_with(TICKERS) => self.ticker(&frame, out),
            Some(topic) => {
                out.skipped(SkipReason::Unhandled, topic);
                Ok(())
            }
            None if reply(&frame, received_at, out) => Ok(()),
            None => Err(DecodeError::UnknownShape(excerpt(text))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_is_waited_for_until_its_reset() {
        let now = Timestamp::from_unix_millis(1_000_000).unwrap();
        let message = format!("{TOO_MANY_VISITS} {RESET_AT}1001200");
        assert_eq!(reset_in(&message, now), Some(Duration::from_secs(2)));
        assert_eq!(reset_in(TOO_MANY_VISITS, now), None);
        // A reset at the end of time is an hour (issue #14, item 5).
        let message = format!("{TOO_MANY_VISITS} {RESET_AT}9999999999999");
        assert_eq!(reset_in(&message, now), Some(MAX_RETRY_AFTER));
    }
}
