//! # mercury-cli
//!
//! The `collector` program: parses arguments, wires the library crates
//! together and prints. It holds the exchange [`registry`]; everything else
//! lives in the libraries. Data goes to stdout, logs and errors to stderr.
#![deny(missing_docs)]

pub mod args;
mod audit;
pub mod config;
mod consume;
mod exchanges;
mod fetch;
mod output;
pub mod plan;
pub mod publishing;
mod record;
pub mod recording;
pub mod registry;
mod replay;
mod serve;
mod sim;
mod wiring;

use args::{Cli, Command};
use clap::CommandFactory;
use std::io::Write;

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done (or stdout was closed by its reader).
    Done,
    /// Interrupted by a signal after printing what had arrived.
    Interrupted {
        /// Which signal.
        signal: Interrupt,
        /// Quotes asked for (0: no limit).
        wanted: usize,
        /// Quotes printed.
        received: usize,
    },
}

/// The signals that end a run cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT (Ctrl-C): exit code 130.
    Int,
    /// SIGTERM (`timeout`, systemd, container runtimes): exit code 143.
    Term,
}

impl Interrupt {
    /// The exit code of a run it ended: 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Interrupt::Int => 130,
            Interrupt::Term => 143,
        }
    }

    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }
}

/// A mistake in the command line found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs one parsed command line, writing data to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Fetch(args) => fetch::run(args, out),
        Command::Sim(args) => sim::run(args, out),
        Command::Serve(args) => serve::run(args, out),
        Command::Record(args) => record::run(args),
        Command::Replay(args) => replay::run(args, out),
        Command::Audit(args) => audit::run(args, out),
        Command::Consume(args) => consume::run(args, out),
        Command::Exchanges => exchanges::print(out).map(|()| Outcome::Done),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "collector", out);
            Ok(Outcome::Done)
        }
    }
}
