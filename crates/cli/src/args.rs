//! The command line, as clap types.

use crate::registry;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mercury_core::{ExchangeDescriptor, QuoteKind};
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  collector fetch bitmex XBTUSD                  The next 10 fairPrice quotes of XBTUSD
  collector fetch bitmex XBTUSD -n 3 --kind bid  The next 3 best bids
  collector fetch bitmex XBTUSD --format json    JSON Lines, one quote per line
  collector fetch bitmex XBTUSD --url ws://127.0.0.1:8080/realtime
                                                 Against another server (e.g. a simulator)
  collector exchanges                            The exchanges, endpoints and quote kinds
  collector completions bash > /etc/bash_completion.d/collector

Exit codes: 0 success, 1 runtime failure (one `error:` line on stderr),
2 usage error, 130 interrupted (what had arrived is printed).
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
    /// Print the next N quotes of one instrument, in arrival order, then exit.
    Fetch(FetchArgs),
    /// List the registered exchanges with their default endpoints and quote kinds.
    Exchanges,
    /// Print shell completions for `collector`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `collector fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The exchange (see `collector exchanges`).
    #[arg(value_parser = parse_exchange)]
    pub exchange: &'static ExchangeDescriptor,
    /// The instrument, as the exchange spells it (e.g. XBTUSD).
    pub symbol: String,
    /// How many quotes to print.
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub n: u32,
    /// Which price: fair, mark, last, bid, ask or trade [default: the
    /// exchange's default, `fair` on BitMEX].
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<QuoteKind>,
    /// Connect here instead of the exchange's production endpoint.
    #[arg(long, conflicts_with = "testnet")]
    pub url: Option<String>,
    /// Use the exchange's testnet endpoint.
    #[arg(long)]
    pub testnet: bool,
    /// Give up after this many seconds (decimals allowed).
    #[arg(long, default_value = "120", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// How quotes are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON Lines: one object per quote; `price` is a string holding the exact decimal.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

fn parse_kind(text: &str) -> Result<QuoteKind, String> {
    text.parse().map_err(|e: mercury_core::Error| e.to_string())
}

fn parse_exchange(id: &str) -> Result<&'static ExchangeDescriptor, String> {
    registry::find(id).ok_or_else(|| {
        format!(
            "unknown exchange {id:?}; known exchanges: {}",
            registry::known_ids()
        )
    })
}

/// Seconds as `30` or `0.5`, to the millisecond, without floats.
fn parse_seconds(text: &str) -> Result<Duration, String> {
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
    fn fetch_defaults() {
        let cli = Cli::try_parse_from(["collector", "fetch", "bitmex", "XBTUSD"]).unwrap();
        let Command::Fetch(args) = cli.command else {
            panic!("fetch")
        };
        assert_eq!(args.n, 10);
        assert_eq!(args.kind, None);
        assert_eq!(args.format, Format::Table);
        assert_eq!(args.timeout, Duration::from_secs(120));
        assert!(!args.testnet && args.url.is_none());
        assert_eq!(args.exchange.id.as_str(), "bitmex");
    }
}
