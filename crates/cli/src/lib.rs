//! # mercury-cli
//!
//! The `collector` program: parses arguments, wires the library crates
//! together and prints. It holds the exchange [`registry`]; everything else
//! lives in the libraries. Data goes to stdout, logs and errors to stderr.
#![deny(missing_docs)]

pub mod args;
mod exchanges;
mod fetch;
mod output;
pub mod plan;
pub mod registry;
mod serve;
mod sim;
mod wiring;

use args::{Cli, Command};
use clap::CommandFactory;
use std::io::Write;

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done.
    Done,
    /// Interrupted (Ctrl-C) after printing what had arrived.
    Interrupted {
        /// Quotes asked for.
        wanted: usize,
        /// Quotes printed.
        received: usize,
    },
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
        Command::Exchanges => exchanges::print(out).map(|()| Outcome::Done),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "collector", out);
            Ok(Outcome::Done)
        }
    }
}
