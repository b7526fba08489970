//! `collector audit DIR [--repair]`: wiring only; the audit and the
//! repair are `mercury_collector::record::audit`.

use crate::args::{AuditArgs, AuditFormat};
use crate::{Outcome, UsageError};
use mercury_collector::record::audit::{self, AuditError, text};
use std::io::Write;

/// Repairs (with `--repair`), audits, prints; a problem is the run's
/// error (exit 1), a directory that is not one a usage error (exit 2).
pub fn run(args: &AuditArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let usage = |error: AuditError| match error {
        AuditError::NotADirectory(_) => anyhow::Error::new(UsageError(error.to_string())),
        error => anyhow::Error::new(error),
    };
    let repaired = match args.repair {
        true => audit::repair(&args.dir).map_err(usage)?,
        false => Vec::new(),
    };
    let report = audit::audit(&args.dir).map_err(usage)?;
    match args.format {
        AuditFormat::Text => text::write_text(&report, &repaired, out)?,
        AuditFormat::Json => text::write_json(&report, &repaired, out)?,
    }
    out.flush()?;
    let failed = repaired.iter().filter(|r| r.error.is_some()).count();
    let problems = report.problems().len();
    if problems > 0 || failed > 0 {
        anyhow::bail!(
            "the audit of {} found {problems} problems{} (listed on stdout)",
            args.dir.display(),
            match failed {
                0 => String::new(),
                n => format!(", {n} partial files not repaired"),
            }
        );
    }
    Ok(Outcome::Done)
}
