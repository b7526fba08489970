//! The coverage ledger against injected faults, as processes: `collector
//! record` against the BitMEX, Binance and Bybit simulators, each ending
//! its first three connections with a different fault in turn (a TCP drop,
//! the exchange's own 429, a stall), then SIGTERM. Per exchange, the
//! ledger's gaps are the faults the simulator's log says it injected —
//! as many, in order, with the matching kind — each gap ends at the
//! `received_at` of the quote marked `after_gap`, and every subscription
//! ends with cause `shutdown`; and every quote each simulator sent is in
//! the files once, in order per connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{Price, Timestamp};
use mercury_simulator::{LogEvent, read_log};
use mercury_tests::SimProcess;
use mercury_tests::recorded::{assert_connection_by_connection, files_under, lines_of, record_for};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Each connection's ending fault, as the simulator logged it, in order.
fn injected(log: &Path) -> Vec<(u64, &'static str)> {
    let mut ending: BTreeMap<u64, Option<&'static str>> = BTreeMap::new();
    for entry in read_log(log).unwrap() {
        let kind = match entry.event {
            LogEvent::Dropped => Some("drop"),
            LogEvent::Stalled => Some("stall"),
            // Only the rate-limit fault closes here: its 429 frame, then Close.
            LogEvent::Closed { .. } => Some("rate_limit"),
            _ => None,
        };
        let slot = ending.entry(entry.connection).or_default();
        if kind.is_some() {
            *slot = kind;
        }
    }
    ending
        .into_iter()
        .filter_map(|(connection, kind)| Some((connection, kind?)))
        .collect()
}

fn ms(ns: i128) -> i128 {
    ns.div_euclid(1_000_000)
}

#[test]
fn the_ledgers_gaps_are_the_faults_the_simulators_injected() {
    let faults = [
        "--drop-after",
        "30",
        "--rate-limit-after",
        "30",
        "--stall-after",
        "30",
        "--rotate-faults",
        "--faulty-connections",
        "3",
        "--fair-interval",
        "0.05",
    ];
    let targets = [
        ("bitmex", "XBTUSD", "fair"),
        ("binance", "BTCUSDT", "mark"),
        ("bybit", "BTCUSDT", "mark"),
    ];
    let mut sims: Vec<SimProcess> = targets
        .iter()
        .map(|(exchange, ..)| {
            SimProcess::start_for(exchange, &format!("ledger-{exchange}"), &faults)
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = targets.iter().map(|(e, s, _)| format!("{e}:{s}")).collect();
    for ((exchange, ..), sim) in targets.iter().zip(&sims) {
        args.extend(["--url".to_owned(), format!("{exchange}={}", sim.url())]);
    }
    // A stall is noticed after 1 s of silence and 1 s without a pong.
    args.extend(["--heartbeat", "1", "--backoff-seed", "7"].map(str::to_owned));
    let output = record_for(&args, out.path(), Duration::from_secs(14));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let ledgers = files_under(&out.path().join("ledger"));
    assert_eq!(ledgers.len(), 1, "one ledger per run: {ledgers:?}");
    assert!(ledgers[0].to_string_lossy().ends_with(".jsonl"), "finished");
    let ledger = lines_of(&ledgers[0]);
    for ((exchange, symbol, kind), sim) in targets.iter().zip(&mut sims) {
        let mine: Vec<&Value> = ledger
            .iter()
            .filter(|l| l["exchange"] == *exchange && l["symbol"] == *symbol && l["kind"] == *kind)
            .collect();
        let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
        assert_eq!(events.first(), Some(&"covered"), "{exchange}: {events:?}");
        assert_eq!(mine.last().unwrap()["event"], "end", "{exchange}");
        assert_eq!(mine.last().unwrap()["cause"], "shutdown", "{exchange}");

        let log = sim.stop_and_log().to_owned();
        let injected = injected(&log);
        let connections = read_log(&log)
            .unwrap()
            .iter()
            .map(|e| e.connection)
            .max()
            .unwrap();
        // Faults of connections that were followed by another: each one a
        // gap that ended with quotes flowing again.
        let recovered: Vec<&str> = injected
            .iter()
            .filter(|(c, _)| *c < connections)
            .map(|(_, kind)| *kind)
            .collect();
        assert!(
            recovered.len() == 3,
            "{exchange}: all three faults and a fourth connection within the run: {injected:?}"
        );
        let starts: Vec<&&Value> = mine.iter().filter(|l| l["event"] == "gap_start").collect();
        let ends: Vec<&&Value> = mine.iter().filter(|l| l["event"] == "gap_end").collect();
        let resumed: Vec<&&&Value> = ends.iter().filter(|l| l["cause"] == "resumed").collect();
        let kinds: Vec<&str> = starts
            .iter()
            .take(resumed.len())
            .map(|l| l["error_kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, recovered, "{exchange}: {mine:?}");
        assert!(
            starts.iter().all(|l| l["cause"] == "reconnect"),
            "{exchange}"
        );
        // A fault of the last connection, noticed before the stop, is a
        // gap that the shutdown ended.
        assert!(
            starts.len() <= resumed.len() + 1 && ends.len() == starts.len(),
            "{exchange}: {mine:?}"
        );
        if starts.len() > resumed.len() {
            assert_eq!(ends.last().unwrap()["cause"], "shutdown");
        }

        // Each gap ends at the quote marked after_gap.
        let quotes: Vec<Value> = files_under(&out.path().join(exchange).join(symbol).join(kind))
            .iter()
            .flat_map(|f| lines_of(f))
            .collect();
        let after_gap: Vec<i128> = quotes
            .iter()
            .filter(|q| q["after_gap"] == true)
            .map(|q| {
                q["received_at"]
                    .as_str()
                    .unwrap()
                    .parse::<Timestamp>()
                    .unwrap()
                    .unix_nanos()
            })
            .map(ms)
            .collect();
        let gap_ends: Vec<i128> = resumed
            .iter()
            .map(|l| ms(i128::from(l["at_ns"].as_i64().unwrap())))
            .collect();
        assert_eq!(gap_ends, after_gap, "{exchange}");
        for l in &resumed {
            assert!(l["gap_ns"].as_u64().unwrap() > 0);
        }
        // Across the three faults, every quote the simulator sent is in the
        // files once, in order per connection.
        let sent: Vec<Vec<Price>> = mercury_tests::oracle::sent(exchange, symbol, &log)
            .into_values()
            .filter(|p| !p.is_empty())
            .collect();
        let prices: Vec<Price> = quotes
            .iter()
            .map(|q| q["price"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_connection_by_connection(&prices, &sent, exchange);
    }
}
