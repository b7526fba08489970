//! Helpers of the `collector record` process tests (`record.rs`,
//! `record_formats.rs`): run it, list its files, compare with what the
//! simulators sent.
#![allow(dead_code)] // each test file uses its own share

use mercury_tests::{collector, drain};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `collector record ARGS --out DIR` for `run`, then SIGTERM; waits
/// (bounded) for it to finish.
pub fn record_for(args: &[String], out: &Path, run: Duration) -> Output {
    let mut child = collector()
        .arg("record")
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    std::thread::sleep(run);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    // Generous: finishing fsyncs every file, slow on a disk busy with builds.
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("record did not stop within 90 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
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
