//! `collector consume`: read quotes back from a NATS JetStream stream and
//! print them as `collector fetch` does — the reference consumer of
//! `docs/scaling.md`. The reading is `mercury_collector::nats::consume`'s;
//! this module holds the flags, the printing loop and the exit.
//!
//! Each pulled batch (at most [`MAX_BATCH`], and never more than `-n`
//! still wants) is written and flushed, **then** acknowledged: a durable
//! consumer that is stopped (signal, `-n`, closed stdout) resumes after
//! the last quote it printed, and what it pulled without printing is
//! handed back at once. A slow stdout slows the pulls. SIGINT and SIGTERM
//! end the run after the current pull (at most a second): exit 0.

use crate::Outcome;
use crate::args::Format;
use crate::fetch::Signals;
use crate::output::QuoteWriter;
use clap::Args;
use mercury_collector::nats::consume::{
    Batch, ConsumeConfig, DEFAULT_STREAM, MAX_BATCH, QuoteConsumer,
};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// `collector consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// The NATS server: nats://HOST:PORT (tls://… for TLS; user:password@
    /// allowed in it).
    #[arg(long, value_name = "URL")]
    pub nats: String,
    /// The JetStream stream to read.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STREAM)]
    pub stream: String,
    /// Only subjects matching FILTER, e.g. `mercury.bitmex.>` (subjects
    /// are mercury.EXCHANGE.KIND.SYMBOL) [default: the whole stream].
    #[arg(long, value_name = "FILTER")]
    pub subject: Option<String>,
    /// A durable consumer's name: the server remembers what was
    /// acknowledged, and the next run with this name continues after it.
    /// Without it, the whole stream is read from its first message.
    #[arg(long, value_name = "NAME")]
    pub durable: Option<String>,
    /// Stop after N quotes; 0: follow until Ctrl-C or SIGTERM.
    #[arg(short = 'n', long = "count", default_value_t = 0)]
    pub n: u64,
    /// Give up (exit 1) when -n quotes have not come within this many
    /// seconds [default: wait as long as it takes].
    #[arg(long, value_parser = crate::args::parse_seconds)]
    pub timeout: Option<Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Credentials and trust, as for publishing.
    #[command(flatten)]
    pub login: crate::publishing::NatsLogin,
}

/// Consumes; see the module docs.
pub fn run(args: &ConsumeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let config = ConsumeConfig {
        access: access(args)?,
        stream: args.stream.clone(),
        subject: args.subject.clone(),
        durable: args.durable.clone(),
    };
    let mut writer = QuoteWriter::new(out, args.format, std::io::stdout().is_terminal());
    let deadline = args.timeout.map(|t| Instant::now() + t);
    actix_rt::System::new().block_on(async {
        let mut consumer = QuoteConsumer::open(&config).await?;
        let printed = pump(&mut consumer, &mut writer, args.n, deadline).await;
        // Each skip was logged when it happened (one line each).
        let closed = consumer.close().await;
        let printed = printed?;
        closed?;
        if args.n > 0 && printed < args.n && deadline.is_some_and(|d| Instant::now() >= d) {
            anyhow::bail!(
                "timed out: {printed} of {} quotes arrived; try a longer --timeout, or check --stream and --subject",
                args.n
            );
        }
        Ok(Outcome::Done)
    })
}

/// How to reach NATS: the same flags and environment as the publishing
/// sink's (`crate::publishing::NatsArgs`), read by the same code.
fn access(args: &ConsumeArgs) -> anyhow::Result<mercury_collector::nats::NatsConfig> {
    let flags = crate::publishing::NatsArgs {
        nats: Some(args.nats.clone()),
        login: args.login.clone(),
        ..Default::default()
    };
    match flags.resolve(None)? {
        Some(settings) => Ok(settings.config),
        None => Err(crate::UsageError("--nats URL is needed".into()).into()),
    }
}

/// Pulls, prints and acknowledges until `n` quotes (0: no limit), a
/// signal, the deadline or a closed stdout; returns how many were printed.
async fn pump(
    consumer: &mut QuoteConsumer,
    writer: &mut QuoteWriter<'_>,
    n: u64,
    deadline: Option<Instant>,
) -> anyhow::Result<u64> {
    let mut signals = Signals::new()?;
    let mut stopping = false;
    while !stopping && (n == 0 || writer.written() < n) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let want = match n {
            0 => MAX_BATCH,
            n => usize::try_from(n - writer.written()).map_or(MAX_BATCH, |r| r.min(MAX_BATCH)),
        };
        let pull = consumer.next_batch(want);
        tokio::pin!(pull);
        // A signal ends the run after this pull (it waits a second at most):
        // what it brought is printed and acknowledged, not dropped.
        let batch = tokio::select! {
            batch = &mut pull => batch?,
            _ = signals.next() => {
                stopping = true;
                pull.await?
            }
        };
        if batch.is_empty() {
            continue;
        }
        match write_batch(writer, &batch) {
            Ok(()) => {
                let all = batch.len();
                batch.ack(all).await?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                // The reader has gone: nothing is confirmed, all handed back.
                batch.release().await?;
                break;
            }
            Err(error) => {
                batch.release().await?;
                return Err(anyhow::anyhow!("cannot write the quotes: {error}"));
            }
        }
    }
    Ok(writer.written())
}

/// Writes and flushes a batch: `Ok` means all of it reached the output.
fn write_batch(writer: &mut QuoteWriter<'_>, batch: &Batch) -> std::io::Result<()> {
    for tick in batch.ticks() {
        writer.write(tick)?;
    }
    writer.flush()
}
