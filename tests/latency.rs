//! Latency for users (issue #18), through real processes: `collector serve
//! --sim` exposes feed and internal latency histograms per exchange and
//! kind in `/metrics`, and `collector fetch --stats` sums them up on
//! stderr, leaving stdout pure data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::recorded::terminate;
use mercury_tests::{Fetched, collector, drain, scrape};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// One series of a histogram: its buckets (`le` text, cumulative count)
/// in the order printed, `_sum` and `_count`.
#[derive(Debug, Default)]
struct Histogram {
    buckets: Vec<(String, u64)>,
    sum: Option<f64>,
    count: Option<u64>,
}

/// `labels` without its `le`, and the `le` value, of `{exchange="…",kind="…",le="…"}`.
fn split_le(labels: &str) -> (String, Option<String>) {
    match labels.split_once(",le=\"") {
        Some((rest, le)) => (rest.to_string(), Some(le.trim_end_matches('"').to_string())),
        None => (labels.to_string(), None),
    }
}

/// Every series of histogram `name`, by its labels.
fn histograms(body: &str, name: &str) -> BTreeMap<String, Histogram> {
    let mut found: BTreeMap<String, Histogram> = BTreeMap::new();
    for line in body.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let Some((suffix, rest)) = rest.split_once('{') else {
            continue;
        };
        let (labels, value) = rest.rsplit_once("} ").unwrap();
        let (labels, le) = split_le(labels);
        let series = found.entry(labels).or_default();
        match (suffix, le) {
            ("_bucket", Some(le)) => series.buckets.push((le, value.parse().unwrap())),
            ("_sum", None) => series.sum = Some(value.parse().unwrap()),
            ("_count", None) => series.count = Some(value.parse().unwrap()),
            other => panic!("unexpected line {line:?} ({other:?})"),
        }
    }
    found
}

/// Buckets cumulative and monotone, `le` increasing to `+Inf`, which
/// equals `_count`; returns the count.
fn check_histogram(labels: &str, h: &Histogram) -> u64 {
    let count = h.count.unwrap_or_else(|| panic!("{labels}: no _count"));
    assert!(h.sum.is_some_and(|s| s >= 0.0), "{labels}: _sum {h:?}");
    let (last_le, last) = h.buckets.last().unwrap();
    assert_eq!(last_le, "+Inf", "{labels}");
    assert_eq!(*last, count, "{labels}: +Inf bucket is _count");
    for pair in h.buckets.windows(2) {
        let ((le_a, a), (le_b, b)) = (&pair[0], &pair[1]);
        assert!(a <= b, "{labels}: cumulative: {le_a}={a} then {le_b}={b}");
        if le_b != "+Inf" {
            let (a, b): (f64, f64) = (le_a.parse().unwrap(), le_b.parse().unwrap());
            assert!(a < b, "{labels}: le increasing");
        }
    }
    assert_eq!(h.buckets.len(), 26, "{labels}: 25 bounds and +Inf");
    assert_eq!(h.buckets[0].0, "0.000001", "1 µs first");
    assert_eq!(h.buckets[24].0, "60", "60 s last");
    count
}

/// The value of a single sample `name{labels}` in a Prometheus text body.
fn sample(body: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    body.lines()
        .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
}

/// The sum of `mercury_quotes_total` over the connections of `exchange`.
fn quotes_of(body: &str, exchange: &str) -> u64 {
    let prefix = format!("mercury_quotes_total{{exchange=\"{exchange}\",");
    body.lines()
        .filter(|line| line.starts_with(&prefix))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Starts `collector serve --sim` on 127.0.0.1:0; returns it and its page.
fn serve(targets: &[&str]) -> (Child, String, std::thread::JoinHandle<Vec<u8>>) {
    let mut serve = collector()
        .args([
            "serve",
            "--sim",
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "90",
        ])
        .args(targets)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(serve.stderr.take());
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = serve.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) if line.starts_with("http://127.0.0.1:") => {
            (serve, line.trim().to_owned(), stderr)
        }
        other => {
            let _ = serve.kill();
            let _ = serve.wait();
            panic!("serve did not print its URL: {other:?}");
        }
    }
}

#[test]
fn serve_metrics_has_latency_histograms_per_exchange_and_kind() {
    let (mut serve, page, stderr) = serve(&["bitmex:XBTUSD", "binance:BTCUSDT"]);
    let series = [
        ("bitmex", "exchange=\"bitmex\",kind=\"fair\""),
        ("binance", "exchange=\"binance\",kind=\"mark\""),
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let body = scrape(&page, "metrics").unwrap_or_default();
        let internal = histograms(&body, "mercury_internal_latency_seconds");
        let enough = series.iter().all(|(_, labels)| {
            internal
                .get(*labels)
                .and_then(|h| h.count)
                .is_some_and(|n| n >= 5)
        });
        if enough {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no latency within 30 s; last /metrics:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(body.contains("# TYPE mercury_feed_latency_seconds histogram"));
    assert!(body.contains("# TYPE mercury_internal_latency_seconds histogram"));
    assert!(body.contains("# TYPE mercury_feed_latency_negative_total counter"));
    let feed = histograms(&body, "mercury_feed_latency_seconds");
    let internal = histograms(&body, "mercury_internal_latency_seconds");
    assert_eq!(feed.len(), 2, "one series per (exchange, kind): {body}");
    assert_eq!(internal.len(), 2, "{body}");
    for (exchange, labels) in series {
        let internal_count = check_histogram(labels, &internal[labels]);
        let feed_count = check_histogram(labels, &feed[labels]);
        let negative = sample(&body, "mercury_feed_latency_negative_total", labels)
            .unwrap_or_else(|| panic!("{labels}: no negative counter in\n{body}"));
        // The same snapshot: every quote received was handed to the
        // dashboard, and each sim quote carries an exchange time.
        assert_eq!(internal_count, quotes_of(&body, exchange), "{body}");
        assert_eq!(feed_count + negative as u64, internal_count, "{body}");
        assert!(feed_count > 0, "{labels}: {body}");
    }
    assert!(
        body.lines()
            .any(|l| l == "mercury_latency_series_over_limit_total 0"),
        "{body}"
    );
    let status = terminate(&mut serve);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// `latency EXCHANGE KIND: N quotes; …` lines of stderr, as (exchange, kind, N).
fn latency_lines(stderr: &str) -> Vec<(String, String, u64)> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("latency ")?;
            let (name, rest) = rest.split_once(": ")?;
            let (exchange, kind) = name.split_once(' ')?;
            let count = rest.split_once(" quotes; feed p50 ")?.0.parse().ok()?;
            assert!(rest.contains("; internal p50 "), "{line}");
            assert!(rest.contains(" negative"), "{line}");
            Some((exchange.to_string(), kind.to_string(), count))
        })
        .collect()
}

#[test]
fn fetch_stats_prints_a_latency_line_per_exchange_and_kind_on_stderr() {
    let fetched = Fetched::run(
        collector().args([
            "fetch",
            "--sim",
            "bitmex:XBTUSD",
            "binance:BTCUSDT",
            "-n",
            "20",
            "--format",
            "json",
            "--stats",
        ]),
        Duration::from_secs(60),
    );
    let stderr = fetched.stderr();
    assert_eq!(fetched.out.status.code(), Some(0), "{stderr}");
    // stdout stays pure data: every line a quote.
    let printed = fetched.lines();
    assert_eq!(printed.len(), 20);
    let stdout = String::from_utf8(fetched.out.stdout.clone()).unwrap();
    assert!(!stdout.contains("latency"), "{stdout}");
    let lines = latency_lines(&stderr);
    assert_eq!(lines.len(), 2, "one line per (exchange, kind): {stderr}");
    for (exchange, kind, count) in &lines {
        let of_pair = printed
            .iter()
            .filter(|q| q["exchange"] == exchange.as_str() && q["kind"] == kind.as_str())
            .count() as u64;
        assert_eq!(*count, of_pair, "{exchange} {kind}: {stderr}");
    }
    assert_eq!(lines.iter().map(|l| l.2).sum::<u64>(), 20, "{stderr}");

    // Without --stats: no summary.
    let plain = Fetched::run(
        collector().args([
            "fetch",
            "--sim",
            "bitmex:XBTUSD",
            "-n",
            "3",
            "--format",
            "json",
        ]),
        Duration::from_secs(60),
    );
    assert_eq!(plain.out.status.code(), Some(0), "{}", plain.stderr());
    assert!(
        latency_lines(&plain.stderr()).is_empty(),
        "{}",
        plain.stderr()
    );
}
