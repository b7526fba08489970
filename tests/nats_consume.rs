//! `collector consume` as a process against a real `nats-server -js`
//! (never a mock): quote records published into the stream by this test
//! with `async-nats` (the JSON line `fetch --format json` prints, with a
//! `Nats-Msg-Id`) come out exactly, in order; `-n` stops; a durable
//! consumer resumes after what it printed; `--subject` filters; a garbage
//! payload is one logged skip; a missing stream or a bad URL is one
//! `error:` line (exit 1); a closed stdout ends the run quietly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::nats::NatsServer;
use mercury_tests::{Fetched, collector, drain};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// A server of its own, or `None` (with why) where none is installed.
fn server() -> Option<(tempfile::TempDir, NatsServer)> {
    if let Err(why) = NatsServer::available() {
        #[allow(clippy::print_stderr)] // why the test is skipped
        {
            eprintln!("{why}");
        }
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path());
    Some((dir, server))
}

/// The JSON record of quote `seq`, as `Tick::write_json` writes it.
fn record(seq: u64, exchange: &str, symbol: &str, kind: &str) -> String {
    format!(
        r#"{{"seq":{seq},"exchange":"{exchange}","symbol":"{symbol}","kind":"{kind}","price":"{seq}.5","exchange_time":"2026-12-02T10:00:00.{:03}Z","received_at":"2026-12-02T10:00:01.000Z"}}"#,
        seq % 1000
    )
}

/// `count` records alternating between BitMEX and Binance, with subjects.
fn quotes(count: u64) -> Vec<(String, String)> {
    (1..=count)
        .map(|seq| match seq % 2 {
            1 => (
                "mercury.bitmex.fair.XBTUSD".into(),
                record(seq, "bitmex", "XBTUSD", "fair"),
            ),
            _ => (
                "mercury.binance.mark.BTCUSDT".into(),
                record(seq, "binance", "BTCUSDT", "mark"),
            ),
        })
        .collect()
}

/// Creates the stream `MERCURY` (subjects `mercury.>`) and publishes
/// `messages` into it, each acknowledged.
fn publish(url: &str, messages: &[(String, String)]) {
    actix_rt::System::new().block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "MERCURY".into(),
            subjects: vec!["mercury.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut acks = Vec::new();
        for (i, (subject, payload)) in messages.iter().enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("test-{i}").as_str());
            let ack = js
                .publish_with_headers(subject.clone(), headers, payload.clone().into())
                .await
                .unwrap();
            acks.push(ack);
            // A bounded window of unacknowledged publications, as the
            // client allows only so many in flight.
            if acks.len() >= 256 {
                for ack in acks.drain(..) {
                    ack.await.unwrap();
                }
            }
        }
        for ack in acks {
            ack.await.unwrap();
        }
    });
}

fn consume(url: &str, args: &[&str]) -> Fetched {
    Fetched::run(
        collector()
            .args([
                "consume",
                "--nats",
                url,
                "--format",
                "json",
                "--timeout",
                "20",
            ])
            .args(args),
        LIMIT,
    )
}

/// The `seq` of every quote printed, in order.
fn seqs(fetched: &Fetched) -> Vec<u64> {
    let stderr = fetched.stderr();
    assert_eq!(fetched.out.status.code(), Some(0), "{stderr}");
    fetched
        .lines()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn consume_prints_exactly_the_published_quotes_in_order_and_n_stops() {
    let Some((_dir, nats)) = server() else { return };
    let sent = quotes(12);
    publish(&nats.url(), &sent);
    let all = consume(&nats.url(), &["-n", "12"]);
    let printed: Vec<String> = String::from_utf8(all.out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = sent.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(printed, expected, "{}", all.stderr());
    assert_eq!(seqs(&consume(&nats.url(), &["-n", "3"])), [1, 2, 3]);
    // CSV too, through fetch's printer.
    let csv = Fetched::run(
        collector().args([
            "consume",
            "--nats",
            &nats.url(),
            "-n",
            "1",
            "--format",
            "csv",
        ]),
        LIMIT,
    );
    assert_eq!(
        String::from_utf8_lossy(&csv.out.stdout),
        "seq,exchange,symbol,kind,price,exchange_time,received_at\n1,bitmex,XBTUSD,fair,1.5,2026-12-02T10:00:00.001Z,2026-12-02T10:00:01.000Z\n"
    );
}

#[test]
fn a_durable_consumer_resumes_after_what_it_printed() {
    let Some((_dir, nats)) = server() else { return };
    publish(&nats.url(), &quotes(10));
    let first = consume(&nats.url(), &["-n", "5", "--durable", "reader"]);
    assert_eq!(seqs(&first), [1, 2, 3, 4, 5]);
    let second = consume(&nats.url(), &["-n", "5", "--durable", "reader"]);
    assert_eq!(seqs(&second), [6, 7, 8, 9, 10], "none repeated, none lost");
    // The durable keeps its filter: another one is refused, not ignored.
    let other = consume(
        &nats.url(),
        &[
            "-n",
            "1",
            "--durable",
            "reader",
            "--subject",
            "mercury.bitmex.>",
        ],
    );
    assert!(other.one_error_line(1).contains("durable reader reads"));
    // Without --durable: the whole stream again.
    assert_eq!(
        seqs(&consume(&nats.url(), &["-n", "10"])),
        (1..=10).collect::<Vec<_>>()
    );
}

#[test]
fn subject_filters_and_a_garbage_payload_is_one_logged_skip() {
    let Some((_dir, nats)) = server() else { return };
    let mut sent = quotes(6);
    sent.insert(
        2,
        (
            "mercury.bitmex.fair.XBTUSD".into(),
            "\u{1b}[2Jnot a quote".into(),
        ),
    );
    publish(&nats.url(), &sent);
    let bitmex = consume(&nats.url(), &["-n", "3", "--subject", "mercury.bitmex.>"]);
    assert_eq!(seqs(&bitmex), [1, 3, 5]);
    let stderr = bitmex.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for the skip: {stderr}");
    assert!(lines[0].contains("not a quote record"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "server text is excerpted: {stderr}"
    );
    let binance = consume(&nats.url(), &["-n", "3", "--subject", "mercury.binance.>"]);
    assert_eq!(seqs(&binance), [2, 4, 6]);
}

#[test]
fn a_missing_stream_or_a_bad_url_is_one_error_line() {
    let Some((_dir, nats)) = server() else { return };
    let missing = consume(&nats.url(), &["-n", "1", "--stream", "NOSUCH"]);
    let line = missing.one_error_line(1);
    assert!(line.contains("no stream NOSUCH"), "{line}");
    // A port nothing listens on: the server's, once it is gone.
    let url = nats.url();
    drop(nats);
    let refused = consume(&url, &["-n", "1"]);
    let line = refused.one_error_line(1);
    assert!(line.contains("cannot connect to NATS"), "{line}");
    let garbled = consume("nats://[::1", &["-n", "1"]);
    assert!(garbled.one_error_line(1).contains("cannot connect to NATS"));
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let Some((_dir, nats)) = server() else { return };
    publish(&nats.url(), &quotes(3000));
    let started = Instant::now();
    let mut child = collector()
        .args(["consume", "--nats", &nats.url(), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(r#""seq":1,"#), "{first}");
    // stdout is closed (dropped) here, as `| head -1` would.
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("consume did not end when its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "quietly: {stderr}");
}
