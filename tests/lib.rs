//! Cross-crate end-to-end tests of mercury live in this package, one file
//! per scenario (see `Cargo.toml`). This library holds only their helpers:
//! the fixtures, and the `collector` binary run as a process with a bound
//! on its run time.
#![deny(missing_docs)]
// Test support: a failure here is a failed test, and should be loud.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod oracle;
pub mod recorded;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The repository's copy of the real BitMEX frames.
pub fn bitmex_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/exchange-bitmex/tests/fixtures")
}

/// The `collector` binary of this workspace, brought up to date once per
/// test process: `cargo test -p mercury-tests` alone would otherwise run a
/// stale binary (cargo builds another package's binaries only for that
/// package's own tests).
pub fn collector_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_collector).clone()
}

fn build_collector() -> PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/collector
    let profile_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target/debug"));
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "mercury-cli",
            "--bin",
            "collector",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // What cargo sets for this test (CARGO_PKG_NAME, OUT_DIR, …) must not
    // reach the inner build: build scripts such as ring's rerun when those
    // change, and everything above them would be rebuilt on every run.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_for_tests = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| key.starts_with(prefix))
            || ["OUT_DIR", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&&*key);
        if set_for_tests {
            build.env_remove(&*key);
        }
    }
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "cannot build the collector binary"
    );
    profile_dir.join(format!("collector{}", std::env::consts::EXE_SUFFIX))
}

/// A `collector` command with a clean log environment.
pub fn collector() -> Command {
    let mut command = Command::new(collector_binary());
    command.env_remove("RUST_LOG").stdin(Stdio::null());
    command
}

/// A finished `collector fetch` (JSON output): what it printed and how
/// long it took.
pub struct Fetched {
    /// Exit status, stdout and stderr.
    pub out: Output,
    /// From start to exit.
    pub elapsed: Duration,
}

impl Fetched {
    /// Runs `command` to its end (at most `limit`).
    pub fn run(command: &mut Command, limit: Duration) -> Fetched {
        let started = Instant::now();
        let out = run_bounded(command, limit);
        Fetched {
            out,
            elapsed: started.elapsed(),
        }
    }

    /// stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// stdout's JSON Lines.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.out.stdout.clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The exact prices printed, in order.
    pub fn prices(&self) -> Vec<mercury_core::Price> {
        self.lines()
            .iter()
            .map(|l| l["price"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    /// The indices of the lines marked `after_gap` (present only when true).
    pub fn gaps(&self) -> Vec<usize> {
        let lines = self.lines();
        for line in &lines {
            assert!(
                line.get("after_gap").is_none_or(|g| g == true),
                "after_gap is present only when true: {line}"
            );
        }
        (0..lines.len())
            .filter(|&i| lines[i].get("after_gap").is_some())
            .collect()
    }

    /// Exit `code`, exactly one `error:` line and no panic; returns the
    /// line (also printed: the record of what a user sees).
    pub fn one_error_line(&self, code: i32) -> String {
        let stderr = self.stderr();
        assert_eq!(self.out.status.code(), Some(code), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr: {stderr}");
        assert!(lines[0].starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        #[allow(clippy::print_stdout)]
        {
            println!("{}", lines[0]);
        }
        lines[0].to_string()
    }
}

/// Runs `command` to its end, killing it (and failing the test) if it takes
/// longer than `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{command:?} did not finish within {limit:?}");
            }
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// A BitMEX and a Binance simulator (`NAME-bitmex`, `NAME-binance`), each
/// dropping its first connection after 8 quotes, one fair price per
/// `interval` seconds; and the collector arguments that read both
/// (`bitmex:XBTUSD binance:BTCUSDT --url … --backoff-seed 7`).
pub fn two_sims_dropping_once(name: &str, interval: &str) -> (SimProcess, SimProcess, Vec<String>) {
    let drop = [
        "--drop-after",
        "8",
        "--faulty-connections",
        "1",
        "--fair-interval",
        interval,
    ];
    let bitmex = SimProcess::start_for("bitmex", &format!("{name}-bitmex"), &drop);
    let binance = SimProcess::start_for("binance", &format!("{name}-binance"), &drop);
    let args = [
        "bitmex:XBTUSD".to_owned(),
        "binance:BTCUSDT".to_owned(),
        "--url".to_owned(),
        format!("bitmex={}", bitmex.url()),
        "--url".to_owned(),
        format!("binance={}", binance.url()),
        "--backoff-seed".to_owned(),
        "7".to_owned(),
    ]
    .into();
    (bitmex, binance, args)
}

/// Reads `pipe` to its end on a thread of its own, so that a child never
/// blocks on a full pipe.
pub fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// `collector sim EXCHANGE` (BitMEX unless told) running in its own process on 127.0.0.1:0,
/// logging every frame it sends; killed when dropped. Over `ws://`, or
/// over `wss://` with [`start_tls`](Self::start_tls) and friends.
pub struct SimProcess {
    child: Child,
    url: String,
    log: PathBuf,
    /// With TLS: the CA's PEM file (and its directory, removed on drop).
    ca: Option<PathBuf>,
}

impl SimProcess {
    /// Starts the simulator with `args` (faults, intervals) and waits for
    /// the URL it prints. It stops by itself after two minutes unless
    /// `args` give another `--duration`.
    pub fn start(name: &str, args: &[&str]) -> SimProcess {
        SimProcess::start_for("bitmex", name, args)
    }

    /// Like [`start`](Self::start), for the simulator of `exchange`.
    pub fn start_for(exchange: &str, name: &str, args: &[&str]) -> SimProcess {
        SimProcess::spawn(exchange, name, args, false)
    }

    /// Like [`start`](Self::start), serving `wss://localhost:PORT/…` with
    /// a CA of its own (see [`ca`](Self::ca)).
    pub fn start_tls(name: &str, args: &[&str]) -> SimProcess {
        SimProcess::spawn("bitmex", name, args, true)
    }

    /// Like [`start_tls`](Self::start_tls), for the simulator of `exchange`.
    pub fn start_tls_for(exchange: &str, name: &str, args: &[&str]) -> SimProcess {
        SimProcess::spawn(exchange, name, args, true)
    }

    fn spawn(exchange: &str, name: &str, args: &[&str], tls: bool) -> SimProcess {
        let log =
            std::env::temp_dir().join(format!("mercury-e2e-{}-{name}.jsonl", std::process::id()));
        let mut command = collector();
        command
            .args(["sim", exchange, "--log"])
            .arg(&log)
            .args(args);
        if tls {
            let dir =
                std::env::temp_dir().join(format!("mercury-e2e-tls-{}-{name}", std::process::id()));
            command.arg("--tls").arg("--tls-dir").arg(dir);
        }
        if !args.contains(&"--duration") {
            command.args(["--duration", "120"]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the simulator: {e}"));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take();
        std::thread::spawn(move || {
            if let Some(stdout) = stdout {
                let mut stdout = BufReader::new(stdout);
                let mut lines = String::new();
                for _ in 0..if tls { 2 } else { 1 } {
                    let _ = stdout.read_line(&mut lines);
                }
                let _ = tx.send(lines);
            }
        });
        let lines = rx.recv_timeout(Duration::from_secs(30));
        let parsed = lines.as_ref().ok().and_then(|lines| {
            let mut lines = lines.lines();
            let url = lines.next()?.trim().to_string();
            let ca = lines
                .next()
                .and_then(|l| l.strip_prefix("ca: "))
                .map(PathBuf::from);
            let scheme = if tls {
                "wss://localhost:"
            } else {
                "ws://127.0.0.1:"
            };
            (url.starts_with(scheme) && ca.is_some() == tls).then_some((url, ca))
        });
        let Some((url, ca)) = parsed else {
            let _ = child.kill();
            panic!("the simulator did not print its URL (and CA): {lines:?}");
        };
        SimProcess {
            child,
            url,
            log,
            ca,
        }
    }

    /// Where the simulator is reached as if it were the exchange:
    /// `ws://127.0.0.1:PORT` + the path of the exchange's endpoint
    /// (BitMEX: `/realtime`), or `wss://localhost:PORT…` with TLS.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// With TLS: the CA's PEM file that clients must trust.
    pub fn ca(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// Stops the simulator, so that its frame log is complete, and
    /// returns the log's path.
    pub fn stop_and_log(&mut self) -> &Path {
        let _ = self.child.kill();
        let _ = self.child.wait();
        &self.log
    }

    /// The process id (to read its memory).
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        if let Some(dir) = self.ca.as_deref().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub use mercury_testkit::rss_kib;

/// The body of `GET {page}{path}` (page: `http://127.0.0.1:PORT/`), read
/// by hand so that the scrape shares nothing with the code under test.
pub fn scrape(page: &str, path: &str) -> Option<String> {
    let host = page.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(host).ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    socket.take(1 << 20).read_to_end(&mut response).ok()?;
    let response = String::from_utf8(response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

/// The sum of every series of metric `name` in a Prometheus text body.
pub fn metric_sum(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
