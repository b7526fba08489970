//! `collector audit --repair`: each `NAME.partial` left by a crash becomes
//! a finished file with what it holds.
//!
//! The partial is read with the audit's reader ([`super::formats`]), and
//! its records are checked as the audit checks them; the leading bytes
//! that hold complete, valid records (whole lines, whole zstd frames) are
//! written to a new file (`NAME.partial.repairing`, created new), fsynced,
//! and linked to the finished name — `NAME`, or the first free `-N` after
//! it when `NAME` exists; a hard link never replaces a file, as in
//! [`super::super::files`] — then the temporary file and the partial are
//! removed and the directory fsynced. A crash at any point leaves the
//! partial as it was (or already removed once the finished file is whole).
//! What is dropped (the torn tail, anything after damage) is reported in
//! bytes. A partial with no complete record is removed. A partial of a
//! format without a reader is left alone and reported.

use super::formats::{Record, reader_for};
use super::lines::Parsed;
use super::{AuditError, kind_of, walk};
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How many `-N` suffixes are tried for a finished name.
const MAX_SUFFIX: u32 = 10_000;

/// What a repair did with one partial file.
#[derive(Debug, Clone, Serialize)]
pub struct Repaired {
    /// The partial, relative to `DIR`.
    pub partial: PathBuf,
    /// The finished file made of it, relative to `DIR` (`None`: none —
    /// nothing to keep, or it failed).
    pub finished: Option<PathBuf>,
    /// Records kept.
    pub records: u64,
    /// Bytes kept.
    pub kept_bytes: u64,
    /// Bytes dropped (a torn tail, or what follows damage).
    pub dropped_bytes: u64,
    /// Why it could not be repaired, if it could not.
    pub error: Option<String>,
}

/// Repairs every `.partial` under `dir`. See the module docs.
pub fn repair(dir: &Path) -> Result<Vec<Repaired>, AuditError> {
    if !dir.is_dir() {
        return Err(AuditError::NotADirectory(dir.to_owned()));
    }
    let mut done = Vec::new();
    for path in walk(dir)? {
        if !path.to_string_lossy().ends_with(".partial") || path.is_symlink() {
            continue;
        }
        let relative = path.strip_prefix(dir).unwrap_or(&path).to_owned();
        let mut repaired = Repaired {
            partial: relative.clone(),
            finished: None,
            records: 0,
            kept_bytes: 0,
            dropped_bytes: 0,
            error: None,
        };
        match repair_one(&path, &relative, &mut repaired) {
            Ok(finished) => {
                repaired.finished = finished.map(|f| f.strip_prefix(dir).unwrap_or(&f).to_owned())
            }
            Err(error) => repaired.error = Some(error),
        }
        done.push(repaired);
    }
    Ok(done)
}

fn repair_one(
    path: &Path,
    relative: &Path,
    repaired: &mut Repaired,
) -> Result<Option<PathBuf>, String> {
    let name = relative.to_string_lossy();
    if name.ends_with(".parquet.partial") {
        // Its complete row groups and the footer sidecar written after each.
        let outcome = crate::record::repair_parquet(path).map_err(|e| e.to_string())?;
        repaired.records = outcome.rows;
        repaired.dropped_bytes = outcome.dropped_bytes;
        repaired.kept_bytes = fs::metadata(&outcome.finished).map_or(0, |m| m.len());
        return Ok(Some(outcome.finished));
    }
    let (Some(kind), Some(reader)) = (kind_of(relative), reader_for(&name)) else {
        return Err("no reader for this file's format or place: left as it is".to_owned());
    };
    let scan = reader
        .scan(path, &mut |record| {
            let Record::Line(line) = record;
            Parsed::of(kind, line).map(|_| ())
        })
        .map_err(|e| format!("cannot read it: {e}"))?;
    let total = fs::metadata(path).map_err(|e| e.to_string())?.len();
    repaired.records = scan.records;
    repaired.kept_bytes = scan.kept_bytes;
    repaired.dropped_bytes = total.saturating_sub(scan.kept_bytes);
    let dir = path.parent().ok_or("no parent directory")?;
    if scan.records == 0 {
        fs::remove_file(path).map_err(|e| format!("cannot remove it: {e}"))?;
        sync_dir(dir)?;
        return Ok(None);
    }
    let temporary = PathBuf::from(format!("{}.repairing", path.display()));
    let mut out = create_new(&temporary)?;
    let written = reader
        .keep(path, &scan, &mut out)
        .and_then(|()| out.sync_all());
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(format!("cannot write {}: {error}", temporary.display()));
    }
    let finished = link_finished(&temporary, path)?;
    fs::remove_file(&temporary).map_err(|e| format!("cannot remove the temporary file: {e}"))?;
    fs::remove_file(path).map_err(|e| format!("cannot remove it: {e}"))?;
    sync_dir(dir)?;
    Ok(Some(finished))
}

/// Creates `path` new; a leftover of an interrupted repair (ours) is
/// replaced.
fn create_new(path: &Path) -> Result<File, String> {
    let open = || OpenOptions::new().write(true).create_new(true).open(path);
    match open() {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            open()
        }
        other => other,
    }
    .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Links `temporary` to the finished name of `partial`: `NAME`, or the
/// first `NAME-N` for which neither a finished file nor a partial exists.
fn link_finished(temporary: &Path, partial: &Path) -> Result<PathBuf, String> {
    let name = partial
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".partial"))
        .ok_or("not a .partial file")?;
    let (stem, extension) = name.split_at(name.find('.').unwrap_or(name.len()));
    let dir = partial.parent().ok_or("no parent directory")?;
    for n in 0..MAX_SUFFIX {
        let candidate = match n {
            0 => dir.join(name),
            n => dir.join(format!("{stem}-{n}{extension}")),
        };
        let taken_by_a_crash =
            n > 0 && Path::new(&format!("{}.partial", candidate.display())).exists();
        if taken_by_a_crash {
            continue;
        }
        match fs::hard_link(temporary, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot rename to {}: {e}", candidate.display())),
        }
    }
    Err(format!("no free finished name for {}", partial.display()))
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot fsync {}: {e}", dir.display()))
}
