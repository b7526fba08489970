//! `collector fetch` streams: the real process against the real simulator.
//!
//! Each quote is written as it arrives (the first line comes when the
//! first quote does, not the N-th); `-n 0` runs until SIGTERM and has then
//! written every quote the simulator sent; `| head -1` ends the run at once
//! and quietly; memory does not grow with N.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_testkit::bitmex::fairs_by_connection;
use mercury_tests::{SimProcess, collector, drain, rss_kib};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(60);

fn spawn_fetch(url: &str, args: &[&str]) -> Child {
    collector()
        .args([
            "fetch", "bitmex", "XBTUSD", "--url", url, "--format", "json",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for `child` (killing it past [`LIMIT`]); returns its exit code.
fn wait(child: &mut Child, started: Instant) -> Option<i32> {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the fetch did not end within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A firehose simulator without a frame log (logging every frame would
/// make the simulator the bottleneck); killed when dropped.
struct Firehose {
    child: Child,
    url: String,
}

impl Firehose {
    fn start() -> Firehose {
        let mut child = collector()
            .args(["sim", "bitmex", "--firehose", "--duration", "120"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        assert!(url.starts_with("ws://127.0.0.1:"), "{url:?}");
        Firehose {
            child,
            url: url.trim().to_string(),
        }
    }
}

impl Drop for Firehose {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn price(line: &str) -> Price {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["price"].as_str().unwrap().parse().unwrap()
}

#[test]
fn each_quote_is_written_as_it_arrives() {
    // One fair price every 200 ms: ten take about two seconds.
    let sim = SimProcess::start("paced", &["--fair-interval", "0.2"]);
    let started = Instant::now();
    let mut child = spawn_fetch(sim.url(), &["-n", "10"]);
    let stderr = drain(child.stderr.take());
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut arrivals = Vec::new();
    for line in lines.by_ref().take(10) {
        line.unwrap();
        arrivals.push(started.elapsed());
    }
    assert_eq!(wait(&mut child, started), Some(0));
    assert!(stderr.join().unwrap().is_empty());
    assert_eq!(arrivals.len(), 10);
    // The first (the partial's price) comes at once; the last about 1.8 s
    // later: each line left when its quote arrived, not with the tenth.
    let spread = arrivals[9] - arrivals[0];
    assert!(spread >= Duration::from_millis(1500), "{arrivals:?}");
    for pair in arrivals.windows(2).skip(1) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(100),
            "{arrivals:?}"
        );
    }
}

#[test]
fn n_0_runs_until_sigterm_and_writes_every_quote_sent() {
    // 30 frames, then nothing: the fetch has everything before the signal.
    let mut sim = SimProcess::start(
        "until-term",
        &["--fair-interval", "0.02", "--stall-after", "30"],
    );
    let started = Instant::now();
    let mut child = spawn_fetch(sim.url(), &["-n", "0"]);
    let stderr = drain(child.stderr.take());
    let stdout = drain(child.stdout.take());
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    assert_eq!(wait(&mut child, started), Some(143));
    let stderr = String::from_utf8(stderr.join().unwrap()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("interrupted: printed"), "{stderr}");
    assert!(stderr.contains("(SIGTERM)"), "{stderr}");
    let stdout = String::from_utf8(stdout.join().unwrap()).unwrap();
    let printed: Vec<Price> = stdout.lines().map(price).collect();
    let sent: Vec<Price> = fairs_by_connection(sim.stop_and_log())
        .unwrap()
        .into_values()
        .flatten()
        .collect();
    assert!(sent.len() >= 5, "{sent:?}");
    assert_eq!(printed, sent);
    assert!(
        stderr.contains(&format!("printed {} quotes", sent.len())),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_the_run_at_once_and_quietly() {
    let sim = Firehose::start();
    let started = Instant::now();
    let mut child = spawn_fetch(&sim.url, &["-n", "1000000"]);
    let stderr = drain(child.stderr.take());
    {
        // `| head -1`: read one line, then close the pipe.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        price(&first);
    }
    assert_eq!(wait(&mut child, started), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = stderr.join().unwrap();
    assert!(stderr.is_empty(), "{}", String::from_utf8_lossy(&stderr));
}

#[test]
fn memory_does_not_grow_with_n() {
    let sim = Firehose::start();
    let started = Instant::now();
    // 150 k in this debug build (~15 k quotes/s); BENCHMARKS.md has the
    // release build's 1 M.
    let n: u64 = 150_000;
    let mut child = spawn_fetch(&sim.url, &["-n", &n.to_string()]);
    let stderr = drain(child.stderr.take());
    let pid = child.id();
    let (mut early, mut late) = (None, None);
    let mut count = 0u64;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        line.unwrap();
        count += 1;
        if count == 10_000 {
            early = rss_kib(pid);
        }
        if count == n - 10_000 {
            late = rss_kib(pid);
        }
    }
    assert_eq!(wait(&mut child, started), Some(0));
    assert!(stderr.join().unwrap().is_empty());
    assert_eq!(count, n);
    let (early, late) = (early.unwrap(), late.unwrap());
    assert!(
        late <= early + 2048,
        "RSS {early} KiB after 10 k quotes, {late} KiB after {} k",
        (n - 10_000) / 1000
    );
}
