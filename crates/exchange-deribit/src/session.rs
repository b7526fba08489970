//! [`DeribitSession`]: the client side of one Deribit connection.
//!
//! A ticker is a whole image, so a session keeps no state: it reads each
//! ticker's prices, answers the server's `test_request` with `public/test`
//! ([`Emitter::reply`]), and turns answers and errors into controls and
//! [`ExchangeError`]s.

use crate::wire::{
    DeribitError, DeribitErrorData, DeribitFrame, DeribitHeartbeat, DeribitNotification,
    DeribitTicker,
};
use mercury_core::{
    Control, DecodeError, Emitter, ExchangeError, MAX_RETRY_AFTER, Price, QuoteKind, Session,
    SkipReason, Symbol, Timestamp, WireFrame, excerpt,
};
use serde_json::value::RawValue;
use std::time::Duration;
use tracing::debug;

/// The largest frame decoded (tickers are under 2 KB; a subscribe answer
/// lists at most 100 channels).
const MAX_FRAME_LEN: usize = 1 << 20;
/// The prefix of ticker channels.
pub(crate) const TICKER: &str = "ticker.";
/// The public interval of ticker channels.
pub(crate) const INTERVAL: &str = ".100ms";
/// Deribit's rate-limit error.
pub(crate) const TOO_MANY_REQUESTS: i64 = 10028;
/// The most channels of one subscribe answer reported one by one.
const MAX_ACKED: usize = 500;

/// Error codes after which trying again can help: 10028
/// `too_many_requests` (docs.deribit.com/articles/errors), 10040 `retry`,
/// 13028 `temporarily_unavailable`, 13888 `timed_out` (see
/// `PROTOCOL-notes.md` for where each comes from). Every other code is
/// not retried.
const RETRYABLE: [i64; 4] = [TOO_MANY_REQUESTS, 10040, 13028, 13888];

/// One Deribit connection. Tickers are whole images: nothing to remember.
#[derive(Debug, Default)]
pub struct DeribitSession;

/// Reads one ticker: a quote for every price it carries, in the order
/// mark, index, last, bid, ask. A side with amount 0 is an empty book side
/// (the real 2021 capture has `"best_bid_price":0.0,"best_bid_amount":0.0`),
/// not a price of 0.
fn ticker(channel: &str, data: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let ticker: DeribitTicker = serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
    let invalid = |field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>| {
        debug!(channel = %excerpt(channel), field, %error, "a field that does not parse; the ticker's others are kept");
        out.skipped(SkipReason::InvalidField, format!("ticker.{field}"));
    };
    let empty = |amount: Option<&RawValue>| {
        amount.is_some_and(|raw| {
            Price::from_json_value(raw.get())
                .ok()
                .flatten()
                .is_some_and(|a| a.as_decimal().is_zero())
        })
    };
    let mut prices = Vec::with_capacity(5);
    for (field, kind, raw) in [
        ("mark_price", QuoteKind::Mark, ticker.mark_price),
        ("index_price", QuoteKind::Index, ticker.index_price),
        ("last_price", QuoteKind::Last, ticker.last_price),
        ("best_bid_price", QuoteKind::Bid, ticker.best_bid_price),
        ("best_ask_price", QuoteKind::Ask, ticker.best_ask_price),
    ] {
        let side_empty = match kind {
            QuoteKind::Bid => empty(ticker.best_bid_amount),
            QuoteKind::Ask => empty(ticker.best_ask_amount),
            _ => false,
        };
        match raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get())) {
            Ok(Some(_)) if side_empty => {}
            Ok(Some(price)) => prices.push((kind, price)),
            Ok(None) => {}
            Err(error) => invalid(field, &error, out),
        }
    }
    let at = ticker.timestamp.and_then(|raw| {
        mercury_core::wire::millis_from_json(raw.get())
            .inspect_err(|_| invalid("timestamp", &excerpt(raw.get()), out))
            .unwrap_or(None)
    });
    let symbol = Symbol::new(&ticker.instrument_name);
    for (kind, price) in prices {
        out.quote(&symbol, kind, price, at);
    }
    Ok(())
}

/// A `heartbeat` notification: a `test_request` is answered with
/// `public/test` on the same connection; a plain `heartbeat` only shows
/// the link is alive.
fn heartbeat(params: Option<&RawValue>, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let params =
        params.ok_or_else(|| DecodeError::Malformed("a heartbeat without params".into()))?;
    let beat: DeribitHeartbeat =
        serde_json::from_str(params.get()).map_err(DecodeError::malformed)?;
    match beat.kind.as_deref() {
        Some("test_request") => out.reply(crate::public_test()),
        Some("heartbeat") => out.control(Control::Info("heartbeat".into())),
        Some(other) => out.skipped(SkipReason::UnknownAction, format!("heartbeat.{other}")),
        None => out.skipped(SkipReason::UnknownAction, "heartbeat"),
    }
    Ok(())
}

/// The answer to a request: the channels subscribed (or unsubscribed),
/// `"ok"` (`set_heartbeat`), `{"version":…}` (`public/test`, our ping's
/// pong).
fn result(id: Option<u64>, result: &RawValue, out: &mut Emitter<'_>) {
    let text = result.get();
    if let Ok(channels) = serde_json::from_str::<Vec<&str>>(text) {
        if channels.is_empty() && id.is_some_and(|id| id < crate::SET_HEARTBEAT_ID) {
            // Deribit leaves out what it cannot subscribe (see the notes).
            out.exchange_error(ExchangeError {
                status: None,
                message: "no channel was subscribed (an unknown instrument?)".into(),
                retryable: false,
                retry_after: None,
                request: id.map(|id| format!("request {id}")),
            });
            return;
        }
        for channel in channels.iter().take(MAX_ACKED) {
            out.control(Control::Subscribed {
                topic: (*channel).to_owned(),
            });
        }
        if channels.len() > MAX_ACKED {
            out.skipped(SkipReason::OverLimit, "subscribed channels");
        }
    } else if text.contains("\"version\"") && id == Some(crate::TEST_ID) {
        out.control(Control::Pong);
    } else {
        out.control(Control::Info(excerpt(&format!(
            "result of request {}: {text}",
            id.unwrap_or_default()
        ))));
    }
}

/// A refused request: retryable for the codes that say so, with the wait
/// the frame gives (the simulator's `data.retry_after_ms`).
fn error(id: Option<u64>, error: &RawValue, out: &mut Emitter<'_>) {
    let Ok(error) = serde_json::from_str::<DeribitError>(error.get()) else {
        return out.exchange_error(ExchangeError {
            status: None,
            message: error.get().to_owned(),
            retryable: false,
            retry_after: None,
            request: id.map(|id| format!("request {id}")),
        });
    };
    let data = error
        .data
        .and_then(|raw| serde_json::from_str::<DeribitErrorData>(raw.get()).ok());
    let code = error.code.unwrap_or_default();
    let mut message = format!("{code} {}", error.message.as_deref().unwrap_or_default());
    if let Some(reason) = data.as_ref().and_then(|d| d.reason.as_deref()) {
        message.push_str(": ");
        message.push_str(reason);
    }
    let wait = data.as_ref().and_then(|d| d.retry_after_ms).map(|ms| {
        let wait = Duration::from_millis(ms);
        if wait > MAX_RETRY_AFTER {
            debug!(?wait, max = ?MAX_RETRY_AFTER, "a wait clamped to the longest we honour");
        }
        wait.min(MAX_RETRY_AFTER)
    });
    out.exchange_error(ExchangeError {
        status: (code == TOO_MANY_REQUESTS).then_some(429),
        message,
        retryable: RETRYABLE.contains(&code),
        retry_after: wait,
        request: id.map(|id| format!("request {id}")),
    });
}

impl Session for DeribitSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        _received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        let frame: DeribitFrame = serde_json::from_str(text).map_err(DecodeError::malformed)?;
        match (frame.method.as_deref(), frame.result, frame.error) {
            (Some("subscription"), _, _) => {
                let params = frame.params.ok_or_else(|| {
                    DecodeError::Malformed("a notification without params".into())
                })?;
                let notification: DeribitNotification =
                    serde_json::from_str(params.get()).map_err(DecodeError::malformed)?;
                if notification.channel.starts_with(TICKER) {
                    ticker(&notification.channel, notification.data, out)
                } else {
                    out.skipped(SkipReason::Unhandled, notification.channel);
                    Ok(())
                }
            }
            (Some("heartbeat"), _, _) => heartbeat(frame.params, out),
            (Some(other), _, _) => {
                out.skipped(SkipReason::Unhandled, other);
                Ok(())
            }
            (None, _, Some(refusal)) => {
                error(frame.id, refusal, out);
                Ok(())
            }
            (None, Some(answer), None) => {
                result(frame.id, answer, out);
                Ok(())
            }
            (None, None, None) => Err(DecodeError::UnknownShape(excerpt(text))),
        }
    }
}
