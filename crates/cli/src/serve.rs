//! `collector serve`: collect continuously from every target and serve the
//! dashboard (the page, its event WebSocket, /health, /metrics) until
//! Ctrl-C or `--duration`. With `--out DIR` (or `[record] out` in
//! `--config`) it also records, as `collector record` does and through the
//! same wiring ([`crate::recording`]); the page shows each file sink, and
//! a writer's failure ends the run with its `error:` line (exit 1).

use crate::Outcome;
use crate::args::ServeArgs;
use crate::config;
use crate::publishing::Publishing;
use crate::recording::{RecordSettings, Recording};
use crate::wiring::{self, SourceOptions};
use actix::Actor;
use mercury_collector::Collector;
use mercury_dashboard::Dashboard;
use std::io::Write;
use std::time::Duration;

/// The environment variable that gives the dashboard's token (when
/// `--auth-token` does not).
const AUTH_TOKEN_ENV: &str = "MERCURY_AUTH_TOKEN";
/// The first quote of a connection must come within this.
const FIRST_DATA: Duration = Duration::from_secs(30);

/// Runs the collector and the dashboard; prints the page's URL first.
pub fn run(args: &ServeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let system = actix_rt::System::new();
    // From here on a signal ends the run cleanly (even one during start-up).
    let stopped = {
        let _runtime = system.runtime().tokio_runtime().enter();
        wiring::until_stopped(args.duration)
    };
    let config = args.config.as_deref().map(config::load).transpose()?;
    let nats_file = config.as_ref().and_then(|c| c.nats.clone());
    let merged = config::merge(&args.source, &args.files, None, config)?;
    let settings = RecordSettings::resolve(&merged.files, merged.formats)?;
    let nats = args.nats.resolve(nats_file.as_ref())?;
    // A server keeps trying (with capped backoff) for as long as it runs.
    let (targets, mut options) = SourceOptions::for_targets(
        &merged.source,
        merged.targets,
        FIRST_DATA,
        None,
        merged.heartbeat,
    )?;
    let names: Vec<String> = targets
        .iter()
        .map(|t| format!("{}:{} ({})", t.exchange.id(), t.symbol, t.kind))
        .collect();
    system.block_on(async move {
        let collector = Collector::new().start();
        let publishing = match &nats {
            Some(nats) => {
                let subscriptions = targets.iter().map(|t| t.subscription()).collect();
                Some(Publishing::start(nats, subscriptions, &collector).await?)
            }
            None => None,
        };
        // The NATS sink's counters, for the page, /metrics and /health.
        let nats_stats = publishing.as_ref().map(Publishing::stats);
        let mut recording = match &settings {
            Some(settings) => {
                let subscriptions = targets.iter().map(|t| t.subscription()).collect();
                Some(Recording::start(settings, subscriptions, &collector, &mut options).await?)
            }
            None => None,
        };
        // The dashboard watches before any connector starts: it sees every state.
        let token = mercury_dashboard::AuthToken::new(
            args.auth_token
                .clone()
                .or_else(|| std::env::var(AUTH_TOKEN_ENV).ok()),
        );
        if let Some(warning) = Dashboard::exposure(args.listen, &token) {
            tracing::warn!("{warning}");
        }
        let page = mercury_dashboard::DashboardOptions {
            allowed_hosts: mercury_dashboard::AllowedHosts(args.allow_host.clone()),
            subscriptions: targets.iter().map(|t| t.subscription()).collect(),
            stale_after: args.stale_after,
            auth_token: token,
            sinks: recording.as_ref().map(Recording::stats).unwrap_or_default(),
            nats: nats_stats,
            ..Default::default()
        };
        let dashboard = Dashboard::start(collector.clone(), names, args.listen, page)?;
        let running = wiring::start(&targets, &options, &collector)?;
        // The connectors hold the only raw senders now.
        drop(options);
        writeln!(out, "{}", dashboard.url())?;
        out.flush()?;
        let early = match recording.as_mut() {
            Some(recording) => tokio::select! {
                () = stopped => None,
                early = recording.ended() => Some(early),
            },
            None => {
                stopped.await;
                None
            }
        };
        running.stop().await;
        let recorded = match recording {
            Some(recording) => recording.finish(early, &collector).await,
            None => Ok(()),
        };
        let published = match publishing {
            Some(publishing) => publishing.finish(&collector).await,
            None => Ok(()),
        };
        dashboard.stop().await;
        recorded?;
        published.map(|()| Outcome::Done)
    })
}
