//! Text from a server reaches the terminal shortened and escaped, and a
//! client of the dashboard cannot flood stderr.
//!
//! Regression (issue #14, item 6): CR, ESC and BEL in a server's words
//! passed through to stderr, so a server could erase the `error:` line,
//! print its own in colour and ring the bell. Here a server closes with a
//! reason that tries all three.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::bitmex::opening;
use mercury_testkit::raw::frame;
use mercury_testkit::{RawScript, RawServer, RawStep};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

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

/// Regression (issue #14, item 13): every oversized request to the
/// dashboard wrote an `ERROR actix_http …` line, so anyone reaching the
/// port could flood the log. They are answered with 431 and logged only
/// with -v.
#[test]
fn oversized_requests_to_the_dashboard_do_not_flood_stderr() {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "serve",
            "--sim",
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "3",
        ])
        .arg("bitmex:XBTUSD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let addr = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    for _ in 0..20 {
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".to_vec();
        request.extend(std::iter::repeat_n(b'a', 200_000));
        request.extend_from_slice(b"\r\n\r\n");
        let _ = socket.write_all(&request);
        let mut answer = [0u8; 12];
        let _ = socket.read_exact(&mut answer);
        assert_eq!(
            &answer,
            b"HTTP/1.1 431",
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    let mut stderr = String::new();
    serve
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(serve.wait().unwrap().code(), Some(0));
    assert!(stderr.is_empty(), "{stderr}");
}

/// Text that tries every trick: ESC, BEL, CR, a quote, a backslash, a
/// newline, and 1 MB more.
fn hostile(prefix: &str) -> String {
    format!(
        "{prefix}\u{1b}[2K\r\u{1b}[31mFAKE: all good\u{7}\"\\\nsecond line{}",
        "A".repeat(1 << 20)
    )
}

/// The longest line any log or page may carry: an excerpt of server text
/// (≤ 200 characters, escapes included) and our own words around it.
const MAX_LINE: usize = 1200;

/// Regression (issue #14, item 6): server text reached the log raw —
/// unbounded (a 1 MB error message, greeting or topic made a 1 MB line)
/// and, in a Debug field, with its escapes but never cut. Every log line
/// of `fetch -v` stays short and free of control bytes.
#[test]
fn server_text_in_the_log_is_shortened_and_escaped() {
    use mercury_testkit::bitmex::{ack, instrument_partial};
    let quote = |text: &str| serde_json::to_string(text).unwrap();
    let mut close = 1011u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"\x1b[2K\r\x1b[32mFAKE\x07\"\\\n");
    let steps = vec![
        RawStep::Play(mercury_testkit::Step::Send(format!(
            r#"{{"info":{},"version":"2021","timestamp":"2021-07-22T00:00:00.000Z","docs":"https://www.bitmex.com/app/wsAPI","limit":{{"remaining":39}}}}"#,
            quote(&hostile("Welcome"))
        ))),
        RawStep::Play(mercury_testkit::Step::AwaitText("instrument:XBTUSD".into())),
        RawStep::Play(mercury_testkit::Step::Send(ack("instrument:XBTUSD"))),
        RawStep::Play(mercury_testkit::Step::Send(format!(
            r#"{{"success":true,"subscribe":{}}}"#,
            quote(&hostile("topic"))
        ))),
        RawStep::Play(mercury_testkit::Step::Send(instrument_partial())),
        RawStep::Play(mercury_testkit::Step::Send(hostile("not json"))),
        RawStep::Play(mercury_testkit::Step::Send(format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","fairPrice":{},"timestamp":{}}}]}}"#,
            quote(&hostile("9300")),
            quote(&hostile("yesterday"))
        ))),
        RawStep::Play(mercury_testkit::Step::Send(format!(
            r#"{{"status":429,"error":{},"meta":{{"retryAfter":1}}}}"#,
            quote(&hostile("Rate limit"))
        ))),
        RawStep::Bytes(frame(0x8, &close)),
    ];
    let server = RawServer::start(RawScript::new(steps));
    let out = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["fetch", "bitmex", "XBTUSD", "--url", &server.url(), "-v"])
        .args(["--max-attempts", "0", "--format", "json", "-n", "5"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let longest = stderr.lines().map(str::len).max().unwrap_or(0);
    let controls = out
        .stderr
        .iter()
        .filter(|&&b| b != b'\n' && (b < 0x20 || b == 0x7f))
        .count();
    eprintln!(
        "stderr: {} bytes, {} lines, longest {longest}, {controls} control bytes",
        out.stderr.len(),
        stderr.lines().count()
    );
    for line in stderr.lines() {
        eprintln!(
            "  {} | {}",
            line.len(),
            line.chars().take(240).collect::<String>()
        );
    }
    assert_eq!(controls, 0, "control bytes reached stderr");
    assert!(longest <= MAX_LINE, "a {longest}-byte line");
    assert!(
        stderr.contains("FAKE"),
        "the server's words are shown, escaped"
    );
    assert!(out.stderr.len() < 64 << 10, "{} bytes", out.stderr.len());
}
