//! Hyperliquid end to end: the real `collector fetch` process against the
//! real `collector sim hyperliquid` process, for what is Hyperliquid's own,
//! its heartbeat (`{"method":"ping"}` → `{"channel":"pong"}`): a quiet link
//! is kept open by pings and pongs, a dead one is noticed and replaced.
//! The generic checks (ws:// and wss://, drop, stall, in-band rate limit)
//! run for every registered exchange elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_tests::{Fetched, SimProcess, collector};
use serde_json::Value;
use std::time::Duration;

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

/// `collector fetch hyperliquid BTC -n N` (mark) against `sim`, JSON output.
fn fetch(sim: &SimProcess, n: usize, heartbeat: &str) -> Fetched {
    let n = n.to_string();
    let mut command = collector();
    command
        .args(["fetch", "hyperliquid", "BTC", "-n", &n, "--url", sim.url()])
        .args(["--format", "json", "--heartbeat", heartbeat])
        .args(["--timeout", "30"]);
    Fetched::run(&mut command, LIMIT)
}

/// (connection, frame) of every frame the simulator sent.
fn sent(sim: &mut SimProcess) -> Vec<(u64, String)> {
    std::fs::read_to_string(sim.stop_and_log())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|entry| entry["event"] == "sent")
        .map(|entry| {
            let connection = entry["connection"].as_u64().unwrap();
            (connection, entry["frame"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The mark prices the simulator sent on `connection`, in order.
fn marks(sent: &[(u64, String)], connection: u64) -> Vec<Price> {
    sent.iter()
        .filter(|(c, _)| *c == connection)
        .filter_map(|(_, frame)| {
            let frame: Value = serde_json::from_str(frame).ok()?;
            (frame["channel"] == "activeAssetCtx")
                .then(|| frame["data"]["ctx"]["markPx"].as_str()?.parse().ok())
                .flatten()
        })
        .collect()
}

#[test]
fn a_quiet_link_is_kept_open_by_pings_and_pongs() {
    // One asset context every 2 s; the client pings after 0.3 s of silence.
    let mut sim = SimProcess::start_for(
        "hyperliquid",
        "hyperliquid-quiet",
        &["--fair-interval", "2", "--frames-per-quote", "1"],
    );
    let fetched = fetch(&sim, 3, "0.3");
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.gaps(), Vec::<usize>::new(), "no reconnect");
    let sent = sent(&mut sim);
    assert!(sent.iter().all(|(c, _)| *c == 1), "one connection");
    let pongs = sent
        .iter()
        .filter(|(_, f)| f == r#"{"channel":"pong"}"#)
        .count();
    assert!(pongs >= 4, "{pongs} pongs in about 4 s of silence");
    assert_eq!(fetched.prices(), marks(&sent, 1)[..3]);
}

#[test]
fn a_dead_link_is_noticed_by_its_missing_pong_and_replaced() {
    // The first connection goes silent after its 4th frame and ignores pings.
    let mut sim = SimProcess::start_for(
        "hyperliquid",
        "hyperliquid-dead",
        &[
            "--fair-interval",
            "0.1",
            "--stall-after",
            "4",
            "--faulty-connections",
            "1",
        ],
    );
    let fetched = fetch(&sim, 6, "0.3");
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    let sent = sent(&mut sim);
    let first = marks(&sent, 1);
    assert!(!first.is_empty() && first.len() < 6, "{first:?}");
    assert!(
        !sent
            .iter()
            .any(|(c, f)| *c == 1 && f == r#"{"channel":"pong"}"#),
        "the stalled connection answered no ping"
    );
    // Every mark of the first connection, then the second's from its image.
    let mut expected = first.clone();
    expected.extend(marks(&sent, 2));
    assert_eq!(fetched.prices(), expected[..6]);
    assert_eq!(fetched.gaps(), [first.len()], "after_gap on the new link");
}

/// Against the real exchange:
/// `MERCURY_LIVE=1 cargo test -p mercury-tests --test exchange_hyperliquid -- --ignored live`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_hyperliquid_mark_index_and_book() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach wss://api.hyperliquid.xyz/ws");
        return;
    }
    for kind in ["mark", "index", "bid", "ask", "trade"] {
        let mut command = collector();
        command.args([
            "fetch",
            "hyperliquid",
            "BTC",
            "--kind",
            kind,
            "-n",
            "3",
            "--format",
            "json",
            "--timeout",
            "90",
        ]);
        let fetched = Fetched::run(&mut command, Duration::from_secs(120));
        assert_eq!(
            fetched.out.status.code(),
            Some(0),
            "{kind}: {}",
            fetched.stderr()
        );
        let lines = fetched.lines();
        assert_eq!(lines.len(), 3, "{kind}");
        assert!(
            lines
                .iter()
                .all(|l| l["kind"] == kind && l["symbol"] == "BTC")
        );
        assert!(
            fetched.prices().iter().all(|p| p.to_string() != "0"),
            "{kind}: {:?}",
            fetched.prices()
        );
    }
}
