//! A server that accepts TCP, reads the upgrade request and never answers.
//!
//! Regression (issue #12, item 4): `--timeout` and Ctrl-C overshot by
//! ~1.5 s while an upgrade was stuck, because the connector waited on the
//! upgrade (`ctx.wait`) and held the stop message back. A stop now acts at
//! once in every state, a pending upgrade included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::{RawScript, RawServer};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn fetch(url: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_collector"));
    command
        .args(["fetch", "bitmex", "XBTUSD", "--url", url])
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn waits_for_upgrade(server: &RawServer) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.connections().is_empty() {
        assert!(Instant::now() < deadline, "the client never connected");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_timeout_is_kept_while_an_upgrade_hangs() {
    let server = RawServer::start(RawScript::silent_upgrade());
    let started = Instant::now();
    let out = fetch(&server.url(), &["--timeout", "1"]).output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: timed out after 1s: 0 of 10"),
        "{stderr}"
    );
    assert!(
        elapsed < Duration::from_millis(1400),
        "a 1 s timeout took {elapsed:?}"
    );
    // fetch gives the upgrade part of the timeout, then tries again: one
    // connection at a time.
    assert!(!server.connections().is_empty());
    assert_eq!(server.most_at_once(), 1);
}

#[test]
fn ctrl_c_acts_at_once_while_an_upgrade_hangs() {
    let server = RawServer::start(RawScript::silent_upgrade());
    let child = fetch(&server.url(), &[]).spawn().unwrap();
    waits_for_upgrade(&server);
    std::thread::sleep(Duration::from_millis(100));
    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let elapsed = signalled.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: printed 0 of 10"), "{stderr}");
    assert!(
        elapsed < Duration::from_millis(400),
        "Ctrl-C took {elapsed:?} to act"
    );
}
