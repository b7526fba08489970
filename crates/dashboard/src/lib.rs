//! # mercury-dashboard
//!
//! Watch a running collector in the browser. [`Dashboard::start`] serves,
//! from the same process (actix-web + actix-ws):
//!
//! - `/` — one page, HTML, CSS and JS embedded in the binary (no CDN: the
//!   browser may be offline): a status strip per connection, the latest
//!   quote per source with its age, a live price chart per source; it
//!   reconnects by itself when the server restarts;
//! - `/ws` — JSON events ([`events`]): `hello`, `state`, `quote`, `stats`;
//! - `/health` — `ok` / `degraded` (200) or `down` (503), with the
//!   connections and each subscription's time since its last quote; a
//!   subscription without a quote for longer than the staleness limit
//!   ([`DashboardOptions::stale_after`]) makes it `degraded` and is named
//!   under `stale` ([`freshness`]);
//! - `/metrics` — Prometheus text: messages, quotes, reconnects, gaps and
//!   whether it is up, per exchange and connection; the age of the latest
//!   quote and whether it is stale, per subscription; with a recording
//!   run (`serve --out`), each file sink's files, bytes, records, lag and
//!   errors ([`sinks`]), which also show on the page and in `/health`;
//!   feed and internal latency histograms per exchange and kind, with the
//!   negative feed latencies counted apart ([`latency`]), also a table on
//!   the page.
//!
//! A browser that reads slowly never slows the collector: each has a
//! bounded queue ([`hub::CLIENT_QUEUE`]), and what does not fit is dropped,
//! counted and shown to it. It binds where it is told (the CLI defaults to
//! 127.0.0.1), refuses WebSocket upgrades from other origins, and serves
//! nothing but its own page.
#![deny(missing_docs)]

mod auth;
pub mod events;
pub mod freshness;
mod guard;
mod hosts;
pub mod hub;
pub mod latency;
pub mod nats;
pub mod sinks;
mod web;

pub use auth::AuthToken;
pub use freshness::DashboardClock;
pub use hosts::AllowedHosts;
pub use web::BrowserTimers;

/// How a dashboard is run.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// Host names it answers to besides IP literals and `localhost`.
    pub allowed_hosts: AllowedHosts,
    /// When browsers are pinged and dropped.
    pub browsers: BrowserTimers,
    /// The subscriptions whose freshness is followed (if empty: those
    /// quotes arrive for, up to [`freshness::MAX_LEARNT`]).
    pub subscriptions: Vec<mercury_core::Subscription>,
    /// A subscription without a quote for longer is stale: `/health` says
    /// `degraded` and names it.
    pub stale_after: std::time::Duration,
    /// The clock quotes are aged by.
    pub clock: DashboardClock,
    /// The token every request must carry, if any.
    pub auth_token: AuthToken,
    /// The file sinks of a recording run (`serve --out`), shown on the
    /// page and in `/metrics`; a failed or lagging one degrades `/health`.
    pub sinks: Vec<mercury_collector::record::SinkStats>,
    /// The NATS sink (`serve --nats`), shown on the page and in
    /// `/metrics`; a disconnected one degrades `/health`.
    pub nats: Option<mercury_collector::nats::NatsStats>,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            allowed_hosts: AllowedHosts::default(),
            browsers: BrowserTimers::default(),
            subscriptions: Vec::new(),
            stale_after: freshness::DEFAULT_STALE_AFTER,
            clock: DashboardClock::default(),
            auth_token: AuthToken::default(),
            sinks: Vec::new(),
            nats: None,
        }
    }
}
pub use hub::Hub;
pub use web::{prometheus, same_origin};

use actix::{Actor, Addr};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web as aweb};
use mercury_collector::Collector;
use std::net::SocketAddr;

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DashboardError {
    /// The address could not be bound (in use, not permitted): not retryable
    /// without another address.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running dashboard.
pub struct Dashboard {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    hub: Addr<Hub>,
}

impl Dashboard {
    /// Starts serving `collector`'s events on `listen`, inside the current
    /// actix system; `targets` name what is collected (`bitmex:XBTUSD`, …);
    /// `options` say which host names it answers to and how it keeps
    /// browsers honest.
    pub fn start(
        collector: Addr<Collector>,
        targets: Vec<String>,
        listen: SocketAddr,
        options: DashboardOptions,
    ) -> Result<Dashboard, DashboardError> {
        let freshness = freshness::Freshness::new(
            &options.subscriptions,
            options.stale_after,
            options.clock.clone(),
        );
        let hub = Hub::new(collector, targets)
            .with_freshness(freshness)
            .with_sinks(options.sinks, options.clock)
            .with_nats(options.nats)
            .start();
        let data = aweb::Data::new(hub.clone());
        let allowed = aweb::Data::new(options.allowed_hosts);
        let timers = aweb::Data::new(options.browsers);
        let token = aweb::Data::new(options.auth_token);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(allowed.clone())
                .app_data(timers.clone())
                .app_data(token.clone())
                .wrap(from_fn(auth::check_token))
                .wrap(from_fn(hosts::check_host))
                .configure(web::routes)
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .bind(listen)
        .map_err(|source| DashboardError::Bind {
            addr: listen,
            source,
        })?;
        let addr = server.addrs().first().copied().unwrap_or(listen);
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        tracing::info!(%addr, "dashboard listening");
        Ok(Dashboard { addr, handle, hub })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`: one that can be opened (an unspecified address,
    /// `0.0.0.0` or `[::]`, becomes the loopback one).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}/")
    }

    /// A warning for a dashboard reachable from other machines (any
    /// address but loopback), saying whether a token guards it, or `None`.
    pub fn exposure(listen: SocketAddr, token: &AuthToken) -> Option<String> {
        (!listen.ip().is_loopback()).then(|| {
            let guard = if token.is_set() {
                "every request needs the token"
            } else {
                "no --auth-token is set: anyone who reaches the port can read them"
            };
            format!(
                "the dashboard listens on {listen}: the page, /ws and /metrics are visible to the network; {guard} (bind 127.0.0.1 to keep them on this machine)"
            )
        })
    }

    /// The hub (for tests and embedding).
    pub fn hub(&self) -> &Addr<Hub> {
        &self.hub
    }

    /// Stops serving.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}
