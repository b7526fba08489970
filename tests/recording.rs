//! Helpers of the tests that run `collector record` and read what it
//! wrote: running it for a while then SIGTERM, listing files in the order
//! written, reading JSON Lines (plain or zstd) and the complete zstd
//! frames of a crashed file.

use crate::{collector, drain};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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
    let status = terminate(&mut child);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Sends SIGTERM to `child` (by its pid) and waits at most 30 s for it.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("record did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
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

/// The JSON lines of a finished file, plain or zstd (`.zst`).
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
