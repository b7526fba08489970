//! TLS against real servers on 127.0.0.1: the in-process simulator over
//! `wss://` (the regression test of issue #12: `max_http_version` used to
//! drop the TLS connector), and test servers that fail the handshake in one
//! precise way each. What the connector reports must be the error a user
//! can act on, fast, and retried only when retrying can help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
#![allow(clippy::print_stdout)] // each error line is printed: the record of what a user sees

use actix::Actor;
use mercury_collector::{
    Collector, Connector, ConnectorConfig, ConnectorError, Fetch, FetchError, FetchFailed, Tick,
    Timeouts, TlsTrust, load_ca_file, tls_client_config,
};
use mercury_core::ConnectionPlan;
use mercury_core::{QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{SimCertificates, Simulator, SimulatorConfig};
use mercury_testkit::tls::{TestPki, TlsBehaviour, TlsServer};
use std::time::{Duration, Instant};

fn xbt_fair() -> Vec<Subscription> {
    vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)]
}

/// A fetch of `n` quotes on one connection that is not retried.
async fn fetch_with(
    url: String,
    n: usize,
    tweak: impl FnOnce(&mut ConnectorConfig),
) -> (Result<Vec<Tick>, FetchFailed>, Duration) {
    let collector = Collector::new().start();
    let fetch = collector.send(Fetch {
        subscriptions: xbt_fair(),
        n,
        timeout: Duration::from_secs(10),
    });
    let plan = ConnectionPlan::new(&Bitmex, &url, &xbt_fair()).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff.max_attempts = Some(0);
    tweak(&mut config);
    let started = Instant::now();
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();
    let result = fetch.await.unwrap();
    (result, started.elapsed())
}

fn connection_error(result: Result<Vec<Tick>, FetchFailed>) -> ConnectorError {
    match result.map(|_| ()).unwrap_err().reason {
        FetchError::Connection { error } => error,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

fn trusting(pki: &TestPki) -> impl FnOnce(&mut ConnectorConfig) {
    let tls = tls_client_config(&TlsTrust::only(vec![pki.ca_der()])).unwrap();
    move |config| config.tls = Some(tls)
}

#[actix::test]
async fn a_wss_fetch_from_the_tls_simulator_works() {
    let certificates = SimCertificates::generate().unwrap();
    let config = SimulatorConfig {
        tls: Some(certificates.server_config().unwrap()),
        ..SimulatorConfig::loopback()
    };
    let simulator = Simulator::start(config, &Bitmex).unwrap();
    assert!(simulator.url().starts_with("wss://localhost:"));
    let tls = tls_client_config(&TlsTrust::only(vec![certificates.ca_der()])).unwrap();
    let (result, _) = fetch_with(simulator.url(), 5, |c| c.tls = Some(tls)).await;
    assert_eq!(result.unwrap().len(), 5);

    // The default roots do not know the simulator's CA.
    let (result, elapsed) = fetch_with(simulator.url(), 5, |_| {}).await;
    let error = connection_error(result);
    assert!(
        matches!(&error, ConnectorError::UntrustedCertificate { host, reason, .. } if host == "localhost" && reason == "unknown issuer"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    simulator.stop().await;
}

#[actix::test]
async fn a_ca_file_written_by_the_simulator_loads_and_is_trusted() {
    let certificates = SimCertificates::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("mercury-tls-ca-file-{}", std::process::id()));
    let files = certificates.write_to(&dir).unwrap();
    let cas = load_ca_file(&files.ca).unwrap();
    assert_eq!(cas, vec![certificates.ca_der()]);
    // A bundle: the CA twice, plus the leaf.
    let bundle = dir.join("bundle.pem");
    let text = std::fs::read_to_string(&files.ca).unwrap()
        + &std::fs::read_to_string(&files.ca).unwrap()
        + &std::fs::read_to_string(&files.cert).unwrap();
    std::fs::write(&bundle, text).unwrap();
    assert_eq!(load_ca_file(&bundle).unwrap().len(), 3);
    // A key is PEM, but no certificate.
    let error = load_ca_file(&files.key).unwrap_err();
    assert!(error.to_string().contains("key.pem"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

#[actix::test]
async fn a_certificate_for_another_name_says_which_names_it_covers() {
    let pki = TestPki::new("mismatch");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["example.invalid"], false),
        alpn: vec![b"http/1.1".to_vec()],
    });
    let (result, elapsed) = fetch_with(server.url(), 1, trusting(&pki)).await;
    let error = connection_error(result);
    let ConnectorError::CertificateNameMismatch {
        host, valid_for, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(host, "localhost");
    assert!(
        valid_for.iter().any(|n| n.contains("example.invalid")),
        "{valid_for:?}"
    );
    assert!(!error.is_retryable());
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[actix::test]
async fn an_expired_certificate_says_so() {
    let pki = TestPki::new("expired");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["localhost"], true),
        alpn: vec![b"http/1.1".to_vec()],
    });
    let (result, elapsed) = fetch_with(server.url(), 1, trusting(&pki)).await;
    let error = connection_error(result);
    assert!(
        matches!(&error, ConnectorError::CertificateExpired { expired_on: Some(on), .. } if on.contains("2021-01-01")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[actix::test]
async fn a_server_that_offers_only_h2_cannot_upgrade() {
    let pki = TestPki::new("h2");
    let server = TlsServer::start(TlsBehaviour::Handshake {
        leaf: pki.leaf(&["localhost"], false),
        alpn: vec![b"h2".to_vec()],
    });
    let (result, elapsed) = fetch_with(server.url(), 1, trusting(&pki)).await;
    let error = connection_error(result);
    assert!(
        matches!(error, ConnectorError::NoHttp11 { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[actix::test]
async fn a_handshake_that_stalls_is_a_connect_timeout_and_retryable() {
    let server = TlsServer::start(TlsBehaviour::Stall);
    let (result, elapsed) = fetch_with(server.url(), 1, |config| {
        config.timeouts = Timeouts {
            connect: Duration::from_millis(300),
            handshake: Duration::from_millis(600),
            first_data: Duration::from_secs(5),
        };
    })
    .await;
    let error = connection_error(result);
    assert!(
        matches!(error, ConnectorError::ConnectTimeout { after, .. } if after == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[actix::test]
async fn a_reset_or_eof_during_the_handshake_is_retryable() {
    for behaviour in [TlsBehaviour::Reset, TlsBehaviour::Eof] {
        let label = format!("{behaviour:?}");
        let server = TlsServer::start(behaviour);
        let (result, _) = fetch_with(server.url(), 1, |_| {}).await;
        let error = connection_error(result);
        assert!(
            matches!(error, ConnectorError::TlsInterrupted { .. }),
            "{label}: {error:?}"
        );
        assert!(error.is_retryable(), "{label}");
        println!("{label}: {error}");
    }
}
