//! The histogram's buckets, quantiles and negatives, and the series bound.

use super::*;
use mercury_core::Symbol;

fn quote(
    exchange: &'static str,
    kind: QuoteKind,
    exchange_ns: Option<i128>,
    received_ns: i128,
) -> Quote {
    Quote {
        exchange: ExchangeId::from_static(exchange),
        symbol: Symbol::new("XBTUSD"),
        kind,
        price: "1".parse().unwrap(),
        exchange_time: exchange_ns.map(Timestamp::from_unix_nanos),
        received_at: Timestamp::from_unix_nanos(received_ns),
        conn_seq: 1,
    }
}

#[test]
fn values_fall_in_the_bucket_whose_bound_is_the_first_not_below() {
    let mut h = LatencyHistogram::default();
    for nanos in [
        0,
        1_000,
        1_001,
        2_000,
        60_000_000_000,
        60_000_000_001,
        i128::MAX,
    ] {
        h.record(nanos);
    }
    assert_eq!(h.buckets[0], 2, "0 and 1 µs are ≤ 1 µs");
    assert_eq!(h.buckets[1], 2, "1.001 µs and 2 µs are ≤ 2 µs");
    assert_eq!(h.buckets[BUCKETS - 2], 1, "60 s exactly");
    assert_eq!(h.buckets[BUCKETS - 1], 2, "above 60 s: +Inf");
    assert_eq!(h.count, 7);
    assert_eq!(h.max_nanos, u64::MAX);
    assert_eq!(h.sum_nanos, u64::MAX, "saturates, never wraps");
    assert_eq!(h.negative, 0);
}

#[test]
fn negative_values_are_counted_apart_never_clamped() {
    let mut h = LatencyHistogram::default();
    h.record(-5_000_000);
    h.record(-20);
    h.record(3_000);
    assert_eq!(h.negative, 2);
    assert_eq!(h.most_negative_nanos, -5_000_000);
    assert_eq!(
        h.count, 1,
        "only the non-negative value is in the histogram"
    );
    assert_eq!(h.buckets.iter().sum::<u64>(), 1);
    assert_eq!(h.sum_nanos, 3_000);
}

#[test]
fn quantiles_are_bucket_bounds_capped_by_the_maximum() {
    let mut h = LatencyHistogram::default();
    assert_eq!(h.quantile_nanos(500), None);
    for _ in 0..98 {
        h.record(1_500); // ≤ 2 µs
    }
    h.record(700_000); // ≤ 1 ms
    h.record(3_000_000); // ≤ 5 ms, the maximum
    assert_eq!(h.quantile_nanos(500), Some(2_000));
    assert_eq!(h.quantile_nanos(980), Some(2_000));
    assert_eq!(h.quantile_nanos(990), Some(1_000_000));
    assert_eq!(h.quantile_nanos(1000), Some(3_000_000), "capped by max");
    let mut slow = LatencyHistogram::default();
    slow.record(90_000_000_000);
    assert_eq!(
        slow.quantile_nanos(500),
        Some(90_000_000_000),
        "+Inf: the max"
    );
}

#[test]
fn quotes_record_feed_and_internal_latency_per_exchange_and_kind() {
    let mut stats = LatencyStats::default();
    let handed_off = Timestamp::from_unix_nanos(10_000_000);
    for q in [
        quote("bitmex", QuoteKind::Fair, Some(8_000_000), 9_000_000),
        quote("bitmex", QuoteKind::Fair, Some(9_500_000), 9_000_000),
        quote("bitmex", QuoteKind::Mark, None, 9_990_000),
        quote("binance", QuoteKind::Fair, Some(0), 9_000_000),
    ] {
        stats.record(&q, handed_off);
    }
    let names: Vec<_> = stats
        .series
        .iter()
        .map(|s| format!("{}:{}", s.exchange, s.kind))
        .collect();
    assert_eq!(names, ["bitmex:fair", "bitmex:mark", "binance:fair"]);
    let fair = &stats.series[0];
    assert_eq!(fair.quotes, 2);
    assert_eq!((fair.feed.count, fair.feed.negative), (1, 1));
    assert_eq!(fair.feed.max_nanos, 1_000_000);
    assert_eq!(fair.feed.most_negative_nanos, -500_000);
    assert_eq!(fair.internal.count, 2);
    assert_eq!(fair.internal.max_nanos, 1_000_000);
    let mark = &stats.series[1];
    assert_eq!(
        (mark.quotes, mark.feed.count, mark.feed.negative),
        (1, 0, 0)
    );
    assert_eq!(mark.internal.max_nanos, 10_000);
}

#[test]
fn series_beyond_the_limit_are_only_counted() {
    let mut stats = LatencyStats::default();
    let names: Vec<&'static str> = (0..=MAX_SERIES / QuoteKind::ALL.len())
        .map(|i| &*Box::leak(format!("ex{i}").into_boxed_str()))
        .collect();
    let mut offered = 0;
    for name in &names {
        for kind in QuoteKind::ALL {
            stats.record(&quote(name, kind, None, 0), Timestamp::UNIX_EPOCH);
            offered += 1;
        }
    }
    assert_eq!(stats.series.len(), MAX_SERIES);
    assert_eq!(stats.over_limit, offered - MAX_SERIES as u64);
    // A known pair still records.
    stats.record(
        &quote("ex0", QuoteKind::Fair, None, 0),
        Timestamp::UNIX_EPOCH,
    );
    assert_eq!(stats.series[0].quotes, 2);
}

#[test]
fn durations_read_short() {
    assert_eq!(human_nanos(0), "0ns");
    assert_eq!(human_nanos(1_500), "1.5µs");
    assert_eq!(human_nanos(2_000_000), "2ms");
    assert_eq!(human_nanos(-3_250_000_000), "-3.2s");
    assert_eq!(human_nanos(250_000_000), "250ms");
}

use crate::{Collector, ConnectionId, ConnectorOutput, GetStats, InFlight, OpenStream};
use actix::Actor;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

fn batch(quotes: Vec<Quote>) -> ConnectorOutput {
    ConnectorOutput::Quotes {
        connection: ConnectionId(3),
        quotes,
        gap: None,
        in_flight: InFlight::new(&Arc::new(AtomicUsize::new(0))),
    }
}

fn open_stream(n: Option<usize>) -> OpenStream {
    OpenStream {
        subscriptions: Vec::new(),
        n,
        timeout: None,
        capacity: 16,
    }
}

/// A clock that reads a settable time, one read counted each.
struct StepClock {
    now_ns: std::sync::atomic::AtomicI64,
    reads: std::sync::atomic::AtomicUsize,
}

impl mercury_core::Clock for StepClock {
    fn now(&self) -> Timestamp {
        use std::sync::atomic::Ordering::SeqCst;
        self.reads.fetch_add(1, SeqCst);
        Timestamp::from_unix_nanos(i128::from(self.now_ns.load(SeqCst)))
    }
}

#[actix::test]
async fn the_collector_reads_its_clock_once_per_batch_at_the_hand_off() {
    use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
    let clock = Arc::new(StepClock {
        now_ns: AtomicI64::new(5_000_000),
        reads: AtomicUsize::new(0),
    });
    let collector = Collector::with_clock(clock.clone()).start();
    let _stream = collector.send(open_stream(None)).await.unwrap();
    collector.do_send(batch(vec![
        quote("bitmex", QuoteKind::Fair, Some(1_000_000), 4_000_000),
        quote("bitmex", QuoteKind::Fair, Some(4_200_000), 4_000_000),
        quote("bitmex", QuoteKind::Fair, None, 4_999_000),
    ]));
    let stats = collector.send(GetStats).await.unwrap();
    assert_eq!(clock.reads.load(SeqCst), 1, "one read for a batch of three");
    let [fair] = stats.latency.series.as_slice() else {
        panic!("one series: {:?}", stats.latency.series)
    };
    assert_eq!(fair.quotes, 3);
    assert_eq!((fair.feed.count, fair.feed.negative), (1, 1));
    assert_eq!(fair.feed.max_nanos, 3_000_000);
    assert_eq!(fair.feed.most_negative_nanos, -200_000);
    assert_eq!(fair.internal.count, 3);
    assert_eq!(fair.internal.max_nanos, 1_000_000);
    assert_eq!(fair.internal.sum_nanos, 1_000_000 + 1_000_000 + 1_000);
}

#[actix::test]
async fn only_quotes_handed_to_a_sink_are_recorded() {
    let collector = Collector::new().start();
    let three = || vec![quote("bitmex", QuoteKind::Fair, None, 0); 3];
    collector.do_send(batch(three()));
    let stats = collector.send(GetStats).await.unwrap();
    assert_eq!(
        (stats.quotes, stats.latency.series.len()),
        (3, 0),
        "no sink"
    );
    // A stream of two: the third quote of the batch goes to nobody.
    let _stream = collector.send(open_stream(Some(2))).await.unwrap();
    collector.do_send(batch(three()));
    let stats = collector.send(GetStats).await.unwrap();
    assert_eq!(stats.latency.series[0].quotes, 2);
    assert_eq!(stats.latency.series[0].internal.count, 2);
}
