//! `collector serve --nats` against a real `nats-server -js`: while the
//! server is killed the page's `/metrics` and `/health` show the sink
//! down, they show it up again once the server is back on its store, and
//! at the end every quote is in the stream exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

#[allow(dead_code)] // the publishing tests use the rest
#[path = "nats_support.rs"]
mod support;

use mercury_testkit::nats::NatsOptions;
use mercury_tests::recorded::terminate;
use mercury_tests::{collector, drain, scrape};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{read_stream, server};

/// Polls `page`'s `/metrics` until `mercury_nats_connected` is `want`.
fn wait_connected(page: &str, want: u8) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = scrape(page, "metrics").unwrap_or_default();
        if body
            .lines()
            .any(|line| line == format!("mercury_nats_connected {want}"))
        {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "mercury_nats_connected never became {want}:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn health(page: &str) -> serde_json::Value {
    serde_json::from_str(&scrape(page, "health").unwrap_or_default()).unwrap_or_default()
}

#[test]
fn the_page_shows_the_sink_down_while_the_server_is_killed_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    let mut serve = collector()
        .args(["serve", "--sim", "bitmex:XBTUSD", "--listen", "127.0.0.1:0"])
        .args(["--duration", "90", "--nats", &nats.url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(serve.stderr.take());
    let mut page = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut page)
        .unwrap();
    let page = page.trim().to_owned();
    assert!(page.starts_with("http://127.0.0.1:"), "{page:?}");

    wait_connected(&page, 1);
    std::thread::sleep(Duration::from_secs(1));
    nats.kill();
    let down = wait_connected(&page, 0);
    assert!(down.contains("mercury_nats_published_total"), "{down}");
    let seen = health(&page);
    assert_eq!(seen["status"], "degraded", "{seen}");
    assert!(!seen["nats_degraded"].is_null(), "{seen}");
    std::thread::sleep(Duration::from_secs(2));

    nats.restart();
    wait_connected(&page, 1);
    std::thread::sleep(Duration::from_secs(1));
    let status = terminate(&mut serve);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");

    // Every quote serve numbered is in the stream once: seq 1..=n.
    let stored = read_stream(&nats.url(), "MERCURY");
    let seqs: Vec<u64> = stored
        .iter()
        .map(|m| m.quote["seq"].as_u64().unwrap())
        .collect();
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "a quote stored twice");
    let n = seqs.len() as u64;
    assert!(n >= 20, "only {n} quotes");
    assert_eq!(unique, (1..=n).collect(), "a quote missing");
}
