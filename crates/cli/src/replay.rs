//! `collector replay`: raw capture files through the same sessions and
//! the same collector as live (`mercury_collector::replay`), into the
//! same printer as `fetch` or the same quote files as `record`.
//!
//! Wiring only: a collector, a lossless stream of every quote, the replay
//! feeding it; at the end (or at SIGINT/SIGTERM) the stream is cancelled
//! after the ticks already sent, and the printer or the writer finishes.

use crate::args::{Format, parse_speed, period, size};
use crate::fetch::{Pumped, pump};
use crate::output::QuoteWriter;
use crate::{Interrupt, Outcome, registry, wiring};
use actix::Actor;
use clap::Args;
use mercury_collector::record::Rotation;
use mercury_collector::record::quotes::{QUOTES_CAPACITY, QuotesConfig, start_quotes};
use mercury_collector::replay::{ReplayConfig, ReplaySummary, Speed, replay};
use mercury_collector::{CancelFetches, Collector, OpenStream};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;
use tracing::info;

/// `collector replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Raw capture files (`DIR/raw/EXCHANGE/DATE/HHMMSS.jsonl.zst`, finished
    /// or `.partial`; a torn tail is reported and skipped), merged by
    /// receive time; ties go to the file given first. Give every file of a
    /// run: a connection replays from its start.
    #[arg(required = true, num_args = 1.., value_name = "RAWFILE")]
    pub files: Vec<PathBuf>,
    /// `max`: as fast as the collector takes it; 1: at the recorded pace;
    /// N: N times faster (pauses at most 10 s).
    #[arg(long, default_value = "max", value_parser = parse_speed)]
    pub speed: Speed,
    /// Output format (without --out).
    #[arg(long, value_enum, default_value_t = Format::Table, conflicts_with = "out")]
    pub format: Format,
    /// Write the quotes as `collector record` does, into DIR (made if
    /// missing): DIR/EXCHANGE/SYMBOL/KIND/YYYY-MM-DD/HHMMSS.jsonl. No raw
    /// capture of a replay is written.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: as `record --rotate` (use the recording's for identical files).
    #[arg(long, value_name = "PERIOD", default_value = "1h", value_parser = period, requires = "out")]
    pub rotate: Duration,
    /// With --out: as `record --rotate-size`.
    #[arg(long, value_name = "SIZE", value_parser = size, requires = "out")]
    pub rotate_size: Option<u64>,
    /// With --out: as `record --compress`.
    #[arg(long, requires = "out")]
    pub compress: bool,
}

/// Replays; see the module docs.
pub fn run(args: &ReplayArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let config = ReplayConfig {
        files: args.files.clone(),
        speed: args.speed,
        exchanges: registry::EXCHANGES.to_vec(),
    };
    actix_rt::System::new().block_on(async move {
        let collector = Collector::new().start();
        let stream = collector
            .send(OpenStream {
                subscriptions: Vec::new(),
                n: None,
                timeout: None,
                capacity: QUOTES_CAPACITY,
            })
            .await?;
        let replaying = replay(config, collector.clone().recipient());
        let Some(dir) = &args.out else {
            let mut writer = QuoteWriter::new(out, args.format, std::io::stdout().is_terminal());
            let cancel = collector.clone();
            let done = actix_rt::spawn(async move {
                let summary = replaying.await;
                cancel.do_send(CancelFetches);
                summary
            });
            let pumped = pump(stream.ticks, &mut writer, &collector, None).await?;
            return match pumped {
                Pumped::Interrupted(signal) => {
                    done.abort();
                    Ok(Outcome::Interrupted {
                        signal,
                        wanted: 0,
                        received: writer.written() as usize,
                    })
                }
                Pumped::StdoutClosed => Ok(Outcome::Done),
                Pumped::Ended => report(done.await??),
            };
        };
        let rotation = Rotation {
            period: args.rotate,
            max_bytes: args.rotate_size,
        };
        let quotes_config = QuotesConfig {
            dir: dir.clone(),
            rotation,
            compress: args.compress,
        };
        let mut quotes = start_quotes(quotes_config, stream.ticks)?;
        let stopped = wiring::until_stopped(None);
        let result = tokio::select! {
            () = stopped => None,
            result = replaying => Some(result),
        };
        // The ticks sent come first, then the end: the writer ends with it.
        collector.do_send(CancelFetches);
        crate::recording::finish_writer(&mut quotes, false).await?;
        match result {
            Some(summary) => report(summary?),
            None => Ok(Outcome::Interrupted {
                signal: Interrupt::Term,
                wanted: 0,
                received: 0,
            }),
        }
    })
}

/// Logs what the replay found besides quotes.
fn report(summary: ReplaySummary) -> anyhow::Result<Outcome> {
    let torn = summary.files.iter().filter(|f| f.torn.is_some()).count();
    let bad_lines: u64 = summary.files.iter().map(|f| f.bad_lines).sum();
    info!(
        files = summary.files.len(),
        frames = summary.frames,
        quotes = summary.quotes,
        ignored_frames = summary.ignored_frames,
        torn,
        bad_lines,
        "replayed"
    );
    Ok(Outcome::Done)
}
