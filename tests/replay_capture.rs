//! `collector replay` of what `collector record` captured, as processes:
//! the replay's quote files equal the live run's, byte for byte (`seq`,
//! `received_at`, `after_gap` included), across a drop and two exchanges
//! merged by receive time; and `collector sim --replay-file` serves a
//! capture that `collector fetch` reads back as the recorded quotes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::{SimProcess, collector, drain, run_bounded};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `collector record ARGS --out DIR` for `run`, then SIGTERM; waits
/// (bounded) for it, and checks it ended well.
fn record_for(args: &[String], out: &Path, run: Duration) {
    let mut child = collector()
        .arg("record")
        .args(args)
        .args(["--format", "jsonl"])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    std::thread::sleep(run);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("record did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(at) = dirs.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => dirs.push(path),
                false => found.push(path.strip_prefix(dir).unwrap().to_owned()),
            }
        }
    }
    found.sort();
    found
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sim_args(drop: bool) -> Vec<&'static str> {
    let mut args = vec!["--fair-interval", "0.05"];
    if drop {
        args.extend(["--drop-after", "8", "--faulty-connections", "1"]);
    }
    args
}

/// Records BitMEX and Binance (with `drop`, the first connection of each
/// dropped) for a few seconds into `out`.
fn record_two_exchanges(out: &Path, drop: bool) {
    let bitmex = SimProcess::start_for("bitmex", "replay-bitmex", &sim_args(drop));
    let binance = SimProcess::start_for("binance", "replay-binance", &sim_args(drop));
    let args: Vec<String> = [
        "bitmex:XBTUSD",
        "binance:BTCUSDT",
        "--url",
        &format!("bitmex={}", bitmex.url()),
        "--url",
        &format!("binance={}", binance.url()),
        "--backoff-seed",
        "7",
    ]
    .map(str::to_owned)
    .into();
    record_for(&args, out, Duration::from_secs(4));
}

fn raw_files(out: &Path) -> Vec<PathBuf> {
    let raw = out.join("raw");
    files_under(&raw).into_iter().map(|f| raw.join(f)).collect()
}

#[test]
fn replay_writes_the_quote_files_the_live_run_wrote() {
    let live = tempfile::tempdir().unwrap();
    record_two_exchanges(live.path(), true);
    let replayed = tempfile::tempdir().unwrap();
    let output = run_bounded(
        collector()
            .arg("replay")
            .args(raw_files(live.path()))
            .arg("--out")
            .arg(replayed.path()),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let quote_files: Vec<PathBuf> = files_under(live.path())
        .into_iter()
        .filter(|f| !f.starts_with("raw") && !f.starts_with("ledger"))
        .collect();
    assert_eq!(quote_files, files_under(replayed.path()), "the same files");
    let mut seqs = Vec::new();
    for file in &quote_files {
        let (got, want) = (
            lines(&replayed.path().join(file)),
            lines(&live.path().join(file)),
        );
        assert!(want.len() > 10, "{file:?}: {} quotes", want.len());
        assert!(
            want.iter().any(|l| l["after_gap"] == true),
            "{file:?}: the drop shows"
        );
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "{file:?}, line {}", i + 1);
        }
        assert_eq!(got.len(), want.len(), "{file:?}");
        seqs.extend(want.iter().map(|l| l["seq"].as_u64().unwrap()));
    }
    // Both exchanges' quotes share one numbering, interleaved: the merge
    // by receive time is what made them equal.
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn sim_replay_file_serves_a_recorded_connection_that_fetch_reads_back() {
    let live = tempfile::tempdir().unwrap();
    record_two_exchanges(live.path(), false);
    for (exchange, symbol, kind) in [("bitmex", "XBTUSD", "fair"), ("binance", "BTCUSDT", "mark")] {
        // The first recorded connection's quotes (up to a gap: there is none).
        let partition = live.path().join(exchange).join(symbol).join(kind);
        let recorded: Vec<Value> = files_under(&partition)
            .iter()
            .flat_map(|f| lines(&partition.join(f)))
            .take_while(|l| l["after_gap"] != true)
            .collect();
        assert!(recorded.len() > 10, "{exchange}: {} quotes", recorded.len());
        let raw = live.path().join("raw").join(exchange);
        let first = raw.join(&files_under(&raw)[0]);
        let first = first.to_str().unwrap();
        let sim = SimProcess::start_for(
            exchange,
            &format!("replay-file-{exchange}"),
            &["--replay-file", first, "--speed", "max"],
        );
        let fetched = mercury_tests::Fetched::run(
            collector().args([
                "fetch",
                exchange,
                symbol,
                "--url",
                sim.url(),
                "-n",
                &recorded.len().to_string(),
                "--format",
                "json",
                "--timeout",
                "30",
            ]),
            Duration::from_secs(60),
        );
        assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
        let want: Vec<&Value> = recorded.iter().map(|l| &l["price"]).collect();
        let got: Vec<Value> = fetched
            .lines()
            .into_iter()
            .map(|l| l["price"].clone())
            .collect();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            want,
            "{exchange}: the recorded prices, in order"
        );
    }
}

/// The embedded 2021 BitMEX capture is just one such file: `sim bitmex
/// --replay` serves exactly what `--replay-file` serves of the same file,
/// and `collector replay` of it prints the real session's XBTUSD best bids
/// as the shared `expected/` answers list them.
#[test]
fn the_embedded_capture_is_one_raw_capture_like_any_other() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/exchange-bitmex/replay/2021-07-22.raw.jsonl");
    let file = file.to_str().unwrap();
    let bids = |args: &[&str]| -> Vec<Value> {
        let sim = SimProcess::start_for("bitmex", &args.join("_").replace('/', "_"), args);
        let fetched = mercury_tests::Fetched::run(
            collector()
                .args(["fetch", "bitmex", "XBTUSD", "--kind", "bid", "-n", "286"])
                .args(["--url", sim.url(), "--format", "json", "--timeout", "30"]),
            Duration::from_secs(60),
        );
        assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
        fetched.lines().iter().map(|l| l["price"].clone()).collect()
    };
    let embedded = bids(&["--replay", "--speed", "max"]);
    let from_file = bids(&["--replay-file", file, "--speed", "max"]);
    assert_eq!(embedded, from_file);

    let replayed = run_bounded(
        collector().args(["replay", file, "--format", "json"]),
        Duration::from_secs(30),
    );
    assert_eq!(replayed.status.code(), Some(0));
    let replayed: Vec<Value> = String::from_utf8(replayed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["symbol"] == "XBTUSD" && l["kind"] == "bid")
        .map(|l| l["price"].clone())
        .collect();
    let expected: Vec<Value> = mercury_testkit::bitmex_fixture(
        "expected/cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt",
    )
    .lines()
    .map(|l| Value::String(l.trim().to_string()))
    .collect();
    assert_eq!(expected.len(), 286);
    assert_eq!(replayed, expected);
    assert_eq!(embedded, expected, "the whole session, served");
}
