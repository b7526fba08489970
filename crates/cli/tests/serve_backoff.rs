//! `collector serve` against a server whose every connection ends in a
//! malformed frame (a masked server frame).
//!
//! Regression (issue #12, item 3): `serve` opened 634 connections in 10 s
//! against such a server (258 at once), reconnects growing exponentially —
//! against a real exchange that gets the IP banned. Now the number of
//! connections grows only with the backoff schedule (seeded here, so the
//! test knows it exactly), one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_collector::{Backoff, Schedule};
use mercury_testkit::bitmex::opening;
use mercury_testkit::raw::malformed_frames;
use mercury_testkit::{RawScript, RawServer, RawStep};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 5;
const RUN: Duration = Duration::from_secs(4);

#[test]
fn serve_reconnects_only_as_the_backoff_allows() {
    let (_, masked) = malformed_frames().swap_remove(0);
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    steps.push(RawStep::Bytes(masked));
    let server = RawServer::start(RawScript::new(steps));

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["serve", "--listen", "127.0.0.1:0", "--duration", "4"])
        .args(["--backoff-seed", &SEED.to_string(), "--url", &server.url()])
        .arg("bitmex:XBTUSD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let ran = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // serve reconnects forever; the connections the schedule allows in
    // the time it ran, and not one more.
    let mut schedule = Schedule::new(Backoff {
        max_attempts: None,
        seed: Some(SEED),
        ..Backoff::default()
    });
    let mut at = Duration::ZERO;
    let mut allowed = 1;
    loop {
        at += schedule.next_delay(None).unwrap();
        if at > ran {
            break;
        }
        allowed += 1;
    }
    let connections = server.connections().len();
    assert!(
        (2..=allowed).contains(&connections),
        "{connections} connections in {ran:?}; the backoff allows {allowed}"
    );
    assert!(
        allowed < 10,
        "the schedule itself is slow: {allowed} in {RUN:?}"
    );
    assert_eq!(server.most_at_once(), 1, "two connections at once");
}
