//! `collector fetch`: wire a connector to a collector, ask for N quotes,
//! print them.

use crate::args::FetchArgs;
use crate::plan::{self, Base, PlannedConnection, Target};
use crate::{Outcome, UsageError, output};
use actix::Actor;
use indicatif::{ProgressBar, ProgressStyle};
use mercury_collector::{
    CancelFetches, Collector, CollectorStats, Connector, ConnectorConfig, Fetch, FetchError,
    GetStats, StopConnector,
};
use mercury_core::{ExchangeDescriptor, Subscription};
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
    let targets = plan::targets(&args.targets, args.kind)?;
    let overrides = plan::url_overrides(&args.url, &targets)?;
    if args.sim {
        for target in &targets {
            crate::sim::venue_of(target.exchange)?;
        }
    }
    let subscriptions: Vec<Subscription> = targets
        .iter()
        .map(|t| Subscription::new(t.exchange.id.clone(), t.symbol.as_str(), t.kind))
        .collect();
    let what = describe(&targets);
    let n = args.n as usize;
    let progress = (std::io::stderr().is_terminal()).then(|| progress_bar(n));

    let result = actix_rt::System::new().block_on(async move {
        // --sim: each exchange's simulator runs in this process, on
        // 127.0.0.1, and the fetch goes through the real WebSocket stack.
        let mut simulators: Vec<(&'static ExchangeDescriptor, Simulator)> = Vec::new();
        if args.sim {
            for target in &targets {
                if simulators.iter().any(|(e, _)| e.id == target.exchange.id) {
                    continue;
                }
                let mut config = SimulatorConfig::loopback();
                config.venue.replay = args.replay;
                let new_venue = crate::sim::venue_of(target.exchange)?;
                simulators.push((target.exchange, Simulator::start(config, new_venue)?));
            }
        }
        let base_of = |exchange: &'static ExchangeDescriptor| {
            if let Some((_, url)) = overrides.iter().find(|(e, _)| e.id == exchange.id) {
                return Ok(Base::Verbatim(url.clone()));
            }
            if let Some((_, simulator)) = simulators.iter().find(|(e, _)| e.id == exchange.id) {
                let origin = format!("ws://{}", simulator.addr());
                return Ok(Base::Endpoint(plan::rebase(
                    exchange.endpoints.production,
                    &origin,
                )));
            }
            exchange
                .endpoints
                .select(args.testnet)
                .map(|url| Base::Endpoint(url.to_owned()))
                .ok_or_else(|| UsageError(format!("{} has no testnet", exchange.name)))
        };
        let planned = plan::connections(&targets, base_of)?;
        let collector = Collector::new().start();
        // Registered before the connector starts, so no quote can slip by.
        let mut fetch = Box::pin(collector.send(Fetch {
            subscriptions,
            n,
            timeout: args.timeout,
        }));
        let connectors: Vec<_> = planned
            .into_iter()
            .map(|connection| {
                let config = connector_config(args, &connection);
                let source = (connection.exchange.new_source)();
                Connector::new(source, config, collector.clone().recipient()).start()
            })
            .collect();
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
        let stops = connectors.iter().map(|c| c.send(StopConnector));
        let _ = actix_rt::time::timeout(STOP_GRACE, futures_util::future::join_all(stops)).await;
        drop(simulators);
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

/// How a connection of the fetch is configured.
fn connector_config(args: &FetchArgs, connection: &PlannedConnection) -> ConnectorConfig {
    let mut config = ConnectorConfig::new(connection.url.clone(), connection.subscriptions.clone());
    // Half the overall timeout at most, so that a silent server is retried
    // at least once before the fetch gives up.
    config.timeouts.first_data = FIRST_DATA.min(args.timeout / 2);
    config.backoff.max_attempts = Some(args.max_attempts);
    if let Some(idle) = args.heartbeat {
        let mut policy = (connection.exchange.new_source)().heartbeat();
        policy.idle = idle;
        policy.pong_deadline = idle;
        config.heartbeat = Some(policy);
    }
    config
}

/// `fair quotes for XBTUSD`, or `quotes for bitmex:XBTUSD (fair), binance:BTCUSDT (mark)`.
fn describe(targets: &[Target]) -> String {
    match targets {
        [one] => format!("{} quotes for {}", one.kind, one.symbol),
        many => format!(
            "quotes for {}",
            many.iter()
                .map(|t| format!("{}:{} ({})", t.exchange.id, t.symbol, t.kind))
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
