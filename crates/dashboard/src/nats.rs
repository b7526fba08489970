//! The NATS sink of `collector serve --nats` as the dashboard shows it:
//! a table on the page (from the `nats` object of the `stats` event),
//! `mercury_nats_*` series in `/metrics`, and a say in `/health` — a sink
//! that is disconnected (publications wait: back-pressure) makes it
//! `degraded`, with the reason under `nats_degraded`.
//!
//! The publisher updates its counters itself
//! ([`NatsStats`], atomics); the hub only reads them, once a second and
//! for each scrape.
//!
//! | series | type | meaning |
//! |---|---|---|
//! | `mercury_nats_connected` | gauge | 1 while the client is connected to a server |
//! | `mercury_nats_pending_acks` | gauge | publications sent and not yet acknowledged |
//! | `mercury_nats_published_total` | counter | quotes published (first attempts) |
//! | `mercury_nats_acknowledged_total` | counter | acknowledgements received (stored or duplicate) |
//! | `mercury_nats_duplicates_total` | counter | acknowledgements saying "duplicate" |
//! | `mercury_nats_retries_total` | counter | publications sent again, same message id |
//! | `mercury_nats_errors_total` | counter | failed publications, refused acks, connection errors |
//! | `mercury_nats_backpressure_seconds_total` | counter | time the sink could not take quotes |

use mercury_collector::nats::{NatsSnapshot, NatsStats};
use serde::Serialize;
use std::fmt::Write as _;

/// Why `/health` is degraded by a disconnected sink.
pub const DISCONNECTED: &str =
    "the NATS sink is disconnected: quotes wait for it (back-pressure) until it reconnects";

/// The NATS sink as the page, `/health` and `/metrics` show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NatsView {
    /// Connected to a server now.
    pub connected: bool,
    /// Publications not yet acknowledged.
    pub pending_acks: u64,
    /// Quotes published.
    pub published: u64,
    /// Acknowledgements.
    pub acknowledged: u64,
    /// Acknowledgements that said "duplicate".
    pub duplicates: u64,
    /// Publications sent again.
    pub retries: u64,
    /// Errors.
    pub errors: u64,
    /// Time spent applying back-pressure, in milliseconds.
    pub backpressure_ms: u64,
    /// Nanoseconds of back-pressure, for `/metrics`.
    #[serde(skip)]
    pub backpressure_ns: u64,
    /// The sink has ended.
    pub ended: bool,
    /// Why `/health` is degraded by it, if it is.
    pub degraded: Option<&'static str>,
}

impl NatsView {
    /// The view of `snapshot`.
    pub fn new(snapshot: &NatsSnapshot) -> Self {
        NatsView {
            connected: snapshot.connected,
            pending_acks: snapshot.pending_acks,
            published: snapshot.published,
            acknowledged: snapshot.acknowledged,
            duplicates: snapshot.duplicates,
            retries: snapshot.retries,
            errors: snapshot.errors,
            backpressure_ms: snapshot.backpressure_ns / 1_000_000,
            backpressure_ns: snapshot.backpressure_ns,
            ended: snapshot.ended,
            degraded: (!snapshot.connected).then_some(DISCONNECTED),
        }
    }
}

/// The view of `stats` now, if there is a NATS sink.
pub fn view(stats: Option<&NatsStats>) -> Option<NatsView> {
    stats.map(|s| NatsView::new(&s.snapshot()))
}

/// A metric: name, type, help, and its value.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&NatsView) -> String,
);

const SERIES: [Series; 8] = [
    (
        "mercury_nats_connected",
        "gauge",
        "1 while the NATS client is connected to a server.",
        |v| u8::from(v.connected).to_string(),
    ),
    (
        "mercury_nats_pending_acks",
        "gauge",
        "Publications sent and not yet acknowledged.",
        |v| v.pending_acks.to_string(),
    ),
    (
        "mercury_nats_published_total",
        "counter",
        "Quotes published to NATS (first attempts).",
        |v| v.published.to_string(),
    ),
    (
        "mercury_nats_acknowledged_total",
        "counter",
        "Acknowledgements from the stream (stored or duplicate).",
        |v| v.acknowledged.to_string(),
    ),
    (
        "mercury_nats_duplicates_total",
        "counter",
        "Acknowledgements that said the message id was a duplicate.",
        |v| v.duplicates.to_string(),
    ),
    (
        "mercury_nats_retries_total",
        "counter",
        "Publications sent again with the same message id.",
        |v| v.retries.to_string(),
    ),
    (
        "mercury_nats_errors_total",
        "counter",
        "Failed publications, refused acknowledgements and connection errors.",
        |v| v.errors.to_string(),
    ),
    (
        "mercury_nats_backpressure_seconds_total",
        "counter",
        "Time the NATS sink could not take quotes (window full or server away).",
        |v| {
            format!(
                "{}.{:09}",
                v.backpressure_ns / 1_000_000_000,
                v.backpressure_ns % 1_000_000_000
            )
        },
    ),
];

/// Appends the `mercury_nats_*` series (nothing without a NATS sink).
pub fn prometheus(text: &mut String, nats: Option<&NatsView>) {
    let Some(view) = nats else { return };
    for (name, kind, help, value) in SERIES {
        let _ = writeln!(
            text,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
            value(view)
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A sink driven as the publisher drives it.
    fn driven() -> NatsStats {
        let stats = NatsStats::new();
        stats.set_connected(true);
        stats.add_published(5);
        for duplicate in [false, false, false, true] {
            stats.add_acknowledged(duplicate);
        }
        stats.set_pending_acks(1);
        stats.add_retry();
        stats.add_error();
        stats.add_backpressure_ns(1_250_000_000);
        stats
    }

    #[test]
    fn the_page_and_health_read_this_json() {
        let stats = driven();
        let json = serde_json::to_value(view(Some(&stats)).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "connected": true, "pending_acks": 1, "published": 5, "acknowledged": 4,
                "duplicates": 1, "retries": 1, "errors": 1, "backpressure_ms": 1250,
                "ended": false, "degraded": null,
            })
        );
        stats.set_connected(false);
        let away = view(Some(&stats)).unwrap();
        assert_eq!(away.degraded, Some(DISCONNECTED));
        assert!(view(None).is_none());
    }

    #[test]
    fn every_series_is_exported_with_its_value() {
        let stats = driven();
        let mut text = String::new();
        prometheus(&mut text, view(Some(&stats)).as_ref());
        for line in [
            "# TYPE mercury_nats_connected gauge",
            "mercury_nats_connected 1",
            "mercury_nats_pending_acks 1",
            "# TYPE mercury_nats_published_total counter",
            "mercury_nats_published_total 5",
            "mercury_nats_acknowledged_total 4",
            "mercury_nats_duplicates_total 1",
            "mercury_nats_retries_total 1",
            "mercury_nats_errors_total 1",
            "mercury_nats_backpressure_seconds_total 1.250000000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        stats.set_connected(false);
        let mut away = String::new();
        prometheus(&mut away, view(Some(&stats)).as_ref());
        assert!(away.lines().any(|l| l == "mercury_nats_connected 0"));
        let mut none = String::new();
        prometheus(&mut none, None);
        assert!(none.is_empty());
    }
}
