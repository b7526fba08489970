//! [`KrakenFuturesSession`]: the client side of one Kraken Futures public
//! connection.
//!
//! Every ticker carries every field, so there is no image to keep: the
//! session holds no state, and a frame is decoded on its own.

use crate::wire::KrakenFuturesFrame;
use mercury_core::{
    Control, DecodeError, Emitter, ExchangeError, MAX_RETRY_AFTER, Price, QuoteKind, Session,
    SkipReason, Symbol, Timestamp, WireFrame, excerpt,
};
use serde_json::value::RawValue;
use std::time::Duration;
use tracing::debug;

/// The largest frame decoded (a ticker is under 1 KB).
const MAX_FRAME_LEN: usize = 1 << 20;
/// Kraken Futures' REST rate-limit error, which the simulator's in-band
/// rate-limit frame reuses (no in-band one is documented).
pub(crate) const API_LIMIT_EXCEEDED: &str = "apiLimitExceeded";
/// The full ticker feed.
const TICKER: &str = crate::TICKER_FEED;
/// The light ticker feed (best bid and ask, no time).
const TICKER_LITE: &str = "ticker_lite";
/// The status an error gets when it is a rate limit.
const TOO_MANY_REQUESTS: u16 = 429;

/// The prices a frame of `feed` carries, by field, in the order mercury
/// emits them: a `ticker` has five, a `ticker_lite` the best bid and ask.
fn fields<'a>(
    feed: &str,
    frame: &KrakenFuturesFrame<'a>,
) -> Vec<(&'static str, QuoteKind, Option<&'a RawValue>)> {
    let mut fields = Vec::with_capacity(5);
    if feed == TICKER {
        fields.push(("markPrice", QuoteKind::Mark, frame.mark));
        fields.push(("index", QuoteKind::Index, frame.index));
        fields.push(("last", QuoteKind::Last, frame.last));
    }
    fields.push(("bid", QuoteKind::Bid, frame.bid));
    fields.push(("ask", QuoteKind::Ask, frame.ask));
    fields
}

/// One Kraken Futures connection. Stateless: each ticker is whole.
#[derive(Debug, Default)]
pub struct KrakenFuturesSession;

/// A `ticker` or `ticker_lite` frame: a quote per price it carries.
fn ticker(
    feed: &str,
    frame: &KrakenFuturesFrame<'_>,
    out: &mut Emitter<'_>,
) -> Result<(), DecodeError> {
    let product = frame
        .product_id
        .as_deref()
        .ok_or_else(|| DecodeError::Malformed(format!("a {feed} without product_id")))?;
    // A field that does not parse costs only itself (skipped, logged).
    let invalid = |field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>| {
        debug!(product = %excerpt(product), field, %error, "a field that does not parse; the ticker's others are kept");
        out.skipped(SkipReason::InvalidField, format!("{feed}.{field}"));
    };
    let mut prices = Vec::with_capacity(5);
    for (field, kind, raw) in fields(feed, frame) {
        match raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get())) {
            Ok(Some(price)) => prices.push((kind, price)),
            Ok(None) => {}
            Err(error) => invalid(field, &error, out),
        }
    }
    let at = frame.time.and_then(|raw| {
        mercury_core::wire::millis_from_json(raw.get())
            .inspect_err(|_| invalid("time", &excerpt(raw.get()), out))
            .unwrap_or(None)
    });
    let symbol = Symbol::new(product);
    for (kind, price) in prices {
        out.quote(&symbol, kind, price, at);
    }
    Ok(())
}

/// The products a reply names (`["PF_XBTUSD"]`); anything else is none.
fn products(frame: &KrakenFuturesFrame<'_>) -> Vec<String> {
    frame
        .product_ids
        .and_then(|raw| serde_json::from_str::<Vec<String>>(raw.get()).ok())
        .unwrap_or_default()
}

/// `feed:product` for each product of a reply, or the feed alone.
fn topics(frame: &KrakenFuturesFrame<'_>) -> Vec<String> {
    let feed = frame.feed.as_deref().unwrap_or_default();
    let products = products(frame);
    if products.is_empty() {
        return vec![feed.to_owned()];
    }
    products.iter().map(|p| format!("{feed}:{p}")).collect()
}

/// An event frame: greeting, acknowledgement, refusal or error.
fn event(event: &str, frame: &KrakenFuturesFrame<'_>, out: &mut Emitter<'_>) {
    match event {
        "info" => out.control(Control::Welcome {
            info: format!("version {}", frame.version.map_or("?", |v| v.get())),
        }),
        "subscribed" => {
            for topic in topics(frame) {
                out.control(Control::Subscribed { topic });
            }
        }
        "unsubscribed" => {
            for topic in topics(frame) {
                out.control(Control::Unsubscribed { topic });
            }
        }
        "subscribed_failed" | "unsubscribed_failed" => out.exchange_error(ExchangeError {
            status: None,
            message: frame.message.as_deref().unwrap_or(event).to_owned(),
            retryable: false,
            retry_after: None,
            request: Some(format!("{event} {}", topics(frame).join(","))),
        }),
        "error" => out.exchange_error(error(frame)),
        // The server's answer to a text ping, which ccxt handles; mercury
        // pings with WebSocket frames, but a pong is a pong.
        "pong" => out.control(Control::Pong),
        // Authentication is not mercury's: private feeds are left out.
        "challenge" => out.skipped(SkipReason::Unhandled, "challenge"),
        other => out.control(Control::Info(format!(
            "{other} {}",
            frame.message.as_deref().unwrap_or_default()
        ))),
    }
}

/// An `{"event":"error","message":…}`: a rate limit passes with time;
/// Kraken's documented errors (`Invalid product id`, `Invalid feed`,
/// `Json Error`) say the request was wrong, which reconnecting does not
/// cure; an unknown error is the server's trouble and worth a retry.
fn error(frame: &KrakenFuturesFrame<'_>) -> ExchangeError {
    let message = frame.message.as_deref().unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let rate_limited = message == API_LIMIT_EXCEEDED || lower.contains("rate limit");
    let our_fault = lower.contains("invalid") || lower.contains("json error");
    ExchangeError {
        status: rate_limited.then_some(TOO_MANY_REQUESTS),
        message: message.to_owned(),
        retryable: rate_limited || !our_fault,
        retry_after: frame.retry_after.and_then(|raw| wait(raw.get())),
        request: None,
    }
}

/// A wait in seconds, clamped to the longest mercury honours.
fn wait(raw: &str) -> Option<Duration> {
    let wait = mercury_core::wire::seconds_from_json(raw).ok()?;
    if wait > MAX_RETRY_AFTER {
        debug!(?wait, max = ?MAX_RETRY_AFTER, "a wait clamped to the longest we honour");
    }
    Some(wait.min(MAX_RETRY_AFTER))
}

impl Session for KrakenFuturesSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        _received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        let frame: KrakenFuturesFrame =
            serde_json::from_str(text).map_err(DecodeError::malformed)?;
        if let Some(name) = frame.event.as_deref() {
            event(name, &frame, out);
            return Ok(());
        }
        match frame.feed.as_deref() {
            Some(feed @ (TICKER | TICKER_LITE)) => ticker(feed, &frame, out),
            Some("heartbeat") => {
                out.control(Control::Info("heartbeat".into()));
                Ok(())
            }
            Some(feed) => {
                out.skipped(SkipReason::Unhandled, feed);
                Ok(())
            }
            None => Err(DecodeError::UnknownShape(excerpt(text))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_read_exactly_and_clamped() {
        assert_eq!(wait("2"), Some(Duration::from_secs(2)));
        assert_eq!(wait("0.250"), Some(Duration::from_millis(250)));
        assert_eq!(wait("1e12"), Some(MAX_RETRY_AFTER));
        assert_eq!(wait("\"soon\""), None);
        assert_eq!(wait("-1"), None);
    }
}
