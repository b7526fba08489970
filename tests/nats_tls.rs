//! The production path to NATS: TLS. A real `nats-server -js --tls` whose
//! certificate a CA made for the test signs; `collector record` reads a
//! `wss://` simulator and publishes over `tls://` trusting that CA
//! (`--nats-ca-cert`), and `collector consume` reads the quotes back over
//! `tls://` the same way — exactly what the stream holds, in order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

#[allow(dead_code)] // the publishing tests use the rest
#[path = "nats_support.rs"]
mod support;

use mercury_testkit::nats::NatsOptions;
use mercury_testkit::tls::TestPki;
use mercury_tests::recorded::terminate;
use mercury_tests::{collector, run_bounded};
use std::time::Duration;
use support::{assert_consume_prints, owned, pem, read_stream_as, server, spawn_record};

#[test]
fn record_and_consume_speak_tls_to_nats_trusting_the_given_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new("nats-tls");
    let leaf = pki.leaf(&["127.0.0.1", "localhost"], false);
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, pem("CERTIFICATE", leaf.cert.as_ref())).unwrap();
    std::fs::write(&key, pem("PRIVATE KEY", leaf.key.secret_der())).unwrap();
    let options = NatsOptions {
        tls: Some((cert, key)),
        ..NatsOptions::default()
    };
    let Some(nats) = server(&dir.path().join("nats"), options) else {
        return;
    };
    let url = nats.url();
    assert!(url.starts_with("tls://127.0.0.1:"), "{url}");
    let ca = pki.ca_path().to_str().unwrap().to_owned();

    let args = [
        "bitmex:XBTUSD",
        "--sim",
        "--tls",
        "--nats",
        &url,
        "--nats-ca-cert",
        &ca,
    ];
    let (mut child, stderr) = spawn_record(&owned(&args), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");

    // An independent reader over TLS, trusting the same CA.
    let reader = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca_path().to_path_buf())
        .require_tls(true);
    let stored = read_stream_as(reader, &url, "MERCURY");
    assert!(stored.len() >= 5, "only {} quotes stored", stored.len());

    let stored: Vec<&serde_json::Value> = stored.iter().map(|m| &m.quote).collect();
    assert_consume_prints(&url, &["--nats-ca-cert", &ca], &stored);

    // Without the CA, consume refuses the server's certificate: one line.
    let untrusted = run_bounded(
        collector().args(["consume", "--nats", &url, "-n", "1", "--timeout", "10"]),
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert_eq!(untrusted.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("TLS"), "{stderr}");
}
