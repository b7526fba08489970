//! `collector fetch bitmex:XBTUSD binance:BTCUSDT`: one connector per
//! exchange, merged by the collector — against both simulators as
//! processes, healthy, with one exchange reconnecting, and with one failing
//! for good.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_tests::oracle::sent;
use mercury_tests::{SimProcess, collector, run_bounded};
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

fn fetch(bitmex: &SimProcess, binance: &SimProcess, n: usize) -> Output {
    let mut command = collector();
    command
        .args([
            "fetch",
            "bitmex:XBTUSD",
            "binance:BTCUSDT",
            "-n",
            &n.to_string(),
        ])
        .args(["--url", &format!("bitmex={}", bitmex.url())])
        .args(["--url", &format!("binance={}", binance.url())])
        .args(["--format", "json", "--heartbeat", "0.3", "--timeout", "20"]);
    run_bounded(&mut command, Duration::from_secs(40))
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The prices of one exchange in the output, in order.
fn prices_of(lines: &[Value], exchange: &str) -> Vec<Price> {
    lines
        .iter()
        .filter(|l| l["exchange"] == exchange)
        .map(|l| l["price"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Every line's exchange, in order, then each exchange's prices against
/// what its simulator sent (a prefix of it, connection after connection).
fn assert_merged(out: &Output, bitmex: &mut SimProcess, binance: &mut SimProcess, n: usize) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines = lines(out);
    assert_eq!(lines.len(), n);
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=n as u64).collect::<Vec<_>>(),
        "one global sequence"
    );
    let bitmex_prices = prices_of(&lines, "bitmex");
    let binance_prices = prices_of(&lines, "binance");
    assert!(
        !bitmex_prices.is_empty() && !binance_prices.is_empty(),
        "both exchanges"
    );
    let sent_bitmex: Vec<Price> = sent("bitmex", "XBTUSD", bitmex.stop_and_log())
        .into_values()
        .flatten()
        .collect();
    assert_eq!(bitmex_prices[..], sent_bitmex[..bitmex_prices.len()]);
    let sent_binance: Vec<Price> = sent("binance", "BTCUSDT", binance.stop_and_log())
        .into_values()
        .flatten()
        .collect();
    assert_eq!(binance_prices[..], sent_binance[..binance_prices.len()]);
    for line in &lines {
        let kind = if line["exchange"] == "bitmex" {
            "fair"
        } else {
            "mark"
        };
        assert_eq!(line["kind"], kind, "each exchange's default kind");
    }
}

#[test]
fn two_exchanges_merge_into_one_ordered_stream() {
    let mut bitmex = SimProcess::start("multi-bitmex", &["--fair-interval", "0.05"]);
    let mut binance =
        SimProcess::start_for("binance", "multi-binance", &["--fair-interval", "0.05"]);
    let out = fetch(&bitmex, &binance, 20);
    assert_merged(&out, &mut bitmex, &mut binance, 20);
}

#[test]
fn one_exchange_reconnecting_does_not_disturb_the_other() {
    // BitMEX slower, so that Binance is back well before 40 quotes.
    let mut bitmex = SimProcess::start("multi-ok", &["--fair-interval", "0.1"]);
    let mut binance = SimProcess::start_for(
        "binance",
        "multi-drop",
        &[
            "--fair-interval",
            "0.05",
            "--drop-after",
            "12",
            "--faulty-connections",
            "1",
        ],
    );
    let out = fetch(&bitmex, &binance, 40);
    let gaps: Vec<Value> = lines(&out)
        .into_iter()
        .filter(|l| l.get("after_gap").is_some())
        .collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["exchange"], "binance");
    assert_merged(&out, &mut bitmex, &mut binance, 40);
    let connections = sent("binance", "BTCUSDT", binance.stop_and_log()).len();
    assert_eq!(connections, 2);
}

#[test]
fn one_exchange_failing_for_good_ends_the_fetch_saying_which() {
    let bitmex = SimProcess::start("multi-healthy", &["--fair-interval", "0.05"]);
    let binance = SimProcess::start_for("binance", "multi-200", &["--http-200"]);
    let out = fetch(&bitmex, &binance, 20);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error_lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(
        error_lines[0].starts_with("error: ") && error_lines[0].contains("HTTP 200"),
        "{stderr}"
    );
    assert!(
        error_lines[0].contains(binance.url()),
        "names the failing endpoint: {stderr}"
    );
    // Whatever arrived before is printed, and it is all BitMEX's.
    assert!(lines(&out).iter().all(|l| l["exchange"] == "bitmex"));
}
