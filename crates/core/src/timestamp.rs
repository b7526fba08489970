//! Points in time, and the clock that tells them.

use crate::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// A point in time, UTC, with nanosecond resolution.
///
/// Parsed from ISO-8601 / RFC 3339 (`2021-07-22T22:36:08.396Z`); displayed
/// with milliseconds and a `Z`, as exchanges print it.
///
/// ```
/// use mercury_core::Timestamp;
/// let t: Timestamp = "2021-07-22T22:36:08.396Z".parse().unwrap();
/// assert_eq!(t.to_string(), "2021-07-22T22:36:08.396Z");
/// assert_eq!(t.unix_nanos(), 1_626_993_368_396_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i128);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from nanoseconds since the Unix epoch.
    pub const fn from_unix_nanos(nanos: i128) -> Self {
        Timestamp(nanos)
    }

    /// A timestamp from milliseconds since the Unix epoch, as exchanges
    /// send them; `None` outside the years 1970 to 9999 (untrusted input).
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        const LAST_MILLI_OF_9999: i64 = 253_402_300_799_999;
        (0..=LAST_MILLI_OF_9999)
            .contains(&millis)
            .then(|| Timestamp(i128::from(millis) * 1_000_000))
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(&self) -> i128 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(&self, earlier: Timestamp) -> Duration {
        let nanos = self.0.saturating_sub(earlier.0).max(0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The wait from `self` until `later` in whole seconds, rounded up
    /// (zero if `later` has passed): how long to honour an exchange's
    /// "until" time without coming back early.
    pub fn whole_seconds_until(&self, later: Timestamp) -> Duration {
        let wait = later.saturating_since(*self);
        Duration::from_secs(wait.as_nanos().div_ceil(1_000_000_000) as u64)
    }

    /// Milliseconds since the Unix epoch, as exchanges send them.
    pub const fn unix_millis(&self) -> i128 {
        self.0.div_euclid(1_000_000)
    }

    /// This time plus `duration`.
    pub fn saturating_add(&self, duration: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(duration.as_nanos() as i128))
    }

    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(self.0).ok()
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(|t| Timestamp(t.unix_timestamp_nanos()))
            .map_err(|_| Error::Parse {
                what: "timestamp",
                input: text.chars().take(64).collect(),
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc3339_millis() {
            // The digits written are ASCII.
            Some(text) => f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?),
            None => self.fmt_slow(f),
        }
    }
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for the years 1970 to 9999, written
    /// digit by digit (the hot path of every printed quote); `None`
    /// outside them.
    fn rfc3339_millis(&self) -> Option<[u8; 24]> {
        const LAST_NANO_OF_9999: i128 = 253_402_300_799_999_999_999;
        if !(0..=LAST_NANO_OF_9999).contains(&self.0) {
            return None;
        }
        let millis = i64::try_from(self.0 / 1_000_000).ok()?;
        let (days, ms_of_day) = (millis / 86_400_000, millis % 86_400_000);
        let (year, month, day) = civil_from_days(days);
        let seconds = ms_of_day / 1000;
        let fields = [
            (year, 4, 0),
            (month, 2, 5),
            (day, 2, 8),
            (seconds / 3600, 2, 11),
            (seconds / 60 % 60, 2, 14),
            (seconds % 60, 2, 17),
            (ms_of_day % 1000, 3, 20),
        ];
        let mut out = *b"0000-00-00T00:00:00.000Z";
        for (mut value, width, at) in fields {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        Some(out)
    }

    /// Any other time, through the `time` crate.
    fn fmt_slow(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        match self.to_datetime().map(|t| t.to_offset(UtcOffset::UTC)) {
            Some(t) => match t.format(&format) {
                Ok(text) => f.write_str(&text),
                Err(_) => write!(f, "@{}ns", self.0),
            },
            None => write!(f, "@{}ns", self.0),
        }
    }
}

/// The civil date of `days` since 1970-01-01 (proleptic Gregorian; days
/// ≥ 0), by Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Serialize for Timestamp {
    /// Serialized as the RFC 3339 text with milliseconds.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A source of the current time. Injected wherever time matters, so that
/// tests can control it.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Timestamp(since.as_nanos() as i128),
            Err(before) => Timestamp(-(before.duration().as_nanos() as i128)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_display_agrees_with_the_time_crate() {
        struct Slow(Timestamp);
        impl fmt::Display for Slow {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_slow(f)
            }
        }
        let mut rng = crate::SplitMix64::new(7);
        let last = 253_402_300_799_999_999_999i128;
        let edges = [
            0,
            1,
            999_999,
            86_399_999_999_999,
            951_782_400_000_000_000,
            last,
        ];
        let random = (0..20_000).map(|_| (rng.next_u64() as i128 * 13_763) % last);
        for nanos in edges.into_iter().chain(random) {
            let t = Timestamp(nanos);
            assert_eq!(t.to_string(), Slow(t).to_string(), "{nanos}");
        }
        assert_eq!(Timestamp(-1).to_string(), Slow(Timestamp(-1)).to_string());
    }

    #[test]
    fn parses_and_prints_exchange_times() {
        for text in ["2021-07-22T22:36:08.396Z", "2017-03-12T00:00:00.000Z"] {
            let t: Timestamp = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
        }
        let t: Timestamp = "2020-01-29T11:31:20+01:00".parse().unwrap();
        assert_eq!(t.to_string(), "2020-01-29T10:31:20.000Z");
    }

    #[test]
    fn exchange_milliseconds_in_range_only() {
        let t = Timestamp::from_unix_millis(1_562_305_380_000).unwrap();
        assert_eq!(t.to_string(), "2019-07-05T05:43:00.000Z");
        assert!(Timestamp::from_unix_millis(-1).is_none());
        assert!(Timestamp::from_unix_millis(i64::MAX).is_none());
        assert!(Timestamp::from_unix_millis(253_402_300_799_999).is_some());
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in ["", "yesterday", "2021-13-01T00:00:00Z", "2021-07-22"] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_nanos(1_000);
        assert_eq!(
            t.saturating_since(Timestamp::from_unix_nanos(400))
                .as_nanos(),
            600
        );
        assert_eq!(Timestamp::UNIX_EPOCH.saturating_since(t), Duration::ZERO);
        assert_eq!(
            t.saturating_add(Duration::from_nanos(5)).unix_nanos(),
            1_005
        );
    }

    #[test]
    fn system_clock_is_after_2020() {
        let t = SystemClock.now();
        assert!(t > "2020-01-01T00:00:00Z".parse().unwrap());
    }
}
