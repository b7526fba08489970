//! `collector fetch` run as a process against the mock BitMEX server:
//! every output format and every exit code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_testkit::bitmex::{self, SAMPLE_FAIRS as FAIRS, fair_prices_sent, fair_session};
use mercury_testkit::{MockServer, Script, Step};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn collector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("collector runs")
}

fn fetch(url: &str, extra: &[&str]) -> Output {
    let mut args = vec!["fetch", "bitmex", "XBTUSD", "--url", url];
    args.extend_from_slice(extra);
    collector(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit 0, then stdout as JSON Lines.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Like [`json_lines`], and nothing at all on stderr.
fn quiet_json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(out)
}

/// Exactly one line, `error: …`, and no panic or backtrace.
fn one_error_line(out: &Output) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    lines[0].to_string()
}

fn expected_prices(steps: &[Step], n: usize) -> Vec<Price> {
    fair_prices_sent(steps)[..n]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect()
}

#[test]
fn json_prints_ten_quotes_in_order_and_nothing_else() {
    let steps = fair_session(&FAIRS, Duration::from_millis(2));
    let server = MockServer::start(Script::new(steps.clone()));
    let started = Instant::now();
    let out = fetch(&server.url(), &["--format", "json"]);
    let wall = started.elapsed();
    let lines = quiet_json_lines(&out);
    assert_eq!(lines.len(), 10);
    let prices: Vec<Price> = lines
        .iter()
        .map(|l| l["price"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(prices, expected_prices(&steps, 10));
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], i as u64 + 1);
        assert_eq!(line["exchange"], "bitmex");
        assert_eq!(line["symbol"], "XBTUSD");
        assert_eq!(line["kind"], "fair");
        assert!(line["received_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(line.as_object().unwrap().len(), 7, "{line}");
    }
    assert_eq!(
        lines[3]["price"], "0.00001814",
        "exponent form printed exactly"
    );
    assert!(wall < Duration::from_secs(10), "{wall:?}");
}

#[test]
fn csv_and_table_formats() {
    let steps = fair_session(&FAIRS, Duration::from_millis(1));
    let server = MockServer::start(Script::new(steps.clone()));
    let out = fetch(&server.url(), &["--format", "csv", "-n", "3"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "seq,exchange,symbol,kind,price,exchange_time,received_at"
    );
    assert_eq!(rows.len(), 4);
    let prices: Vec<Price> = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(prices, expected_prices(&steps, 3));

    let out = fetch(&server.url(), &["-n", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    // Fixed column widths (the table streams).
    let header: Vec<&str> = rows[0].split_whitespace().take(3).collect();
    assert_eq!(header, ["SEQ", "EXCHANGE", "SYMBOL"], "{text}");
    assert_eq!(rows.len(), 3);
    assert!(rows[1].contains("9277.2"), "{text}");
}

#[test]
fn other_kinds_subscribe_to_their_table() {
    let quote_partial = r#"{"table":"quote","action":"partial","keys":[],"filter":{"symbol":"XBTUSD"},"data":[{"timestamp":"2026-11-24T06:00:00.000Z","symbol":"XBTUSD","bidSize":5,"bidPrice":43210,"askPrice":43210.5,"askSize":7}]}"#;
    let steps = vec![
        Step::Send(bitmex::welcome()),
        Step::AwaitText("quote:XBTUSD".into()),
        Step::Send(bitmex::ack("quote:XBTUSD")),
        Step::Send(quote_partial.into()),
    ];
    let server = MockServer::start(Script::new(steps));
    let out = fetch(
        &server.url(),
        &["--kind", "ask", "-n", "1", "--format", "csv"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains(",ask,43210.5,"), "{}", stdout(&out));
    assert_eq!(
        server.received()[0],
        r#"{"op":"subscribe","args":["quote:XBTUSD"]}"#
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = collector(&["fetch", "nasdaq", "AAPL"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown exchange") && stderr.contains("bitmex"),
        "{stderr}"
    );

    for args in [
        &["fetch", "bitmex", "XBTUSD", "--kind", "median"][..],
        // (-n 0 now means "until interrupted"; a count must be a number.)
        &["fetch", "bitmex", "XBTUSD", "-n", "ten"],
        &["fetch", "bitmex", "XBTUSD", "--timeout", "soon"],
        &["fetch", "bitmex", "XBTUSD", "--url", "ws://x/", "--testnet"],
        &["fetch", "bitmex"],
    ] {
        let out = collector(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = collector(&["fetch", "bitmex", "XBT USD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("not a BitMEX symbol"));
}

#[test]
fn nothing_listening_exits_1_with_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = fetch(&format!("ws://127.0.0.1:{port}/realtime"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_error_line(&out);
    assert!(
        line.contains("cannot connect") && line.contains("refused"),
        "{line}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn http_200_instead_of_upgrade_says_the_status() {
    let server = MockServer::start(Script::reject(200));
    let out = fetch(&server.url(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("HTTP 200"));
}

#[test]
fn an_unknown_symbol_prints_the_exchanges_message() {
    let error = r#"{"status":400,"error":"Unknown symbol: XBTUSDX","meta":{},"request":{"op":"subscribe","args":["instrument:XBTUSDX"]}}"#;
    let server = MockServer::start(Script::new(vec![
        Step::Send(bitmex::welcome()),
        Step::AwaitText("subscribe".into()),
        Step::Send(error.into()),
    ]));
    let out = fetch(&server.url(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("Unknown symbol: XBTUSDX"));
}

#[test]
fn a_timeout_says_how_many_arrived_and_prints_them() {
    let mut steps = fair_session(&FAIRS[..1], Duration::from_millis(1));
    steps.push(Step::Pause(Duration::from_secs(30)));
    let server = MockServer::start(Script::new(steps.clone()));
    let out = fetch(&server.url(), &["--timeout", "1", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_error_line(&out);
    assert!(line.contains("2 of 10"), "{line}");
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn a_server_of_only_garbage_ends_in_the_timeout_saying_what_came() {
    let steps = vec![
        Step::Send("\u{1}not json".into()),
        Step::Send("{\"half\":".into()),
        Step::Send("[]".into()),
    ];
    let server = MockServer::start(Script::new(steps));
    let started = Instant::now();
    let out = fetch(&server.url(), &["--timeout", "2"]);
    let line = one_error_line(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        line.contains("timed out after 2s: 0 of 10 fair quotes for XBTUSD arrived"),
        "{line}"
    );
    // Half the timeout per connection, so the silent server was retried.
    assert!(
        line.contains(
            "no quote arrived within 1s of subscribing (3 frames received, 3 undecodable)"
        ),
        "{line}"
    );
    assert!(server.connections() >= 2, "{}", server.connections());
    assert!(stdout(&out).is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_server_close_mid_fetch_exits_1() {
    let mut steps = fair_session(&FAIRS[..2], Duration::from_millis(1));
    steps.push(Step::Close(1011));
    let server = MockServer::start(Script::new(steps));
    let out = fetch(&server.url(), &["--format", "json", "--max-attempts", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("closed the connection (code 1011)"));
    assert_eq!(stdout(&out).lines().count(), 3);
}

#[test]
fn ctrl_c_prints_what_arrived_and_exits_130() {
    let mut steps = fair_session(&FAIRS[..2], Duration::from_millis(1));
    steps.push(Step::Pause(Duration::from_secs(30)));
    let server = MockServer::start(Script::new(steps));
    let child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "fetch",
            "bitmex",
            "XBTUSD",
            "--format",
            "json",
            "--url",
            &server.url(),
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the quotes have been sent and read, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.received().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out).lines().count(), 3);
    assert!(one_error_line(&out).contains("interrupted: printed 3 of 10"));
}

#[test]
fn completions_are_generated() {
    let out = collector(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("collector") && stdout(&out).contains("fetch"));
}

/// Against the real exchange: `MERCURY_LIVE=1 cargo test -p mercury-cli -- --ignored live`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_bitmex_ten_fair_prices() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach wss://ws.bitmex.com");
        return;
    }
    let out = collector(&["fetch", "bitmex", "XBTUSD", "-n", "10", "--format", "json"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 10);
    assert!(
        lines
            .iter()
            .all(|l| l["price"].as_str().unwrap().parse::<Price>().is_ok())
    );
}

/// The three real exchanges at once, mark prices then the book:
/// `MERCURY_LIVE=1 cargo test -p mercury-cli -- --ignored live`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_three_exchanges_merge() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach BitMEX, Binance and Bybit");
        return;
    }
    for kind in ["mark", "bid"] {
        let out = collector(&[
            "fetch",
            "bitmex:XBTUSD",
            "binance:BTCUSDT",
            "bybit:BTCUSDT",
            "--kind",
            kind,
            "-n",
            "60",
            "--format",
            "json",
            "--timeout",
            "90",
        ]);
        let lines = json_lines(&out);
        for exchange in ["bitmex", "binance", "bybit"] {
            assert!(
                lines.iter().any(|l| l["exchange"] == exchange),
                "{kind}: no {exchange}"
            );
        }
    }
}

/// Kraken Futures, every kind of `PF_XBTUSD`, then 100 s on one link:
/// Kraken asks for a client ping at least every 60 s, which mercury's
/// keep-alive sends every 30 s while tickers flow; a gap would mean the
/// server closed the link anyway.
/// `MERCURY_LIVE=1 cargo test -p mercury-cli -- --ignored live_krakenfutures`.
#[test]
#[ignore = "needs the internet; run with MERCURY_LIVE=1 and --ignored"]
fn live_krakenfutures_every_kind_and_a_long_link() {
    if std::env::var("MERCURY_LIVE").as_deref() != Ok("1") {
        eprintln!("skipped: set MERCURY_LIVE=1 to reach wss://futures.kraken.com");
        return;
    }
    for kind in ["mark", "index", "last", "bid", "ask"] {
        let out = collector(&[
            "fetch",
            "krakenfutures",
            "PF_XBTUSD",
            "--kind",
            kind,
            "-n",
            "3",
            "--format",
            "json",
            "--timeout",
            "60",
        ]);
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 3, "{kind}");
        assert!(lines.iter().all(|l| l["kind"] == kind));
    }
    let out = collector(&[
        "fetch",
        "krakenfutures",
        "PF_XBTUSD",
        "-n",
        "100",
        "--format",
        "json",
        "--timeout",
        "180",
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 100);
    assert!(
        lines.iter().all(|l| l.get("after_gap").is_none()),
        "the link was replaced: did the keep-alive ping go out?"
    );
}

#[test]
fn sim_fetch_runs_offline_through_the_real_stack() {
    let started = Instant::now();
    let out = collector(&[
        "fetch", "bitmex", "XBTUSD", "-n", "10", "--sim", "--format", "json",
    ]);
    let lines = quiet_json_lines(&out);
    assert_eq!(lines.len(), 10);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], i as u64 + 1);
        assert_eq!(
            (line["symbol"].as_str(), line["kind"].as_str()),
            (Some("XBTUSD"), Some("fair"))
        );
        assert!(line["price"].as_str().unwrap().parse::<Price>().is_ok());
    }
    // The default venue changes fairPrice every 100 ms: ~1 s for ten.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn sim_serves_until_its_duration_and_prints_its_url() {
    let out = collector(&["sim", "bitmex", "--duration", "0.3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = stdout(&out);
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.trim_end().ends_with("/realtime"),
        "{url}"
    );
}

#[test]
fn sim_replay_prints_the_real_sessions_best_bids() {
    let out = collector(&[
        "fetch", "bitmex", "XBTUSD", "-n", "40", "--kind", "bid", "--sim", "--replay", "--format",
        "csv",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prices: Vec<Price> = stdout(&out)
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    let expected: Vec<Price> = mercury_testkit::bitmex_fixture(
        "expected/cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt",
    )
    .lines()
    .take(40)
    .map(|line| line.trim().parse().unwrap())
    .collect();
    assert_eq!(prices, expected);
    // --replay belongs to --sim.
    let out = collector(&["fetch", "bitmex", "XBTUSD", "--replay"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn three_exchanges_offline_in_one_fetch() {
    let out = collector(&[
        "fetch",
        "bitmex:XBTUSD",
        "binance:BTCUSDT",
        "bybit:BTCUSDT",
        "-n",
        "30",
        "--sim",
        "--format",
        "json",
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 30);
    for (exchange, kind) in [("bitmex", "fair"), ("binance", "mark"), ("bybit", "mark")] {
        let of: Vec<&serde_json::Value> =
            lines.iter().filter(|l| l["exchange"] == exchange).collect();
        assert!(!of.is_empty(), "{exchange} is in the merged stream");
        assert!(
            of.iter().all(|l| l["kind"] == kind),
            "{exchange}'s default kind"
        );
    }
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    // --kind applies to every target, and must be offered by each.
    let out = collector(&[
        "fetch",
        "bitmex:XBTUSD",
        "bybit:BTCUSDT",
        "--kind",
        "fair",
        "--sim",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bybit linear does not offer fair"));
}
