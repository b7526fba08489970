//! `collector record --nats` against a real `nats-server -js` (never a
//! mock), each test with a server of its own on a free port and a store in
//! a temporary directory, stopped by pid: the round trip against the
//! simulators' frame logs (then read back by `collector consume` too), a server killed and restarted on its store, a
//! server paused behind a firehose, two collectors on one feed, and the
//! start-up failures (bad URL, refused auth, untrusted TLS, a stream that
//! would lose data). The stream is read back by an independent async-nats
//! consumer in the test, not by mercury's own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

#[path = "nats_support.rs"]
mod support;

use mercury_core::Price;
use mercury_testkit::nats::{NatsOptions, NatsServer};
use mercury_testkit::rss_kib;
use mercury_tests::oracle::sent;
use mercury_tests::recorded::{assert_connection_by_connection, terminate};
use mercury_tests::{SimProcess, collector, run_bounded};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{
    Stored, assert_consume_prints, assert_ids_unique, counter, now_text, owned, pem, prices_of,
    read_stream, read_stream_as, runtime, server, spawn_record,
};

#[test]
fn record_nats_round_trip_publishes_every_quote_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    let pace = ["--fair-interval", "0.05"];
    let mut bitmex = SimProcess::start_for("bitmex", "nats-rt-bitmex", &pace);
    let mut binance = SimProcess::start_for("binance", "nats-rt-binance", &pace);
    let args = [
        "bitmex:XBTUSD",
        "binance:BTCUSDT",
        "--url",
        &format!("bitmex={}", bitmex.url()),
        "--url",
        &format!("binance={}", binance.url()),
        "--nats",
        &nats.url(),
    ];
    let (mut child, stderr) = spawn_record(&owned(&args), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");

    let stored = read_stream(&nats.url(), "MERCURY");
    assert_ids_unique(&stored);
    let mut total = 0;
    for (exchange, symbol, kind, sim) in [
        ("bitmex", "XBTUSD", "fair", &mut bitmex),
        ("binance", "BTCUSDT", "mark", &mut binance),
    ] {
        let subject = format!("mercury.{exchange}.{kind}.{symbol}");
        let mine: Vec<&Stored> = stored.iter().filter(|m| m.subject == subject).collect();
        assert!(mine.len() >= 10, "{subject}: {} quotes", mine.len());
        assert!(
            mine.iter()
                .all(|m| m.quote["exchange"] == exchange && m.quote["symbol"] == symbol)
        );
        let sent: Vec<Vec<Price>> = sent(exchange, symbol, sim.stop_and_log())
            .into_values()
            .filter(|p| !p.is_empty())
            .collect();
        assert_connection_by_connection(&prices_of(&mine), &sent, exchange);
        total += mine.len();
    }
    assert_eq!(total, stored.len(), "nothing else in the stream");

    // The round trip as a user runs it: `collector consume` prints exactly
    // the stream's quotes, in the stream's order (so per subject the frame
    // logs' order checked above), each once.
    let stored: Vec<&serde_json::Value> = stored.iter().map(|m| &m.quote).collect();
    assert_consume_prints(&nats.url(), &[], &stored);
}

#[test]
fn a_killed_server_restarted_on_its_store_ends_with_every_quote_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    let mut bitmex = SimProcess::start_for("bitmex", "nats-kill", &["--fair-interval", "0.02"]);
    let args = [
        "bitmex:XBTUSD",
        "--url",
        &format!("bitmex={}", bitmex.url()),
        "--nats",
        &nats.url(),
        "--nats-window",
        "64",
        "--nats-ack-timeout",
        "1",
    ];
    let (mut child, stderr) = spawn_record(&owned(&args), &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let before = rss_kib(child.id()).unwrap();
    nats.kill();
    let mut most = before;
    let away = Instant::now();
    while away.elapsed() < Duration::from_secs(3) {
        most = most.max(rss_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    nats.restart();
    std::thread::sleep(Duration::from_secs(3));
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("sending the window again"),
        "retried: {stderr}"
    );
    assert!(
        most < before + 64 * 1024,
        "RSS bounded while NATS was away: {before} KiB then up to {most} KiB"
    );

    let stored = read_stream(&nats.url(), "MERCURY");
    assert_ids_unique(&stored);
    // Across a lost connection the stream may hold a few quotes out of
    // order (those lost with the old connection are stored after those the
    // client queued for the new one; see collector::nats::publisher): the
    // collector's `seq` in each payload puts them back.
    let mut all: Vec<&Stored> = stored.iter().collect();
    all.sort_by_key(|m| m.quote["seq"].as_u64().unwrap());
    let sent: Vec<Vec<Price>> = sent("bitmex", "XBTUSD", bitmex.stop_and_log())
        .into_values()
        .filter(|p| !p.is_empty())
        .collect();
    // About 50 quotes a second for 7.5 s: those sent while the server was
    // away too, each once.
    assert!(all.len() >= 200, "{} quotes", all.len());
    assert_connection_by_connection(&prices_of(&all), &sent, "bitmex");
}

#[test]
fn quotes_never_acknowledged_by_the_end_are_one_error_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    let bitmex = SimProcess::start_for("bitmex", "nats-unacked", &["--fair-interval", "0.02"]);
    let args = [
        "bitmex:XBTUSD",
        "--url",
        &format!("bitmex={}", bitmex.url()),
        "--nats",
        &nats.url(),
        "--nats-ack-timeout",
        "0.5",
        "--nats-drain",
        "1",
    ];
    let (mut child, stderr) = spawn_record(&owned(&args), &[]);
    std::thread::sleep(Duration::from_secs(1));
    nats.kill();
    std::thread::sleep(Duration::from_secs(1));
    let status = terminate(&mut child);
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let count: u64 = errors[0]
        .trim_start_matches("error: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("a count first: {}", errors[0]));
    // About 50 quotes a second for the second the server was away.
    assert!(count >= 20, "{}", errors[0]);
    assert!(
        errors[0].contains("not acknowledged by NATS"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_paused_server_behind_a_firehose_back_pressures_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    let mut firehose = collector()
        .args(["sim", "bitmex", "--firehose", "--duration", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(firehose.stdout.take().unwrap()),
        &mut url,
    )
    .unwrap();
    let args = [
        "bitmex:XBTUSD",
        "--url",
        &format!("bitmex={}", url.trim()),
        "--nats",
        &nats.url(),
        "--nats-window",
        "256",
        "--nats-ack-timeout",
        "2",
    ];
    let (mut child, stderr) = spawn_record(&owned(&args), &[("RUST_LOG", "warn,mercury_cli=info")]);
    std::thread::sleep(Duration::from_secs(2));
    let start = now_text();
    let started = Instant::now();
    nats.pause();
    let paused = now_text();
    let before = rss_kib(child.id()).unwrap();
    let mut most = before;
    let mut settled = String::new();
    while started.elapsed() < Duration::from_secs(10) {
        if settled.is_empty() && started.elapsed() > Duration::from_secs(4) {
            settled = now_text();
        }
        most = most.max(rss_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    let resumed = now_text();
    nats.resume();
    std::thread::sleep(Duration::from_secs(2));
    let status = terminate(&mut child);
    let _ = firehose.kill();
    let _ = firehose.wait();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("sending the window again"),
        "retried: {stderr}"
    );
    // The sink's own count: it held the collector back for most of the
    // 10 s pause.
    let held = counter(&stderr, "backpressure_ms");
    assert!(held >= 6_000, "back-pressure {held} ms: {stderr}");
    assert!(
        most < before + 64 * 1024,
        "RSS bounded while NATS was paused: {before} KiB then up to {most} KiB"
    );

    let stored = read_stream(&nats.url(), "MERCURY");
    assert_ids_unique(&stored);
    // Every quote the collector numbered is in the stream once: seq 1..=N.
    let mut seqs: Vec<u64> = stored
        .iter()
        .map(|m| m.quote["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    let expected: Vec<u64> = (1..=stored.len() as u64).collect();
    assert_eq!(seqs, expected, "no loss, no duplicate");
    // Back-pressure: the firehose's quotes flowed before the pause, and
    // (once the buffers had filled) hardly at all during it.
    let received = |from: &str, to: &str| {
        stored
            .iter()
            .filter(|m| {
                let at = m.quote["received_at"].as_str().unwrap();
                at >= from && at < to
            })
            .count()
    };
    let before_pause = received("", &paused);
    let late_in_pause = received(&settled, &resumed);
    assert!(before_pause > 1000, "the firehose flowed: {before_pause}");
    assert!(
        late_in_pause * 10 < before_pause,
        "back-pressure: {late_in_pause} quotes received late in the pause, {before_pause} in the 2 s before ({start})"
    );
}

#[test]
fn two_collectors_on_one_feed_store_each_update_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = server(dir.path(), NatsOptions::default()) else {
        return;
    };
    // The embedded 2021 capture: every client gets the same frames, with
    // the exchange's own times.
    let sim = SimProcess::start_for("bitmex", "nats-twins", &["--replay", "--speed", "max"]);
    let args = [
        "bitmex:XBTUSD",
        "--kind",
        "bid",
        "--url",
        &format!("bitmex={}", sim.url()),
        "--nats",
        &nats.url(),
    ];
    let env = [("RUST_LOG", "warn,mercury_cli=info")];
    let (mut first, first_err) = spawn_record(&owned(&args), &env);
    let (mut second, second_err) = spawn_record(&owned(&args), &env);
    std::thread::sleep(Duration::from_secs(3));
    let statuses = [terminate(&mut first), terminate(&mut second)];
    let logs: Vec<String> = [first_err, second_err]
        .into_iter()
        .map(|h| String::from_utf8_lossy(&h.join().unwrap()).into_owned())
        .collect();
    for (status, log) in statuses.iter().zip(&logs) {
        assert_eq!(status.code(), Some(0), "{log}");
    }
    let stored = read_stream(&nats.url(), "MERCURY");
    assert_ids_unique(&stored);
    let expected: Vec<Price> = mercury_testkit::bitmex_fixture(
        "expected/cryptofeed_2021-07-22_session.XBTUSD.bidPrice.txt",
    )
    .lines()
    .map(|l| l.trim().parse().unwrap())
    .collect();
    let all: Vec<&Stored> = stored.iter().collect();
    assert_eq!(prices_of(&all), expected, "each update once, in order");
    let published: u64 = logs.iter().map(|l| counter(l, "published")).sum();
    let duplicates: u64 = logs.iter().map(|l| counter(l, "duplicates")).sum();
    assert_eq!(published, 2 * expected.len() as u64, "{logs:?}");
    assert_eq!(
        duplicates,
        expected.len() as u64,
        "the server said which were duplicates"
    );
}

/// `record --nats URL ARGS` against a BitMEX simulator: one `error:` line,
/// exit 1, within 30 s.
fn fails_at_start(url: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let sim = SimProcess::start("nats-fail", &[]);
    let mut command = collector();
    command
        .args(["record", "bitmex:XBTUSD", "--url"])
        .arg(format!("bitmex={}", sim.url()))
        .args(["--nats", url])
        .args(extra)
        .envs(env.iter().copied());
    let output = run_bounded(&mut command, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_string()
}

#[test]
fn start_up_failures_are_one_error_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let Some(plain) = server(&dir.path().join("plain"), NatsOptions::default()) else {
        return;
    };
    // Nothing listens on a port we just had and closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = fails_at_start(&format!("nats://{closed}"), &[], &[]);
    assert!(error.contains("cannot connect to NATS"), "{error}");
    let error = fails_at_start("nats://127.0.0.1:notaport", &[], &[]);
    assert!(error.contains("NATS"), "{error}");

    // Refused auth: a token server, a wrong token, then none.
    let guarded = NatsOptions {
        token: Some("right-token".into()),
        ..NatsOptions::default()
    };
    let guarded = NatsServer::start_with(&dir.path().join("guarded"), guarded);
    let error = fails_at_start(
        &guarded.url(),
        &[],
        &[("MERCURY_NATS_TOKEN", "wrong-token")],
    );
    assert!(error.contains("refused our credentials"), "{error}");
    let error = fails_at_start(&guarded.url(), &[], &[]);
    assert!(error.contains("refused our credentials"), "{error}");

    // TLS with a CA the client does not trust.
    let pki = mercury_testkit::tls::TestPki::new("nats-untrusted");
    let leaf = pki.leaf(&["127.0.0.1", "localhost"], false);
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, pem("CERTIFICATE", leaf.cert.as_ref())).unwrap();
    std::fs::write(&key, pem("PRIVATE KEY", leaf.key.secret_der())).unwrap();
    let tls = NatsOptions {
        tls: Some((cert, key)),
        ..NatsOptions::default()
    };
    let tls = NatsServer::start_with(&dir.path().join("tls"), tls);
    let error = fails_at_start(&tls.url(), &[], &[]);
    assert!(error.contains("TLS"), "{error}");

    // A stream that exists with settings that would lose data.
    runtime().block_on(async {
        let client = async_nats::connect(plain.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "MERCURY".into(),
            subjects: vec!["mercury.bitmex.>".into()],
            storage: async_nats::jetstream::stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .unwrap();
    });
    let error = fails_at_start(&plain.url(), &[], &[]);
    assert!(error.contains("stream MERCURY exists"), "{error}");
    assert!(error.contains("memory storage"), "{error}");
    let untouched = runtime().block_on(async {
        let client = async_nats::connect(plain.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("MERCURY").await.unwrap();
        stream.info().await.unwrap().config.subjects.clone()
    });
    assert_eq!(
        untouched,
        vec!["mercury.bitmex.>".to_string()],
        "left alone"
    );
}

#[test]
fn credentials_from_a_token_file_or_the_environment_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    if server(&dir.path().join("probe"), NatsOptions::default()).is_none() {
        return;
    }
    let token_file = dir.path().join("token.txt");
    std::fs::write(&token_file, "right-token\n").unwrap();
    let token = NatsOptions {
        token: Some("right-token".into()),
        ..NatsOptions::default()
    };
    let user = NatsOptions {
        user_password: Some(("mercury".into(), "pa55".into())),
        ..NatsOptions::default()
    };
    let token_flag = ["--nats-token-file", token_file.to_str().unwrap()];
    let user_env = [
        ("MERCURY_NATS_USER", "mercury"),
        ("MERCURY_NATS_PASSWORD", "pa55"),
    ];
    // (name, server options, record's flags, record's environment)
    type Case<'a> = (
        &'a str,
        NatsOptions,
        &'a [&'a str],
        &'a [(&'a str, &'a str)],
    );
    let cases: [Case; 2] = [
        ("token", token, &token_flag, &[]),
        ("user", user, &[], &user_env),
    ];
    for (name, options, flags, env) in cases {
        let nats = NatsServer::start_with(&dir.path().join(name), options);
        let sim = SimProcess::start(&format!("nats-creds-{name}"), &["--fair-interval", "0.05"]);
        let mut args = owned(&["bitmex:XBTUSD", "--url"]);
        args.push(format!("bitmex={}", sim.url()));
        args.extend(owned(&["--nats", &nats.url()]));
        args.extend(owned(flags));
        let (mut child, stderr) = spawn_record(&args, env);
        std::thread::sleep(Duration::from_millis(1500));
        let status = terminate(&mut child);
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
        assert_eq!(status.code(), Some(0), "{name}: {stderr}");
        let reader = match name {
            "token" => async_nats::ConnectOptions::with_token("right-token".into()),
            _ => {
                async_nats::ConnectOptions::with_user_and_password("mercury".into(), "pa55".into())
            }
        };
        let stored = read_stream_as(reader, &nats.url(), "MERCURY");
        assert!(stored.len() >= 5, "{name}: {} quotes", stored.len());
    }
}
