//! OKX end to end, what is OKX's own: its text heartbeat. The real
//! `collector fetch okx …` process against the real `collector sim okx`
//! process (127.0.0.1): a quiet link is kept open by `ping`/`pong` (OKX
//! cuts one after 30 s without data), and a link that stops answering is
//! found dead by the same heartbeat and replaced. The generic suites (every
//! registered exchange over ws:// and wss://, drops, stalls, the in-band
//! rate limit) are elsewhere. Plus the live test against the real OKX
//! (`MERCURY_LIVE=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use mercury_tests::{Fetched, SimProcess, collector};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

/// `collector fetch okx SYMBOL -n N` against `sim`, JSON output, pinging
/// after `heartbeat` seconds of silence (and dead as long after).
fn fetch(sim: &SimProcess, symbol: &str, n: usize, heartbeat: &str) -> Fetched {
    let mut command = collector();
    command
        .args([
            "fetch",
            "okx",
            symbol,
            "-n",
            &n.to_string(),
            "--url",
            sim.url(),
        ])
        .args([
            "--format",
            "json",
            "--heartbeat",
            heartbeat,
            "--timeout",
            "30",
        ]);
    Fetched::run(&mut command, LIMIT)
}

/// Per connection, the frames the simulator sent.
fn frames(log: &Path) -> BTreeMap<u64, Vec<String>> {
    let log = read_log(log).unwrap();
    sent_by_connection(&log)
        .into_iter()
        .map(|(connection, frames)| (connection, frames.into_iter().map(str::to_owned).collect()))
        .collect()
}

/// The mark prices in `frames`, read with `serde_json` (not the codec).
fn marks(frames: &[String]) -> Vec<Price> {
    frames
        .iter()
        .filter_map(|frame| serde_json::from_str::<Value>(frame).ok())
        .filter(|frame| frame["arg"]["channel"] == "mark-price" && frame["data"].is_array())
        .map(|frame| {
            frame["data"][0]["markPx"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_quiet_link_is_kept_open_by_text_pings() {
    // A mark price every 1.5 s and nothing between: silence of 1.5 s, five
    // times the 0.3 s after which the client pings, and twice as long as
    // the client's whole deadline (ping + 0.3 s) — only pongs keep it up.
    let mut sim = SimProcess::start_for("okx", "okx-quiet", &["--fair-interval", "1.5"]);
    let fetched = fetch(&sim, "BTC-USDT-SWAP", 3, "0.3");
    let stderr = fetched.stderr();
    assert_eq!(fetched.out.status.code(), Some(0), "{stderr}");
    let sent = frames(sim.stop_and_log());
    assert_eq!(sent.len(), 1, "one connection, never replaced: {stderr}");
    let pongs = sent[&1].iter().filter(|f| *f == "pong").count();
    assert!(pongs >= 4, "{pongs} pongs: the client pinged too little");
    assert_eq!(fetched.prices(), marks(&sent[&1])[..3]);
    assert!(fetched.gaps().is_empty());
}

#[test]
fn a_link_that_stops_answering_pings_is_replaced() {
    // The first connection goes silent after 4 frames (the ack and three
    // pushes) and ignores pings; the heartbeat finds it dead and the
    // second connection brings the rest.
    let mut sim = SimProcess::start_for(
        "okx",
        "okx-dead",
        &[
            "--fair-interval",
            "0.2",
            "--stall-after",
            "4",
            "--faulty-connections",
            "1",
        ],
    );
    let fetched = fetch(&sim, "BTC-USDT-SWAP", 6, "0.3");
    let stderr = fetched.stderr();
    assert_eq!(fetched.out.status.code(), Some(0), "{stderr}");
    let sent = frames(sim.stop_and_log());
    assert_eq!(sent.len(), 2, "{stderr}");
    let first = marks(&sent[&1]);
    assert_eq!(first.len(), 3);
    assert!(
        !sent[&1].iter().any(|f| f == "pong"),
        "the stalled link answered"
    );
    let mut expected = first.clone();
    expected.extend(marks(&sent[&2]).into_iter().take(3));
    assert_eq!(fetched.prices(), expected);
    assert_eq!(
        fetched.gaps(),
        [3],
        "the first quote of the new link is after a gap"
    );
}

#[test]
fn collector_exchanges_lists_okx_with_its_kinds() {
    let out = collector().arg("exchanges").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("okx"))
        .unwrap_or_else(|| panic!("{text}"));
    for word in ["mark", "index", "last", "bid", "ask"] {
        assert!(text.contains(word), "{word}: {line}");
    }
    assert!(
        text.contains("wss://ws.okx.com:8443/ws/v5/public"),
        "{text}"
    );
}

/// Against the real OKX:
/// `MERCURY_LIVE=1 cargo test -p mercury-tests --test exchange_okx -- --ignored live`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_okx_every_kind() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach wss://ws.okx.com:8443");
        return;
    }
    // The swap's mark, last and book; the index under its own name.
    for (symbol, kind) in [
        ("BTC-USDT-SWAP", "mark"),
        ("BTC-USDT-SWAP", "last"),
        ("BTC-USDT-SWAP", "bid"),
        ("BTC-USDT-SWAP", "ask"),
        ("BTC-USDT", "index"),
    ] {
        let mut command = collector();
        command.args(["fetch", "okx", symbol, "--kind", kind, "-n", "3"]);
        command.args(["--format", "json", "--timeout", "90"]);
        let fetched = Fetched::run(&mut command, Duration::from_secs(120));
        assert_eq!(
            fetched.out.status.code(),
            Some(0),
            "{kind}: {}",
            fetched.stderr()
        );
        let lines = fetched.lines();
        assert_eq!(lines.len(), 3, "{kind}");
        for line in lines {
            assert_eq!(
                (line["symbol"].as_str(), line["kind"].as_str()),
                (Some(symbol), Some(kind))
            );
            assert!(line["price"].as_str().unwrap().parse::<Price>().is_ok());
        }
    }
}
