//! Starting what `fetch` and `serve` share: the simulators (with `--sim`),
//! and one connector per planned connection, all feeding one collector.

use crate::UsageError;
use crate::args::SourceArgs;
use crate::plan::{self, Base, Connection, Target};
use actix::{Actor, Addr};
use mercury_collector::{
    Collector, Connector, ConnectorConfig, PlanConnection, StopConnector, TlsTrust, load_ca_file,
    tls_client_config,
};
use mercury_core::Exchange;
use mercury_simulator::{CaptureSource, SimCertificates, Simulator, SimulatorConfig};
use std::sync::Arc;
use std::time::Duration;

/// The targets `shard` owns ([`mercury_core::shard`]); none is a usage
/// error: a process that would collect nothing is a mistake in the plan.
fn shard_of(shard: mercury_core::Shard, targets: Vec<Target>) -> Result<Vec<Target>, UsageError> {
    let all = targets.len();
    let mine: Vec<Target> = targets
        .into_iter()
        .filter(|t| shard.owns(&t.subscription()))
        .collect();
    if mine.is_empty() {
        return Err(UsageError(format!(
            "--shard {shard}: none of the {all} targets falls in this shard; use fewer shards or more targets"
        )));
    }
    tracing::info!(shard = %shard, targets = mine.len(), of = all, "collecting this shard's targets");
    Ok(mine)
}

/// How long to wait for polite closes before leaving anyway.
const STOP_GRACE: Duration = Duration::from_millis(1500);
/// How often to look whether the connectors have ended.
const STOP_POLL: Duration = Duration::from_millis(10);

/// Where the connections go and how patient they are.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Start each exchange's simulator in this process and use it.
    pub sim: bool,
    /// With `sim`: replay the exchange's real capture.
    pub replay: bool,
    /// With `sim`: the simulators serve `wss://` and the connections trust
    /// exactly their certificate authority.
    pub sim_tls: bool,
    /// The TLS configuration of the connections when not the default (the
    /// default roots plus `--ca-cert` files; with `sim_tls`, set by
    /// [`start`]).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Limit of the TCP connect + TLS handshake (and 1.5 times it for the
    /// whole WebSocket upgrade), when shorter than the default.
    pub connect_timeout: Option<Duration>,
    /// Use the testnet endpoints.
    pub testnet: bool,
    /// `--url` values, per exchange.
    pub overrides: Vec<(&'static dyn Exchange, String)>,
    /// The first quote must come within this on each connection.
    pub first_data: Duration,
    /// Reconnect attempts in a row before giving up (`None`: never).
    pub max_attempts: Option<u32>,
    /// Heartbeat override (idle and pong deadline), for tests.
    pub heartbeat: Option<Duration>,
    /// The seed of every connection's reconnect jitter, for tests
    /// (`None`: each draws one from the OS).
    pub backoff_seed: Option<u64>,
    /// Where the connections send their raw capture (`collector record`).
    pub raw: Option<mercury_collector::record::raw::RawSink>,
}

impl SourceOptions {
    /// The targets of `args` and where their connections go, checked
    /// before any I/O (unknown exchange, unoffered kind, bad symbol, no
    /// simulator, an unusable `--ca-cert` file); `first_data`, `max_attempts` and `heartbeat` as the
    /// command wants them.
    pub fn plan(
        args: &SourceArgs,
        first_data: Duration,
        max_attempts: Option<u32>,
        heartbeat: Option<Duration>,
    ) -> Result<(Vec<Target>, SourceOptions), UsageError> {
        let targets = match args.targets.is_empty() {
            true => Vec::new(),
            false => plan::targets(&args.targets, args.kind)?,
        };
        Self::for_targets(args, targets, first_data, max_attempts, heartbeat)
    }

    /// [`plan`](Self::plan) for targets already made (from the command
    /// line and a config file, [`crate::config::merge`]); `args.targets`
    /// is not read. No target at all is a usage error; with `--shard K/N`
    /// only shard K's targets are kept, and a shard with none is a usage
    /// error too (fewer shards, or more targets, are needed).
    pub fn for_targets(
        args: &SourceArgs,
        targets: Vec<Target>,
        first_data: Duration,
        max_attempts: Option<u32>,
        heartbeat: Option<Duration>,
    ) -> Result<(Vec<Target>, SourceOptions), UsageError> {
        if targets.is_empty() {
            return Err(UsageError(
                "nothing to collect: give TARGET… (e.g. bitmex:XBTUSD), or with record and serve a --config FILE with [[target]] tables".into(),
            ));
        }
        let targets = match args.shard {
            Some(shard) => shard_of(shard, targets)?,
            None => targets,
        };
        if args.sim {
            for target in &targets {
                crate::sim::check_venue(target.exchange)?;
            }
        }
        let tls = if args.ca_cert.is_empty() {
            None
        } else {
            let mut cas = Vec::new();
            for path in &args.ca_cert {
                cas.extend(load_ca_file(path).map_err(|e| UsageError(format!("--ca-cert: {e}")))?);
            }
            let config = tls_client_config(&TlsTrust::with_extra_cas(cas))
                .map_err(|e| UsageError(format!("--ca-cert: {e}")))?;
            Some(config)
        };
        let options = SourceOptions {
            sim: args.sim,
            replay: args.replay,
            sim_tls: args.tls,
            tls,
            connect_timeout: None,
            testnet: args.testnet,
            overrides: plan::url_overrides(&args.url, &targets)?,
            first_data,
            max_attempts,
            heartbeat,
            backoff_seed: args.backoff_seed,
            raw: None,
        };
        Ok((targets, options))
    }
}

/// The simulators and connectors started; dropping it stops the simulators.
pub struct Running {
    simulators: Vec<(&'static dyn Exchange, Simulator)>,
    connectors: Vec<Addr<Connector>>,
}

impl Running {
    /// Closes every connection politely and waits until every connector
    /// has ended (its last state and raw records sent), for at most
    /// [`STOP_GRACE`] in all; then stops the simulators.
    pub async fn stop(self) {
        let stops = self.connectors.iter().map(|c| c.send(StopConnector));
        let ended = async {
            futures_util::future::join_all(stops).await;
            while self.connectors.iter().any(Addr::connected) {
                actix_rt::time::sleep(STOP_POLL).await;
            }
        };
        let _ = actix_rt::time::timeout(STOP_GRACE, ended).await;
        for (_, simulator) in &self.simulators {
            simulator.stop().await;
        }
    }
}

/// Starts the simulators (with `sim`) and the connectors for `targets`,
/// feeding `collector`. Call inside an actix system, after registering
/// whatever must see the first quote.
pub fn start(
    targets: &[Target],
    options: &SourceOptions,
    collector: &Addr<Collector>,
) -> anyhow::Result<Running> {
    let mut simulators: Vec<(&'static dyn Exchange, Simulator)> = Vec::new();
    let mut client_tls = options.tls.clone();
    let mut server_tls = None;
    if options.sim && options.sim_tls {
        // One CA for every simulator of the run, and only it is trusted.
        let certificates = SimCertificates::generate()?;
        server_tls = Some(certificates.server_config()?);
        client_tls = Some(tls_client_config(&TlsTrust::only(vec![
            certificates.ca_der(),
        ]))?);
    }
    if options.sim {
        for target in targets {
            if simulators
                .iter()
                .any(|(e, _)| e.id() == target.exchange.id())
            {
                continue;
            }
            let mut config = SimulatorConfig::loopback();
            config.tls.clone_from(&server_tls);
            let simulator = if options.replay {
                let capture = CaptureSource {
                    file: crate::sim::embedded_capture(target.exchange)?,
                    conn: None,
                    speed: Some(1),
                };
                Simulator::start_capture(config, target.exchange, capture)?
            } else {
                Simulator::start(config, target.exchange)?
            };
            simulators.push((target.exchange, simulator));
        }
    }
    let base_of = |exchange: &'static dyn Exchange| {
        if let Some((_, url)) = options
            .overrides
            .iter()
            .find(|(e, _)| e.id() == exchange.id())
        {
            return Ok(Base::Verbatim(url.clone()));
        }
        if let Some((_, simulator)) = simulators.iter().find(|(e, _)| e.id() == exchange.id()) {
            return Ok(Base::Endpoint(simulator.url()));
        }
        exchange
            .endpoints()
            .select(options.testnet)
            .map(|url| Base::Endpoint(url.to_owned()))
            .ok_or_else(|| UsageError(format!("{} has no testnet", exchange.name())))
    };
    let connectors = plan::connections(targets, base_of)?
        .into_iter()
        .map(|connection| {
            let mut config = connector_config(options, &connection);
            if let Some(tls) = &client_tls {
                config.tls = Some(Arc::clone(tls));
            }
            let exchange = connection.plan.exchange.clone();
            let subscriptions = connection.plan.subscriptions.clone();
            let connector = Connector::new(
                connection.exchange,
                connection.plan,
                config,
                collector.clone().recipient(),
            );
            // Ahead of the connector's own messages (the coverage ledger).
            collector.do_send(PlanConnection {
                connection: connector.id(),
                exchange,
                subscriptions,
            });
            connector.start()
        })
        .collect();
    Ok(Running {
        simulators,
        connectors,
    })
}

/// How one planned connection is configured.
fn connector_config(options: &SourceOptions, connection: &Connection) -> ConnectorConfig {
    let mut config = ConnectorConfig::new();
    config.timeouts.first_data = options.first_data;
    config.backoff.max_attempts = options.max_attempts;
    config.backoff.seed = options.backoff_seed;
    config.raw.clone_from(&options.raw);
    if let Some(limit) = options.connect_timeout {
        // The upgrade's limit covers the connect too: a little longer, so
        // that a stalled TCP/TLS connect is reported as such.
        config.timeouts.connect = config.timeouts.connect.min(limit);
        config.timeouts.handshake = config.timeouts.handshake.min(limit + limit / 2);
    }
    if let Some(idle) = options.heartbeat {
        let mut policy = connection.plan.heartbeat.clone();
        policy.idle = idle;
        policy.pong_deadline = idle;
        config.heartbeat = Some(policy);
    }
    config
}

/// Waits for Ctrl-C or SIGTERM, or `duration` if given, whichever comes
/// first. The signals are caught from the call on (not from the first
/// poll): call it before starting what a signal must not cut short.
pub fn until_stopped(duration: Option<Duration>) -> impl Future<Output = ()> {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let terminate = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    let received = |signal: Option<Signal>| async move {
        match signal {
            Some(mut signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    async move {
        let elapsed = async {
            match duration {
                Some(duration) => actix_rt::time::sleep(duration).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = received(interrupt) => {}
            () = received(terminate) => {}
            () = elapsed => {}
        }
    }
}
