//! `collector serve --out DIR` as a process: it records while it serves
//! the page — the files appear, `/metrics` counts each sink's bytes as
//! they grow, `/health` lists the sinks — and SIGTERM finishes every file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::recorded::terminate;
use mercury_tests::recorded::{files_under, lines_of, no_partial_left};
use mercury_tests::{collector, drain, scrape};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The value of `name{sink="SINK"}` in a Prometheus text body.
fn sink_metric(body: &str, name: &str, sink: &str) -> Option<u64> {
    let prefix = format!("{name}{{sink=\"{sink}\"}} ");
    body.lines()
        .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
}

/// Scrapes `/metrics` until `done` says yes (at most 30 s); returns the body.
fn metrics_until(page: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = scrape(page, "metrics").unwrap_or_default();
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "not within 30 s; last /metrics:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn finished_quote_files(out: &Path) -> usize {
    let dir = out.join("bitmex/XBTUSD/fair");
    if !dir.exists() {
        return 0;
    }
    files_under(&dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .count()
}

#[test]
fn serve_out_records_while_serving_and_metrics_count_each_sink() {
    let out = tempfile::tempdir().unwrap();
    let mut serve = collector()
        .args(["serve", "--sim", "bitmex:XBTUSD", "--listen", "127.0.0.1:0"])
        .args(["--duration", "90", "--rotate", "1", "--out"])
        .arg(out.path())
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
    let page = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) if line.starts_with("http://127.0.0.1:") => line.trim().to_owned(),
        other => {
            let _ = serve.kill();
            panic!("serve did not print its URL: {other:?}");
        }
    };

    let body = metrics_until(&page, |b| {
        sink_metric(b, "mercury_sink_bytes_total", "jsonl").is_some_and(|n| n > 0)
            && sink_metric(b, "mercury_sink_bytes_total", "raw").is_some_and(|n| n > 0)
    });
    let first = sink_metric(&body, "mercury_sink_bytes_total", "jsonl").unwrap();
    assert_eq!(sink_metric(&body, "mercury_sink_up", "jsonl"), Some(1));
    let body = metrics_until(&page, |b| {
        sink_metric(b, "mercury_sink_bytes_total", "jsonl").is_some_and(|n| n > first)
            && sink_metric(b, "mercury_sink_files_finished_total", "jsonl").is_some_and(|n| n > 0)
    });
    let records = sink_metric(&body, "mercury_sink_records_total", "jsonl").unwrap();
    assert!(records > 0, "{body}");
    assert!(finished_quote_files(out.path()) > 0, "the files appear");

    let health: serde_json::Value =
        serde_json::from_str(&scrape(&page, "health").unwrap()).unwrap();
    let sinks: Vec<&str> = health["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sink"].as_str().unwrap())
        .collect();
    assert_eq!(sinks, ["raw", "jsonl", "parquet"], "{health}");
    assert_eq!(health["sinks_degraded"], serde_json::json!([]), "{health}");

    let status = terminate(&mut serve);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    no_partial_left(out.path());
    // The JSON Lines files (Parquet, the other default format, beside them).
    let lines: Vec<serde_json::Value> = files_under(&out.path().join("bitmex/XBTUSD/fair"))
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
        .flat_map(|f| lines_of(f))
        .collect();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.len() as u64 >= records,
        "every quote counted is in the files"
    );
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert!(!files_under(&out.path().join("raw/bitmex")).is_empty());
}
