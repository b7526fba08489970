//! `collector consume` as a process against a real `nats-server -js`
//! (never a mock): quote records published into the stream by this test
//! with `async-nats` (the JSON line `fetch --format json` prints, with a
//! `Nats-Msg-Id`) come out exactly, in order; `-n` stops; a durable
//! consumer resumes after what it printed; `--subject` filters; a garbage
//! payload is one logged skip; a missing stream or a bad URL is one
//! `error:` line (exit 1); a closed stdout ends the run quietly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_testkit::nats::{NatsOptions, NatsServer};
use mercury_tests::recorded::terminate;
use mercury_tests::{Fetched, collector, drain};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);
/// The next message id [`publish`] gives.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

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
    publish_as(async_nats::ConnectOptions::new(), url, messages);
}

/// [`publish`] with connect `options` (a token).
fn publish_as(options: async_nats::ConnectOptions, url: &str, messages: &[(String, String)]) {
    actix_rt::System::new().block_on(async {
        let client = options.connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "MERCURY".into(),
            subjects: vec!["mercury.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut acks = Vec::new();
        for (subject, payload) in messages {
            let mut headers = async_nats::HeaderMap::new();
            // Unique per message published by this process.
            let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            headers.insert("Nats-Msg-Id", format!("test-{id}").as_str());
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

#[test]
fn without_n_it_follows_new_quotes_until_sigterm_then_exits_0() {
    let Some((_dir, nats)) = server() else { return };
    let sent = quotes(5);
    publish(&nats.url(), &sent[..3]);
    let mut child = collector()
        .args(["consume", "--nats", &nats.url(), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let mut got = Vec::new();
    let next = || received.recv_timeout(LIMIT).expect("a quote line");
    for _ in 0..3 {
        got.push(next());
    }
    // Published while it follows: they arrive too, each as soon as it is
    // stored — not held back to fill a pull of 256 or until the pull's
    // 1 s wait ends (a follower streams; the limit is far above the few
    // milliseconds it takes, and below that wait).
    for quote in &sent[3..] {
        std::thread::sleep(Duration::from_millis(300));
        let published = Instant::now();
        publish(&nats.url(), std::slice::from_ref(quote));
        got.push(next());
        let took = published.elapsed();
        assert!(
            took < Duration::from_millis(700),
            "a followed quote took {took:?}"
        );
    }
    let expected: Vec<String> = sent.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(got, expected);
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_token_comes_from_a_file_or_the_environment_and_a_refused_one_is_one_error_line() {
    if let Err(why) = NatsServer::available() {
        #[allow(clippy::print_stderr)] // why the test is skipped
        {
            eprintln!("{why}");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = NatsOptions {
        token: Some("s3cret-token".into()),
        ..NatsOptions::default()
    };
    let nats = NatsServer::start_with(dir.path(), options);
    let token = async_nats::ConnectOptions::with_token("s3cret-token".into());
    publish_as(token, &nats.url(), &quotes(2));
    let run = |env: Option<&str>, args: &[&str]| {
        let mut command = collector();
        command
            .args([
                "consume",
                "--nats",
                &nats.url(),
                "--format",
                "json",
                "-n",
                "2",
            ])
            .args(["--timeout", "20"])
            .args(args)
            .env_remove("MERCURY_NATS_TOKEN");
        if let Some(token) = env {
            command.env("MERCURY_NATS_TOKEN", token);
        }
        Fetched::run(&mut command, LIMIT)
    };
    assert_eq!(seqs(&run(Some("s3cret-token"), &[])), [1, 2]);
    let file = dir.path().join("token");
    std::fs::write(&file, "s3cret-token\n").unwrap();
    let from_file = run(None, &["--nats-token-file", file.to_str().unwrap()]);
    assert_eq!(seqs(&from_file), [1, 2]);
    let refused = run(Some("wrong"), &[]);
    let line = refused.one_error_line(1);
    assert!(line.contains("cannot connect to NATS"), "{line}");
    assert!(!line.contains("wrong"), "the token is not printed: {line}");
    let missing = run(None, &[]);
    assert!(missing.one_error_line(1).contains("cannot connect to NATS"));
}

#[test]
fn a_follower_whose_server_is_gone_still_ends_at_sigterm_and_says_what_was_not_acknowledged() {
    let Some((_dir, mut nats)) = server() else {
        return;
    };
    publish(&nats.url(), &quotes(2));
    let mut child = collector()
        .args(["consume", "--nats", &nats.url(), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains(r#""exchange""#), "{line}");
    }
    nats.kill();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let status = terminate(&mut child);
    let waited = started.elapsed();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(waited < Duration::from_secs(15), "{waited:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    match status.code() {
        Some(0) => {}
        Some(1) => {
            // Told, not silent: the last acknowledgements did not go out.
            let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
            assert_eq!(errors.len(), 1, "{stderr}");
            assert!(
                errors[0].contains("acknowledgements were not sent"),
                "{stderr}"
            );
        }
        other => panic!("{other:?}: {stderr}"),
    }
}

/// How many messages the durable consumer `name` has had delivered.
fn delivered(url: &str, name: &str) -> u64 {
    actix_rt::System::new().block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("MERCURY").await.unwrap();
        let mut consumer: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer(name).await.unwrap();
        consumer.info().await.unwrap().delivered.stream_sequence
    })
}

#[test]
fn a_reader_that_does_not_read_stops_the_pulls() {
    let Some((_dir, nats)) = server() else { return };
    let total = 3000;
    publish(&nats.url(), &quotes(total));
    let mut child = collector()
        .args(["consume", "--nats", &nats.url(), "--format", "json"])
        .args(["--durable", "slow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    // Nobody reads stdout for a while: the pipe (64 KiB) and the writer's
    // buffer (64 KiB) fill, and then no pull is asked for. At ~165 bytes a
    // record that is at most ~800 quotes, plus one batch (256) pulled.
    std::thread::sleep(Duration::from_secs(2));
    let pulled = delivered(&nats.url(), "slow");
    assert!(
        (256..=1300).contains(&pulled),
        "{pulled} of {total} pulled while stdout was not read"
    );
    // Reading resumes the pulls: every quote, in order.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seqs = Vec::new();
    while seqs.len() < total as usize {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "ended early");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        seqs.push(value["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
}
