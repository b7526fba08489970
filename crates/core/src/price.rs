//! Exact prices.
//!
//! Exchanges print prices as JSON numbers the way JavaScript prints doubles:
//! `1225`, `43210.5`, `1188212.1300000001`, `3.5e-7`, `28667.0`. Going through
//! `f64` would change some of them, so a [`Price`] is parsed from the number's
//! text into an exact decimal and keeps every digit that was sent.

use crate::{DecodeError, Error};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The largest number of digits after the decimal point a [`Price`] holds.
const MAX_SCALE: u32 = 28;
/// Exponents beyond this are rejected outright (no price is that far off 1).
const MAX_EXPONENT: i64 = 64;

/// An exact decimal price. Never a float.
///
/// Equality is by value: `1225`, `1225.0` and `1.225e3` are equal. Display
/// keeps the digits that were sent (`28667.0` prints as `28667.0`) but writes
/// exponent forms out in full (`1.814e-05` prints as `0.00001814`).
///
/// ```
/// use mercury_core::Price;
/// let p: Price = "1188212.1300000001".parse().unwrap();
/// assert_eq!(p.to_string(), "1188212.1300000001");
/// assert_eq!("3.5e-7".parse::<Price>().unwrap().to_string(), "0.00000035");
/// assert!("NaN".parse::<Price>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Price(Decimal);

impl Price {
    /// The price in one raw JSON value as an exchange sent it: a number
    /// (`43210.5`, `1.814e-05`), a string holding one (`"11794.15000000"`),
    /// or no price at all (`null`, `""`). Anything else is
    /// [`DecodeError::InvalidPrice`]. The text is parsed exactly, never
    /// through `f64`.
    ///
    /// ```
    /// use mercury_core::Price;
    /// let a = Price::from_json_value("\"0.00001814\"").unwrap().unwrap();
    /// assert_eq!(Some(a), Price::from_json_value("1.814e-05").unwrap());
    /// assert_eq!(Price::from_json_value("null").unwrap(), None);
    /// assert!(Price::from_json_value("true").is_err());
    /// ```
    pub fn from_json_value(raw: &str) -> Result<Option<Price>, DecodeError> {
        let raw = raw.trim();
        if raw == "null" || raw == "\"\"" {
            return Ok(None);
        }
        let number = raw
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(raw);
        number
            .parse()
            .map(Some)
            .map_err(|_| DecodeError::InvalidPrice(raw.chars().take(64).collect()))
    }

    /// Wraps an exact decimal.
    pub const fn from_decimal(value: Decimal) -> Self {
        Price(value)
    }

    /// The exact decimal value.
    pub const fn as_decimal(&self) -> Decimal {
        self.0
    }
}

impl FromStr for Price {
    type Err = Error;

    /// Parses the text of a JSON number: an optional `-`, digits, an optional
    /// fraction and an optional exponent. Anything else (`NaN`, `Infinity`,
    /// `0x10`, `1_000`, white space, empty text) is an error, and so is a
    /// value that cannot be held exactly (more than 28 decimal places, or
    /// beyond about 7.9e28).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_exact(text).map(Price).ok_or_else(|| Error::Parse {
            what: "price",
            input: text.chars().take(64).collect(),
        })
    }
}

/// Splits `text` into mantissa and exponent after checking the JSON number
/// grammar, then scales the mantissa exactly.
fn parse_exact(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    if !is_json_mantissa(mantissa) {
        return None;
    }
    let value = Decimal::from_str_exact(mantissa).ok()?;
    let Some(exponent) = exponent else {
        return Some(value);
    };
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let exponent: i64 = exponent.parse().ok()?;
    if exponent.abs() > MAX_EXPONENT {
        return None;
    }
    scale_by_power_of_ten(value, exponent)
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` — the mantissa part of a JSON number.
fn is_json_mantissa(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = all_digits(int) && (int == "0" || !int.starts_with('0'));
    int_ok && frac.is_none_or(all_digits)
}

/// `value × 10^exponent`, exactly, or `None` when that cannot be held.
fn scale_by_power_of_ten(value: Decimal, exponent: i64) -> Option<Decimal> {
    let mut mantissa = value.mantissa();
    let mut scale = i64::from(value.scale()) - exponent;
    // Trailing zeros of the mantissa can absorb an excess of scale.
    while scale > i64::from(MAX_SCALE) && mantissa != 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    if mantissa == 0 {
        return Some(Decimal::ZERO);
    }
    if scale > i64::from(MAX_SCALE) {
        return None;
    }
    if scale < 0 {
        let factor = 10i128.checked_pow(u32::try_from(-scale).ok()?)?;
        mantissa = mantissa.checked_mul(factor)?;
        scale = 0;
    }
    Decimal::try_from_i128_with_scale(mantissa, u32::try_from(scale).ok()?).ok()
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Price {
    /// Serialized as a JSON string holding the exact decimal, e.g. `"43210.5"`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Price {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    #[test]
    fn every_wire_form_keeps_its_exact_value() {
        // (wire text, canonical text of the same value)
        let cases = [
            ("1225", "1225"),
            ("43210.5", "43210.5"),
            ("1.814e-05", "0.00001814"),
            ("1.814E-05", "0.00001814"),
            ("3.5e-7", "0.00000035"),
            ("1e-10", "0.0000000001"),
            ("1.1e-8", "0.000000011"),
            ("1188212.1300000001", "1188212.1300000001"),
            ("0.6537149999999999", "0.6537149999999999"),
            ("0.0017000000000000001", "0.0017000000000000001"),
            ("28667.0", "28667.0"),
            ("1.225e3", "1225"),
            ("1e+3", "1000"),
            ("-0.5", "-0.5"),
            ("0", "0"),
            ("0e-50", "0"),
        ];
        for (wire, canonical) in cases {
            assert_eq!(p(wire).to_string(), canonical, "wire {wire}");
        }
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(p("1225"), p("1225.0"));
        assert_eq!(p("1225"), p("1.225e3"));
        assert_eq!(p("0.00001814"), p("1.814e-05"));
        assert_ne!(p("0.1"), p("0.10000000000000001"));
    }

    #[test]
    fn rejects_what_is_not_an_exact_json_number() {
        for bad in [
            "", " 1", "1 ", "NaN", "Infinity", "-", ".5", "5.", "01", "0x10", "1_000", "+1", "1e",
            "1e+", "1e-99999", "1e99", "1.2.3", "\"1\"", "1e-40",
        ] {
            assert!(bad.parse::<Price>().is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn serializes_as_a_string_and_reads_one_back() {
        let json = serde_json::to_string(&p("43210.5")).unwrap();
        assert_eq!(json, "\"43210.5\"");
        let back: Price = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p("43210.5"));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".{0,40}") {
            let _ = text.parse::<Price>();
        }

        #[test]
        fn integer_and_exponent_forms_agree(m in 1u32..1_000_000, e in 0i64..12) {
            let plain = p(&format!("{m}")).as_decimal();
            let shifted = p(&format!("{m}e-{e}")).as_decimal();
            let back = scale_by_power_of_ten(shifted, e).unwrap();
            prop_assert_eq!(plain, back);
        }
    }
}
