//! Every exchange's own in-band rate limit, end to end: `collector sim
//! EXCHANGE --rate-limit-after 3 --retry-after 2` sends the venue's
//! rate-limit frame ([`Venue::fault_frame`](mercury_core::Venue)) on its
//! first connection, and `collector fetch EXCHANGE SYMBOL --url …` reads it
//! as a retryable error with its wait: it reconnects no sooner than 2 s
//! later and then gets its quotes.
//!
//! Regression (issue #13): the simulator sent BitMEX's 429 to every
//! client, which Binance and Bybit could not read, so they reconnected
//! after ~26 ms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_simulator::{read_log, sent_by_connection};
use mercury_tests::{SimProcess, collector, run_bounded};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(2);

/// Fetches `n` quotes of `symbol` from a simulator of `exchange` whose
/// first connection is rate-limited after 3 frames; returns how long it
/// took and how many connections the simulator saw.
fn fetch_through_a_rate_limit(exchange: &str, symbol: &str, n: usize) -> (Duration, usize) {
    let mut sim = SimProcess::start_for(
        exchange,
        &format!("rate-limit-{exchange}"),
        &[
            "--rate-limit-after",
            "3",
            "--retry-after",
            "2",
            "--faulty-connections",
            "1",
        ],
    );
    let started = Instant::now();
    let mut command = collector();
    command
        .args(["fetch", exchange, symbol, "-n", &n.to_string()])
        .args(["--url", sim.url(), "--format", "json", "--timeout", "20"]);
    let out = run_bounded(&mut command, Duration::from_secs(40));
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(lines, n, "{stderr}");
    let log = read_log(sim.stop_and_log()).unwrap();
    (elapsed, sent_by_connection(&log).len())
}

#[test]
fn binance_waits_for_its_rate_limit() {
    let (elapsed, connections) = fetch_through_a_rate_limit("binance", "BTCUSDT", 3);
    assert_eq!(connections, 2);
    assert!(
        elapsed >= WAIT && elapsed < Duration::from_secs(15),
        "took {elapsed:?}"
    );
}

#[test]
fn bybit_waits_for_its_rate_limit() {
    let (elapsed, connections) = fetch_through_a_rate_limit("bybit", "BTCUSDT", 3);
    assert_eq!(connections, 2);
    assert!(
        elapsed >= WAIT && elapsed < Duration::from_secs(15),
        "took {elapsed:?}"
    );
}

#[test]
fn bitmex_still_waits_for_its_rate_limit() {
    let (elapsed, connections) = fetch_through_a_rate_limit("bitmex", "XBTUSD", 3);
    assert_eq!(connections, 2);
    assert!(
        elapsed >= WAIT && elapsed < Duration::from_secs(15),
        "took {elapsed:?}"
    );
}

#[test]
fn krakenfutures_waits_for_its_rate_limit() {
    let (elapsed, connections) = fetch_through_a_rate_limit("krakenfutures", "PF_XBTUSD", 3);
    assert_eq!(connections, 2);
    assert!(
        elapsed >= WAIT && elapsed < Duration::from_secs(15),
        "took {elapsed:?}"
    );
}
