//! # mercury-cli
//!
//! The `collector` program: parses arguments, wires the library crates
//! together and prints. It holds the exchange [`registry`]; everything else
//! lives in the libraries. Data goes to stdout, logs and errors to stderr.
#![deny(missing_docs)]

pub mod args;
mod exchanges;
pub mod registry;

use args::{Cli, Command};
use std::io::Write;

/// Runs one parsed command line, writing data to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Exchanges => exchanges::print(out),
    }
}
