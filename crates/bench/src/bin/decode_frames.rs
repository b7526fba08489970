//! `decode_frames EXCHANGE PASSES`: decodes every real frame of the
//! exchange's fixtures (`crates/exchange-*/tests/fixtures/*.jsonl`, one
//! frame per line) PASSES times, each file on a fresh session per pass,
//! and prints how many frames and quotes one pass holds; `decode_frames
//! --list` prints the registered exchanges' ids. With `--want KIND`
//! (e.g. `fair`) each session is told that only KIND is kept
//! (`Decoder::want`), so a session's pre-scan (BitMEX) skips what it can.
//!
//! A fixed workload for counting instructions (`bench/instructions.sh`
//! runs it under callgrind twice, with two pass counts, so the difference
//! is the decoding alone, start-up and file reading cancelled out). The
//! frames are read before the first pass.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool: its output

use mercury_core::{Decoder, QuoteKind, SourceEvent, Subscription, Timestamp, WireFrame};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--list") {
        for exchange in mercury_cli::registry::EXCHANGES {
            println!("{}", exchange.id());
        }
        return ExitCode::SUCCESS;
    }
    let (Some(id), Some(passes)) = (args.first(), args.get(1).and_then(|p| p.parse().ok())) else {
        eprintln!("usage: decode_frames EXCHANGE PASSES [--want KIND]");
        return ExitCode::from(2);
    };
    let want: Option<QuoteKind> = match (args.get(2).map(String::as_str), args.get(3)) {
        (None, _) => None,
        (Some("--want"), Some(kind)) => match kind.parse() {
            Ok(kind) => Some(kind),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: decode_frames EXCHANGE PASSES [--want KIND]");
            return ExitCode::from(2);
        }
    };
    let Some(exchange) = mercury_cli::registry::find(id) else {
        eprintln!("unknown exchange {id}");
        return ExitCode::from(2);
    };
    let files = match fixture_files(exchange.id().as_str()) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("no fixtures for {id}");
            return ExitCode::from(1);
        }
        Err(error) => {
            eprintln!("cannot read the fixtures of {id}: {error}");
            return ExitCode::from(1);
        }
    };
    let (mut frames, mut quotes) = (0_u64, 0_u64);
    for pass in 0..passes {
        for file in &files {
            let mut decoder = Decoder::new(exchange);
            if let Some(kind) = want {
                decoder.want(&[Subscription::new(exchange.id(), "XBTUSD", kind)]);
            }
            let mut events = Vec::new();
            for frame in file {
                events.clear();
                let _ = decoder.decode(WireFrame::Text(frame), Timestamp::UNIX_EPOCH, &mut events);
                if pass == 0 {
                    frames += 1;
                    quotes += events
                        .iter()
                        .filter(|e| matches!(e, SourceEvent::Quote(_)))
                        .count() as u64;
                }
            }
        }
    }
    println!("{{\"frames\":{frames},\"quotes\":{quotes}}}");
    ExitCode::SUCCESS
}

/// The frames of each fixture file of exchange `id`, sorted by file name.
fn fixture_files(id: &str) -> std::io::Result<Vec<Vec<String>>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../exchange-".to_owned() + id)
        .join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)?;
            Ok(text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect())
        })
        .collect()
}
