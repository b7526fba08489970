//! `collector record`: collect continuously into files — the raw capture
//! and the quotes as JSON Lines, CSV and/or Parquet
//! (`mercury_collector::record`) — until Ctrl-C, SIGTERM or `--duration`,
//! reconnecting forever like `serve`. Targets and settings come from the
//! flags and `--config FILE` ([`config`]); the wiring and the shutdown
//! order are [`crate::recording`]'s, shared with `serve --out`. With
//! `--nats URL` it also (or, without `--out`, only) publishes every quote
//! to NATS JetStream ([`crate::publishing`]); the sink waits for its last
//! acks after the writers have finished.
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
use crate::publishing::Publishing;
use crate::recording::{Early, RecordSettings, Recording};
use crate::wiring::{self, SourceOptions};
use actix::Actor;
use mercury_collector::{Collector, StreamEnd};
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
    let nats_file = config.as_ref().and_then(|c| c.nats.clone());
    let merged = config::merge(&args.source, &args.files, args.heartbeat, config)?;
    let Merged {
        source,
        targets,
        heartbeat,
        files,
        formats,
    } = merged;
    let settings = RecordSettings::resolve(&files, formats)?;
    let nats = args.nats.resolve(nats_file.as_ref())?;
    if settings.is_none() && nats.is_none() {
        return Err(crate::UsageError(
            "record needs --out DIR (or [record] out in --config), --nats URL, or both".into(),
        )
        .into());
    }
    let (targets, mut options) =
        SourceOptions::for_targets(&source, targets, FIRST_DATA, None, heartbeat)?;
    let subscriptions: Vec<_> = targets.iter().map(|t| t.subscription()).collect();
    system.block_on(async move {
        let collector = Collector::new().start();
        // NATS first: a refused credential or a stream mismatch ends the
        // run before any file or connection is made.
        let mut publishing = match &nats {
            Some(nats) => Some(Publishing::start(nats, subscriptions.clone(), &collector).await?),
            None => None,
        };
        let mut recording = match &settings {
            Some(settings) => {
                Some(Recording::start(settings, subscriptions, &collector, &mut options).await?)
            }
            None => None,
        };
        let running = wiring::start(&targets, &options, &collector)?;
        // The connectors hold the only raw senders now.
        drop(options);
        let (early, published_early) = tokio::select! {
            () = stopped => (None, None),
            early = recorded_end(&mut recording) => (Some(early), None),
            end = published_end(&mut publishing) => (None, Some(end)),
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
        recorded?;
        published?;
        if let Some(Err(error)) = published_early {
            return Err(error.into());
        }
        Ok(Outcome::Done)
    })
}

/// When a writer ends by itself; never without a recording.
async fn recorded_end(recording: &mut Option<Recording>) -> Early {
    match recording {
        Some(recording) => recording.ended().await,
        None => std::future::pending().await,
    }
}

/// When the NATS sink's stream ends by itself; never without one.
async fn published_end(publishing: &mut Option<Publishing>) -> StreamEnd {
    match publishing {
        Some(publishing) => publishing.ended().await,
        None => std::future::pending().await,
    }
}
