//! Latency histograms, per exchange and kind (issue #18), kept by the
//! collector where quotes are handed to the sinks.
//!
//! Two latencies per quote:
//! - **feed** — the exchange's time → our receive time
//!   (`received_at − exchange_time`; only quotes that carry an exchange
//!   time). It mixes the network's delay with the *clock skew* between the
//!   exchange and this machine.
//! - **internal** — our receive time → the moment the collector hands the
//!   quote to its sinks (one clock read per batch, from the collector's
//!   injected [`Clock`]).
//!
//! Only quotes handed to at least one sink are recorded (a quote nobody
//! asked for has no hand-off): `collector fetch -n 10 --stats` counts the
//! ten quotes it printed, and `collector serve`, whose dashboard takes
//! every quote, counts every quote received.
//!
//! **Negative latencies are shown, never clamped.** When the exchange's
//! clock runs ahead of ours, feed latency is negative. Such a value goes
//! into no bucket, no `_sum` and no `_count` (a Prometheus histogram
//! counts non-negative durations); it is counted in
//! [`LatencyHistogram::negative`], and the largest amount behind is kept
//! in [`LatencyHistogram::most_negative_nanos`]. `/metrics`, the dashboard
//! and `collector fetch --stats` show both next to the histogram.
//!
//! Memory is fixed: a histogram is [`BUCKETS`] counters, recording
//! allocates nothing, and at most [`MAX_SERIES`] (exchange, kind) pairs are
//! kept; quotes of further pairs are only counted
//! ([`LatencyStats::over_limit`]).

use mercury_core::{Clock, ExchangeId, Quote, QuoteKind, SystemClock, Timestamp};
use std::sync::Arc;

/// The upper bounds of the buckets, in nanoseconds: 1-2-5 steps from 1 µs
/// to 50 s, then 60 s. A value above the last falls in the `+Inf` bucket.
pub const BOUNDS_NANOS: [u64; 25] = [
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
    50_000_000_000,
    60_000_000_000,
];

/// Buckets of a histogram: one per bound, and `+Inf`.
pub const BUCKETS: usize = BOUNDS_NANOS.len() + 1;

/// The most (exchange, kind) pairs kept; quotes of more are only counted.
pub const MAX_SERIES: usize = 1024;

/// A fixed log-scale histogram of durations in integer nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Non-negative values per bucket (not cumulative): `buckets[i]` holds
    /// the values in `(BOUNDS_NANOS[i-1], BOUNDS_NANOS[i]]`, the last one
    /// those above 60 s.
    pub buckets: [u64; BUCKETS],
    /// How many non-negative values.
    pub count: u64,
    /// Their sum, in nanoseconds (saturating).
    pub sum_nanos: u64,
    /// The largest value, in nanoseconds.
    pub max_nanos: u64,
    /// Negative values (the clock we compare with runs ahead of ours):
    /// counted here only, in no bucket.
    pub negative: u64,
    /// The most negative value seen, in nanoseconds (0 if none).
    pub most_negative_nanos: i128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: [0; BUCKETS],
            count: 0,
            sum_nanos: 0,
            max_nanos: 0,
            negative: 0,
            most_negative_nanos: 0,
        }
    }
}

impl LatencyHistogram {
    /// Records one duration in nanoseconds (negative: counted apart).
    pub fn record(&mut self, nanos: i128) {
        let Ok(value) = u64::try_from(nanos) else {
            if nanos < 0 {
                self.negative += 1;
                self.most_negative_nanos = self.most_negative_nanos.min(nanos);
            } else {
                self.add(u64::MAX);
            }
            return;
        };
        self.add(value);
    }

    fn add(&mut self, value: u64) {
        let bucket = BOUNDS_NANOS.partition_point(|&bound| bound < value);
        self.buckets[bucket] += 1;
        self.count += 1;
        self.sum_nanos = self.sum_nanos.saturating_add(value);
        self.max_nanos = self.max_nanos.max(value);
    }

    /// The `q`-quantile (`per_mille`/1000) as an upper bound: the bound of
    /// the bucket holding that rank, at most the largest value seen (the
    /// largest itself above 60 s); `None` without values.
    pub fn quantile_nanos(&self, per_mille: u64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // The rank (1-based) of the quantile, rounded up.
        let rank = (self.count.saturating_mul(per_mille.min(1000)))
            .div_ceil(1000)
            .max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let bound = BOUNDS_NANOS.get(i).copied().unwrap_or(u64::MAX);
                return Some(bound.min(self.max_nanos));
            }
        }
        Some(self.max_nanos)
    }
}

/// The two histograms of one (exchange, kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencySeries {
    /// The exchange.
    pub exchange: ExchangeId,
    /// The kind of quote.
    pub kind: QuoteKind,
    /// Quotes seen (with or without an exchange time).
    pub quotes: u64,
    /// Exchange time → receive time (quotes with an exchange time).
    pub feed: LatencyHistogram,
    /// Receive time → hand-off to the sinks.
    pub internal: LatencyHistogram,
}

/// Every (exchange, kind)'s latencies, in the order first seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyStats {
    /// One entry per (exchange, kind) seen, at most [`MAX_SERIES`].
    pub series: Vec<LatencySeries>,
    /// Quotes of pairs beyond [`MAX_SERIES`], not recorded.
    pub over_limit: u64,
    /// The index of the series last recorded to (batches come from one
    /// connection, mostly of one kind).
    last: usize,
}

impl LatencyStats {
    /// Records one quote's latencies.
    pub fn record(&mut self, quote: &Quote, handed_off: Timestamp) {
        let Some(series) = self.series_of(&quote.exchange, quote.kind) else {
            self.over_limit += 1;
            return;
        };
        series.quotes += 1;
        let received = quote.received_at.unix_nanos();
        if let Some(exchange_time) = quote.exchange_time {
            let feed = received.saturating_sub(exchange_time.unix_nanos());
            series.feed.record(feed);
        }
        let internal = handed_off.unix_nanos().saturating_sub(received);
        series.internal.record(internal);
    }

    /// The series of (`exchange`, `kind`), made if new and there is room.
    fn series_of(&mut self, exchange: &ExchangeId, kind: QuoteKind) -> Option<&mut LatencySeries> {
        let is = |s: &LatencySeries| s.kind == kind && s.exchange == *exchange;
        if !self.series.get(self.last).is_some_and(is) {
            match self.series.iter().position(is) {
                Some(at) => self.last = at,
                None if self.series.len() < MAX_SERIES => {
                    self.series.push(LatencySeries {
                        exchange: exchange.clone(),
                        kind,
                        quotes: 0,
                        feed: LatencyHistogram::default(),
                        internal: LatencyHistogram::default(),
                    });
                    self.last = self.series.len() - 1;
                }
                None => return None,
            }
        }
        self.series.get_mut(self.last)
    }
}

/// The clock the collector reads once per batch, when it hands the batch
/// to its sinks (the system's unless injected).
#[derive(Clone)]
pub(crate) struct HandOffClock(pub(crate) Arc<dyn Clock>);

impl Default for HandOffClock {
    fn default() -> Self {
        HandOffClock(Arc::new(SystemClock))
    }
}

/// `p50`, `p99` and max of a histogram, for people (`—` without values).
pub fn percentiles(h: &LatencyHistogram) -> [String; 3] {
    let show = |n: Option<u64>| n.map_or("—".to_string(), |n| human_nanos(i128::from(n)));
    let max = (h.count > 0).then_some(h.max_nanos);
    [
        show(h.quantile_nanos(500)),
        show(h.quantile_nanos(990)),
        show(max),
    ]
}

/// `1.5ms`, `20µs`, `-3.2s`: a duration in nanoseconds, short, for people.
pub fn human_nanos(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    let (unit, scale) = match abs {
        0..1_000 => return format!("{sign}{abs}ns"),
        1_000..1_000_000 => ("µs", 1_000),
        1_000_000..1_000_000_000 => ("ms", 1_000_000),
        _ => ("s", 1_000_000_000),
    };
    let whole = abs / scale;
    let tenth = abs % scale * 10 / scale;
    if whole >= 100 || tenth == 0 {
        format!("{sign}{whole}{unit}")
    } else {
        format!("{sign}{whole}.{tenth}{unit}")
    }
}

#[cfg(test)]
#[path = "latency_tests.rs"]
mod tests;
