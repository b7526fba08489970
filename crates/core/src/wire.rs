//! Helpers for the exchange crates' typed wire structs.

mod lenient;

pub use lenient::{lenient_bool, lenient_borrowed, lenient_i64, lenient_text, lenient_u64};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// Deserializes an `Option<Cow<str>>` that borrows from the input when it
/// can (no escapes), for `#[serde(borrow, deserialize_with = "…")]`.
///
/// serde borrows a plain `Cow<'a, str>` field marked `#[serde(borrow)]`, but
/// not one inside an `Option`: that one is always copied, one allocation per
/// field per frame on the hot path.
///
/// ```
/// use std::borrow::Cow;
/// #[derive(serde::Deserialize)]
/// struct Row<'a> {
///     #[serde(borrow, default, deserialize_with = "mercury_core::wire::borrowed_option")]
///     symbol: Option<Cow<'a, str>>,
/// }
/// let row: Row = serde_json::from_str(r#"{"symbol":"XBTUSD"}"#).unwrap();
/// assert!(matches!(row.symbol, Some(Cow::Borrowed("XBTUSD"))));
/// let row: Row = serde_json::from_str(r#"{"symbol":"X\u0042T"}"#).unwrap();
/// assert_eq!(row.symbol.as_deref(), Some("XBT"));
/// ```
pub fn borrowed_option<'de, D>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(deserializer)?.map(|Borrowed(text)| text))
}

/// Why a server's wait could not be read as a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OddWait {
    /// Not a number, nor a string holding one (`"soon"`, `{}`, `[5]`).
    NotANumber,
    /// A number below zero.
    Negative,
}

/// The longest exponent [`seconds_from_json`] reads exactly; beyond it
/// the wait saturates (a positive exponent) or is zero (a negative one).
const MAX_EXPONENT: i64 = 40;

/// A field that should hold a Unix time in milliseconds but does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotMillis;

/// A time in Unix milliseconds from the raw JSON text of a field, as
/// exchanges send event times (`1562305380000`): `null` is no time; a
/// string, a float, a negative or out-of-range number is [`NotMillis`]
/// (the caller skips that field alone and says so).
///
/// ```
/// use mercury_core::wire::{NotMillis, millis_from_json};
/// assert_eq!(millis_from_json("1562305380000").unwrap().unwrap().to_string(), "2019-07-05T05:43:00.000Z");
/// assert_eq!(millis_from_json("null"), Ok(None));
/// assert_eq!(millis_from_json("\"1562305380000\""), Err(NotMillis));
/// assert_eq!(millis_from_json("-1"), Err(NotMillis));
/// ```
pub fn millis_from_json(raw: &str) -> Result<Option<crate::Timestamp>, NotMillis> {
    match raw.trim() {
        "null" => Ok(None),
        text => text
            .parse::<i64>()
            .ok()
            .and_then(crate::Timestamp::from_unix_millis)
            .map(Some)
            .ok_or(NotMillis),
    }
}

/// The wait until the Unix time in milliseconds that follows `marker` in
/// a server's `message` (`"… banned until 1569233346573 …"`), in whole
/// seconds rounded up; `None` when the marker or the digits are missing or
/// the number is out of range. Not clamped: the caller clamps it (see
/// [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER)) and says so.
///
/// ```
/// use mercury_core::Timestamp;
/// use mercury_core::wire::wait_until_millis_after;
/// use std::time::Duration;
/// let now = Timestamp::from_unix_millis(1_000_000).unwrap();
/// let msg = "IP banned until 1001500. Please use WebSocket";
/// assert_eq!(wait_until_millis_after(msg, "banned until ", now), Some(Duration::from_secs(2)));
/// assert_eq!(wait_until_millis_after("banned until soon", "banned until ", now), None);
/// ```
pub fn wait_until_millis_after(
    message: &str,
    marker: &str,
    now: crate::Timestamp,
) -> Option<std::time::Duration> {
    let after = message.split_once(marker)?.1;
    let end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    let until = crate::Timestamp::from_unix_millis(after[..end].parse().ok()?)?;
    Some(now.whole_seconds_until(until))
}

/// A number of seconds from the raw JSON text of a field: a number
/// (`5`, `0.25`, `1e12`) or a string holding one (`"5"`), exactly to the
/// millisecond (truncated) without going through a float. Absurdly long
/// waits saturate at `u64::MAX` seconds; the caller clamps them (see
/// [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER)).
///
/// ```
/// use mercury_core::wire::{OddWait, seconds_from_json};
/// use std::time::Duration;
/// assert_eq!(seconds_from_json("0.25"), Ok(Duration::from_millis(250)));
/// assert_eq!(seconds_from_json("\"5\""), Ok(Duration::from_secs(5)));
/// assert_eq!(seconds_from_json("1e12"), Ok(Duration::from_secs(1_000_000_000_000)));
/// assert_eq!(seconds_from_json("\"soon\""), Err(OddWait::NotANumber));
/// assert_eq!(seconds_from_json("-3"), Err(OddWait::Negative));
/// ```
pub fn seconds_from_json(raw: &str) -> Result<std::time::Duration, OddWait> {
    let raw = raw.trim();
    let text = raw
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(raw)
        .trim();
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, parse_exponent(e)?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
        return Err(OddWait::NotANumber);
    }
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(std::time::Duration::ZERO);
    }
    if negative {
        return Err(OddWait::Negative);
    }
    // value = significant · 10^(shift) milliseconds
    let shift = exponent + 3 - i64::try_from(fraction.len()).unwrap_or(i64::MAX);
    Ok(std::time::Duration::from_millis(scaled(significant, shift)))
}

fn parse_exponent(text: &str) -> Result<i64, OddWait> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OddWait::NotANumber);
    }
    let magnitude = digits.trim_start_matches('0');
    if magnitude.len() > 3 {
        return Ok(sign * (MAX_EXPONENT + 1));
    }
    Ok(sign * magnitude.parse::<i64>().unwrap_or(0).min(MAX_EXPONENT + 1))
}

/// `digits · 10^shift`, truncated, saturating at `u64::MAX`.
fn scaled(digits: &str, shift: i64) -> u64 {
    let kept = if shift < 0 {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        if drop >= digits.len() {
            return 0;
        }
        &digits[..digits.len() - drop]
    } else {
        digits
    };
    let mut value: u64 = 0;
    let extra = usize::try_from(shift.max(0)).unwrap_or(usize::MAX);
    for b in kept
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .chain(std::iter::repeat_n(0, extra))
    {
        match value.checked_mul(10).and_then(|v| v.checked_add(b)) {
            Some(v) => value = v,
            None => return u64::MAX,
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn waits_of_every_form() {
        let ms = Duration::from_millis;
        for (text, want) in [
            ("1", Ok(ms(1000))),
            ("0.25", Ok(ms(250))),
            ("0.0001", Ok(ms(0))),
            ("1.5e1", Ok(ms(15_000))),
            ("25e-1", Ok(ms(2_500))),
            ("\" 7 \"", Ok(ms(7_000))),
            ("0", Ok(ms(0))),
            ("-0", Ok(ms(0))),
            ("1e99999999999", Ok(ms(u64::MAX))),
            ("1e-99999999999", Ok(ms(0))),
            ("99999999999999999999999", Ok(ms(u64::MAX))),
            ("-1", Err(OddWait::Negative)),
            ("-1e3", Err(OddWait::Negative)),
            ("\"soon\"", Err(OddWait::NotANumber)),
            ("{}", Err(OddWait::NotANumber)),
            ("[5]", Err(OddWait::NotANumber)),
            ("null", Err(OddWait::NotANumber)),
            ("true", Err(OddWait::NotANumber)),
            ("", Err(OddWait::NotANumber)),
            (".", Err(OddWait::NotANumber)),
            ("1e", Err(OddWait::NotANumber)),
            ("\"1 2\"", Err(OddWait::NotANumber)),
        ] {
            assert_eq!(seconds_from_json(text), want, "{text}");
        }
    }
}
