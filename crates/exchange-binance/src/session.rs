//! [`BinanceSession`]: the client side of one Binance market-stream connection.

use crate::wire::{BinanceEvent, BinanceFrame};
use mercury_core::{
    Control, DecodeError, Emitter, ExchangeError, MAX_RETRY_AFTER, Price, QuoteKind, Session,
    SkipReason, Symbol, Timestamp, WireFrame, excerpt,
};
use serde_json::value::RawValue;
use std::time::Duration;
use tracing::debug;

/// The largest frame decoded (a `!markPrice@arr` frame is ~100 KB).
const MAX_FRAME_LEN: usize = 4 << 20;
/// Binance's error code for too many requests (`TOO_MANY_REQUESTS`).
pub(crate) const TOO_MANY_REQUESTS: i64 = -1003;

/// One Binance connection. Stateless: every event is a whole value (the
/// [`Emitter`] numbers the quotes).
#[derive(Debug, Default)]
pub struct BinanceSession;

/// The quotes of one event. A field that does not parse costs only
/// itself: skipped as [`SkipReason::InvalidField`] and logged at debug.
fn event(raw: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let event: BinanceEvent = serde_json::from_str(raw.get()).map_err(DecodeError::malformed)?;
    let symbol = Symbol::new(&event.symbol);
    let fields = match event.event.as_deref() {
        Some("markPriceUpdate") => [
            ("p", QuoteKind::Mark, event.mark),
            ("p", QuoteKind::Mark, None),
        ],
        Some("bookTicker") | None => [
            ("b", QuoteKind::Bid, event.bid),
            ("a", QuoteKind::Ask, event.ask),
        ],
        Some(other) => {
            out.skipped(SkipReason::Unhandled, other);
            return Ok(());
        }
    };
    let name = event.event.as_deref().unwrap_or("bookTicker");
    let invalid = |field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>| {
        debug!(symbol = %excerpt(&event.symbol), field, %error, "a field that does not parse; the event's others are kept");
        out.skipped(SkipReason::InvalidField, format!("{name}.{field}"));
    };
    let at = event.event_time.and_then(|raw| {
        mercury_core::wire::millis_from_json(raw.get())
            .inspect_err(|_| invalid("E", &excerpt(raw.get()), out))
            .unwrap_or(None)
    });
    for (field, kind, raw) in fields {
        match raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get())) {
            Ok(Some(price)) => out.quote(&symbol, kind, price, at),
            Ok(None) => {}
            Err(error) => invalid(field, &error, out),
        }
    }
    Ok(())
}

impl Session for BinanceSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        let frame: BinanceFrame = serde_json::from_str(text).map_err(DecodeError::malformed)?;
        if let Some(data) = frame.data {
            if data.get().trim_start().starts_with('[') {
                let items: Vec<&RawValue> =
                    serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
                for item in items {
                    event(item, out)?;
                }
            } else {
                event(data, out)?;
            }
        } else if frame.event.is_some() || frame.symbol.is_some() {
            let raw: &RawValue = serde_json::from_str(text).map_err(DecodeError::malformed)?;
            event(raw, out)?;
        } else if let Some(error) = frame.error {
            out.exchange_error(exchange_error(error.code, error.msg, frame.id, received_at));
        } else if frame.msg.is_some() {
            // A bare error (`{"code":2,"msg":"…"}`), even if its code is
            // missing or unreadable: acknowledgements carry no message.
            out.exchange_error(exchange_error(frame.code, frame.msg, frame.id, received_at));
        } else if let Some(id) = frame.id {
            // `"result":null` (which serde reads as no result) acknowledges
            // a SUBSCRIBE; a value answers a query.
            out.control(match frame.result {
                None => Control::Subscribed {
                    topic: format!("request {id}"),
                },
                Some(result) => Control::Info(excerpt(result.get())),
            });
        } else {
            return Err(DecodeError::UnknownShape(excerpt(text)));
        }
        Ok(())
    }
}

/// Request errors (bad stream name, bad request) do not get better by
/// reconnecting; too many requests (`-1003`) does, after the ban it names
/// (`… IP banned until <ms>. …`), rounded up to whole seconds.
fn exchange_error(
    code: Option<i64>,
    msg: Option<String>,
    id: Option<u64>,
    now: Timestamp,
) -> ExchangeError {
    let msg = msg.unwrap_or_default();
    let rate_limited = code == Some(TOO_MANY_REQUESTS);
    let retry_after = rate_limited.then(|| banned_for(&msg, now)).flatten();
    ExchangeError {
        status: rate_limited.then_some(429),
        message: match code {
            Some(code) => format!("code {code}: {msg}"),
            None => msg,
        },
        retryable: rate_limited,
        retry_after,
        request: id.map(|id| format!("request {id}")),
    }
}

/// The wait until the time in `… banned until 1569233346573 …`, in whole
/// seconds rounded up.
fn banned_for(msg: &str, now: Timestamp) -> Option<Duration> {
    let wait = mercury_core::wire::wait_until_millis_after(msg, "banned until ", now)?;
    if wait > MAX_RETRY_AFTER {
        debug!(?wait, max = ?MAX_RETRY_AFTER, "a ban's end clamped to the longest wait we honour");
    }
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ban_is_waited_for_in_whole_seconds() {
        let now = Timestamp::from_unix_millis(1_000_000).unwrap();
        let msg = "Way too much request weight used; IP banned until 1001500. Please use WebSocket Streams for live updates to avoid bans.";
        assert_eq!(banned_for(msg, now), Some(Duration::from_secs(2)));
        assert_eq!(
            banned_for("IP banned until 999000.", now),
            Some(Duration::ZERO)
        );
        assert_eq!(banned_for("Too many requests.", now), None);
        // A ban to the end of time is an hour (issue #14, item 5).
        assert_eq!(
            banned_for("IP banned until 9999999999999.", now),
            Some(MAX_RETRY_AFTER)
        );
    }
}
