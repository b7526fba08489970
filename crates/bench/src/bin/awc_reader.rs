//! `awc_reader`: the floor of the engine's benchmark — awc alone reading
//! the BitMEX firehose, every frame counted and nothing else done (no
//! decode, no actor, no clock per frame).
//!
//! The same simulator as `mercury-bench` (in this process, or at `--url`),
//! the same subscription (`instrument:XBTUSD`); it reads `--frames` text
//! frames after the first and reports frames/s from the first frame to
//! the last, and the CPU time per frame of the whole process. mercury's
//! throughput is measured against this figure in the same run
//! (`bench/run.sh`): the "≥ 75 % of awc's own rate".
//!
//! `cargo run --release -p mercury-bench --bin awc_reader -- --frames 2000000`

#[path = "../measure.rs"]
#[allow(dead_code)] // the latency histogram is mercury-bench's
mod measure;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use measure::{cpu_time, peak_rss_kib};
use mercury_core::{ConnectionPlan, Outgoing, QuoteKind, Subscription, VenueConfig};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Simulator, SimulatorConfig};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "awc alone reading the simulator's firehose: frames counted, nothing decoded")]
struct Args {
    /// Text frames to read (after the first).
    #[arg(long, default_value_t = 2_000_000)]
    frames: u64,
    /// A firehose simulator to read (`collector sim bitmex --firehose`);
    /// without it one runs in this process.
    #[arg(long)]
    url: Option<String>,
    /// Frames per fair price of the in-process simulator.
    #[arg(long, default_value_t = 4)]
    frames_per_quote: u32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// One JSON object instead of a line of text.
    #[arg(long)]
    json: bool,
}

async fn run(args: &Args) -> Result<(u64, Duration, Duration), Box<dyn std::error::Error>> {
    let simulator = match &args.url {
        Some(_) => None,
        None => {
            let config = SimulatorConfig {
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
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &url, &subscriptions)?;
    let client = awc::Client::builder().finish();
    let (_, mut socket) = client
        .ws(plan.url.as_str())
        .max_frame_size(16 << 20)
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    for message in plan.open.iter().chain(&plan.subscribe) {
        if let Outgoing::Text(text) = message {
            socket
                .send(awc::ws::Message::Text(text.clone().into()))
                .await?;
        }
    }
    let limit = Duration::from_secs(args.max_seconds);
    let count = async {
        let mut started = None;
        let mut frames = 0u64;
        while let Some(frame) = socket.next().await {
            if let awc::ws::Frame::Text(_) = frame? {
                let (at, cpu) = *started.get_or_insert_with(|| (Instant::now(), cpu_time()));
                frames += 1;
                if frames > args.frames {
                    return Ok::<_, Box<dyn std::error::Error>>((
                        frames - 1,
                        at.elapsed(),
                        cpu_time().saturating_sub(cpu),
                    ));
                }
            }
        }
        Err("the stream ended early".into())
    };
    actix_rt::time::timeout(limit, count)
        .await
        .map_err(|_| format!("fewer than {} frames within {limit:?}", args.frames))?
}

#[allow(clippy::print_stdout)] // the report is this program's output
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (frames, wall, cpu) = actix_rt::System::new().block_on(run(&args))?;
    let micros = u64::try_from(wall.as_micros()).unwrap_or(u64::MAX).max(1);
    let per_second = frames.saturating_mul(1_000_000) / micros;
    let cpu_ns = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX) / frames.max(1);
    let simulator = if args.url.is_some() {
        "external"
    } else {
        "in-process"
    };
    if args.json {
        let json = serde_json::json!({
            "client": "awc",
            "simulator": simulator,
            "messages": frames,
            "wall_ms": wall.as_millis() as u64,
            "messages_per_s": per_second,
            "cpu_ns_per_message": cpu_ns,
            "peak_rss_kib": peak_rss_kib(),
        });
        println!("{json}");
    } else {
        println!(
            "awc alone (simulator {simulator}): {frames} frames in {wall:?}, {per_second} frames/s, {cpu_ns} ns CPU per frame"
        );
    }
    Ok(())
}
