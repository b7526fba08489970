//! What the NATS publishing tests share: a server per test (or a skip),
//! `collector record` as a process, and an independent async-nats
//! consumer that reads the stream back.

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use futures_util::StreamExt;
use mercury_core::{Price, Timestamp};
use mercury_testkit::nats::{NatsOptions, NatsServer};
use mercury_tests::{collector, drain};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime};

/// One message of the stream, as an independent consumer reads it.
#[derive(Debug)]
pub struct Stored {
    /// Its subject.
    pub subject: String,
    /// Its `Nats-Msg-Id`.
    pub id: String,
    /// Its `Mercury-Schema` header.
    pub schema: String,
    /// Its payload.
    pub quote: Value,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every message of `stream` on the server at `url`, in stream order.
pub fn read_stream(url: &str, stream: &str) -> Vec<Stored> {
    read_stream_as(async_nats::ConnectOptions::new(), url, stream)
}

/// [`read_stream`] connecting with `options` (credentials).
pub fn read_stream_as(options: async_nats::ConnectOptions, url: &str, stream: &str) -> Vec<Stored> {
    runtime().block_on(async {
        let client = options.connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream(stream).await.unwrap();
        let total = stream.info().await.unwrap().state.messages;
        let consumer = stream
            .create_consumer(pull::Config {
                ack_policy: AckPolicy::None,
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut out = Vec::new();
        while (out.len() as u64) < total {
            let next = tokio::time::timeout(Duration::from_secs(10), messages.next());
            let message = next
                .await
                .expect("the stream's messages in time")
                .unwrap()
                .unwrap();
            let header = |name: &str| {
                message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default()
            };
            out.push(Stored {
                subject: message.subject.to_string(),
                id: header("Nats-Msg-Id"),
                schema: header("Mercury-Schema"),
                quote: serde_json::from_slice(&message.payload).unwrap(),
            });
        }
        out
    })
}

/// A server for one test, or `None` (skip, saying why) without the binary.
#[allow(clippy::print_stderr)] // the one line that says a test skipped
pub fn server(dir: &Path, options: NatsOptions) -> Option<NatsServer> {
    match NatsServer::available() {
        Ok(_) => Some(NatsServer::start_with(dir, options)),
        Err(why) => {
            eprintln!("{why}");
            None
        }
    }
}

/// `collector record ARGS` with stdout and stderr drained.
pub fn spawn_record(
    args: &[String],
    env: &[(&str, &str)],
) -> (Child, std::thread::JoinHandle<Vec<u8>>) {
    let mut command = collector();
    command.arg("record").args(args).envs(env.iter().copied());
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take());
    (child, stderr)
}

pub fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_string()).collect()
}

pub fn prices_of(messages: &[&Stored]) -> Vec<Price> {
    messages
        .iter()
        .map(|m| m.quote["price"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Every message id once.
pub fn assert_ids_unique(messages: &[Stored]) {
    let ids: HashSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), messages.len(), "one message per id");
    assert!(messages.iter().all(|m| !m.id.is_empty() && m.schema == "1"));
}

/// The number after `name=` in a log.
pub fn counter(log: &str, name: &str) -> u64 {
    let at = log
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("{name} in {log}"));
    log[at + name.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

pub fn now_text() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    Timestamp::from_unix_nanos(i128::try_from(nanos).unwrap()).to_string()
}

/// `der` as a PEM block.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `collector consume --nats URL EXTRA… -n N --format json` prints exactly
/// the `stored` quotes (N of them), in the stream's order, and exits 0.
pub fn assert_consume_prints(url: &str, extra: &[&str], stored: &[&Value]) {
    let consumed = mercury_tests::run_bounded(
        collector()
            .args(["consume", "--nats", url])
            .args(extra)
            .args([
                "-n",
                &stored.len().to_string(),
                "--format",
                "json",
                "--timeout",
                "20",
            ]),
        Duration::from_secs(40),
    );
    let stderr = String::from_utf8_lossy(&consumed.stderr);
    assert_eq!(consumed.status.code(), Some(0), "{stderr}");
    let printed: Vec<Value> = String::from_utf8(consumed.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(printed.iter().collect::<Vec<_>>(), stored);
}
