//! What a server says reaches the user, whatever else its frame holds.
//!
//! Regressions (issue #14): an error frame with an odd `meta` was dropped
//! whole (item 5), so a fatal 400 ran to the full timeout and a 429 was
//! never seen; a second welcome mid-stream silently voided the table image
//! and the timeout blamed the symbol (item 8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::bitmex::{fair_update, instrument_partial, welcome};
use mercury_testkit::{MockServer, Script, Step};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fetch(url: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["fetch", "bitmex", "XBTUSD", "--url", url])
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

/// Exactly one line, `error: …`, of bounded length and no control byte.
fn one_error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(!line.chars().any(char::is_control), "{line}");
    assert!(line.chars().count() < 1000, "{line}");
    line.to_string()
}

/// A BitMEX opening, then `frames`, then silence for longer than any test.
fn server(frames: &[&str]) -> MockServer {
    let mut steps = vec![Step::Send(welcome()), Step::AwaitText("subscribe".into())];
    steps.extend(frames.iter().map(|f| Step::Send((*f).into())));
    steps.push(Step::Pause(Duration::from_secs(60)));
    MockServer::start(Script::new(steps))
}

#[test]
fn a_fatal_error_with_an_odd_meta_fails_at_once() {
    let error = r#"{"status":400,"error":"Unknown symbol: XBTUSDX","meta":{"retryAfter":"soon"},"request":{"op":"subscribe","args":["instrument:XBTUSDX"]}}"#;
    let server = server(&[error]);
    let started = Instant::now();
    let out = fetch(&server.url(), &["--timeout", "20"]);
    let line = one_error_line(&out);
    assert!(
        line.contains("(status 400): Unknown symbol: XBTUSDX"),
        "{line}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ran {:?}, towards the timeout: the error was not seen",
        started.elapsed()
    );
}

#[test]
fn a_rate_limit_with_an_absurd_wait_is_still_a_rate_limit() {
    let error =
        r#"{"status":429,"error":"Rate limit exceeded, retry later.","meta":{"retryAfter":1e12}}"#;
    let server = server(&[error]);
    let out = fetch(&server.url(), &["--timeout", "2"]);
    let line = one_error_line(&out);
    assert!(line.contains("(status 429): Rate limit exceeded"), "{line}");
}

/// A second welcome voids the session: the connection ends and the next
/// one subscribes afresh. Before, the updates that kept coming (without a
/// new partial) were dropped and kept the heartbeat content: the fetch
/// waited to its timeout, blaming the symbol.
#[test]
fn a_restarted_session_ends_the_connection_and_quotes_resume() {
    let partial = instrument_partial();
    let update = fair_update("XBTUSD", "43210.5", 1);
    let later: Vec<String> = (2..40).map(|s| fair_update("XBTUSD", "43211", s)).collect();
    let mut frames = vec![partial.as_str(), update.as_str()];
    let again = welcome();
    frames.push(&again);
    frames.extend(later.iter().map(String::as_str));
    let server = server(&frames);
    let out = fetch(
        &server.url(),
        &["-n", "4", "--timeout", "10", "--format", "json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let prices: Vec<&str> = lines.iter().map(|l| l["price"].as_str().unwrap()).collect();
    assert_eq!(prices[1], "43210.5");
    assert_eq!(
        prices[2..],
        prices[..2],
        "the second connection, from its partial"
    );
    assert_eq!(lines[2]["after_gap"], true);
    assert_eq!(server.connections(), 2);
}

/// A server that restarts every session at once: the fetch's error names it.
#[test]
fn a_restarted_session_is_named_when_the_fetch_times_out() {
    let server = server(&[&welcome()]);
    let out = fetch(&server.url(), &["--timeout", "2", "--format", "json"]);
    let line = one_error_line(&out);
    assert!(line.contains("0 of 10"), "{line}");
    assert!(line.contains("the server restarted the session"), "{line}");
    assert!(!line.contains("check the symbol"), "{line}");
}
