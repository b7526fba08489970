//! The one-hour soak (`#[ignore]`, not in CI; issue #14): `collector serve`
//! against the BitMEX, Binance and Bybit simulators over `wss://`, each
//! ending a connection every ~30 s with a fault in turn — a TCP drop, a
//! close, a stall, an in-band 429, a malformed frame — and sending garbage
//! between good frames; a browser-side client reads the page's `/ws`
//! events all along.
//!
//! It reports, and asserts: every quote the client saw is accounted for
//! against the simulators' frame logs, in order, none missing in between;
//! the reconnects; `serve`'s peak and final RSS and its open file
//! descriptors, sampled every 5 s, flat from the first ten minutes to the
//! last; a clean exit on SIGTERM.
//!
//! `cargo test --release -p mercury-tests --test soak_serve -- --ignored --nocapture`;
//! `MERCURY_SOAK_SECS=120` shortens it, `MERCURY_SOAK_REPORT=FILE` also
//! writes the report there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
#![allow(clippy::print_stderr)] // the report is the point of the run

mod soak_support;

use mercury_core::Price;
use mercury_testkit::rss_kib;
use mercury_tests::oracle::sent;
use mercury_tests::{SimProcess, collector, drain};
use soak_support::{Sample, Watched, fds_of, metric_sum, scrape, watch};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A fault every this many seconds, per exchange.
const FAULT_EVERY_SECS: u64 = 30;
/// The exchanges, the symbol collected on each, and the frames per second
/// each simulator sends a client of that one symbol at `--fair-interval
/// 0.1` (Binance sends only the subscribed stream's mark price events).
const TARGETS: [(&str, &str, u64); 3] = [
    ("bitmex", "XBTUSD", 40),
    ("binance", "BTCUSDT", 10),
    ("bybit", "BTCUSDT", 40),
];

#[test]
#[ignore = "runs for an hour; use -- --ignored"]
fn an_hour_of_serve_under_faults_over_tls() {
    let secs: u64 = std::env::var("MERCURY_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3600);
    let sims: Vec<SimProcess> = TARGETS
        .iter()
        .map(|&(exchange, _, frames_per_second)| start_sim(exchange, frames_per_second, secs))
        .collect();
    let mut serve = start_serve(&sims, secs);
    let url = first_line(&mut serve);
    let stderr = drain(serve.stderr.take());
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(
        format!("{}ws", url.replace("http://", "ws://")),
        stop.clone(),
    );

    let started = Instant::now();
    let mut samples = Vec::new();
    let mut last_metrics = String::new();
    while started.elapsed() < Duration::from_secs(secs) {
        assert!(serve.try_wait().unwrap().is_none(), "serve ended early");
        let metrics = scrape(&url, "metrics").unwrap_or_default();
        samples.push(Sample {
            at: started.elapsed(),
            rss_kib: rss_kib(serve.id()).unwrap_or(0),
            fds: fds_of(serve.id()),
        });
        if !metrics.is_empty() {
            last_metrics = metrics;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    let term = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    let status = wait_bounded(&mut serve, Duration::from_secs(20));
    stop.store(true, Ordering::SeqCst);
    let watched = watcher.join().unwrap();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();

    let report = Report::new(sims, &watched, &samples, &last_metrics, started.elapsed());
    let text = report.text(&stderr);
    eprintln!("{text}");
    if let Ok(path) = std::env::var("MERCURY_SOAK_REPORT") {
        std::fs::write(path, &text).unwrap();
    }
    assert!(status.success(), "serve's exit on SIGTERM: {status:?}");
    report.assert_sound(secs);
}

fn start_sim(exchange: &str, frames_per_second: u64, secs: u64) -> SimProcess {
    let fault_after = (frames_per_second * FAULT_EVERY_SECS).to_string();
    let duration = (secs + 120).to_string();
    let mut args = vec!["--duration", &duration, "--fair-interval", "0.1"];
    args.extend(["--rotate-faults", "--garbage-every", "50"]);
    for fault in [
        "--drop-after",
        "--close-after",
        "--stall-after",
        "--rate-limit-after",
        "--malformed-after",
    ] {
        args.extend([fault, &fault_after]);
    }
    SimProcess::start_tls_for(exchange, &format!("soak-serve-{exchange}"), &args)
}

fn start_serve(sims: &[SimProcess], secs: u64) -> std::process::Child {
    let mut command = collector();
    command.arg("serve");
    for (exchange, symbol, _) in TARGETS {
        command.arg(format!("{exchange}:{symbol}"));
    }
    for ((exchange, _, _), sim) in TARGETS.iter().zip(sims) {
        command
            .arg("--url")
            .arg(format!("{exchange}={}", sim.url()));
        command.arg("--ca-cert").arg(sim.ca().unwrap());
    }
    command
        .args(["--listen", "127.0.0.1:0", "--duration"])
        .arg((secs + 60).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The page's URL, the first line `serve` prints.
fn first_line(serve: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
    line.trim().to_owned()
}

fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One exchange's accounting.
struct Accounted {
    exchange: &'static str,
    /// Connections the simulator accepted.
    connections: usize,
    /// Quotes the simulator sent (all connections).
    sent: usize,
    /// Quotes the client saw.
    seen: usize,
    /// Sent before the client's first quote (it connects after serve).
    before_client: usize,
    /// Sent after the client's last quote (in flight at SIGTERM).
    after_end: usize,
    /// Whether what the client saw is exactly the sent run in between.
    in_order_none_missing: bool,
    /// The faults the simulator's log records, by kind.
    faults: String,
}

impl Accounted {
    fn new(
        exchange: &'static str,
        log: &std::path::Path,
        by_connection: &BTreeMap<u64, Vec<Price>>,
        seen: &[Price],
    ) -> Self {
        let all: Vec<Price> = by_connection.values().flatten().copied().collect();
        let start = (0..all.len().saturating_sub(seen.len()) + 1)
            .find(|&offset| all[offset..].starts_with(seen));
        Accounted {
            exchange,
            connections: by_connection.len(),
            sent: all.len(),
            seen: seen.len(),
            before_client: start.unwrap_or(0),
            after_end: start.map_or(0, |s| all.len() - s - seen.len()),
            in_order_none_missing: start.is_some() && !seen.is_empty(),
            faults: faults_in(log),
        }
    }
}

/// The faults a simulator's frame log records: drops, closes (the 429's
/// close is 1008), stalls, malformed frames.
fn faults_in(log: &std::path::Path) -> String {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let count = |pattern: &str| log.matches(pattern).count();
    format!(
        "{} drops, {} closes, {} of them after a 429, {} stalls, {} malformed frames",
        count(r#""event":"dropped""#),
        count(r#""event":"closed""#),
        count(r#""code":1008"#),
        count(r#""event":"stalled""#),
        count(r#""event":"malformed""#),
    )
}

/// What the soak measured.
struct Report {
    accounted: Vec<Accounted>,
    watched: (usize, u64),
    samples: Vec<(Duration, u64, usize)>,
    reconnects: f64,
    elapsed: Duration,
}

impl Report {
    fn new(
        mut sims: Vec<SimProcess>,
        watched: &Watched,
        samples: &[Sample],
        metrics: &str,
        elapsed: Duration,
    ) -> Report {
        let accounted = TARGETS
            .iter()
            .zip(sims.iter_mut())
            .map(|((exchange, symbol, _), sim)| {
                let log = sim.stop_and_log().to_path_buf();
                let by_connection = sent(exchange, symbol, &log);
                Accounted::new(exchange, &log, &by_connection, &watched.prices_of(exchange))
            })
            .collect();
        Report {
            accounted,
            watched: (watched.quotes.len(), watched.drops),
            samples: samples.iter().map(|s| (s.at, s.rss_kib, s.fds)).collect(),
            reconnects: metric_sum(metrics, "mercury_reconnects_total"),
            elapsed,
        }
    }

    /// Peak RSS (KiB) and most descriptors in the samples taken in `range`.
    fn peak(&self, range: std::ops::Range<Duration>) -> (u64, usize) {
        let within = self.samples.iter().filter(|(t, _, _)| range.contains(t));
        within.fold((0, 0), |(rss, fds), (_, r, f)| (rss.max(*r), fds.max(*f)))
    }

    /// The peaks of the first third (after start-up: from 30 s or a
    /// quarter, whichever comes first) and of the last third.
    fn early_and_late(&self) -> ((u64, usize), (u64, usize)) {
        let end = self.elapsed;
        let early = self.peak(Duration::from_secs(30).min(end / 4)..end / 3);
        (early, self.peak(end - end / 3..end))
    }

    fn text(&self, stderr: &str) -> String {
        let end = self.elapsed;
        let (early, late) = self.early_and_late();
        let last = self.samples.last().copied().unwrap_or_default();
        let mut text = format!(
            "soak-serve: {:.0} s; browser-side client: {} quotes, {} dropped by the hub; reconnects (mercury_reconnects_total): {}\n\
             serve RSS: peak {} KiB in the first third, {} KiB in the last third, final {} KiB; fds: {} early, {} late, final {}\n",
            end.as_secs_f64(),
            self.watched.0,
            self.watched.1,
            self.reconnects,
            early.0,
            late.0,
            last.1,
            early.1,
            late.1,
            last.2,
        );
        for a in &self.accounted {
            text.push_str(&format!(
                "  {}: {} connections ({}); sent {}, seen {} ({} before the client connected, {} in flight at the end); in order, none missing: {}\n",
                a.exchange,
                a.connections,
                a.faults,
                a.sent,
                a.seen,
                a.before_client,
                a.after_end,
                a.in_order_none_missing
            ));
        }
        let errors = stderr.lines().filter(|l| l.contains("ERROR")).count();
        text.push_str(&format!(
            "  serve's stderr: {} lines, {} ERROR lines\n",
            stderr.lines().count(),
            errors
        ));
        text
    }

    fn assert_sound(&self, secs: u64) {
        for a in &self.accounted {
            assert!(
                a.in_order_none_missing,
                "{}: quotes missing or out of order",
                a.exchange
            );
            assert!(
                a.after_end < 100 && a.before_client < 200,
                "{}: only the ends may be unseen",
                a.exchange
            );
            assert!(
                a.connections as u64 >= secs / FAULT_EVERY_SECS / 2,
                "{}: the faults happened ({} connections)",
                a.exchange,
                a.connections
            );
        }
        assert_eq!(
            self.watched.1, 0,
            "the hub dropped events for a fast client"
        );
        let (early, late) = self.early_and_late();
        assert!(early.0 > 0, "RSS was sampled");
        assert!(
            late.0 <= early.0 + early.0 / 4 + 2048,
            "RSS grew from {} KiB to {} KiB",
            early.0,
            late.0
        );
        assert!(
            late.1 <= early.1 + 4,
            "descriptors grew from {} to {}",
            early.1,
            late.1
        );
    }
}
