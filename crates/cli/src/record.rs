//! `collector record`: collect continuously into files — the raw capture
//! and the quotes as JSON Lines, CSV and/or Parquet
//! (`mercury_collector::record`) — until Ctrl-C, SIGTERM or `--duration`,
//! reconnecting forever like `serve`. Targets and settings come from the
//! flags and `--config FILE` ([`config`]); the wiring and the shutdown
//! order are [`crate::recording`]'s, shared with `serve --out`.
//!
//! Shutdown: the connections close politely (their last raw records are
//! written), the quote stream ends after its last tick, the coverage
//! ledger's channel closes after the connections' last events, and every
//! writer finishes its files (flush, fsync, rename). A writer that fails (disk
//! full, permission, a vanished directory) ends the run the same way, and
//! its error is the run's one `error:` line (exit 1). So does a
//! connection that fails for good (e.g. an unknown symbol).

use crate::Outcome;
use crate::args::RecordArgs;
use crate::config::{self, Merged};
use crate::recording::{RecordSettings, Recording};
use crate::wiring::{self, SourceOptions};
use actix::Actor;
use mercury_collector::Collector;
use std::time::Duration;

/// The first quote of a connection must come within this.
const FIRST_DATA: Duration = Duration::from_secs(30);

/// Records until stopped; see the module docs.
pub fn run(args: &RecordArgs) -> anyhow::Result<Outcome> {
    let system = actix_rt::System::new();
    // From here on a signal ends the run cleanly (even one during start-up).
    let stopped = {
        let _runtime = system.runtime().tokio_runtime().enter();
        wiring::until_stopped(args.duration)
    };
    let config = args.config.as_deref().map(config::load).transpose()?;
    let merged = config::merge(&args.source, &args.files, args.heartbeat, config)?;
    let Merged {
        source,
        targets,
        heartbeat,
        files,
        formats,
    } = merged;
    let Some(settings) = RecordSettings::resolve(&files, formats)? else {
        return Err(crate::UsageError(
            "record needs --out DIR (or [record] out in --config)".into(),
        )
        .into());
    };
    let (targets, mut options) =
        SourceOptions::for_targets(&source, targets, FIRST_DATA, None, heartbeat)?;
    let subscriptions = targets.iter().map(|t| t.subscription()).collect();
    system.block_on(async move {
        let collector = Collector::new().start();
        let mut recording =
            Recording::start(&settings, subscriptions, &collector, &mut options).await?;
        let running = wiring::start(&targets, &options, &collector)?;
        // The connectors hold the only raw senders now.
        drop(options);
        let early = tokio::select! {
            () = stopped => None,
            early = recording.ended() => Some(early),
        };
        running.stop().await;
        recording.finish(early, &collector).await?;
        Ok(Outcome::Done)
    })
}
