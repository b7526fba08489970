//! `collector sim`: an exchange simulator on this machine.

use crate::args::SimArgs;
use crate::{Outcome, UsageError};
use mercury_collector::replay::Speed;
use mercury_core::{Exchange, VenueConfig};
use mercury_simulator::{
    CaptureFile, CaptureSource, Faults, SimCertificateFiles, SimCertificates, Simulator,
    SimulatorConfig, fresh_tls_dir,
};
use std::io::Write;
use std::time::Duration;

/// A usage error if `exchange` has no simulated venue.
pub fn check_venue(exchange: &dyn Exchange) -> Result<(), UsageError> {
    match exchange.new_venue(&VenueConfig::default()) {
        Some(_) => Ok(()),
        None => Err(UsageError(format!("{} has no simulator", exchange.name()))),
    }
}

/// The exchange's embedded real capture, or a usage error naming the
/// exchange if it has none.
pub fn embedded_capture(exchange: &dyn Exchange) -> Result<CaptureFile, UsageError> {
    exchange
        .embedded_capture()
        .map(CaptureFile::Embedded)
        .ok_or_else(|| {
            UsageError(format!(
                "{} has no embedded capture to replay (--replay-file serves one's own)",
                exchange.name()
            ))
        })
}

/// Runs the simulator until Ctrl-C or `--duration`; prints its URL first
/// (and with `--tls`, `ca: PATH` on the second line).
pub fn run(args: &SimArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    check_venue(args.exchange)?;
    let (server_tls, files) = if args.tls {
        let (config, files) = certificates(args.tls_dir.as_deref())?;
        (Some(config), Some(files))
    } else {
        (None, None)
    };
    let config = SimulatorConfig {
        listen: args.listen,
        venue: VenueConfig {
            seed: args.seed,
            headline_interval: args.fair_interval,
            firehose: args.firehose,
            updates_per_headline: args.frames_per_quote,
            symbols: args.symbols.clone(),
            heartbeat: args.heartbeat_interval,
        },
        faults: Faults {
            drop_after: args.drop_after,
            close_after: args.close_after.map(|n| (n, args.close_code)),
            stall_after: args.stall_after,
            malformed_after: args.malformed_after,
            garbage_every: args.garbage_every,
            rate_limit_after: args
                .rate_limit_after
                .map(|n| (n, Duration::from_secs(args.retry_after))),
            refuse_first: args.refuse_first,
            refusal_retry_after: Some(Duration::from_secs(args.retry_after)),
            http_200: args.http_200,
            big_partials: args.big_partials,
            faulty_connections: args.faulty_connections,
            rotate: args.rotate_faults,
        },
        log: args.log.clone(),
        tls: server_tls,
    };
    let file = match &args.replay_file {
        Some(file) => Some(CaptureFile::Path(file.clone())),
        None if args.replay => Some(embedded_capture(args.exchange)?),
        None => None,
    };
    actix_rt::System::new().block_on(async move {
        let simulator = match file {
            None => Simulator::start(config, args.exchange)?,
            Some(file) => {
                let capture = CaptureSource {
                    file,
                    conn: args.replay_conn,
                    speed: match args.speed {
                        Speed::Max => None,
                        Speed::Times(n) => Some(n),
                    },
                };
                Simulator::start_capture(config, args.exchange, capture)?
            }
        };
        // Reached like the exchange itself: its endpoint's path on this
        // machine (`wss://localhost:PORT/…` with TLS).
        writeln!(out, "{}", simulator.url())?;
        if let Some(files) = &files {
            writeln!(out, "ca: {}", files.ca.display())?;
        }
        out.flush()?;
        crate::wiring::until_stopped(args.duration).await;
        simulator.stop().await;
        Ok(Outcome::Done)
    })
}

/// Makes the CA and the leaf, writes them into `dir` (or a fresh directory
/// under the system's temporary one) with absolute paths.
fn certificates(
    dir: Option<&std::path::Path>,
) -> anyhow::Result<(std::sync::Arc<rustls::ServerConfig>, SimCertificateFiles)> {
    let certificates = SimCertificates::generate()?;
    let dir = match dir {
        Some(dir) => std::path::absolute(dir)?,
        None => fresh_tls_dir()?,
    };
    let files = certificates.write_to(&dir)?;
    tracing::info!(ca = %files.ca.display(), "simulator certificates written");
    Ok((certificates.server_config()?, files))
}
