//! The command line, as clap types.

use crate::registry;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mercury_core::{Exchange, QuoteKind};
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  collector fetch bitmex XBTUSD                  The next 10 fairPrice quotes of XBTUSD
  collector fetch bitmex XBTUSD -n 3 --kind bid  The next 3 best bids
  collector fetch bitmex XBTUSD --format json    JSON Lines, one quote per line
  collector fetch bitmex:XBTUSD binance:BTCUSDT -n 20
                                                 Several exchanges at once, merged in arrival order
  collector fetch bitmex XBTUSD --url ws://127.0.0.1:8080/realtime
                                                 Against another server (e.g. a simulator)
  collector fetch bitmex XBTUSD --sim            Offline, against the built-in simulator
  collector fetch bitmex XBTUSD --sim --replay --kind bid
                                                 Offline, real 2021 best bids replayed
  collector sim bitmex --listen 127.0.0.1:8080   Run the simulator alone (--drop-after N, … for faults)
  collector sim bitmex --tls                     The same over wss://; prints the URL, then `ca: FILE`
  collector fetch bitmex XBTUSD --url wss://localhost:PORT/realtime --ca-cert FILE
                                                 Trust a private CA as well as the default roots
  collector fetch bitmex XBTUSD --sim --tls      Offline, over TLS end to end
  collector serve --sim bitmex:XBTUSD binance:BTCUSDT
                                                 Collect continuously; watch at http://127.0.0.1:8080/
  collector record --sim bitmex:XBTUSD binance:BTCUSDT --out data/
                                                 Record to files until Ctrl-C (raw capture + JSON Lines)
  collector record --sim bitmex:XBTUSD --out data/ --format jsonl,csv,parquet
                                                 The quotes in three formats side by side
  collector replay data/raw/*/*/*.jsonl.zst --out replayed/
                                                 Rebuild the quote files from a raw capture, as live
  collector sim bitmex --replay-file data/raw/bitmex/2026-12-02/080000.jsonl.zst
                                                 Serve a capture of one's own to any client
  collector record --config examples/record.toml  Targets, connections and [record] settings from a TOML file
  collector serve --sim bitmex:XBTUSD --out data/
                                                 Watch and record at once (the page shows each file sink)
  collector audit data/                          Check a recording: files, coverage, gaps, problems
  collector record --config deploy.toml --shard 1/2
                                                 This process's half of the targets (docs/scaling.md)
  collector consume --nats nats://127.0.0.1:4222 --durable archive --format json
                                                 Read quotes back from NATS JetStream; resumes where it stopped
  collector exchanges                            The exchanges, endpoints and quote kinds
  collector completions bash > /etc/bash_completion.d/collector

Exit codes: 0 success (also when stdout is closed early, e.g. `| head`),
1 runtime failure (one `error:` line on stderr), 2 usage error,
130 interrupted by Ctrl-C, 143 by SIGTERM (what had arrived is printed).
Logs go to stderr: -v for debug, -vv for trace, or RUST_LOG=…";

/// Collects live market data from crypto exchanges over WebSocket.
#[derive(Debug, Parser)]
#[command(name = "collector", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the next N quotes of one or more instruments, in arrival order, then exit.
    Fetch(FetchArgs),
    /// Run an exchange simulator on this machine (prints its URL, with --tls then `ca: FILE`; serves until Ctrl-C).
    Sim(SimArgs),
    /// Collect continuously and watch it in the browser (prints the page's URL).
    Serve(ServeArgs),
    /// Collect continuously into files until Ctrl-C or SIGTERM: a raw
    /// capture of every frame and JSON Lines of the quotes, rotated.
    Record(RecordArgs),
    /// Feed raw capture files through the same sessions and collector as
    /// live: print the quotes (like fetch), or write them like record.
    Replay(crate::replay::ReplayArgs),
    /// Check a recording: every file read back, coverage and gaps per
    /// subscription, and any problem (exit 1); --repair finishes what a
    /// crash left.
    #[command(after_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// Read quotes back from a NATS JetStream stream (what `record --nats`
    /// publishes) and print them like fetch; a durable consumer resumes
    /// where it stopped (docs/scaling.md).
    Consume(crate::consume::ConsumeArgs),
    /// List the registered exchanges with their default endpoints and quote kinds.
    Exchanges,
    /// Print shell completions for `collector`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where the quotes come from, for `fetch` and `serve` alike.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// What to collect: `EXCHANGE SYMBOL` (e.g. `bitmex XBTUSD`), or one or
    /// more `EXCHANGE:SYMBOL` (e.g. `bitmex:XBTUSD binance:BTCUSDT`); with
    /// `record` and `serve`, also (or only) from `--config FILE`.
    #[arg(num_args = 0.., value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Which price: fair, mark, last, bid, ask or trade, for every target
    /// [default: each exchange's own, `fair` on BitMEX, `mark` on Binance].
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<QuoteKind>,
    /// Connect here instead of the exchange's endpoint, used as given for
    /// every kind; with several exchanges, `EXCHANGE=URL` once for each.
    #[arg(long, value_name = "URL", conflicts_with_all = ["testnet", "sim"])]
    pub url: Vec<String>,
    /// Start each exchange's simulator on 127.0.0.1 and use it (offline).
    #[arg(long, conflicts_with = "testnet")]
    pub sim: bool,
    /// With --sim: serve the exchange's embedded real capture (BitMEX: a
    /// 2021 session's quote and trade frames, at their recorded pace; the
    /// session again on each reconnect) instead of synthetic data.
    #[arg(long, requires = "sim")]
    pub replay: bool,
    /// With --sim: the simulators serve wss:// with a certificate authority
    /// made for the run, and the connections trust exactly that CA (not
    /// the system's store).
    #[arg(long, requires = "sim")]
    pub tls: bool,
    /// Also trust the certificate authorities in FILE (PEM, one or more
    /// certificates), on top of the default roots: the Mozilla roots built
    /// in and the system's store (or SSL_CERT_FILE / SSL_CERT_DIR when set,
    /// as with OpenSSL and curl). Repeatable.
    #[arg(long, value_name = "FILE", conflicts_with = "sim")]
    pub ca_cert: Vec<std::path::PathBuf>,
    /// Use the exchanges' testnet endpoints.
    #[arg(long)]
    pub testnet: bool,
    /// Collect only this process's share of the targets: shard K of N
    /// (e.g. `1/2`), each target's shard fixed by a hash of its exchange,
    /// symbol and kind (docs/scaling.md). Give N processes the same list
    /// and `--shard 1/N` … `N/N`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<mercury_core::Shard>,
    /// Seed of every connection's reconnect jitter, for tests that check
    /// the schedule [default: each connection draws one from the OS].
    #[arg(long, hide = true)]
    pub backoff_seed: Option<u64>,
}

/// `collector fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Where the quotes come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// How many quotes to print; 0: until interrupted (Ctrl-C or SIGTERM).
    #[arg(short = 'n', long = "count", default_value_t = 10)]
    pub n: u32,
    /// Give up after this many seconds (decimals allowed) [default: 120
    /// with a count; none with -n 0].
    #[arg(long, value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Reconnect at most this many times in a row before giving up.
    #[arg(long, default_value_t = 10)]
    pub max_attempts: u32,
    /// At the end, print on stderr one latency line per exchange and kind:
    /// the quotes printed, feed latency (exchange time → receive) and
    /// internal latency (receive → hand-off) p50/p99/max, and how many
    /// feed latencies were negative (the exchange's clock ahead of ours).
    #[arg(long)]
    pub stats: bool,
    /// Heartbeat override for tests: ping after this much silence, and
    /// declare the link dead after as much again.
    #[arg(long, hide = true, value_parser = parse_seconds)]
    pub heartbeat: Option<Duration>,
}

/// `collector serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the quotes come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where the page and its WebSocket listen (127.0.0.1 only by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// A host name the page may be reached by, besides IP addresses and
    /// localhost (repeatable); requests naming any other host are refused
    /// (a defence against DNS rebinding).
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Every request (page, /ws, /health, /metrics) must carry this token:
    /// `Authorization: Bearer TOKEN` or `?token=TOKEN` (open the page as
    /// http://HOST:PORT/?token=TOKEN). Prefer the MERCURY_AUTH_TOKEN
    /// environment variable: a command line is visible to other users.
    #[arg(long, value_name = "TOKEN")]
    pub auth_token: Option<String>,
    /// A subscription without a quote for this many seconds is stale:
    /// /health says `degraded` and names it (the connection may be up).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub stale_after: Duration,
    /// Stop after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Also record to files while serving (--out DIR; see `collector
    /// record --help`); the page shows each file sink.
    #[command(flatten, next_help_heading = "Recording (with --out)")]
    pub files: FileArgs,
    /// Publishing to NATS JetStream.
    #[command(flatten, next_help_heading = "NATS")]
    pub nats: crate::publishing::NatsArgs,
    /// Read targets, connection options and `[record]` settings from this
    /// TOML file, as `collector record --config` does.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// `collector record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Where the quotes come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where and how the files are written.
    #[command(flatten)]
    pub files: FileArgs,
    /// Publishing to NATS JetStream (with or without files).
    #[command(flatten, next_help_heading = "NATS")]
    pub nats: crate::publishing::NatsArgs,
    /// Read targets, connection options and `[record]` settings from this
    /// TOML file (see examples/record.toml); flags given on the command
    /// line win over the file, and its targets are added to theirs.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Stop after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Heartbeat override for tests: ping after this much silence, and
    /// declare the link dead after as much again.
    #[arg(long, hide = true, value_parser = parse_seconds)]
    pub heartbeat: Option<Duration>,
}

/// Where and how recordings are written: `collector record`, and
/// `collector serve --out`. Unset values come from `--config`'s `[record]`
/// table, then from the defaults shown.
#[derive(Debug, Clone, Default, Args)]
pub struct FileArgs {
    /// The directory to write into (made if missing). Quotes go to
    /// DIR/EXCHANGE/SYMBOL/KIND/YYYY-MM-DD/HHMMSS.jsonl, the raw capture to
    /// DIR/raw/EXCHANGE/YYYY-MM-DD/HHMMSS.jsonl.zst (UTC, the start of the
    /// file's period); a file is NAME.partial until finished. Required by
    /// `record` unless the config file gives it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// Start a new file every PERIOD (UTC, aligned: hourly files start on
    /// the hour): e.g. 1h, 15m, 30s, or seconds (sub-minute periods are
    /// meant for tests) [default: 1h].
    #[arg(long, value_name = "PERIOD", value_parser = parse_period)]
    pub rotate: Option<Duration>,
    /// Also start a new file once one holds SIZE bytes of records (before
    /// compression): e.g. 500M, 2G, 64k, or bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub rotate_size: Option<u64>,
    /// Compress the JSON Lines and CSV quote files with zstd (.jsonl.zst,
    /// .csv.zst; one frame per flush). Parquet is always zstd inside.
    #[arg(long)]
    pub compress: bool,
    /// The quote files' formats, side by side in each partition
    /// (HHMMSS.jsonl, .csv, .parquet): repeat, or a comma list
    /// [default: jsonl,parquet].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub format: Vec<RecordFormat>,
    /// Parquet row groups of at most ROWS rows (for tests: the default
    /// is 64 Ki).
    #[arg(long, hide = true, value_name = "ROWS")]
    pub parquet_row_group: Option<usize>,
    /// Do not write the raw capture (it is on by default).
    #[arg(long)]
    pub no_raw: bool,
}

const AUDIT_HELP: &str = "\
What it reads: every file under DIR, with readers of its own (zstd frame by
frame, serde_json line by line): quotes (DIR/EXCHANGE/SYMBOL/KIND/…), the raw
capture (DIR/raw/…) and the coverage ledger (DIR/ledger/…), as .jsonl or
.jsonl.zst, finished or .partial.

What it prints (stdout): each file with its records and first/last time; per
subscription the quotes, the time covered and every gap (start, end,
duration, cause: reconnect with the failure's kind — drop, close,
rate_limit, stall, … — or renew; resumed or shutdown); then the problems.

Problems (exit 1): a file that does not read (damage, a torn last line in a
finished file), a NAME.partial left by a crash (with the records readable up
to its last complete flush), duplicate quotes (the same line — seq, price,
times — twice), a file of a format or place it has no reader for. Gaps alone
are NOT a problem: they are what happened on the network, and the ledger
says why.

--repair: each NAME.partial becomes a finished file with its complete
records (whole lines, whole zstd frames), written anew, fsynced and renamed
to NAME (or NAME-N: a finished file is never replaced); the torn tail is
dropped and its size reported. Then the audit runs on the result.

Exit codes: 0 clean, 1 a problem found (or a repair failed), 2 usage error
(e.g. DIR is not a directory).";

/// `collector audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The recording's directory (what `collector record --out` wrote).
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// First turn each NAME.partial left by a crash into a finished file
    /// with what it holds.
    #[arg(long)]
    pub repair: bool,
    /// Text for people, or one JSON object.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

/// How `collector audit` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

/// `collector sim`. Prints the URL to connect to on stdout's first line
/// (`ws://127.0.0.1:PORT/PATH`, or `wss://localhost:PORT/PATH` with
/// `--tls`, then `ca: PATH` on the second line), then serves.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The exchange to simulate (see `collector exchanges`).
    #[arg(value_parser = parse_exchange)]
    pub exchange: &'static dyn Exchange,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Seed of the price walk.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds between fair price changes (decimals allowed).
    #[arg(long, default_value = "0.1", value_parser = parse_seconds)]
    pub fair_interval: Duration,
    /// Send data as fast as the socket takes it (for benchmarks).
    #[arg(long)]
    pub firehose: bool,
    /// Data frames per headline price change (the others carry other
    /// fields); 1 makes every frame carry a quote (for benchmarks).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub frames_per_quote: u32,
    /// Serve the exchange's embedded real capture (BitMEX: a 2021
    /// session's quote and trade frames) the way --replay-file serves one's
    /// own, instead of synthetic data.
    #[arg(long)]
    pub replay: bool,
    /// Serve a raw capture of one's own (`collector record`'s
    /// DIR/raw/EXCHANGE/DATE/HHMMSS.jsonl.zst): each client, after its
    /// subscribe, gets the frames one recorded connection received in its
    /// first attempt, in order, then silence.
    #[arg(long, value_name = "RAWFILE", conflicts_with_all = ["replay", "firehose"])]
    pub replay_file: Option<std::path::PathBuf>,
    /// With --replay-file: the recorded connection to serve (the `conn` of
    /// its records) [default: the file's first].
    #[arg(long, value_name = "N", requires = "replay_file")]
    pub replay_conn: Option<u64>,
    /// With --replay-file or --replay: 1 at the recorded pace, N times
    /// faster (pauses at most 10 s), max back to back.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: mercury_collector::replay::Speed,
    /// The instruments to list, comma-separated [default: the venue's own].
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Seconds between the server's heartbeat requests, for a venue whose
    /// server drives the heartbeat (Deribit's `test_request`), instead of
    /// the interval the client asks for; a client that leaves one
    /// unanswered is closed (decimals allowed).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub heartbeat_interval: Option<Duration>,
    /// Write every frame sent to this file as JSON Lines.
    #[arg(long)]
    pub log: Option<std::path::PathBuf>,
    /// Stop after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Serve wss:// with a certificate authority made for this run. Writes
    /// ca.pem (trust this one), cert.pem and key.pem into --tls-dir, and
    /// prints a second line `ca: PATH` after the URL, whose host is then
    /// `localhost` (the certificate is valid for localhost, 127.0.0.1, ::1).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: where to write the certificates [default: a fresh
    /// directory under the system's temporary directory].
    #[arg(long, value_name = "DIR", requires = "tls")]
    pub tls_dir: Option<std::path::PathBuf>,
    /// Fault: drop the TCP connection after N frames.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub drop_after: Option<u64>,
    /// Fault: close with --close-code after N frames.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub close_after: Option<u64>,
    /// The close code for --close-after.
    #[arg(long, default_value_t = 1011, help_heading = "Faults")]
    pub close_code: u16,
    /// Fault: after N frames send nothing and ignore pings.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub stall_after: Option<u64>,
    /// Fault: after N frames write a malformed WebSocket frame (reserved
    /// opcode 3) and cut the TCP connection.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub malformed_after: Option<u64>,
    /// Fault: a garbage (non-JSON) frame before every Nth frame.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub garbage_every: Option<u64>,
    /// Fault: after N frames send a 429 error with --retry-after and close.
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub rate_limit_after: Option<u64>,
    /// Seconds to ask for: in the 429 frame of --rate-limit-after and in
    /// the Retry-After header of --refuse-first.
    #[arg(long, default_value_t = 1, help_heading = "Faults")]
    pub retry_after: u64,
    /// Fault: refuse the first K upgrades with HTTP 429 and Retry-After.
    #[arg(long, value_name = "K", default_value_t = 0, help_heading = "Faults")]
    pub refuse_first: u32,
    /// Fault: answer HTTP 200 without upgrading to a WebSocket.
    #[arg(long, help_heading = "Faults")]
    pub http_200: bool,
    /// Fault: pad every partial to more than 1 MB.
    #[arg(long, help_heading = "Faults")]
    pub big_partials: bool,
    /// Apply the faults only to the first K connections (0: all).
    #[arg(long, value_name = "K", default_value_t = 0, help_heading = "Faults")]
    pub faulty_connections: u32,
    /// Give each connection only one of the ending faults set (drop, close,
    /// rate limit, stall, malformed frame), in turn.
    #[arg(long, help_heading = "Faults")]
    pub rotate_faults: bool,
}

/// How quotes are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people (also `text`).
    #[value(alias = "text")]
    Table,
    /// JSON Lines: one object per quote; `price` is a string holding the exact decimal.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// A format of `collector record`'s quote files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// JSON Lines, as `fetch --format json` prints.
    Jsonl,
    /// CSV with a header line per file; times with nanoseconds.
    Csv,
    /// Parquet: exact DECIMAL(38,18) prices, nanosecond UTC times, zstd.
    Parquet,
}

impl RecordFormat {
    /// The writer's name for it.
    pub fn quote_format(self) -> mercury_collector::record::quotes::QuoteFormat {
        use mercury_collector::record::quotes::QuoteFormat;
        match self {
            RecordFormat::Jsonl => QuoteFormat::Jsonl,
            RecordFormat::Csv => QuoteFormat::Csv,
            RecordFormat::Parquet => QuoteFormat::Parquet,
        }
    }
}

/// `max` or a whole factor of the recorded pace (1: as recorded).
pub(crate) fn parse_speed(text: &str) -> Result<mercury_collector::replay::Speed, String> {
    use mercury_collector::replay::Speed;
    match text {
        "max" => Ok(Speed::Max),
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Speed::Times(n)),
            _ => Err(format!(
                "{text:?} is not a speed: max, 1 (as recorded) or N times faster"
            )),
        },
    }
}

/// A rotation period (`record --rotate`).
pub(crate) fn period(text: &str) -> Result<Duration, String> {
    parse_period(text)
}

/// A size (`record --rotate-size`).
pub(crate) fn size(text: &str) -> Result<u64, String> {
    parse_size(text)
}

pub(crate) fn parse_kind(text: &str) -> Result<QuoteKind, String> {
    text.parse().map_err(|e: mercury_core::Error| e.to_string())
}

pub(crate) fn parse_shard(text: &str) -> Result<mercury_core::Shard, String> {
    text.parse().map_err(|e: mercury_core::Error| e.to_string())
}

fn parse_exchange(id: &str) -> Result<&'static dyn Exchange, String> {
    registry::find(id).ok_or_else(|| {
        format!(
            "unknown exchange {id:?}; known exchanges: {}",
            registry::known_ids()
        )
    })
}

/// A rotation period: `1h`, `15m`, `30s`, `1d` or whole seconds.
pub(crate) fn parse_period(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a period (e.g. 1h, 15m, 30s)");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    let n: u64 = number.parse().map_err(|_| invalid())?;
    match n.checked_mul(seconds) {
        Some(total) if (1..=366 * 86_400).contains(&total) => Ok(Duration::from_secs(total)),
        _ => Err(format!("{text:?}: a period is from 1s to 366d")),
    }
}

/// A size: `500M`, `2G`, `64k` (powers of 1024) or bytes.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || format!("{text:?} is not a size (e.g. 500M, 2G)");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "k" | "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return Err(invalid()),
    };
    let n: u64 = number.parse().map_err(|_| invalid())?;
    n.checked_mul(1 << shift)
        .filter(|&size| size > 0)
        .ok_or_else(invalid)
}

/// Seconds as `30` or `0.5`, to the millisecond, without floats.
pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a number of seconds (e.g. 30 or 0.5)");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 7
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 3
    {
        return Err(invalid());
    }
    let millis = format!("{fraction:0<3}")
        .parse::<u64>()
        .map_err(|_| invalid())?;
    let duration =
        Duration::from_secs(whole.parse().map_err(|_| invalid())?) + Duration::from_millis(millis);
    if duration.is_zero() {
        return Err("the timeout must be more than 0 seconds".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_parse_without_floats() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("1.25"), Ok(Duration::from_millis(1250)));
        for bad in ["", "0", "-1", "1e3", "1.2345", "abc", "99999999"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn periods_and_sizes_parse() {
        assert_eq!(parse_period("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_period("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_period("1"), Ok(Duration::from_secs(1)));
        for bad in ["", "0s", "1x", "h", "-1h", "400d"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        for bad in ["", "0", "1T", "M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fetch_defaults() {
        let cli = Cli::try_parse_from(["collector", "fetch", "bitmex", "XBTUSD"]).unwrap();
        let Command::Fetch(args) = cli.command else {
            panic!("fetch")
        };
        assert_eq!(args.n, 10);
        assert_eq!(args.source.kind, None);
        assert_eq!(args.format, Format::Table);
        assert_eq!(args.timeout, None, "120 s with a count, resolved by fetch");
        assert!(!args.source.testnet && args.source.url.is_empty());
        assert_eq!(args.source.targets, ["bitmex", "XBTUSD"]);
    }
}
