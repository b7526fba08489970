//! `collector audit` after a crash, as processes: `collector record`
//! against a simulator is killed with SIGKILL once its files hold data;
//! `audit` exits 1 naming each `.partial` with the records it holds (as an
//! independent zstd reader counts them); `audit --repair` finishes them
//! with exactly those records; a second `audit` exits 0; the quotes kept
//! are the simulator's first connection's, in order, up to the last flush;
//! a restart into the same directory writes new files and changes no byte
//! of the finished ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_tests::oracle::sent;
use mercury_tests::recorded::{complete_frames, complete_lines, files_under, lines_of, terminate};
use mercury_tests::{SimProcess, collector, run_bounded};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

fn audit(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let mut command = collector();
    command
        .arg("audit")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"]);
    let output = run_bounded(&mut command, Duration::from_secs(60));
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stdout));
    });
    (output, report)
}

fn start_record(sim: &SimProcess, out: &Path) -> Child {
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
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What an independent reader finds in a crashed file.
fn readable(path: &Path) -> Vec<Value> {
    match path.to_string_lossy().contains(".zst") {
        true => complete_frames(path),
        false => complete_lines(path),
    }
}

fn finished_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".partial"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn after_sigkill_audit_names_the_partials_repair_finishes_them_and_a_restart_touches_nothing() {
    let mut sim = SimProcess::start_for("bitmex", "audit-kill", &["--fair-interval", "0.02"]);
    let out = tempfile::tempdir().unwrap();
    let mut first = start_record(&sim, out.path());
    // Wait until a flush put quotes on disk (a flush is at most 0.5 s).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let quotes = files_under(out.path())
            .into_iter()
            .find(|p| p.to_string_lossy().contains("/fair/"));
        if quotes.is_some_and(|q| readable(&q).len() >= 40) {
            break;
        }
        assert!(Instant::now() < deadline, "no quotes flushed within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().unwrap(); // SIGKILL: no chance to finish anything
    first.wait().unwrap();
    let crashed = files_under(out.path());
    assert!(
        crashed
            .iter()
            .all(|p| p.to_string_lossy().ends_with(".partial")),
        "{crashed:?}"
    );
    assert_eq!(crashed.len(), 3, "quotes, raw capture, ledger: {crashed:?}");
    let held: BTreeMap<PathBuf, Vec<Value>> =
        crashed.iter().map(|p| (p.clone(), readable(p))).collect();

    // The audit names each partial and what it holds; exit 1, one error line.
    let (output, report) = audit(out.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: the audit of "), "{stderr}");
    assert_eq!(report["clean"], false);
    for (path, records) in &held {
        let relative = path
            .strip_prefix(out.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let file = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == relative.as_str())
            .unwrap_or_else(|| panic!("{relative} not in {report}"));
        assert_eq!(file["partial"], true);
        assert_eq!(file["records"], records.len() as u64, "{relative}");
        let problem = report["problems"].as_array().unwrap().iter().any(|p| {
            p.as_str().unwrap().starts_with(&relative)
                && p.as_str()
                    .unwrap()
                    .contains(&format!("{} records readable", records.len()))
        });
        assert!(problem, "{relative}: {report}");
    }

    // --repair finishes each with exactly what it held; then it is clean.
    let (output, report) = audit(out.path(), &["--repair"]);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["repaired"].as_array().unwrap().len(), 3, "{report}");
    for (path, records) in &held {
        let finished = PathBuf::from(path.to_string_lossy().strip_suffix(".partial").unwrap());
        assert!(!path.exists());
        assert_eq!(&lines_of(&finished), records, "{}", finished.display());
    }
    let (output, report) = audit(out.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(report["clean"], true);

    // Everything up to the last flush: the first connection's quotes, in
    // order, only a tail missing.
    let quotes_file = held
        .keys()
        .find(|p| p.to_string_lossy().contains("/fair/"))
        .unwrap();
    let kept: Vec<Price> = held[quotes_file]
        .iter()
        .map(|l| l["price"].as_str().unwrap().parse().unwrap())
        .collect();
    let seqs: Vec<u64> = held[quotes_file]
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());

    // A restart writes new files and changes no byte of the finished ones.
    let before = finished_files(out.path());
    let mut second = start_record(&sim, out.path());
    std::thread::sleep(Duration::from_secs(2));
    assert!(terminate(&mut second).success());
    let after = finished_files(out.path());
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{} changed", path.display());
    }
    assert_eq!(after.len(), before.len() + 3, "{:?}", after.keys());
    let (output, report) = audit(out.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{report}");

    let log = sim.stop_and_log().to_owned();
    let sent = sent("bitmex", "XBTUSD", &log);
    let first_connection = sent.values().next().unwrap();
    assert!(kept.len() >= 40 && kept.len() <= first_connection.len());
    assert_eq!(kept[..], first_connection[..kept.len()]);
    let missing = first_connection.len() - kept.len();
    // Unflushed at the kill: at most ~0.5 s of quotes (25 at 50 a second);
    // generous for a loaded machine, and printed.
    println!(
        "missing after SIGKILL: {missing} of {} quotes",
        first_connection.len()
    );
    assert!(
        missing <= 250,
        "{missing} quotes lost, more than the last flush"
    );
}
