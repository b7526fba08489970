//! `collector record` as a process against the simulators as processes:
//! SIGTERM finishes every file; the quote files hold every quote the
//! simulators' frame logs say was sent, once and in order per connection,
//! across drops and across rotations; the raw capture holds every frame,
//! in order per connection; a write error ends the run with one line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use mercury_tests::oracle::sent;
use mercury_tests::recorded::{
    assert_connection_by_connection, assert_raw_matches, complete_frames, files_under, lines_of,
    no_partial_left, prices, quotes, record_for,
};
use mercury_tests::{SimProcess, collector, run_bounded, two_sims_dropping_once};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn record_keeps_every_quote_and_frame_once_across_drops_and_sigterm_finishes_the_files() {
    let (mut bitmex, mut binance, args) = two_sims_dropping_once("record", "0.05");
    let out = tempfile::tempdir().unwrap();
    let output = record_for(&args, out.path(), Duration::from_secs(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    no_partial_left(out.path());

    for (exchange, symbol, kind, sim) in [
        ("bitmex", "XBTUSD", "fair", &mut bitmex),
        ("binance", "BTCUSDT", "mark", &mut binance),
    ] {
        let log = sim.stop_and_log().to_owned();
        let sent: Vec<Vec<Price>> = sent(exchange, symbol, &log)
            .into_values()
            .filter(|p| !p.is_empty())
            .collect();
        assert!(
            sent.len() >= 2,
            "{exchange}: the drop made a second connection"
        );
        let lines = quotes(out.path(), &format!("{exchange}/{symbol}/{kind}"));
        let starts = assert_connection_by_connection(&prices(&lines), &sent, exchange);
        let gaps: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i]["after_gap"] == true)
            .collect();
        assert_eq!(
            gaps,
            starts[1..].to_vec(),
            "{exchange}: after_gap on each reconnection's first quote"
        );
        let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{exchange}: in arrival order"
        );
        assert_raw_matches(out.path(), exchange, &log);
    }
}

#[test]
fn rotation_every_second_loses_and_repeats_nothing() {
    let mut sim = SimProcess::start_for("bitmex", "record-rotate", &["--fair-interval", "0.02"]);
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "bitmex:XBTUSD",
        "--url",
        sim.url(),
        "--rotate",
        "1",
        "--compress",
    ]
    .map(str::to_owned)
    .into();
    let output = record_for(&args, out.path(), Duration::from_secs(4));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    no_partial_left(out.path());
    let files = files_under(&out.path().join("bitmex/XBTUSD/fair"));
    assert!(files.len() >= 3, "one file a second: {files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.to_string_lossy().ends_with(".jsonl.zst"))
    );
    let lines = quotes(out.path(), "bitmex/XBTUSD/fair");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=lines.len() as u64).collect::<Vec<_>>(),
        "every quote once, in order, across files"
    );
    let log = sim.stop_and_log().to_owned();
    let sent: Vec<Vec<Price>> = sent("bitmex", "XBTUSD", &log).into_values().collect();
    assert_connection_by_connection(&prices(&lines), &sent, "bitmex");
    assert!(files_under(&out.path().join("raw/bitmex")).len() >= 3);
    assert_raw_matches(out.path(), "bitmex", &log);
}

#[test]
fn a_directory_that_cannot_be_written_ends_the_run_with_one_line() {
    let sim = SimProcess::start_for("bitmex", "record-unwritable", &[]);
    let out = tempfile::tempdir().unwrap();
    // Root ignores permissions: a file where BitMEX's directory must go.
    std::fs::write(out.path().join("bitmex"), b"in the way").unwrap();
    let mut command = collector();
    command
        .args([
            "record",
            "bitmex:XBTUSD",
            "--url",
            sim.url(),
            "--duration",
            "20",
            "--format",
            "jsonl",
            "--out",
        ])
        .arg(out.path());
    let output = run_bounded(&mut command, Duration::from_secs(40));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: cannot create the directory ") && lines[0].contains("bitmex"),
        "{stderr}"
    );
    no_partial_left(out.path());
    let raw = files_under(&out.path().join("raw/bitmex"));
    assert_eq!(raw.len(), 1, "the raw capture is finished: {raw:?}");
    assert!(!lines_of(&raw[0]).is_empty());
}

#[test]
fn after_sigkill_the_partial_files_hold_every_flush_and_a_restart_touches_none() {
    let mut sim = SimProcess::start_for("bitmex", "record-kill", &["--fair-interval", "0.02"]);
    let out = tempfile::tempdir().unwrap();
    let start = || {
        collector()
            .args([
                "record",
                "bitmex:XBTUSD",
                "--url",
                sim.url(),
                "--compress",
                "--format",
                "jsonl",
                "--out",
            ])
            .arg(out.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    std::thread::sleep(Duration::from_secs(3));
    first.kill().unwrap(); // SIGKILL: no chance to finish anything
    first.wait().unwrap();
    let crashed: Vec<PathBuf> = files_under(out.path());
    assert!(
        !crashed.is_empty()
            && crashed
                .iter()
                .all(|p| p.to_string_lossy().ends_with(".partial")),
        "{crashed:?}"
    );
    let before: Vec<(PathBuf, Vec<u8>)> = crashed
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();

    // Everything up to the last flush (at most 0.5 s old) is readable.
    let quotes_partial = crashed
        .iter()
        .find(|p| p.to_string_lossy().contains("/fair/"))
        .unwrap();
    let lines = complete_frames(quotes_partial);
    assert!(
        lines.len() >= 20,
        "{} quotes survived 3 s at 50 a second",
        lines.len()
    );
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=lines.len() as u64).collect::<Vec<_>>());
    let raw_partial = crashed
        .iter()
        .find(|p| p.to_string_lossy().contains("/raw/"))
        .unwrap();
    let records = complete_frames(raw_partial);
    let received: Vec<String> = records
        .iter()
        .filter(|r| r["event"] == "recv")
        .map(|r| r["text"].as_str().unwrap().to_owned())
        .collect();

    // A restart writes new files next to them and changes none of them.
    let mut second = start();
    std::thread::sleep(Duration::from_secs(2));
    let term = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while second.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "record did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    for (path, bytes) in &before {
        assert_eq!(
            &std::fs::read(path).unwrap(),
            bytes,
            "{} untouched",
            path.display()
        );
    }
    let finished: Vec<PathBuf> = files_under(out.path())
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".partial"))
        .collect();
    // The quotes, the raw capture and the coverage ledger.
    assert_eq!(finished.len(), 3, "{finished:?}");
    // Within the same hour they take the next suffix (-1); never a crashed name.
    for path in &finished {
        let crashed_name = PathBuf::from(format!("{}.partial", path.display()));
        assert!(
            !crashed.contains(&crashed_name),
            "{} reuses a crashed name",
            path.display()
        );
    }

    // What the crashed capture holds is what the simulator sent its first connection.
    let log = sim.stop_and_log().to_owned();
    let entries = read_log(&log).unwrap();
    let first_connection: Vec<&str> = sent_by_connection(&entries).into_values().next().unwrap();
    assert!(received.len() > 20 && received.len() <= first_connection.len());
    assert_eq!(received, first_connection[..received.len()]);
}

/// The URLs of the raw capture's `open` events: one per connection.
fn opened_urls(out: &Path, exchange: &str) -> Vec<String> {
    mercury_tests::recorded::raw(out, exchange)
        .iter()
        .filter(|r| r["event"] == "open")
        .map(|r| r["url"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn record_over_wss_keeps_every_quote_once_across_a_drop_and_reconnects_over_tls() {
    let drop = [
        "--drop-after",
        "8",
        "--faulty-connections",
        "1",
        "--fair-interval",
        "0.05",
    ];
    let mut sim = SimProcess::start_tls_for("bitmex", "record-wss", &drop);
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "bitmex:XBTUSD".into(),
        "--url".into(),
        sim.url().into(),
        "--ca-cert".into(),
        sim.ca().unwrap().display().to_string(),
        "--backoff-seed".into(),
        "7".into(),
    ];
    let output = record_for(&args, out.path(), Duration::from_secs(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    no_partial_left(out.path());
    let opened = opened_urls(out.path(), "bitmex");
    assert_eq!(
        opened.len(),
        2,
        "the drop made one reconnection: {opened:?}"
    );
    assert!(
        opened
            .iter()
            .all(|u| u == sim.url() && u.starts_with("wss://localhost:")),
        "{opened:?}"
    );
    let log = sim.stop_and_log().to_owned();
    let sent: Vec<Vec<Price>> = sent("bitmex", "XBTUSD", &log)
        .into_values()
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(sent.len(), 2, "two connections sent quotes");
    let lines = quotes(out.path(), "bitmex/XBTUSD/fair");
    let starts = assert_connection_by_connection(&prices(&lines), &sent, "bitmex over wss");
    let gaps: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["after_gap"] == true)
        .collect();
    assert_eq!(gaps, starts[1..].to_vec(), "after_gap where it reconnected");
    assert_raw_matches(out.path(), "bitmex", &log);
}

#[test]
fn record_with_the_built_in_simulator_over_tls_writes_quotes_from_wss() {
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["bitmex:XBTUSD", "--sim", "--tls"]
        .map(str::to_owned)
        .into();
    let output = record_for(&args, out.path(), Duration::from_secs(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    no_partial_left(out.path());
    let opened = opened_urls(out.path(), "bitmex");
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(opened[0].starts_with("wss://localhost:"), "{opened:?}");
    let lines = quotes(out.path(), "bitmex/XBTUSD/fair");
    assert!(!lines.is_empty(), "quotes came over wss://");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=lines.len() as u64).collect::<Vec<_>>());
}
