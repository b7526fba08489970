//! `mercury-bench`: mercury end to end, as fast as the socket goes.
//!
//! A BitMEX simulator in firehose mode (in this process, or at `--url`)
//! sends instrument updates back to back, one `fairPrice` per
//! `--frames-per-quote` frames; one connector decodes them, the collector
//! numbers them, and a null consumer records each tick's latency from the
//! frame's arrival at the connector to the consumer. Reported: messages/s,
//! quotes/s, CPU time per message (this whole process), peak RSS, latency
//! p50/p99/p99.9, and what the consumer's bounded queue dropped. With
//! `--tls` the in-process simulator serves `wss://` and the connector
//! reads through rustls, as it does against every real exchange.
//!
//! `cargo run --release -p mercury-bench -- --quotes 500000`; `bench/run.sh`
//! runs it next to other clients.

mod measure;

use actix::prelude::*;
use clap::Parser;
use measure::{Histogram, cpu_time, peak_rss_kib};
use mercury_collector::{
    Collector, Connector, ConnectorConfig, GetStats, Subscribe, Tick, TlsTrust, load_ca_file,
    tls_client_config,
};
use mercury_core::ConnectionPlan;
use mercury_core::{Clock, QuoteKind, Subscription, SystemClock, VenueConfig};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{SimCertificates, Simulator, SimulatorConfig};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The consumer's mailbox: ticks waiting to be counted.
const CONSUMER_MAILBOX: usize = 1 << 16;

#[derive(Debug, Parser)]
#[command(about = "mercury end to end: simulator firehose → connector → collector → null consumer")]
struct Args {
    /// Quotes to receive.
    #[arg(long, default_value_t = 500_000)]
    quotes: u64,
    /// A firehose simulator to read (e.g. from `collector sim bitmex --firehose`);
    /// without it one runs in this process.
    #[arg(long)]
    url: Option<String>,
    /// Frames per fair price (the venue's updates_per_headline; must match the
    /// simulator at --url).
    #[arg(long, default_value_t = 4)]
    frames_per_quote: u32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// Serve the in-process simulator over `wss://` (TLS with a CA made
    /// for the run, trusted alone), as production traffic is.
    #[arg(long, conflicts_with = "url")]
    tls: bool,
    /// Trust only this CA (PEM) for a `wss://` --url, e.g. the one
    /// `collector sim bitmex --tls` prints.
    #[arg(long, requires = "url")]
    ca_cert: Option<std::path::PathBuf>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What one run measured.
struct Report {
    quotes: u64,
    messages: u64,
    wall: Duration,
    cpu: Duration,
    latency: Histogram,
    consumer_drops: u64,
}

/// Counts ticks and their latency; says when it has `target` of them.
struct NullConsumer {
    target: u64,
    latency: Histogram,
    started: Option<(Instant, Duration)>,
    done: Option<oneshot::Sender<(Histogram, Instant, Duration, Instant)>>,
}

impl Actor for NullConsumer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(CONSUMER_MAILBOX);
    }
}

impl Handler<Tick> for NullConsumer {
    type Result = ();

    fn handle(&mut self, tick: Tick, _: &mut Context<Self>) {
        let now = SystemClock.now();
        let (started_at, cpu_at_start) = *self
            .started
            .get_or_insert_with(|| (Instant::now(), cpu_time()));
        self.latency
            .record(now.saturating_since(tick.quote.received_at));
        if self.latency.count() == self.target {
            let latency = std::mem::replace(&mut self.latency, Histogram::new());
            if let Some(done) = self.done.take() {
                let _ = done.send((latency, started_at, cpu_at_start, Instant::now()));
            }
        }
    }
}

async fn run(args: &Args) -> Result<Report, Box<dyn std::error::Error>> {
    let certificates = match args.tls {
        true => Some(SimCertificates::generate()?),
        false => None,
    };
    let simulator = match &args.url {
        Some(_) => None,
        None => {
            let tls = match &certificates {
                Some(certificates) => Some(certificates.server_config()?),
                None => None,
            };
            let config = SimulatorConfig {
                tls,
                venue: VenueConfig {
                    firehose: true,
                    updates_per_headline: args.frames_per_quote,
                    symbols: vec!["XBTUSD".into()],
                    ..VenueConfig::default()
                },
                ..SimulatorConfig::loopback()
            };
            Some(Simulator::start(config, &Bitmex)?)
        }
    };
    let url = match (&args.url, &simulator) {
        (Some(url), _) => url.clone(),
        (None, Some(simulator)) => simulator.url(),
        (None, None) => return Err("no simulator".into()),
    };
    let collector = Collector::new().start();
    let (done, finished) = oneshot::channel();
    let consumer = NullConsumer {
        target: args.quotes,
        latency: Histogram::new(),
        started: None,
        done: Some(done),
    }
    .start();
    collector.do_send(Subscribe {
        subscriptions: Vec::new(),
        recipient: consumer.recipient(),
        delivery: mercury_collector::Delivery::Lossless,
    });
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &url, &subscriptions)?;
    let mut config = ConnectorConfig::new();
    let trusted = match (&certificates, &args.ca_cert) {
        (Some(certificates), _) => Some(vec![certificates.ca_der()]),
        (None, Some(path)) => Some(load_ca_file(path)?),
        (None, None) => None,
    };
    if let Some(cas) = trusted {
        config.tls = Some(tls_client_config(&TlsTrust::only(cas))?);
    }
    Connector::new(&Bitmex, plan, config, collector.clone().recipient()).start();
    let limit = Duration::from_secs(args.max_seconds);
    let (latency, started, cpu_at_start, ended) =
        actix_rt::time::timeout(limit, finished)
            .await
            .map_err(|_| format!("fewer than {} quotes within {limit:?}", args.quotes))??;
    let cpu = cpu_time().saturating_sub(cpu_at_start);
    let stats = collector.send(GetStats).await?;
    Ok(Report {
        quotes: args.quotes,
        messages: args.quotes * u64::from(args.frames_per_quote.max(1)),
        wall: ended.duration_since(started),
        cpu,
        latency,
        consumer_drops: stats.consumer_drops,
    })
}

fn per_second(count: u64, wall: Duration) -> u64 {
    let micros = u64::try_from(wall.as_micros()).unwrap_or(u64::MAX).max(1);
    count.saturating_mul(1_000_000) / micros
}

#[allow(clippy::print_stdout)] // the report is this program's output
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let report = actix_rt::System::new().block_on(run(&args))?;
    let nanos_per_message =
        u64::try_from(report.cpu.as_nanos()).unwrap_or(u64::MAX) / report.messages.max(1);
    let tls = args.tls || args.url.as_deref().is_some_and(|u| u.starts_with("wss://"));
    let where_ = match (&args.url, tls) {
        (Some(_), false) => "external",
        (Some(_), true) => "external, wss://",
        (None, false) => "in-process",
        (None, true) => "in-process, wss://",
    };
    let (p50, p99, p999) = (
        report.latency.quantile_micros(500),
        report.latency.quantile_micros(990),
        report.latency.quantile_micros(999),
    );
    if args.json {
        let json = serde_json::json!({
            "client": "mercury",
            "simulator": where_,
            "tls": tls,
            "quotes": report.quotes,
            "messages": report.messages,
            "wall_ms": report.wall.as_millis() as u64,
            "messages_per_s": per_second(report.messages, report.wall),
            "quotes_per_s": per_second(report.quotes, report.wall),
            "cpu_ns_per_message": nanos_per_message,
            "peak_rss_kib": peak_rss_kib(),
            "latency_us": {"p50": p50, "p99": p99, "p999": p999},
            "consumer_drops": report.consumer_drops,
        });
        println!("{json}");
    } else {
        println!("mercury end to end (simulator {where_})");
        println!("  quotes            {}", report.quotes);
        println!(
            "  messages          {} ({} per quote)",
            report.messages, args.frames_per_quote
        );
        println!(
            "  wall              {:?} (first quote to last)",
            report.wall
        );
        println!(
            "  messages/s        {}",
            per_second(report.messages, report.wall)
        );
        println!(
            "  quotes/s          {}",
            per_second(report.quotes, report.wall)
        );
        println!("  CPU per message   {nanos_per_message} ns (user + system, whole process)");
        println!("  peak RSS          {} KiB", peak_rss_kib());
        println!(
            "  latency           p50 {p50} µs, p99 {p99} µs, p99.9 {p999} µs (frame in → consumer)"
        );
        println!("  consumer drops    {}", report.consumer_drops);
    }
    Ok(())
}
