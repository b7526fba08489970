//! TLS end to end, real processes and real sockets (issue #12): `collector
//! fetch` over `wss://` against `collector sim --tls` and against TLS test
//! servers that fail in one precise way each. Trust (`--ca-cert`,
//! `SSL_CERT_FILE`, neither), each certificate failure in one `error:`
//! line, fast and not retried; stalled, reset and cut handshakes; and for
//! every exchange a fetch and a drop + reconnect over TLS, the quotes
//! checked exactly against the simulator's frame log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
#![allow(clippy::print_stdout)] // each error line is printed: the record of what a user sees

use mercury_core::Price;
use mercury_testkit::bitmex::gap_indices;
use mercury_testkit::tls::{TestPki, TlsBehaviour, TlsServer};
use mercury_tests::oracle::sent;
use mercury_tests::{Fetched, SimProcess, collector};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

fn run(command: &mut Command) -> Fetched {
    Fetched::run(command, LIMIT)
}

/// `collector fetch EXCHANGE SYMBOL -n N --url URL --format json` plus `extra`.
fn fetch(exchange: &str, symbol: &str, n: usize, url: &str, extra: &[&str]) -> Command {
    let mut command = collector();
    command
        .args([
            "fetch",
            exchange,
            symbol,
            "-n",
            &n.to_string(),
            "--url",
            url,
        ])
        .args(["--format", "json"])
        .args(extra)
        // The tests decide what is trusted; the caller's environment does not.
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    command
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fetch_sim_tls_prints_ten_quotes() {
    let mut command = collector();
    command.args([
        "fetch", "bitmex", "XBTUSD", "--sim", "--tls", "-n", "10", "--format", "json",
    ]);
    let done = run(&mut command);
    assert_eq!(done.out.status.code(), Some(0), "{}", done.stderr());
    assert!(done.out.stderr.is_empty(), "{}", done.stderr());
    assert_eq!(done.lines().len(), 10);
}

#[test]
fn the_sim_ca_is_trusted_by_ca_cert_or_ssl_cert_file_and_not_by_default() {
    let sim = SimProcess::start_tls("trust", &["--fair-interval", "0.05"]);
    let ca = path(sim.ca().unwrap());

    let with_flag = run(&mut fetch(
        "bitmex",
        "XBTUSD",
        3,
        sim.url(),
        &["--ca-cert", ca],
    ));
    assert_eq!(
        with_flag.out.status.code(),
        Some(0),
        "{}",
        with_flag.stderr()
    );
    assert_eq!(with_flag.lines().len(), 3);

    let mut command = fetch("bitmex", "XBTUSD", 3, sim.url(), &[]);
    let with_env = run(command.env("SSL_CERT_FILE", ca));
    assert_eq!(with_env.out.status.code(), Some(0), "{}", with_env.stderr());
    assert_eq!(with_env.lines().len(), 3);

    let neither = run(&mut fetch("bitmex", "XBTUSD", 3, sim.url(), &[]));
    let line = neither.one_error_line(1);
    assert_eq!(
        line,
        "error: the certificate of localhost is not trusted (unknown issuer); pass --ca-cert FILE if you use a private CA"
    );
    assert!(
        neither.elapsed < Duration::from_secs(1),
        "{:?}",
        neither.elapsed
    );
    assert!(neither.out.stdout.is_empty());
}

#[test]
fn an_unusable_ca_file_is_a_usage_error_naming_it() {
    let missing = std::env::temp_dir().join("mercury-e2e-no-such-ca.pem");
    let done = run(&mut fetch(
        "bitmex",
        "XBTUSD",
        1,
        "wss://localhost:9/",
        &["--ca-cert", path(&missing)],
    ));
    assert!(
        done.one_error_line(2)
            .contains("mercury-e2e-no-such-ca.pem")
    );

    let not_pem =
        std::env::temp_dir().join(format!("mercury-e2e-not-pem-{}.der", std::process::id()));
    std::fs::write(&not_pem, [0x30u8, 0x82, 0x01, 0x00, 0xff, 0xfe]).unwrap();
    let done = run(&mut fetch(
        "bitmex",
        "XBTUSD",
        1,
        "wss://localhost:9/",
        &["--ca-cert", path(&not_pem)],
    ));
    let line = done.one_error_line(2);
    assert!(
        line.contains(path(&not_pem)) && line.contains("not PEM"),
        "{line}"
    );
    let _ = std::fs::remove_file(not_pem);

    // serve takes it too, and checks it before listening.
    let mut command = collector();
    command.args([
        "serve",
        "bitmex:XBTUSD",
        "--listen",
        "127.0.0.1:0",
        "--ca-cert",
        path(&missing),
    ]);
    assert!(
        run(&mut command)
            .one_error_line(2)
            .contains("mercury-e2e-no-such-ca.pem")
    );
}

/// A fetch against a [`TlsServer`] whose CA is trusted.
fn against(server: &TlsServer, pki: &TestPki) -> Fetched {
    run(&mut fetch(
        "bitmex",
        "XBTUSD",
        1,
        &server.url(),
        &["--ca-cert", path(pki.ca_path())],
    ))
}

#[test]
fn a_certificate_for_another_name_is_refused_in_one_line() {
    let pki = TestPki::new("e2e-mismatch");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["example.invalid"], false),
        alpn: vec![b"http/1.1".to_vec()],
    });
    let done = against(&server, &pki);
    let line = done.one_error_line(1);
    assert_eq!(
        line,
        "error: the certificate of localhost is not valid for that name; it is valid only for example.invalid"
    );
    assert!(done.elapsed < Duration::from_secs(1), "{:?}", done.elapsed);
}

#[test]
fn an_expired_certificate_is_refused_in_one_line() {
    let pki = TestPki::new("e2e-expired");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["localhost"], true),
        alpn: vec![b"http/1.1".to_vec()],
    });
    let done = against(&server, &pki);
    let line = done.one_error_line(1);
    assert!(
        line.contains("has expired") && line.contains("2021-01-01"),
        "{line}"
    );
    assert!(done.elapsed < Duration::from_secs(1), "{:?}", done.elapsed);
}

#[test]
fn an_h2_only_server_is_refused_in_one_line() {
    let pki = TestPki::new("e2e-h2");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["localhost"], false),
        alpn: vec![b"h2".to_vec()],
    });
    let done = against(&server, &pki);
    let line = done.one_error_line(1);
    assert!(line.contains("does not offer HTTP/1.1"), "{line}");
    assert!(done.elapsed < Duration::from_secs(1), "{:?}", done.elapsed);
}

#[test]
fn a_stalled_handshake_ends_with_a_timeout_line() {
    let server = TlsServer::start(TlsBehaviour::Stall);
    let done = run(&mut fetch(
        "bitmex",
        "XBTUSD",
        1,
        &server.url(),
        &["--timeout", "2"],
    ));
    let line = done.one_error_line(1);
    assert_eq!(
        line,
        format!(
            "error: connecting to {} timed out after 1s (TCP connect and TLS handshake)",
            server.url()
        )
    );
    assert!(done.elapsed < Duration::from_secs(3), "{:?}", done.elapsed);
}

#[test]
fn a_handshake_reset_is_retried_then_reported() {
    let server = TlsServer::start(TlsBehaviour::Reset);
    let done = run(&mut fetch(
        "bitmex",
        "XBTUSD",
        1,
        &server.url(),
        &["--max-attempts", "2", "--timeout", "20"],
    ));
    let line = done.one_error_line(1);
    assert!(
        line.contains("gave up after 2 reconnect attempts")
            && line.contains("cut during the TLS handshake"),
        "{line}"
    );
}

// ---- every exchange over wss://, healthy and with a drop ----

fn symbol_of(exchange: &str) -> &'static str {
    if exchange == "bitmex" {
        "XBTUSD"
    } else {
        "BTCUSDT"
    }
}

/// Exit 0, nothing on stderr, the prices the log predicts connection after
/// connection, `after_gap` where a connection starts; returns how many
/// connections delivered quotes.
fn fetch_over_tls(exchange: &str, faults: &[&str], n: usize) -> usize {
    let name = format!("{exchange}-{}", faults.len());
    let mut args = vec!["--fair-interval", "0.04"];
    args.extend_from_slice(faults);
    let mut sim = SimProcess::start_tls_for(exchange, &name, &args);
    let ca = path(sim.ca().unwrap()).to_string();
    let done = run(&mut fetch(
        exchange,
        symbol_of(exchange),
        n,
        sim.url(),
        &["--ca-cert", &ca, "--heartbeat", "0.3", "--timeout", "20"],
    ));
    assert_eq!(done.out.status.code(), Some(0), "{}", done.stderr());
    assert!(done.out.stderr.is_empty(), "{}", done.stderr());
    let by_connection = sent(exchange, symbol_of(exchange), sim.stop_and_log());
    let expected: Vec<Price> = by_connection.values().flatten().copied().take(n).collect();
    assert_eq!(done.prices(), expected, "{exchange}");
    assert_eq!(done.gaps(), gap_indices(&by_connection, n), "{exchange}");
    by_connection
        .values()
        .scan(0, |taken, prices| {
            let used = prices.len().min(n - *taken);
            *taken += used;
            Some(used)
        })
        .filter(|&used| used > 0)
        .count()
}

#[test]
fn every_exchange_fetches_over_tls() {
    for exchange in ["bitmex", "binance", "bybit"] {
        assert_eq!(fetch_over_tls(exchange, &[], 8), 1, "{exchange}");
    }
}

#[test]
fn every_exchange_resumes_a_dropped_tls_connection() {
    for exchange in ["bitmex", "binance", "bybit"] {
        let faults = ["--drop-after", "8", "--faulty-connections", "1"];
        assert_eq!(fetch_over_tls(exchange, &faults, 12), 2, "{exchange}");
    }
}
