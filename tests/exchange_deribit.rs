//! Deribit's heartbeat, end to end: the real `collector fetch` process
//! against the real `collector sim deribit` process.
//!
//! - The server drives the heartbeat: after `public/set_heartbeat` it sends
//!   a `test_request` every interval and closes a client that leaves one
//!   unanswered. On a quiet link (a ticker every 2 s, a `test_request`
//!   every 0.3 s, nothing else from the client) fetch answers every one, so
//!   the one connection stays up to the end.
//! - A server that stops sending anything (the simulator's stall, which
//!   also stops its `test_request`s) is still noticed, by mercury's own
//!   idle heartbeat (`public/test`), and the fetch resumes on a new
//!   connection.
//!
//! - Deribit's `10028 too_many_requests` (with the simulator's wait) is
//!   waited for, then the fetch resumes.
//!
//! The generic faults (drop, stall, rate limit over ws:// and wss://) run
//! for every exchange elsewhere; this file holds what is Deribit's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::{Fetched, SimProcess, collector};
use serde_json::Value;
use std::time::Duration;

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);
/// The `test_request` the simulator sends.
const TEST_REQUEST: &str =
    r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#;

/// `collector fetch deribit BTC-PERPETUAL -n N` against `sim`, JSON output.
fn fetch(sim: &SimProcess, n: usize, extra: &[&str]) -> Fetched {
    let mut command = collector();
    command
        .args(["fetch", "deribit", "BTC-PERPETUAL", "-n", &n.to_string()])
        .args(["--url", sim.url(), "--format", "json", "--timeout", "25"])
        .args(extra);
    Fetched::run(&mut command, LIMIT)
}

/// The simulator's log: (connection, event, frame) per line.
fn log(sim: &mut SimProcess) -> Vec<(u64, String, String)> {
    let text = std::fs::read_to_string(sim.stop_and_log()).unwrap();
    text.lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            (
                entry["connection"].as_u64().unwrap(),
                entry["event"].as_str().unwrap().to_owned(),
                entry["frame"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn test_requests_on_a_quiet_link_are_answered_and_the_connection_kept() {
    let mut sim = SimProcess::start_for(
        "deribit",
        "deribit-quiet",
        &[
            "--fair-interval",
            "2",
            "--frames-per-quote",
            "1",
            "--heartbeat-interval",
            "0.3",
        ],
    );
    let fetched = fetch(&sim, 3, &[]);
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.prices().len(), 3, "{}", fetched.stderr());
    assert!(
        fetched.gaps().is_empty(),
        "no reconnect: {}",
        fetched.stderr()
    );
    let log = log(&mut sim);
    let requests = (log.iter())
        .filter(|(_, event, frame)| event == "sent" && frame == TEST_REQUEST)
        .count();
    // About 4 s at one every 0.3 s, each answered or the next would close.
    assert!(requests >= 8, "only {requests} test_requests: {log:?}");
    assert!(
        log.iter().all(|(c, event, _)| *c == 1 && event != "closed"),
        "one connection, never closed by the venue: {log:?}"
    );
}

#[test]
fn a_server_that_stops_sending_anything_is_noticed_and_left() {
    let mut sim = SimProcess::start_for(
        "deribit",
        "deribit-stall",
        &[
            "--stall-after",
            "6",
            "--faulty-connections",
            "1",
            "--heartbeat-interval",
            "0.3",
        ],
    );
    // mercury's idle heartbeat at 0.2 s (public/test), dead 0.2 s later.
    let fetched = fetch(&sim, 8, &["--heartbeat", "0.2"]);
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.prices().len(), 8);
    assert_eq!(
        fetched.gaps().len(),
        1,
        "one reconnect: {}",
        fetched.stderr()
    );
    let log = log(&mut sim);
    assert!(
        log.iter()
            .any(|(c, event, _)| *c == 1 && event == "stalled"),
        "{log:?}"
    );
    assert!(log.iter().any(|(c, _, _)| *c == 2), "a second connection");
}

#[test]
fn the_in_band_too_many_requests_is_waited_for_then_resumed() {
    let mut sim = SimProcess::start_for(
        "deribit",
        "deribit-rate-limit",
        &[
            "--rate-limit-after",
            "3",
            "--retry-after",
            "2",
            "--faulty-connections",
            "1",
        ],
    );
    let started = std::time::Instant::now();
    let fetched = fetch(&sim, 3, &[]);
    let elapsed = started.elapsed();
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.prices().len(), 3);
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(15),
        "took {elapsed:?}"
    );
    let log = log(&mut sim);
    let limited = (log.iter())
        .any(|(c, event, frame)| *c == 1 && event == "sent" && frame.contains(r#""code":10028"#));
    assert!(limited, "{log:?}");
    assert!(log.iter().any(|(c, _, _)| *c == 2), "a second connection");
}

/// Against the real exchange: every kind, then 35 s on one connection, so
/// that the real server's `test_request`s (every 10 s after our
/// `set_heartbeat`) must have been answered:
/// `MERCURY_LIVE=1 cargo test -p mercury-tests --test exchange_deribit -- --ignored live`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_deribit_every_kind_and_a_connection_kept_past_three_heartbeats() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach wss://www.deribit.com");
        return;
    }
    let live = |kind: &str, n: &str| {
        let mut command = collector();
        command
            .args(["fetch", "deribit", "BTC-PERPETUAL", "--kind", kind, "-n", n])
            .args(["--format", "json", "--timeout", "60"]);
        Fetched::run(&mut command, Duration::from_secs(90))
    };
    for kind in ["mark", "index", "last", "bid", "ask"] {
        let fetched = live(kind, "3");
        assert_eq!(
            fetched.out.status.code(),
            Some(0),
            "{kind}: {}",
            fetched.stderr()
        );
        assert_eq!(fetched.prices().len(), 3, "{kind}");
    }
    let started = std::time::Instant::now();
    let fetched = live("mark", "350");
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert!(
        started.elapsed() > Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(
        fetched.gaps().is_empty(),
        "no reconnect: {}",
        fetched.stderr()
    );
}
