//! `collector record` when the disk fills: a file-size limit (`ulimit -f`,
//! with SIGXFSZ ignored so that a write past it fails with EFBIG as a full
//! disk fails with ENOSPC) makes the quote file's write fail mid-run. The
//! run ends with exit 1 and one `error:` line; the file it failed on stays
//! `.partial`; every finished file is whole (each zstd frame and each line
//! reads back).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::{SimProcess, collector_binary, run_bounded};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The file-size limit, in KiB (bash's `ulimit -f` unit).
const LIMIT_KIB: u64 = 48;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => dirs.push(path),
                false => found.push(path),
            }
        }
    }
    found.sort();
    found
}

/// Every line of a finished file, which must read back whole.
fn whole_lines(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let text = match path.to_string_lossy().ends_with(".zst") {
        true => zstd::decode_all(&bytes[..]).unwrap_or_else(|e| panic!("{path:?}: {e}")),
        false => bytes,
    };
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{path:?} ends mid-line"
    );
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("{path:?}: {e}: {line}"));
    }
    text.lines().count()
}

#[test]
fn a_full_disk_ends_the_run_with_one_line_and_no_torn_finished_file() {
    let sim = SimProcess::start_for("bitmex", "record-disk-full", &["--fair-interval", "0.002"]);
    let out = tempfile::tempdir().unwrap();
    let script = format!("trap '' XFSZ; ulimit -f {LIMIT_KIB}; exec \"$0\" \"$@\"");
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(script)
        .arg(collector_binary())
        .args(["record", "bitmex:XBTUSD", "--url", sim.url()])
        .args(["--duration", "60", "--format", "jsonl", "--out"])
        .arg(out.path());
    let output = run_bounded(&mut command, Duration::from_secs(90));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with("error: cannot write ") && lines[0].contains("File too large"),
        "{stderr}"
    );
    let files = files_under(out.path());
    let (partial, finished): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|p| p.to_string_lossy().ends_with(".partial"));
    assert_eq!(
        partial.len(),
        1,
        "the file that failed stays partial: {partial:?}"
    );
    assert!(
        partial[0].starts_with(out.path().join("bitmex/XBTUSD/fair")),
        "{partial:?}"
    );
    let limit = LIMIT_KIB * 1024;
    assert!(std::fs::metadata(&partial[0]).unwrap().len() <= limit);
    // The raw capture was finished after the failure, and reads back whole.
    let raw: Vec<&PathBuf> = finished
        .iter()
        .filter(|p| p.starts_with(out.path().join("raw")))
        .collect();
    assert!(!raw.is_empty(), "{finished:?}");
    for file in &finished {
        assert!(whole_lines(file) > 0, "{file:?} is empty");
    }
}
