//! [`OkxSession`]: the client side of one OKX public connection.
//!
//! Every OKX push is a whole image (no deltas), so a session keeps no
//! state: it classifies each frame — the text `pong`, an event reply, a
//! data frame — and reads the one field its channel carries per row.

use crate::wire::{self, OkxFrame, OkxRow};
use mercury_core::{
    Control, DecodeError, Emitter, ExchangeError, MAX_RETRY_AFTER, Price, QuoteKind, Session,
    SkipReason, Symbol, Timestamp, WireFrame, excerpt,
};
use serde_json::value::RawValue;
use std::time::Duration;
use tracing::debug;

/// The largest frame decoded (a push of one instrument is under 1 KB).
const MAX_FRAME_LEN: usize = 1 << 20;
/// The heartbeat's answer.
pub(crate) const PONG: &str = "pong";
/// OKX's code for "Requests too frequent".
pub(crate) const TOO_FREQUENT: &str = "60014";
/// What precedes the reset time (Unix ms) in the simulator's 60014.
pub(crate) const WAIT_UNTIL: &str = "Wait until ";
/// The wait after a 60014 that names none: OKX's limits are per second.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// Codes after which a new connection can succeed: too frequent, cut for
/// silence, buffer full, internal error.
const RETRYABLE: [&str; 4] = [TOO_FREQUENT, "60015", "60016", "63999"];

/// One OKX connection. Stateless: see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct OkxSession;

/// A field of a row that carries a price.
#[derive(Debug, Clone, Copy)]
enum Field {
    MarkPx,
    IdxPx,
    Last,
    Bids,
    Asks,
}

impl Field {
    /// Its name on the wire.
    fn name(self) -> &'static str {
        match self {
            Field::MarkPx => "markPx",
            Field::IdxPx => "idxPx",
            Field::Last => "last",
            Field::Bids => "bids",
            Field::Asks => "asks",
        }
    }

    /// Its raw price text in `row` (a book side: its first level's),
    /// `Ok(None)` when absent; an error says what does not parse.
    fn raw<'a>(self, row: &OkxRow<'a>) -> Result<Option<&'a RawValue>, String> {
        let side = |raw: Option<&'a RawValue>| match raw {
            Some(raw) => wire::best_level(raw.get()).map_err(|e| e.to_string()),
            None => Ok(None),
        };
        match self {
            Field::MarkPx => Ok(row.mark_px),
            Field::IdxPx => Ok(row.idx_px),
            Field::Last => Ok(row.last),
            Field::Bids => side(row.bids),
            Field::Asks => side(row.asks),
        }
    }
}

/// The kind and the field each row of `channel` carries.
fn fields(channel: &str) -> &'static [(QuoteKind, Field)] {
    match channel {
        wire::MARK_PRICE => &[(QuoteKind::Mark, Field::MarkPx)],
        wire::INDEX_TICKERS => &[(QuoteKind::Index, Field::IdxPx)],
        wire::TICKERS => &[(QuoteKind::Last, Field::Last)],
        wire::BBO_TBT => &[(QuoteKind::Bid, Field::Bids), (QuoteKind::Ask, Field::Asks)],
        _ => &[],
    }
}

/// Unix milliseconds from a string of digits (`"1652459223143"`), as OKX
/// sends `ts`; a bare number is read too. `Ok(None)` for `null` or `""`.
fn millis(raw: &RawValue) -> Result<Option<Timestamp>, ()> {
    let text = raw.get().trim();
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if inner.is_empty() {
        return Ok(None);
    }
    mercury_core::wire::millis_from_json(inner).map_err(|_| ())
}

/// A data frame: each row's field(s), in row order.
fn data(frame: &OkxFrame<'_>, raw: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let arg = frame.arg.as_ref();
    let channel = arg.and_then(|a| a.channel.as_deref()).unwrap_or_default();
    let fields = fields(channel);
    if fields.is_empty() {
        out.skipped(SkipReason::Unhandled, channel);
        return Ok(());
    }
    let rows: Vec<OkxRow> = serde_json::from_str(raw.get()).map_err(DecodeError::malformed)?;
    let arg_inst = arg.and_then(|a| a.inst_id.as_deref());
    // A field that does not parse costs only itself (skipped, logged).
    let invalid = |field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>| {
        debug!(channel = %excerpt(channel), field, %error, "a field that does not parse; the row's others are kept");
        out.skipped(SkipReason::InvalidField, format!("{channel}.{field}"));
    };
    for row in &rows {
        let Some(inst) = row
            .inst_id
            .as_deref()
            .or(arg_inst)
            .filter(|i| !i.is_empty())
        else {
            out.skipped(SkipReason::InvalidField, format!("{channel}.instId"));
            continue;
        };
        let mut prices = Vec::with_capacity(2);
        for &(kind, field) in fields {
            let parsed = field.raw(row).and_then(|raw| {
                raw.map_or(Ok(None), |raw| {
                    Price::from_json_value(raw.get()).map_err(|e| e.to_string())
                })
            });
            match parsed {
                Ok(Some(price)) => prices.push((kind, price)),
                Ok(None) => {}
                Err(error) => invalid(field.name(), &error, out),
            }
        }
        let at = row.ts.and_then(|raw| {
            millis(raw)
                .inspect_err(|_| invalid("ts", &excerpt(raw.get()), out))
                .unwrap_or(None)
        });
        let symbol = Symbol::new(inst);
        for (kind, price) in prices {
            out.quote(&symbol, kind, price, at);
        }
    }
    Ok(())
}

/// `channel:instId` of a reply's arg.
fn topic(frame: &OkxFrame<'_>) -> String {
    let arg = frame.arg.as_ref();
    let channel = arg.and_then(|a| a.channel.as_deref()).unwrap_or_default();
    match arg.and_then(|a| a.inst_id.as_deref()) {
        Some(inst) => format!("{channel}:{inst}"),
        None => channel.to_owned(),
    }
}

/// An error reply, retryable or not by its code.
fn error(frame: &OkxFrame<'_>, now: Timestamp) -> ExchangeError {
    let code = frame.code.as_deref().unwrap_or_default();
    let message = frame.msg.as_deref().unwrap_or_default();
    let rate_limited = code == TOO_FREQUENT;
    ExchangeError {
        status: rate_limited.then_some(429),
        message: format!("{code} {message}").trim().to_owned(),
        retryable: RETRYABLE.contains(&code),
        retry_after: rate_limited.then(|| rate_limit_wait(message, now)),
        request: frame.arg.is_some().then(|| topic(frame)),
    }
}

/// The wait a 60014 asks for: until the time it names (the simulator's
/// words), in whole seconds rounded up and at most an hour; else 1 s.
fn rate_limit_wait(message: &str, now: Timestamp) -> Duration {
    let Some(wait) = mercury_core::wire::wait_until_millis_after(message, WAIT_UNTIL, now) else {
        return DEFAULT_RATE_LIMIT_WAIT;
    };
    if wait > MAX_RETRY_AFTER {
        debug!(?wait, max = ?MAX_RETRY_AFTER, "a reset time clamped to the longest wait we honour");
    }
    wait.min(MAX_RETRY_AFTER)
}

/// An event reply: an ack, an error, a notice.
fn event(frame: &OkxFrame<'_>, event: &str, now: Timestamp, out: &mut Emitter<'_>) {
    match event {
        "subscribe" => out.control(Control::Subscribed {
            topic: topic(frame),
        }),
        "unsubscribe" => out.control(Control::Unsubscribed {
            topic: topic(frame),
        }),
        "error" => out.exchange_error(error(frame, now)),
        other => {
            let code = frame.code.as_deref().unwrap_or_default();
            let message = frame.msg.as_deref().unwrap_or_default();
            out.control(Control::Info(
                format!("{other} {code} {message}").trim().to_owned(),
            ));
        }
    }
}

impl Session for OkxSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        if text.trim() == PONG {
            out.control(Control::Pong);
            return Ok(());
        }
        let frame: OkxFrame = serde_json::from_str(text).map_err(DecodeError::malformed)?;
        if let Some(name) = frame.event.as_deref() {
            event(&frame, name, received_at, out);
            return Ok(());
        }
        match frame.data {
            Some(raw) if frame.arg.is_some() => data(&frame, raw, out),
            _ => Err(DecodeError::UnknownShape(excerpt(text))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_waits_until_its_reset_or_a_second() {
        let now = Timestamp::from_unix_millis(1_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let message = format!("Requests too frequent. {WAIT_UNTIL}1001200");
        assert_eq!(rate_limit_wait(&message, now), Duration::from_secs(2));
        assert_eq!(
            rate_limit_wait("Requests too frequent.", now),
            Duration::from_secs(1)
        );
        let message = format!("Requests too frequent. {WAIT_UNTIL}9999999999999");
        assert_eq!(rate_limit_wait(&message, now), MAX_RETRY_AFTER);
    }

    #[test]
    fn ts_is_a_string_of_milliseconds() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).ok();
        let ms = |text: &str| raw(text).map(|r| millis(&r));
        assert_eq!(
            ms(r#""1652459223143""#),
            Some(Ok(Timestamp::from_unix_millis(1_652_459_223_143)))
        );
        assert_eq!(ms(r#""""#), Some(Ok(None)));
        assert_eq!(ms(r#""soon""#), Some(Err(())));
    }
}
