//! `collector`: see `collector --help`.

use clap::Parser;
use mercury_cli::args::Cli;
use mercury_cli::{Outcome, UsageError};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Logs by default: our own warnings, others' errors only.
/// actix-http's dispatcher logs one ERROR per malformed or oversized
/// request, already answered with a 4xx: anyone who reaches the dashboard's
/// port could flood stderr with them, so they show only with -v. So do
/// async-nats's own lines (a refused connection is also our one `error:`
/// line; theirs carry the server's words unexcerpted).
const DEFAULT_LOG: &str = "error,actix_http::h1::dispatcher=off,async_nats=off,mercury_core=warn,mercury_exchange_bitmex=warn,mercury_collector=warn,mercury_cli=warn";

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit with 2
    init_logging(cli.verbose);
    let stdout = std::io::stdout();
    match mercury_cli::run(&cli, &mut stdout.lock()) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Interrupted {
            signal,
            wanted,
            received,
        }) => {
            let of = match wanted {
                0 => String::new(),
                n => format!(" of {n}"),
            };
            report(&format!(
                "interrupted: printed {received}{of} quotes ({})",
                signal.name()
            ));
            ExitCode::from(signal.exit_code())
        }
        Err(error) if error.is::<UsageError>() => {
            report(&format!("{error}; see 'collector --help'"));
            ExitCode::from(2)
        }
        Err(error) => {
            report(&format!("{error:#}"));
            ExitCode::from(1)
        }
    }
}

/// The one place errors reach the user: one line on stderr.
fn report(message: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("error: {}", one_safe_line(message));
    }
}

/// `message` on one line, every control character (ESC, CR, BEL, …)
/// escaped: text from a server cannot rewrite the terminal.
fn one_safe_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\n' => line.push(' '),
            c if c.is_control() => line.extend(c.escape_default()),
            c => line.push(c),
        }
    }
    line
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`.
fn init_logging(verbose: u8) {
    let filter = match (std::env::var("RUST_LOG"), verbose) {
        (Ok(spec), _) if !spec.is_empty() => EnvFilter::new(spec),
        (_, 0) => EnvFilter::new(DEFAULT_LOG),
        (_, 1) => EnvFilter::new(
            "info,mercury_collector=debug,mercury_cli=debug,mercury_exchange_bitmex=debug",
        ),
        _ => EnvFilter::new("trace"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person: logs piped to a file stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
