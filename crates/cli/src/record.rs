//! `collector record`: collect continuously into files — the raw capture
//! and the quotes as JSON Lines (`mercury_collector::record`) — until
//! Ctrl-C, SIGTERM or `--duration`, reconnecting forever like `serve`.
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
use crate::wiring::{self, SourceOptions};
use actix::Actor;
use anyhow::Context as _;
use mercury_collector::record::ledger::{LedgerConfig, start_ledger};
use mercury_collector::record::quotes::{QUOTES_CAPACITY, QuotesConfig, start_quotes};
use mercury_collector::record::raw::{RawConfig, start_raw};
use mercury_collector::record::{RecordError, RecordSummary, Rotation, WriterHandle};
use mercury_collector::{CancelFetches, Collector, OpenStream, UnwatchLinks, WatchLinks};
use mercury_core::Subscription;
use std::time::Duration;
use tokio::sync::oneshot;

/// The first quote of a connection must come within this.
const FIRST_DATA: Duration = Duration::from_secs(30);
/// How long the writers may take to write what they hold and finish.
const FINISH_LIMIT: Duration = Duration::from_secs(60);

type Done = oneshot::Receiver<Result<RecordSummary, RecordError>>;

/// Records until stopped; see the module docs.
pub fn run(args: &RecordArgs) -> anyhow::Result<Outcome> {
    let (targets, mut options) =
        SourceOptions::plan(&args.source, FIRST_DATA, None, args.heartbeat)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let rotation = Rotation {
        period: args.rotate,
        max_bytes: args.rotate_size,
    };
    let subscriptions: Vec<Subscription> = targets
        .iter()
        .map(|t| Subscription::new(t.exchange.id(), t.symbol.as_str(), t.kind))
        .collect();
    actix_rt::System::new().block_on(async move {
        // From here on a signal ends the run cleanly.
        let stopped = wiring::until_stopped(args.duration);
        let collector = Collector::new().start();
        let stream = collector
            .send(OpenStream {
                subscriptions,
                n: None,
                timeout: None,
                capacity: QUOTES_CAPACITY,
            })
            .await?;
        let quotes_config = QuotesConfig {
            dir: args.out.clone(),
            rotation,
            compress: args.compress,
        };
        let mut quotes = start_quotes(quotes_config, stream.ticks)?;
        // The coverage ledger: link events, lossless, from before the first connection.
        let (links, mut ledger) = start_ledger(LedgerConfig {
            dir: args.out.clone(),
        })?;
        collector.send(WatchLinks { sender: links }).await?;
        let mut raw = match args.no_raw {
            true => None,
            false => {
                let dir = args.out.clone();
                let (sink, handle) = start_raw(RawConfig { dir, rotation })?;
                options.raw = Some(sink);
                Some(handle)
            }
        };
        let running = wiring::start(&targets, &options, &collector)?;
        // The connectors hold the only senders now.
        drop(options);
        let raw_done = raw.as_mut().map(|r| &mut r.done);
        let early = tokio::select! {
            () = stopped => None,
            result = &mut quotes.done => Some(("quotes", result)),
            result = maybe(raw_done) => Some(("raw", result)),
            result = &mut ledger.done => Some(("ledger", result)),
        };
        running.stop().await;
        collector.do_send(CancelFetches);
        // After the connectors' last states: the ledger's channel closes.
        let _ = collector.send(UnwatchLinks).await;
        let early_name = early.as_ref().map(|(name, _)| *name);
        let mut results = Vec::new();
        if let Some((name, result)) = early {
            results.push(result.unwrap_or(Err(RecordError::Thread(name))));
        }
        if early_name != Some("quotes") {
            results.push(finish(&mut quotes, false).await);
        }
        if let Some(raw) = raw.as_mut().filter(|_| early_name != Some("raw")) {
            results.push(finish(raw, true).await);
        }
        if early_name != Some("ledger") {
            results.push(finish(&mut ledger, false).await);
        }
        // The first failure is the run's error; else a stream that ended
        // by itself (a connection failed for good) is.
        for result in results {
            result?;
        }
        if early_name.is_some()
            && let Ok(Err(error)) = stream.end.await
        {
            return Err(error.into());
        }
        Ok(Outcome::Done)
    })
}

/// Waits (bounded) for a writer to finish; `stop`: ask it first (the quote
/// writer instead ends when its stream does, after the last tick).
async fn finish(handle: &mut WriterHandle, stop: bool) -> Result<RecordSummary, RecordError> {
    if stop {
        handle.stop();
    }
    match actix_rt::time::timeout(FINISH_LIMIT, &mut handle.done).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(RecordError::Thread("file")),
        Err(_) => {
            handle.stop();
            (&mut handle.done)
                .await
                .unwrap_or(Err(RecordError::Thread("file")))
        }
    }
}

/// A writer's answer, or never if there is no such writer.
async fn maybe(
    done: Option<&mut Done>,
) -> Result<Result<RecordSummary, RecordError>, oneshot::error::RecvError> {
    match done {
        Some(done) => done.await,
        None => std::future::pending().await,
    }
}
