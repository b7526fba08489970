//! `collector fetch`: wire connectors to a collector, open a lossless
//! stream of the next N quotes, and print each as it arrives.
//!
//! Output goes through a buffer flushed when the stream goes idle and at
//! least every [`FLUSH_EVERY`] (every line on a terminal), so a paced fetch
//! shows each quote at once and a firehose writes in big chunks. Memory
//! does not grow with N: the stream is bounded and lossless (when stdout is
//! slow, the collector and then the connectors wait). SIGINT and SIGTERM
//! end the run cleanly — what was received is written, connections get a
//! Close frame — and a closed stdout (`| head`) ends it quietly. With
//! `--stats`, a latency summary per exchange and kind goes to stderr at
//! the end.

use crate::args::FetchArgs;
use crate::output::QuoteWriter;
use crate::plan::Target;
use crate::wiring::{self, SourceOptions};
use crate::{Interrupt, Outcome};
use actix::Actor;
use indicatif::{ProgressBar, ProgressStyle};
use mercury_collector::latency::{LatencyStats, human_nanos, percentiles};
use mercury_collector::{
    CancelFetches, Collector, CollectorStats, FetchError, GetStats, OpenStream, StreamEnd,
    TickStream,
};
use mercury_core::Subscription;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the progress line refreshes.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// First data must come within this, or half the timeout if shorter.
const FIRST_DATA: Duration = Duration::from_secs(30);
/// The default `--timeout` when a count is given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Buffered output goes out at least this often.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Ticks the stream holds before the collector waits for this reader.
const STREAM_CAPACITY: usize = 4096;

/// How the printing loop ended.
pub(crate) enum Pumped {
    /// The stream ended by itself (N quotes, a failure, a timeout).
    Ended,
    /// A signal asked us to stop.
    Interrupted(Interrupt),
    /// stdout was closed by its reader.
    StdoutClosed,
}

/// Runs one fetch to completion on its own actix system.
pub fn run(args: &FetchArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let wanted = (args.n > 0).then_some(args.n as usize);
    // A count without --timeout gets the default; -n 0 runs until stopped.
    let timeout = args.timeout.or(wanted.map(|_| DEFAULT_TIMEOUT));
    // Half the overall timeout at most, so that a silent server is retried
    // at least once before the fetch gives up.
    let first_data = timeout.map_or(FIRST_DATA, |t| FIRST_DATA.min(t / 2));
    let (targets, mut options) = SourceOptions::plan(
        &args.source,
        first_data,
        Some(args.max_attempts),
        args.heartbeat,
    )?;
    // A stalled TCP/TLS connect shows as such, well within the timeout.
    options.connect_timeout = timeout.map(|t| t / 2);
    let subscriptions: Vec<Subscription> = targets
        .iter()
        .map(|t| Subscription::new(t.exchange.id(), t.symbol.as_str(), t.kind))
        .collect();
    let what = describe(&targets);
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| progress_bar(args.n as usize));
    let mut writer = QuoteWriter::new(out, args.format, std::io::stdout().is_terminal());

    let (pumped, end) = actix_rt::System::new().block_on(async {
        let collector = Collector::new().start();
        // Opened before the connectors start, so no quote can slip by.
        let stream = collector
            .send(OpenStream {
                subscriptions,
                n: wanted,
                timeout,
                capacity: STREAM_CAPACITY,
            })
            .await?;
        // --sim: each exchange's simulator runs in this process, on
        // 127.0.0.1, and the fetch goes through the real WebSocket stack.
        let running = wiring::start(&targets, &options, &collector)?;
        let TickStream { ticks, end } = stream;
        let pumped = pump(ticks, &mut writer, &collector, progress.as_ref()).await;
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        running.stop().await;
        if args.stats
            && let Ok(stats) = collector.send(GetStats).await
        {
            print_latency(&stats.latency);
        }
        let end = end.await.unwrap_or(Ok(0));
        Ok::<_, anyhow::Error>((pumped?, end))
    })?;
    let printed = writer.written() as usize;
    match (pumped, end) {
        (Pumped::StdoutClosed, _) => Ok(Outcome::Done),
        (Pumped::Interrupted(signal), _) => Ok(Outcome::Interrupted {
            signal,
            wanted: args.n as usize,
            received: printed,
        }),
        (Pumped::Ended, end) => finish(end, &what, printed, args.n as usize),
    }
}

/// The outcome of a stream that ended by itself.
fn finish(end: StreamEnd, what: &str, printed: usize, wanted: usize) -> anyhow::Result<Outcome> {
    match end {
        Ok(_) => Ok(Outcome::Done),
        Err(FetchError::Cancelled { .. }) => Ok(Outcome::Interrupted {
            signal: Interrupt::Int,
            wanted,
            received: printed,
        }),
        Err(FetchError::Timeout {
            wanted,
            received,
            waited,
            last_error,
        }) => {
            let hint = match last_error {
                Some((exchange, error)) => {
                    format!("the connection to {exchange} kept failing (last: {error})")
                }
                None => "try a longer --timeout, or check the symbol and --kind".to_string(),
            };
            Err(anyhow::anyhow!(
                "timed out after {}: {received} of {wanted} {what} arrived; {hint}",
                humanize(waited),
            ))
        }
        Err(reason) => Err(anyhow::anyhow!("{reason}")),
    }
}

/// Writes ticks as they come until the stream closes, a signal arrives or
/// stdout is closed.
pub(crate) async fn pump(
    mut ticks: tokio::sync::mpsc::Receiver<mercury_collector::Tick>,
    writer: &mut QuoteWriter<'_>,
    collector: &actix::Addr<Collector>,
    progress: Option<&ProgressBar>,
) -> anyhow::Result<Pumped> {
    let mut signals = Signals::new()?;
    let mut interrupted = None;
    let mut flush_every = actix_rt::time::interval(FLUSH_EVERY);
    let mut progress_every = actix_rt::time::interval(PROGRESS_EVERY);
    let mut last_flush = Instant::now();
    let written = loop {
        tokio::select! {
            biased;
            signal = signals.next(), if interrupted.is_none() => {
                interrupted = Some(signal);
                // Ends the stream after what has arrived: drained below.
                collector.do_send(CancelFetches);
            }
            tick = ticks.recv() => {
                let Some(tick) = tick else { break Ok(()) };
                let mut wrote = writer.write(&tick);
                while let (Ok(()), Ok(tick)) = (&wrote, ticks.try_recv()) {
                    wrote = writer.write(&tick);
                }
                if wrote.is_err() {
                    break wrote;
                }
                // Idle after the producers' turn, or due: out it goes.
                tokio::task::yield_now().await;
                if ticks.is_empty() || last_flush.elapsed() >= FLUSH_EVERY {
                    if let Err(error) = writer.flush() {
                        break Err(error);
                    }
                    last_flush = Instant::now();
                }
            }
            _ = flush_every.tick() => {
                if let Err(error) = writer.flush() {
                    break Err(error);
                }
                last_flush = Instant::now();
            }
            _ = progress_every.tick(), if progress.is_some() => {
                if let (Some(bar), Ok(stats)) = (progress, collector.send(GetStats).await) {
                    show(bar, writer.written(), &stats);
                }
            }
        }
    };
    let written = written.and_then(|()| writer.flush());
    match (written, interrupted) {
        (Err(error), _) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            collector.do_send(CancelFetches);
            Ok(Pumped::StdoutClosed)
        }
        (Err(error), _) => Err(anyhow::anyhow!("cannot write the quotes: {error}")),
        (Ok(()), Some(signal)) => Ok(Pumped::Interrupted(signal)),
        (Ok(()), None) => Ok(Pumped::Ended),
    }
}

/// SIGINT and SIGTERM, as [`Interrupt`]s.
pub(crate) struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    pub(crate) async fn next(&mut self) -> Interrupt {
        tokio::select! {
            _ = self.interrupt.recv() => Interrupt::Int,
            _ = self.terminate.recv() => Interrupt::Term,
        }
    }
}

/// `fair quotes for XBTUSD`, or `quotes for bitmex:XBTUSD (fair), binance:BTCUSDT (mark)`.
fn describe(targets: &[Target]) -> String {
    match targets {
        [one] => format!("{} quotes for {}", one.kind, one.symbol),
        many => format!(
            "quotes for {}",
            many.iter()
                .map(|t| format!("{}:{} ({})", t.exchange.id(), t.symbol, t.kind))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `--stats`: one line per (exchange, kind) on stderr (stdout stays data).
fn print_latency(latency: &LatencyStats) {
    let mut stderr = std::io::stderr().lock();
    for line in latency_lines(latency) {
        let _ = writeln!(stderr, "{line}");
    }
}

/// `latency bitmex fair: 10 quotes; feed p50 2ms p99 5ms max 3.1ms,
/// 0 negative; internal p50 20µs p99 50µs max 41µs`. A negative feed
/// latency (the exchange's clock ahead of ours) is in no percentile: it is
/// counted, with the most negative one.
fn latency_lines(latency: &LatencyStats) -> Vec<String> {
    let mut lines: Vec<String> = latency
        .series
        .iter()
        .map(|s| {
            let [f50, f99, fmax] = percentiles(&s.feed);
            let [i50, i99, imax] = percentiles(&s.internal);
            // Our clock stepped back between receive and hand-off: rare, said when so.
            let stepped_back = match s.internal.negative {
                0 => String::new(),
                n => format!(", {n} negative"),
            };
            let negative = match s.feed.negative {
                0 => "0 negative".to_string(),
                n => format!("{n} negative (most {})", human_nanos(s.feed.most_negative_nanos)),
            };
            format!(
                "latency {} {}: {} quotes; feed p50 {f50} p99 {f99} max {fmax}, {negative}; internal p50 {i50} p99 {i99} max {imax}{stepped_back}",
                mercury_core::excerpt(s.exchange.as_str()),
                s.kind,
                s.quotes,
            )
        })
        .collect();
    if latency.over_limit > 0 {
        lines.push(format!(
            "latency: {} quotes of further (exchange, kind) pairs not measured",
            latency.over_limit
        ));
    }
    lines
}

fn humanize(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{}.{:03}s", millis / 1000, millis % 1000)
    }
}

fn progress_bar(n: usize) -> ProgressBar {
    let bar = ProgressBar::new(n as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let template = match n {
        0 => "{spinner} {msg:12} {pos} quotes  {elapsed}",
        _ => "{spinner} {msg:12} [{bar:30}] {pos}/{len} quotes  {elapsed}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("connecting");
    bar
}

fn show(bar: &ProgressBar, written: u64, stats: &CollectorStats) {
    bar.set_position(written);
    if let Some(connection) = stats.connections.first() {
        bar.set_message(connection.state.to_string());
    }
    bar.tick();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mercury_core::{ExchangeId, Quote, QuoteKind, Symbol, Timestamp};

    #[test]
    fn latency_lines_show_negatives_with_the_most_negative() {
        let mut stats = LatencyStats::default();
        let quote = |exchange_ms: i128, received_ms: i128| Quote {
            exchange: ExchangeId::from_static("okx"),
            symbol: Symbol::new("BTC-USDT-SWAP"),
            kind: QuoteKind::Mark,
            price: "1".parse().unwrap(),
            exchange_time: Some(Timestamp::from_unix_nanos(exchange_ms * 1_000_000)),
            received_at: Timestamp::from_unix_nanos(received_ms * 1_000_000),
            conn_seq: 1,
        };
        let handed_off = Timestamp::from_unix_nanos(100 * 1_000_000);
        stats.record(&quote(90, 100), handed_off);
        stats.record(&quote(103, 100), handed_off);
        // Received "after" the hand-off: our clock stepped back.
        stats.record(&quote(99, 101), handed_off);
        assert_eq!(
            latency_lines(&stats),
            [
                "latency okx mark: 3 quotes; feed p50 2ms p99 10ms max 10ms, 1 negative (most -3ms); internal p50 0ns p99 0ns max 0ns, 1 negative"
            ]
        );
    }
}
