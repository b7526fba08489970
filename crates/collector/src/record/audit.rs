//! `collector audit DIR`: read back everything a recording holds, with
//! readers independent of the writers, and say what is there and what is
//! wrong.
//!
//! ## What it reads
//!
//! Every file under `DIR`, by where it lies (see [the recording's
//! layout](super)) and by its extension ([`formats::reader_for`]):
//! quotes (`DIR/<exchange>/<symbol>/<kind>/…`), the raw capture
//! (`DIR/raw/…`) and the ledger (`DIR/ledger/…`), as JSON Lines (`.jsonl`)
//! or zstd JSON Lines (`.jsonl.zst`), finished or `.partial`. A file of
//! another format (`.parquet`, `.csv` until their readers are wired in)
//! or of no known place is reported as unrecognised: not checked, so a
//! problem. Symbolic links are not followed (reported).
//!
//! ## What it reports
//!
//! - per file: its kind and format, records, first and last time (a
//!   quote's `received_at`, a raw record's or ledger event's `at_ns`),
//!   and for a `.partial` what it holds: the records readable up to the
//!   last complete flush, and the bytes of a torn tail;
//! - per subscription: the quotes (count, first and last `received_at`)
//!   and, from the ledgers, the time covered and every gap (start, end,
//!   duration, cause);
//! - the problems: a file that does not read (damage inside it, a torn
//!   last line in a finished file), a `.partial` (left by a crash; see
//!   [`repair()`]), duplicates, an unrecognised file. **Gaps alone are not
//!   a problem**: they are what happened on the network, and the ledger
//!   says so.
//!
//! ## Duplicates
//!
//! A quote is the same quote when its whole line is: exchange, symbol,
//! kind, `seq`, price, `exchange_time` and `received_at`. `seq` numbers a
//! run's quotes without repeats, so the same line twice is a quote written
//! twice (by one run across a rotation, or a copy such as a repaired file
//! left next to its `.partial`); two runs never share one by chance.
//! Within one file `seq` must also increase (a file is written by one run).
//! The audit compares a file with the files of its partition whose time
//! ranges overlap it (files are read in name order, which is time order),
//! so it keeps the identities (8 bytes a quote) of a few files at a time.

pub mod columnar;
pub mod coverage;
pub mod formats;
pub mod lines;
pub mod repair;
pub mod text;

use coverage::Coverage;
use formats::{Record, Scan, reader_for};
use lines::{FileKind, Parsed};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

pub use repair::{Repaired, repair};

/// Why an audit could not run at all (a problem in a file is a finding,
/// in the [`Report`], not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// `DIR` is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A directory could not be listed.
    #[error("cannot list {}: {cause}", path.display())]
    List {
        /// Which.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
}

/// What one file holds.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path, relative to `DIR`.
    pub path: PathBuf,
    /// Quotes, raw capture or ledger (`None`: not a place of ours).
    pub kind: Option<FileKind>,
    /// The format's reader (`None`: no reader for it).
    pub format: Option<&'static str>,
    /// Left by a crash (`NAME.partial`).
    pub partial: bool,
    /// Complete records read.
    pub records: u64,
    /// The first record's time, ns since the epoch.
    pub first_ns: Option<i128>,
    /// The last record's time.
    pub last_ns: Option<i128>,
    /// Bytes after the last complete record (a torn write).
    pub torn_bytes: u64,
    /// Quotes seen before (see the module docs).
    pub duplicates: u64,
    /// Quotes whose `seq` does not increase within the file.
    pub out_of_order: u64,
    /// What is wrong with it, in words, if anything.
    pub problem: Option<String>,
}

/// The quotes of one subscription, from its files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuoteStats {
    /// The exchange.
    pub exchange: String,
    /// The symbol.
    pub symbol: String,
    /// The kind.
    pub kind: String,
    /// The files' format (formats side by side are counted apart: each
    /// should hold every quote).
    pub format: &'static str,
    /// Quotes read.
    pub quotes: u64,
    /// The first `received_at`, ns.
    pub first_ns: Option<i128>,
    /// The last `received_at`, ns.
    pub last_ns: Option<i128>,
}

/// Everything an audit found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every file, in path order.
    pub files: Vec<FileReport>,
    /// The quotes per subscription.
    pub quotes: Vec<QuoteStats>,
    /// The coverage per subscription, from the ledgers.
    pub coverage: Vec<Coverage>,
}

impl Report {
    /// The problems found, one line each (server-given text escaped).
    pub fn problems(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|f| {
                let problem = f.problem.as_ref()?;
                Some(format!("{}: {problem}", f.path.display()))
            })
            .map(|line| mercury_core::excerpt_chars(&line, 1000))
            .collect()
    }

    /// No problem found (gaps are not problems).
    pub fn is_clean(&self) -> bool {
        self.files.iter().all(|f| f.problem.is_none())
    }
}

/// Audits the recording in `dir`. See the module docs.
pub fn audit(dir: &Path) -> Result<Report, AuditError> {
    if !dir.is_dir() {
        return Err(AuditError::NotADirectory(dir.to_owned()));
    }
    let mut report = Report::default();
    let mut quotes: BTreeMap<(String, String, String, &str), QuoteStats> = BTreeMap::new();
    let mut ledger_runs: BTreeMap<_, Coverage> = BTreeMap::new();
    let mut window = DuplicateWindow::default();
    for path in walk(dir)? {
        let relative = path.strip_prefix(dir).unwrap_or(&path).to_owned();
        let mut events = Vec::new();
        let format = reader_for(&relative.to_string_lossy()).map_or("", |r| family(r.name()));
        let mut file = read(&path, &relative, &mut |parsed, at| match parsed {
            Parsed::Quote(quote) => {
                let key = (
                    quote.exchange.clone(),
                    quote.symbol.clone(),
                    quote.kind.clone(),
                    format,
                );
                let stats = quotes.entry(key).or_insert_with(|| QuoteStats {
                    exchange: quote.exchange.clone(),
                    symbol: quote.symbol.clone(),
                    kind: quote.kind.clone(),
                    format,
                    ..QuoteStats::default()
                });
                stats.quotes += 1;
                stats.first_ns = Some(stats.first_ns.map_or(at, |f| f.min(at)));
                stats.last_ns = Some(stats.last_ns.map_or(at, |l| l.max(at)));
                window.see(&relative, &quote);
            }
            Parsed::Ledger(event) => events.push(event),
            Parsed::Raw(_) => {}
        });
        if file.kind == Some(FileKind::Quotes) {
            window.close_file(&mut file);
        }
        coverage::add_run(&mut ledger_runs, &events);
        report.files.push(file);
    }
    report.quotes = quotes.into_values().collect();
    report.coverage = ledger_runs.into_values().collect();
    Ok(report)
}

/// Reads one file, handing each parsed record and its time to `seen`.
fn read(path: &Path, relative: &Path, seen: &mut dyn FnMut(Parsed, i128)) -> FileReport {
    let name = relative.to_string_lossy();
    let partial = name.ends_with(".partial");
    let kind = kind_of(relative);
    let reader = reader_for(&name);
    let mut file = FileReport {
        path: relative.to_owned(),
        kind,
        format: reader.map(|r| r.name()),
        partial,
        records: 0,
        first_ns: None,
        last_ns: None,
        torn_bytes: 0,
        duplicates: 0,
        out_of_order: 0,
        problem: None,
    };
    let (Some(kind), Some(reader)) = (kind, reader) else {
        file.problem = Some(match path.is_symlink() {
            true => "a symbolic link: not followed, not checked".to_owned(),
            false => {
                "unrecognised: no reader for this file's format or place; not checked".to_owned()
            }
        });
        return file;
    };
    let (mut first, mut last) = (None::<i128>, None::<i128>);
    let scanned = reader.scan(path, &mut |record| {
        let Record::Line(line) = record;
        let (at, parsed) = Parsed::of(kind, line)?;
        first = Some(first.map_or(at, |f| f.min(at)));
        last = Some(last.map_or(at, |l| l.max(at)));
        seen(parsed, at);
        Ok(())
    });
    (file.first_ns, file.last_ns) = (first, last);
    match scanned {
        Ok(scan) => judge(&mut file, &scan),
        Err(error) => file.problem = Some(format!("cannot read: {error}")),
    }
    file
}

/// What is wrong with a file, from its scan.
fn judge(file: &mut FileReport, scan: &Scan) {
    file.records = scan.records;
    file.torn_bytes = scan.torn_bytes;
    let damage = scan
        .damage
        .as_ref()
        .map(|d| format!("unreadable after {} records: {d}", scan.records));
    file.problem = match (file.partial, damage) {
        (true, damage) => Some(format!(
            "left by a crash: {} records readable up to the last complete flush, {} bytes torn{}; `collector audit --repair` finishes it",
            scan.records,
            scan.torn_bytes,
            damage.map_or(String::new(), |d| format!(" ({d})")),
        )),
        (false, Some(damage)) => Some(damage),
        (false, None) if scan.torn_bytes > 0 => Some(format!(
            "a finished file ends in {} bytes that are not a complete record",
            scan.torn_bytes
        )),
        (false, None) => None,
    };
}

/// The kind of file at `relative` (to `DIR`), by its place.
fn kind_of(relative: &Path) -> Option<FileKind> {
    let parts: Vec<_> = relative.components().collect();
    let first = parts.first()?.as_os_str().to_str()?;
    match (first, parts.len()) {
        ("raw", 4) => Some(FileKind::Raw),
        ("ledger", 3) => Some(FileKind::Ledger),
        (_, 5) => Some(FileKind::Quotes),
        _ => None,
    }
}

/// A format's name without its compression: `zstd CSV` is `CSV`.
fn family(format: &'static str) -> &'static str {
    format.strip_prefix("zstd ").unwrap_or(format)
}

/// Every file under `dir` (not following symbolic links), in name order
/// within each directory, a file's `-N` suffixes in numeric order.
pub fn walk(dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|list| list.map(|e| e.map(|e| e.path())).collect())
        .map_err(|cause| AuditError::List {
            path: dir.to_owned(),
            cause,
        })?;
    entries.sort_by_key(|p| name_key(p));
    for path in entries {
        // A Parquet partial's footer sidecar is part of it (see
        // `columnar`): reported, and repaired, with the partial.
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".parquet.partial.footer")
            || name.ends_with(".parquet.partial.footer.tmp")
        {
            continue;
        }
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path)?);
        } else {
            found.push(path);
        }
    }
    Ok(found)
}

/// `070000-12.jsonl` sorts as (`070000`, 12, `.jsonl`): after `-2`.
fn name_key(path: &Path) -> (String, u64, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, rest) = name.split_at(name.find('.').unwrap_or(name.len()));
    match stem.rsplit_once('-').map(|(s, n)| (s, n.parse::<u64>())) {
        Some((stem, Ok(n))) => (stem.to_owned(), n, rest.to_owned()),
        _ => (stem.to_owned(), 0, rest.to_owned()),
    }
}

/// The quotes of the files that may share quotes with the next one.
#[derive(Default)]
struct DuplicateWindow {
    /// Files done: partition, time range and identities.
    done: Vec<(PathBuf, i128, HashSet<u64>)>,
    /// The file being read.
    current: HashSet<u64>,
    duplicates: u64,
    last_seq: Option<u64>,
    out_of_order: u64,
}

impl DuplicateWindow {
    fn see(&mut self, _: &Path, quote: &lines::QuoteLine) {
        if !self.current.insert(quote.identity()) {
            self.duplicates += 1;
        }
        if self.last_seq.is_some_and(|last| quote.seq <= last) {
            self.out_of_order += 1;
        }
        self.last_seq = Some(quote.seq);
    }

    /// The file just read: compared with the earlier files of its
    /// partition that reach into its time range.
    fn close_file(&mut self, file: &mut FileReport) {
        // Formats side by side hold the same quotes: each is compared
        // with its own kind only.
        let partition = file
            .path
            .ancestors()
            .nth(2)
            .map(|p| p.join(family(file.format.unwrap_or_default())))
            .unwrap_or_default();
        let first = file.first_ns.unwrap_or(i128::MAX);
        self.done
            .retain(|(p, last, _)| *p == partition && *last >= first);
        let current = std::mem::take(&mut self.current);
        for (_, _, earlier) in &self.done {
            self.duplicates += current.intersection(earlier).count() as u64;
        }
        file.duplicates = std::mem::take(&mut self.duplicates);
        file.out_of_order = std::mem::take(&mut self.out_of_order);
        self.last_seq = None;
        if file.problem.is_none() && (file.duplicates > 0 || file.out_of_order > 0) {
            file.problem = Some(format!(
                "{} duplicate quotes, {} out of order (seq not increasing)",
                file.duplicates, file.out_of_order
            ));
        }
        if let Some(last) = file.last_ns {
            self.done.push((partition, last, current));
        }
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
