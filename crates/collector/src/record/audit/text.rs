//! An audit's report for people (text) and for programs (one JSON
//! object). Every string that came from a file — symbols, causes, error
//! texts, paths — is escaped and shortened (`mercury_core::excerpt`).

use super::{Repaired, Report};
use mercury_core::{Timestamp, excerpt};
use serde::Serialize;
use std::io::{self, Write};
use std::time::Duration;

fn time(ns: Option<i128>) -> String {
    ns.map_or("-".to_owned(), |ns| {
        Timestamp::from_unix_nanos(ns).to_string()
    })
}

fn seconds(ns: u128) -> String {
    let d = Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX));
    format!("{:.3} s", d.as_secs_f64())
}

fn safe(text: &str) -> String {
    excerpt(text)
}

/// Writes the report as text: repairs, files, subscriptions, problems,
/// and a last line with the verdict.
pub fn write_text(report: &Report, repaired: &[Repaired], out: &mut dyn Write) -> io::Result<()> {
    if !repaired.is_empty() {
        writeln!(out, "repaired:")?;
        for r in repaired {
            let partial = safe(&r.partial.to_string_lossy());
            match (&r.finished, &r.error) {
                (_, Some(error)) => writeln!(out, "  {partial}: not repaired: {}", safe(error))?,
                (Some(finished), None) => writeln!(
                    out,
                    "  {partial} -> {}: kept {} records ({} bytes), dropped {} bytes",
                    safe(&finished.to_string_lossy()),
                    r.records,
                    r.kept_bytes,
                    r.dropped_bytes
                )?,
                (None, None) => writeln!(
                    out,
                    "  {partial}: no complete record; removed ({} bytes dropped)",
                    r.dropped_bytes
                )?,
            }
        }
    }
    writeln!(out, "files:")?;
    for f in &report.files {
        let kind = f.kind.map_or("unrecognised", super::lines::kind_name);
        let state = match (&f.problem, f.partial) {
            (None, _) => "ok",
            (Some(_), true) => "PARTIAL",
            (Some(_), false) => "PROBLEM",
        };
        writeln!(
            out,
            "  {}  {kind}, {} records, {} .. {}  {state}",
            safe(&f.path.to_string_lossy()),
            f.records,
            time(f.first_ns),
            time(f.last_ns),
        )?;
    }
    writeln!(out, "subscriptions:")?;
    for q in &report.quotes {
        writeln!(
            out,
            "  {} {} {} ({}): {} quotes, {} .. {}",
            safe(&q.exchange),
            safe(&q.symbol),
            safe(&q.kind),
            q.format,
            q.quotes,
            time(q.first_ns),
            time(q.last_ns)
        )?;
    }
    for c in &report.coverage {
        let unended = match c.unended {
            0 => String::new(),
            n => format!(", {n} connections without an end (a crash?)"),
        };
        writeln!(
            out,
            "  {} {} {}: covered {} in {} runs, {} gaps{unended}",
            safe(&c.exchange),
            safe(c.symbol.as_deref().unwrap_or("*")),
            safe(c.kind.as_deref().unwrap_or("*")),
            seconds(c.covered_ns),
            c.runs,
            c.gaps.len(),
        )?;
        for gap in &c.gaps {
            let kind = gap
                .error_kind
                .as_deref()
                .map_or(String::new(), |k| format!(" {}", safe(k)));
            let error = gap
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(": {}", safe(e)));
            writeln!(
                out,
                "    gap {} .. {} ({}) {}{kind}{error}",
                time(Some(i128::from(gap.start_ns))),
                time(gap.end_ns.map(i128::from)),
                gap.duration_ns
                    .map_or("open".to_owned(), |d| seconds(u128::from(d))),
                safe(&gap.cause),
            )?;
        }
    }
    let problems = report.problems();
    if !problems.is_empty() {
        writeln!(out, "problems:")?;
        for problem in &problems {
            writeln!(out, "  {problem}")?;
        }
    }
    let records: u64 = report.files.iter().map(|f| f.records).sum();
    let gaps: usize = report.coverage.iter().map(|c| c.gaps.len()).sum();
    writeln!(
        out,
        "{}: {} files, {records} records, {gaps} gaps (not a problem), {} problems",
        if problems.is_empty() {
            "clean"
        } else {
            "PROBLEMS"
        },
        report.files.len(),
        problems.len()
    )
}

#[derive(Serialize)]
struct Json<'a> {
    clean: bool,
    problems: Vec<String>,
    repaired: &'a [Repaired],
    #[serde(flatten)]
    report: &'a Report,
}

/// Writes the report as one JSON object (and a newline): `clean`,
/// `problems`, `repaired`, `files`, `quotes`, `coverage`. Strings are
/// JSON-escaped as they are.
pub fn write_json(report: &Report, repaired: &[Repaired], out: &mut dyn Write) -> io::Result<()> {
    let json = Json {
        clean: report.is_clean(),
        problems: report.problems(),
        repaired,
        report,
    };
    serde_json::to_writer(&mut *out, &json)?;
    writeln!(out)
}
