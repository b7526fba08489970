//! `collector fetch`: wire a connector to a collector, ask for N quotes,
//! print them.

use crate::args::FetchArgs;
use crate::plan::Target;
use crate::wiring::{self, SourceOptions};
use crate::{Outcome, output};
use actix::Actor;
use indicatif::{ProgressBar, ProgressStyle};
use mercury_collector::{CancelFetches, Collector, CollectorStats, Fetch, FetchError, GetStats};
use mercury_core::Subscription;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// How often the progress line refreshes.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// First data must come within this, or the whole timeout if shorter.
const FIRST_DATA: Duration = Duration::from_secs(30);

/// Runs one fetch to completion on its own actix system.
pub fn run(args: &FetchArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Half the overall timeout at most, so that a silent server is retried
    // at least once before the fetch gives up.
    let first_data = FIRST_DATA.min(args.timeout / 2);
    let (targets, mut options) = SourceOptions::plan(
        &args.source,
        first_data,
        Some(args.max_attempts),
        args.heartbeat,
    )?;
    // Likewise connecting (TCP, TLS, upgrade): a stalled handshake is then
    // reported as what it is rather than as a plain fetch timeout.
    options.connect_timeout = Some(args.timeout / 2);
    let subscriptions: Vec<Subscription> = targets
        .iter()
        .map(|t| Subscription::new(t.exchange.id(), t.symbol.as_str(), t.kind))
        .collect();
    let what = describe(&targets);
    let n = args.n as usize;
    let progress = (std::io::stderr().is_terminal()).then(|| progress_bar(n));

    let result = actix_rt::System::new().block_on(async move {
        let collector = Collector::new().start();
        // Registered before the connectors start, so no quote can slip by.
        let mut fetch = Box::pin(collector.send(Fetch {
            subscriptions,
            n,
            timeout: args.timeout,
        }));
        // --sim: each exchange's simulator runs in this process, on
        // 127.0.0.1, and the fetch goes through the real WebSocket stack.
        let running = wiring::start(&targets, &options, &collector)?;
        let mut ticker = actix_rt::time::interval(PROGRESS_EVERY);
        let mut ctrl_c = Box::pin(actix_rt::signal::ctrl_c());
        let mut interrupted = false;
        let answer = loop {
            tokio::select! {
                answer = &mut fetch => break answer,
                _ = &mut ctrl_c, if !interrupted => {
                    interrupted = true;
                    collector.do_send(CancelFetches);
                }
                _ = ticker.tick(), if progress.is_some() => {
                    if let (Some(bar), Ok(stats)) = (&progress, collector.send(GetStats).await) {
                        show(bar, &stats);
                    }
                }
            }
        };
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        running.stop().await;
        Ok::<_, anyhow::Error>(answer)
    })?;

    let answer = result
        .map_err(|e| anyhow::anyhow!("internal: the collector stopped unexpectedly ({e})"))?;
    match answer {
        Ok(ticks) => {
            output::write(out, args.format, &ticks)?;
            Ok(Outcome::Done)
        }
        Err(failed) => {
            if !failed.received.is_empty() {
                output::write(out, args.format, &failed.received)?;
            }
            match failed.reason {
                FetchError::Cancelled { wanted, received } => {
                    Ok(Outcome::Interrupted { wanted, received })
                }
                FetchError::Timeout {
                    wanted,
                    received,
                    waited,
                    last_error,
                } => {
                    let hint = match last_error {
                        Some(error) => format!("the connection kept failing (last: {error})"),
                        None => {
                            "try a longer --timeout, or check the symbol and --kind".to_string()
                        }
                    };
                    Err(anyhow::anyhow!(
                        "timed out after {}: {received} of {wanted} {what} arrived; {hint}",
                        humanize(waited),
                    ))
                }
                reason => Err(anyhow::anyhow!("{reason}")),
            }
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
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {pos}/{len} quotes  {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("connecting");
    bar
}

fn show(bar: &ProgressBar, stats: &CollectorStats) {
    if let Some((received, _)) = stats.fetches.first() {
        bar.set_position(*received as u64);
    }
    if let Some(connection) = stats.connections.first() {
        bar.set_message(connection.state.to_string());
    }
    bar.tick();
}
