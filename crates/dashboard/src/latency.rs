//! Latency per (exchange, kind) as the dashboard shows it: Prometheus
//! histograms in `/metrics`, and a row each in the page's latency table
//! (the `latency` list of the `stats` event).
//!
//! | series | type | meaning |
//! |---|---|---|
//! | `mercury_feed_latency_seconds` | histogram | exchange time → receive time, non-negative values |
//! | `mercury_feed_latency_negative_total` | counter | feed latencies below zero (the exchange's clock ahead of ours), in no bucket |
//! | `mercury_feed_latency_most_negative_seconds` | gauge | the most negative feed latency seen (0 if none) |
//! | `mercury_internal_latency_seconds` | histogram | receive time → hand-off to the sinks |
//! | `mercury_internal_latency_negative_total` | counter | internal latencies below zero (our clock stepped back), in no bucket |
//! | `mercury_latency_series_over_limit_total` | counter | quotes of (exchange, kind) pairs beyond the 1024 kept |
//!
//! Each has the labels `exchange` and `kind` (but the last). Negative
//! feed latencies are never clamped into the lowest bucket: clock skew
//! would then read as a fast feed. They are counted apart, and the page
//! shows their count and the most negative one.

use mercury_collector::latency::{
    BOUNDS_NANOS, LatencyHistogram, LatencyStats, human_nanos, percentiles,
};
use serde::Serialize;
use std::fmt::Write as _;

/// Nanoseconds as seconds, exactly, in decimal (`0.000001`, `60`).
fn seconds(nanos: i128) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    let (whole, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:09}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// Appends one histogram's `_bucket`, `_sum` and `_count` lines.
fn histogram(text: &mut String, name: &str, labels: &str, h: &LatencyHistogram) {
    let mut cumulative = 0;
    for (bound, n) in BOUNDS_NANOS.iter().zip(h.buckets) {
        cumulative += n;
        let le = seconds(i128::from(*bound));
        let _ = writeln!(text, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(text, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
    let sum = seconds(i128::from(h.sum_nanos));
    let _ = writeln!(text, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(text, "{name}_count{{{labels}}} {}", h.count);
}

/// Appends the latency series (the histograms' headers even without data).
pub fn prometheus(text: &mut String, stats: &LatencyStats) {
    let labels: Vec<String> = stats
        .series
        .iter()
        .map(|s| {
            let exchange = crate::web::label(s.exchange.as_str());
            format!("exchange=\"{exchange}\",kind=\"{}\"", s.kind)
        })
        .collect();
    let _ = writeln!(
        text,
        "# HELP mercury_feed_latency_seconds Exchange time to receive time (negative values are counted in mercury_feed_latency_negative_total, not here).\n# TYPE mercury_feed_latency_seconds histogram"
    );
    for (s, labels) in stats.series.iter().zip(&labels) {
        histogram(text, "mercury_feed_latency_seconds", labels, &s.feed);
    }
    let _ = writeln!(
        text,
        "# HELP mercury_feed_latency_negative_total Feed latencies below zero: the exchange's clock runs ahead of ours.\n# TYPE mercury_feed_latency_negative_total counter"
    );
    for (s, labels) in stats.series.iter().zip(&labels) {
        let _ = writeln!(
            text,
            "mercury_feed_latency_negative_total{{{labels}}} {}",
            s.feed.negative
        );
    }
    let _ = writeln!(
        text,
        "# HELP mercury_feed_latency_most_negative_seconds The most negative feed latency seen (0 if none).\n# TYPE mercury_feed_latency_most_negative_seconds gauge"
    );
    for (s, labels) in stats.series.iter().zip(&labels) {
        let most = seconds(s.feed.most_negative_nanos);
        let _ = writeln!(
            text,
            "mercury_feed_latency_most_negative_seconds{{{labels}}} {most}"
        );
    }
    let _ = writeln!(
        text,
        "# HELP mercury_internal_latency_seconds Receive time to the hand-off to the sinks.\n# TYPE mercury_internal_latency_seconds histogram"
    );
    for (s, labels) in stats.series.iter().zip(&labels) {
        histogram(
            text,
            "mercury_internal_latency_seconds",
            labels,
            &s.internal,
        );
    }
    let _ = writeln!(
        text,
        "# HELP mercury_internal_latency_negative_total Internal latencies below zero: our clock stepped back between receive and hand-off.\n# TYPE mercury_internal_latency_negative_total counter"
    );
    for (s, labels) in stats.series.iter().zip(&labels) {
        let n = s.internal.negative;
        let _ = writeln!(
            text,
            "mercury_internal_latency_negative_total{{{labels}}} {n}"
        );
    }
    let _ = writeln!(
        text,
        "# HELP mercury_latency_series_over_limit_total Quotes of (exchange, kind) pairs beyond the 1024 whose latency is kept.\n# TYPE mercury_latency_series_over_limit_total counter\nmercury_latency_series_over_limit_total {}",
        stats.over_limit
    );
}

/// One (exchange, kind) as the page's latency table shows it: durations
/// already written for people (`1.5ms`), `—` without a value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LatencyView {
    /// `bitmex` (an excerpt).
    pub exchange: String,
    /// `fair`.
    pub kind: &'static str,
    /// Quotes seen.
    pub quotes: u64,
    /// Feed latency: median, 99th percentile (bucket bounds) and maximum.
    pub feed: [String; 3],
    /// Feed latencies below zero.
    pub negative: u64,
    /// The most negative one (`—` if none).
    pub most_negative: String,
    /// Internal latency: median, 99th percentile and maximum.
    pub internal: [String; 3],
    /// Internal latencies below zero (our clock stepped back).
    pub internal_negative: u64,
}

/// Every series' view.
pub fn views(stats: &LatencyStats) -> Vec<LatencyView> {
    stats
        .series
        .iter()
        .map(|s| LatencyView {
            exchange: mercury_core::excerpt(s.exchange.as_str()),
            kind: s.kind.as_str(),
            quotes: s.quotes,
            feed: percentiles(&s.feed),
            negative: s.feed.negative,
            most_negative: match s.feed.negative {
                0 => "—".to_string(),
                _ => human_nanos(s.feed.most_negative_nanos),
            },
            internal: percentiles(&s.internal),
            internal_negative: s.internal.negative,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercury_core::{ExchangeId, Quote, QuoteKind, Symbol, Timestamp};

    fn stats() -> LatencyStats {
        let mut stats = LatencyStats::default();
        let quote = |exchange_ns: i128| Quote {
            exchange: ExchangeId::from_static("bit\"mex"),
            symbol: Symbol::new("XBTUSD"),
            kind: QuoteKind::Fair,
            price: "1".parse().unwrap(),
            exchange_time: Some(Timestamp::from_unix_nanos(exchange_ns)),
            received_at: Timestamp::from_unix_nanos(10_000_000),
            conn_seq: 1,
        };
        let handed_off = Timestamp::from_unix_nanos(10_001_500);
        for q in [quote(7_000_000), quote(9_999_000), quote(12_500_000)] {
            stats.record(&q, handed_off);
        }
        stats
    }

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(1_000), "0.000001");
        assert_eq!(seconds(60_000_000_000), "60");
        assert_eq!(seconds(1_500_000_000), "1.5");
        assert_eq!(seconds(-2_500_000), "-0.0025");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn histograms_are_cumulative_with_negatives_counted_apart() {
        let mut text = String::new();
        prometheus(&mut text, &stats());
        let labels = "exchange=\"bit\\\"mex\",kind=\"fair\"";
        for line in [
            "# TYPE mercury_feed_latency_seconds histogram".to_string(),
            format!("mercury_feed_latency_seconds_bucket{{{labels},le=\"0.000001\"}} 1"),
            format!("mercury_feed_latency_seconds_bucket{{{labels},le=\"0.002\"}} 1"),
            format!("mercury_feed_latency_seconds_bucket{{{labels},le=\"0.005\"}} 2"),
            format!("mercury_feed_latency_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("mercury_feed_latency_seconds_sum{{{labels}}} 0.003001"),
            format!("mercury_feed_latency_seconds_count{{{labels}}} 2"),
            format!("mercury_feed_latency_negative_total{{{labels}}} 1"),
            format!("mercury_feed_latency_most_negative_seconds{{{labels}}} -0.0025"),
            format!("mercury_internal_latency_seconds_bucket{{{labels},le=\"0.000002\"}} 3"),
            format!("mercury_internal_latency_seconds_count{{{labels}}} 3"),
            format!("mercury_internal_latency_negative_total{{{labels}}} 0"),
            "mercury_latency_series_over_limit_total 0".to_string(),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn the_page_reads_this_json() {
        let json = serde_json::to_value(views(&stats())).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "exchange": "bit\"mex", "kind": "fair", "quotes": 3,
                "feed": ["1µs", "3ms", "3ms"], "negative": 1, "most_negative": "-2.5ms",
                "internal": ["1.5µs", "1.5µs", "1.5µs"], "internal_negative": 0,
            }])
        );
        let empty = percentiles(&LatencyHistogram::default());
        assert_eq!(empty, ["—", "—", "—"]);
    }
}
