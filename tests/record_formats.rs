//! `collector record --format jsonl,csv,parquet` as a process against the
//! BitMEX and Binance simulators: the three formats hold the same quotes —
//! every one the frame logs say was sent, once, in order per connection —
//! and pyarrow, an independent reader, reads the Parquet files to the same
//! rows with the documented types. A SIGKILLed run leaves Parquet files
//! that `repair_parquet` finishes with every complete row group.
//!
//! pyarrow comes from a venv under `target/pyenv`, made when missing
//! (`.ci/run` makes it beforehand). Where it cannot be made (no network),
//! the pyarrow checks are skipped, saying so, unless
//! `MERCURY_REQUIRE_PYARROW=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_collector::record::{QuoteRow, read_parquet_rows};
use mercury_core::{Price, Timestamp};
use mercury_tests::oracle::sent;
use mercury_tests::recorded::{assert_connection_by_connection, files_under, record_for};
use mercury_tests::{SimProcess, collector, collector_binary, run_bounded, two_sims_dropping_once};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The venv's Python with pyarrow, made when missing; `None` (said on
/// stderr) where it cannot be made, unless pyarrow is required.
#[allow(clippy::print_stderr)] // the one line that says the checks skipped
fn pyarrow_python() -> Option<PathBuf> {
    // target/<profile>/collector → target/pyenv
    let target = collector_binary().parent()?.parent()?.to_owned();
    let venv = target.join("pyenv");
    let python = venv.join("bin/python");
    let has_pyarrow = |python: &Path| {
        let mut check = Command::new(python);
        check.args(["-c", "import pyarrow.parquet"]);
        python.exists()
            && run_bounded(&mut check, Duration::from_secs(60))
                .status
                .success()
    };
    if !has_pyarrow(&python) {
        let mut make = Command::new("python3");
        make.args(["-m", "venv"]).arg(&venv);
        let made = run_bounded(&mut make, Duration::from_secs(120))
            .status
            .success();
        if made {
            let mut pip = Command::new(venv.join("bin/pip"));
            pip.args(["install", "--quiet", "pyarrow"]);
            run_bounded(&mut pip, Duration::from_secs(900));
        }
    }
    if has_pyarrow(&python) {
        return Some(python);
    }
    let required = std::env::var_os("MERCURY_REQUIRE_PYARROW").is_some();
    assert!(
        !required,
        "pyarrow is required but {} lacks it",
        venv.display()
    );
    eprintln!(
        "SKIPPED: the pyarrow checks (no pyarrow in {}, and it could not be installed)",
        venv.display()
    );
    None
}

/// The rows pyarrow reads from `files` (tests/python/read_parquet.py).
fn pyarrow_rows(python: &Path, files: &[PathBuf]) -> Vec<QuoteRow> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/read_parquet.py");
    let mut command = Command::new(python);
    command.arg(script).args(files);
    let output = run_bounded(&mut command, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pyarrow: {stderr}");
    let nanos = |v: &Value| Timestamp::from_unix_nanos(i128::from(v.as_i64().unwrap()));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            QuoteRow {
                seq: v["seq"].as_u64().unwrap(),
                conn: v["conn"].as_u64().unwrap(),
                conn_seq: v["conn_seq"].as_u64().unwrap(),
                exchange: v["exchange"].as_str().unwrap().to_owned(),
                symbol: v["symbol"].as_str().unwrap().to_owned(),
                kind: v["kind"].as_str().unwrap().to_owned(),
                price: v["price"].as_str().unwrap().parse().unwrap(),
                exchange_time: (!v["exchange_time"].is_null()).then(|| nanos(&v["exchange_time"])),
                received_at: nanos(&v["received_at"]),
                after_gap: v["after_gap"].as_bool().unwrap(),
            }
        })
        .collect()
}

/// `got` equals `want` row by row; a failure names the first difference.
fn assert_same_rows(got: &[QuoteRow], want: &[QuoteRow], what: &str) {
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    if let Some(i) = first {
        panic!("{what}: row {i} differs:\n {:?}\n {:?}", got[i], want[i]);
    }
    assert_eq!(got.len(), want.len(), "{what}: as many rows");
}

fn with_extension(files: &[PathBuf], extension: &str) -> Vec<PathBuf> {
    let suffix = format!(".{extension}");
    files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(&suffix))
        .cloned()
        .collect()
}

fn parquet_rows(files: &[PathBuf]) -> Vec<QuoteRow> {
    files
        .iter()
        .flat_map(|f| read_parquet_rows(f).unwrap().map(Result::unwrap))
        .collect()
}

/// The CSV rows of `files` (the header checked once per file).
fn csv_rows(files: &[PathBuf]) -> Vec<QuoteRow> {
    let mut rows = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "seq,conn,conn_seq,exchange,symbol,kind,price,exchange_time,received_at,after_gap"
            )
        );
        for line in lines {
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 10, "{line}");
            rows.push(QuoteRow {
                seq: c[0].parse().unwrap(),
                conn: c[1].parse().unwrap(),
                conn_seq: c[2].parse().unwrap(),
                exchange: c[3].to_owned(),
                symbol: c[4].to_owned(),
                kind: c[5].to_owned(),
                price: c[6].parse().unwrap(),
                exchange_time: (!c[7].is_empty()).then(|| c[7].parse().unwrap()),
                received_at: c[8].parse().unwrap(),
                after_gap: c[9].parse().unwrap(),
            });
        }
    }
    rows
}

/// The JSON Lines of `files`, where times have milliseconds.
fn jsonl_lines(files: &[PathBuf]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            lines
        })
        .collect()
}

/// `row` as the JSON Lines line of the same quote says it (milliseconds).
fn matches_json(row: &QuoteRow, line: &Value) -> bool {
    let millis = |t: Timestamp| t.to_string();
    let price: Price = line["price"].as_str().unwrap().parse().unwrap();
    line["seq"].as_u64() == Some(row.seq)
        && line["exchange"] == row.exchange.as_str()
        && line["symbol"] == row.symbol.as_str()
        && line["kind"] == row.kind.as_str()
        && price == row.price
        && line["exchange_time"].as_str().map(str::to_owned) == row.exchange_time.map(millis)
        && line["received_at"].as_str() == Some(millis(row.received_at).as_str())
        && (line["after_gap"] == true) == row.after_gap
}

#[test]
fn jsonl_csv_and_parquet_hold_the_same_quotes_and_pyarrow_reads_them() {
    let (mut bitmex, mut binance, mut args) = two_sims_dropping_once("formats", "0.02");
    let out = tempfile::tempdir().unwrap();
    args.extend(
        [
            "--format",
            "jsonl,csv",
            "--format",
            "parquet",
            "--rotate",
            "1",
            "--parquet-row-group",
            "16",
        ]
        .map(str::to_owned),
    );
    let output = record_for(&args, out.path(), Duration::from_secs(4));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let leftovers: Vec<PathBuf> = files_under(out.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no .partial, no sidecar: {leftovers:?}"
    );
    // `collector audit` reads the three formats: clean, the same count in each.
    let audit = audit(out.path(), false);
    assert_eq!(
        audit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let report: Value = serde_json::from_slice(&audit.stdout).unwrap();
    for (exchange, symbol) in [("bitmex", "XBTUSD"), ("binance", "BTCUSDT")] {
        let counts: Vec<(String, u64)> = report["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["exchange"] == exchange && q["symbol"] == symbol)
            .map(|q| {
                (
                    q["format"].as_str().unwrap().to_owned(),
                    q["quotes"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            counts.len(),
            3,
            "{exchange}: one count per format: {counts:?}"
        );
        assert!(
            counts.iter().all(|(_, n)| *n == counts[0].1 && *n > 0),
            "{counts:?}"
        );
    }
    let python = pyarrow_python();

    for (exchange, symbol, kind, sim) in [
        ("bitmex", "XBTUSD", "fair", &mut bitmex),
        ("binance", "BTCUSDT", "mark", &mut binance),
    ] {
        let files = files_under(&out.path().join(exchange).join(symbol).join(kind));
        let parquet_files = with_extension(&files, "parquet");
        assert!(parquet_files.len() >= 3, "one file a second: {files:?}");
        let parquet = parquet_rows(&parquet_files);
        let csv = csv_rows(&with_extension(&files, "csv"));
        let jsonl = jsonl_lines(&with_extension(&files, "jsonl"));
        assert_same_rows(&csv, &parquet, &format!("{exchange}: CSV and Parquet"));
        assert_eq!(jsonl.len(), parquet.len(), "{exchange}");
        for (row, line) in parquet.iter().zip(&jsonl) {
            assert!(matches_json(row, line), "{exchange}: {row:?} vs {line}");
        }
        // Every quote sent, once, in order per connection; conn_seq 1, 2, 3, …
        let log = sim.stop_and_log().to_owned();
        let sent: Vec<Vec<Price>> = sent(exchange, symbol, &log)
            .into_values()
            .filter(|p| !p.is_empty())
            .collect();
        assert!(
            sent.len() >= 2,
            "{exchange}: the drop made a second connection"
        );
        let prices: Vec<Price> = parquet.iter().map(|r| r.price).collect();
        let starts = assert_connection_by_connection(&prices, &sent, exchange);
        let gaps: Vec<usize> = (0..parquet.len())
            .filter(|&i| parquet[i].after_gap)
            .collect();
        assert_eq!(
            gaps,
            starts[1..],
            "{exchange}: after_gap at each reconnection"
        );
        let conn_seqs: Vec<u64> = parquet.iter().map(|r| r.conn_seq).collect();
        assert_eq!(
            conn_seqs,
            (1..=parquet.len() as u64).collect::<Vec<_>>(),
            "{exchange}"
        );
        if let Some(python) = &python {
            let read = pyarrow_rows(python, &parquet_files);
            assert_same_rows(&read, &parquet, &format!("{exchange}: pyarrow"));
        }
    }
}

#[test]
fn a_killed_run_leaves_parquet_that_repairs_to_its_complete_row_groups() {
    let sim = SimProcess::start_for("bitmex", "formats-kill", &["--fair-interval", "0.01"]);
    let out = tempfile::tempdir().unwrap();
    let mut child = collector()
        .args(["record", "bitmex:XBTUSD", "--url", sim.url()])
        .args([
            "--no-raw",
            "--format",
            "parquet,jsonl",
            "--parquet-row-group",
            "8",
        ])
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    child.kill().unwrap(); // SIGKILL: no footer is written
    child.wait().unwrap();
    let files = files_under(out.path());
    let partial = with_extension(&files, "parquet.partial");
    assert_eq!(partial.len(), 1, "{files:?}");
    assert!(read_parquet_rows(&partial[0]).is_err(), "no footer");
    let jsonl = jsonl_lines_complete(&with_extension(&files, "jsonl.partial")[0]);

    // `collector audit` names the partials (exit 1); `--repair` finishes
    // them (repair_parquet for the Parquet one), then audits clean.
    let found = audit(out.path(), false);
    assert_eq!(found.status.code(), Some(1));
    let report = String::from_utf8_lossy(&found.stdout);
    assert!(report.contains(".parquet.partial"), "{report}");
    let repaired = audit(out.path(), true);
    let report = String::from_utf8_lossy(&repaired.stdout);
    assert_eq!(repaired.status.code(), Some(0), "{report}");
    assert!(!partial[0].exists(), "{report}");
    let finished = with_extension(&files_under(out.path()), "parquet");
    assert_eq!(finished.len(), 1, "{report}");
    let rows = parquet_rows(&finished);
    let n = rows.len() as u64;
    assert_eq!(n % 8, 0, "whole row groups of 8: {n}");
    assert!(n >= 80, "3 s at 100 a second: {n}");
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    // What JSON Lines flushed (every 0.5 s) and Parquet's last row group
    // (fsynced with its footer) agree where both have the quote.
    for (row, line) in rows.iter().zip(&jsonl) {
        assert!(matches_json(row, line), "{row:?} vs {line}");
    }
    if let Some(python) = pyarrow_python() {
        let read = pyarrow_rows(&python, &finished);
        assert_same_rows(&read, &rows, "pyarrow");
    }
}

/// The complete lines of a crashed JSON Lines file (a torn last line is left out).
fn jsonl_lines_complete(path: &Path) -> Vec<Value> {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `collector audit DIR --format json [--repair]`, bounded.
fn audit(dir: &Path, repair: bool) -> std::process::Output {
    let mut command = collector();
    command.arg("audit").arg(dir).args(["--format", "json"]);
    if repair {
        command.arg("--repair");
    }
    run_bounded(&mut command, Duration::from_secs(60))
}

/// The README's first recording, as a newcomer types it: `collector record
/// --sim bitmex:XBTUSD binance:BTCUSDT --out data/`, stopped, then
/// `collector audit data/` (clean), then the Parquet files in pyarrow —
/// the default formats are JSON Lines and Parquet, holding the same quotes.
#[test]
fn the_newcomer_flow_records_audits_clean_and_pyarrow_reads_the_parquet() {
    let out = tempfile::tempdir().unwrap();
    let data = out.path().join("data");
    let args: Vec<String> = ["--sim", "bitmex:XBTUSD", "binance:BTCUSDT"]
        .map(str::to_owned)
        .into();
    let mut command = collector();
    command.arg("record").args(&args).arg("--out").arg(&data);
    let output = mercury_tests::recorded::run_then_term(&mut command, Duration::from_secs(4));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checked = audit(&data, false);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let python = pyarrow_python();
    for partition in ["bitmex/XBTUSD/fair", "binance/BTCUSDT/mark"] {
        let files = files_under(&data.join(partition));
        let parquet_files = with_extension(&files, "parquet");
        assert!(!parquet_files.is_empty(), "{partition}: {files:?}");
        let parquet = parquet_rows(&parquet_files);
        let jsonl = jsonl_lines(&with_extension(&files, "jsonl"));
        assert!(!parquet.is_empty(), "{partition}");
        assert_eq!(parquet.len(), jsonl.len(), "{partition}");
        for (row, line) in parquet.iter().zip(&jsonl) {
            assert!(matches_json(row, line), "{partition}: {row:?} vs {line}");
        }
        if let Some(python) = &python {
            let read = pyarrow_rows(python, &parquet_files);
            assert_same_rows(&read, &parquet, &format!("{partition}: pyarrow"));
        }
    }
}
