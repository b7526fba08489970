//! `collector fetch`: wire a connector to a collector, ask for N quotes,
//! print them.

use crate::args::FetchArgs;
use crate::{Outcome, UsageError, output};
use actix::Actor;
use indicatif::{ProgressBar, ProgressStyle};
use mercury_collector::{
    CancelFetches, Collector, CollectorStats, Connector, ConnectorConfig, Fetch, FetchError,
    GetStats, StopConnector,
};
use mercury_core::{QuoteKind, Subscription};
use mercury_simulator::{Simulator, SimulatorConfig};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// How often the progress line refreshes.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How long to wait for a polite close before leaving anyway.
const STOP_GRACE: Duration = Duration::from_millis(1500);
/// First data must come within this, or the whole timeout if shorter.
const FIRST_DATA: Duration = Duration::from_secs(30);

/// Runs one fetch to completion on its own actix system.
pub fn run(args: &FetchArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let exchange = args.exchange;
    let kind: QuoteKind = args.kind.unwrap_or(exchange.default_kind);
    if !exchange.kinds.contains(&kind) {
        return Err(UsageError(format!("{} does not offer {kind} quotes", exchange.name)).into());
    }
    let simulated = if args.sim {
        Some(crate::sim::venue_of(exchange)?)
    } else {
        None
    };
    let url = match (&args.url, args.testnet) {
        (Some(url), _) => url.clone(),
        (None, testnet) => exchange
            .endpoints
            .select(testnet)
            .ok_or_else(|| UsageError(format!("{} has no testnet", exchange.name)))?
            .to_string(),
    };
    let subscriptions = vec![Subscription::new(
        exchange.id.clone(),
        args.symbol.as_str(),
        kind,
    )];
    let source = (exchange.new_source)();
    // Refuse a symbol the exchange cannot be asked for before any I/O.
    source
        .subscribe_messages(&subscriptions)
        .map_err(|e| UsageError(e.to_string()))?;

    let n = args.n as usize;
    let mut config = ConnectorConfig::new(url, subscriptions.clone());
    // Half the overall timeout at most, so that a silent server is retried
    // at least once before the fetch gives up.
    config.timeouts.first_data = FIRST_DATA.min(args.timeout / 2);
    config.backoff.max_attempts = Some(args.max_attempts);
    if let Some(idle) = args.heartbeat {
        let mut policy = source.heartbeat();
        policy.idle = idle;
        policy.pong_deadline = idle;
        config.heartbeat = Some(policy);
    }
    let progress = (std::io::stderr().is_terminal()).then(|| progress_bar(n));

    let result = actix_rt::System::new().block_on(async move {
        // --sim: the simulator runs in this process, on 127.0.0.1, and the
        // fetch goes through the real WebSocket stack to it.
        let _simulator = match simulated {
            Some(new_venue) => {
                let mut sim_config = SimulatorConfig::loopback();
                sim_config.venue.replay = args.replay;
                let simulator = Simulator::start(sim_config, new_venue)?;
                config.url = simulator.url();
                Some(simulator)
            }
            None => None,
        };
        let collector = Collector::new().start();
        // Registered before the connector starts, so no quote can slip by.
        let mut fetch = Box::pin(collector.send(Fetch {
            subscriptions,
            n,
            timeout: args.timeout,
        }));
        let connector = Connector::new(source, config, collector.clone().recipient()).start();
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
        let _ = actix_rt::time::timeout(STOP_GRACE, connector.send(StopConnector)).await;
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
                        "timed out after {}: {received} of {wanted} {kind} quotes for {} arrived; {hint}",
                        humanize(waited),
                        args.symbol,
                    ))
                }
                reason => Err(anyhow::anyhow!("{reason}")),
            }
        }
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
