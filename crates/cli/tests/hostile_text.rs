//! Text from a server reaches the terminal shortened and escaped.
//!
//! Regression (issue #14, item 6): CR, ESC and BEL in a server's words
//! passed through to stderr, so a server could erase the `error:` line,
//! print its own in colour and ring the bell. Here a server closes with a
//! reason that tries all three.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::bitmex::opening;
use mercury_testkit::raw::frame;
use mercury_testkit::{RawScript, RawServer, RawStep};
use std::process::{Command, Stdio};

#[test]
fn a_close_reason_cannot_rewrite_the_terminal() {
    let mut close = 1011u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"\x1b[2K\r\x1b[32mFAKE: all good\x07");
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    steps.push(RawStep::Bytes(frame(0x8, &close)));
    let server = RawServer::start(RawScript::new(steps));
    let out = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["fetch", "bitmex", "XBTUSD", "--url", &server.url()])
        .args(["--max-attempts", "0", "--format", "json"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = &out.stderr;
    // One line, no control byte but its final newline.
    assert_eq!(stderr.last(), Some(&b'\n'));
    let body = &stderr[..stderr.len() - 1];
    assert!(
        body.iter().all(|&b| b >= 0x20 && b != 0x7f),
        "{:?}",
        String::from_utf8_lossy(stderr)
    );
    let line = String::from_utf8(body.to_vec()).unwrap();
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("code 1011"), "{line}");
    assert!(line.contains(r"\u{1b}[32mFAKE: all good\u{7}"), "{line}");
}
