//! Reading what `collector record` (or `serve --out`) wrote, for the
//! tests that run it as a process: its files in the order written, their
//! JSON lines, and checks against the simulators' frame logs.

use crate::{collector, drain};
use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `collector record ARGS --out DIR` for `run`, then SIGTERM; waits
/// (bounded) for it to finish.
///
/// These tests read the quotes as JSON Lines: without a `--format` in
/// `args`, `--format jsonl` is given (the default adds Parquet, which
/// `record_formats.rs` and the newcomer test read).
pub fn record_for(args: &[String], out: &Path, run: Duration) -> Output {
    let mut command = collector();
    command.arg("record").args(args).arg("--out").arg(out);
    if !args.iter().any(|a| a == "--format") {
        command.args(["--format", "jsonl"]);
    }
    run_then_term(&mut command, run)
}

/// Runs `command` for `run`, then SIGTERM; waits (bounded) for it to
/// finish and returns what it printed.
pub fn run_then_term(command: &mut Command, run: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    std::thread::sleep(run);
    let status = terminate(&mut child);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Every file under `dir`, in the order written: by directory, then period
/// start, then `-N` suffix.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path)
            } else {
                found.push(path)
            }
        }
    }
    let key = |p: &PathBuf| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap().to_owned();
        let (period, n) = match stem.split_once('-') {
            Some((period, n)) => (period.to_owned(), n.parse::<u32>().unwrap()),
            None => (stem, 0),
        };
        (p.parent().unwrap().to_owned(), period, n)
    };
    found.sort_by_key(key);
    found
}

/// The JSON lines of a finished file (`.zst`: decompressed).
pub fn lines_of(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap();
    let text = match path.extension().is_some_and(|e| e == "zst") {
        true => String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap(),
        false => String::from_utf8(bytes).unwrap(),
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The quote lines of one partition, in the order written.
pub fn quotes(out: &Path, partition: &str) -> Vec<Value> {
    files_under(&out.join(partition))
        .iter()
        .flat_map(|f| lines_of(f))
        .collect()
}

/// The raw records of one exchange, in the order written.
pub fn raw(out: &Path, exchange: &str) -> Vec<Value> {
    files_under(&out.join("raw").join(exchange))
        .iter()
        .flat_map(|f| lines_of(f))
        .collect()
}

/// `got` is every connection's `sent` but the last whole, then a prefix of
/// the last (it was cut by SIGTERM); returns where each connection begins.
pub fn assert_connection_by_connection<T: PartialEq + std::fmt::Debug>(
    got: &[T],
    sent: &[Vec<T>],
    what: &str,
) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    for (i, frames) in sent.iter().enumerate() {
        starts.push(at);
        let last = i + 1 == sent.len();
        let take = if last { got.len() - at } else { frames.len() };
        assert!(
            at + take <= got.len(),
            "{what}: connection {} is missing quotes: {} of {}",
            i + 1,
            got.len() - at,
            frames.len()
        );
        assert_eq!(
            got[at..at + take],
            frames[..take],
            "{what}: connection {}",
            i + 1
        );
        at += take;
    }
    assert_eq!(at, got.len(), "{what}: nothing more than what was sent");
    starts
}

/// The exact prices of quote lines.
pub fn prices(lines: &[Value]) -> Vec<Price> {
    lines
        .iter()
        .map(|l| l["price"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Asserts that no `*.partial` file is left under `out`.
pub fn no_partial_left(out: &Path) {
    let partial: Vec<PathBuf> = files_under(out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");
}

/// The raw capture of `exchange` against its simulator's frame log: the
/// frames received between one `open` and the next are that connection's.
pub fn assert_raw_matches(out: &Path, exchange: &str, log: &Path) {
    let records = raw(out, exchange);
    let mut segments: Vec<Vec<String>> = Vec::new();
    for record in &records {
        match record["event"].as_str().unwrap() {
            "open" => segments.push(Vec::new()),
            "recv" => segments
                .last_mut()
                .unwrap()
                .push(record["text"].as_str().unwrap().to_owned()),
            _ => {}
        }
    }
    let entries = read_log(log).unwrap();
    let sent: Vec<Vec<String>> = sent_by_connection(&entries)
        .into_values()
        .map(|frames| frames.into_iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        segments.len(),
        sent.len(),
        "{exchange}: one open per connection"
    );
    let got: Vec<String> = segments.concat();
    let starts = assert_connection_by_connection(&got, &sent, &format!("{exchange} raw frames"));
    let mut at = 0;
    for (segment, start) in segments.iter().zip(starts) {
        assert_eq!(at, start, "{exchange}: connections split at their open");
        at += segment.len();
    }
    assert_eq!(records.last().unwrap()["event"], "stopped", "{exchange}");
}

/// Sends SIGTERM to `child` (by its pid) and waits at most 90 s for it.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    // Generous: finishing fsyncs every file, slow on a disk busy with builds.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("record did not stop within 90 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The complete zstd frames of a crashed file, decoded one by one: what
/// survives a crash (a cut frame at the end is left out).
pub fn complete_frames(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap();
    let mut text = Vec::new();
    let mut rest = &bytes[..];
    while let Ok(size) = zstd::zstd_safe::find_frame_compressed_size(rest) {
        if size > rest.len() {
            break;
        }
        text.extend(zstd::decode_all(&rest[..size]).unwrap());
        rest = &rest[size..];
    }
    String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The complete lines of a crashed plain file (a torn last line left out).
pub fn complete_lines(path: &Path) -> Vec<Value> {
    let text = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |at| at + 1)];
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
