//! `collector serve`: collect continuously from every target and serve the
//! dashboard (the page, its event WebSocket, /health, /metrics) until
//! Ctrl-C or `--duration`.

use crate::Outcome;
use crate::args::ServeArgs;
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
    // A server keeps trying (with capped backoff) for as long as it runs.
    let (targets, options) = SourceOptions::plan(&args.source, FIRST_DATA, None, None)?;
    let names: Vec<String> = targets
        .iter()
        .map(|t| format!("{}:{} ({})", t.exchange.id(), t.symbol, t.kind))
        .collect();
    actix_rt::System::new().block_on(async move {
        let collector = Collector::new().start();
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
            ..Default::default()
        };
        let dashboard = Dashboard::start(collector.clone(), names, args.listen, page)?;
        let running = wiring::start(&targets, &options, &collector)?;
        writeln!(out, "{}", dashboard.url())?;
        out.flush()?;
        crate::wiring::until_stopped(args.duration).await;
        running.stop().await;
        dashboard.stop().await;
        Ok(Outcome::Done)
    })
}
