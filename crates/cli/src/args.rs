//! The command line, as clap types.

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  collector exchanges                 List the exchanges, their endpoints and quote kinds
  RUST_LOG=debug collector exchanges  Log to stderr at debug level
";

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
    /// List the registered exchanges with their default endpoints and quote kinds.
    Exchanges,
}
