//! `collector exchanges`: the registry as a table.

use crate::registry::EXCHANGES;
use std::io::Write;

/// Writes one row per registered exchange: id, name, kinds (the default
/// kind first, marked `*`), production and testnet endpoints.
pub fn print(out: &mut dyn Write) -> anyhow::Result<()> {
    let rows: Vec<[String; 5]> = EXCHANGES
        .iter()
        .map(|e| {
            let kinds: Vec<String> = e
                .kinds
                .iter()
                .map(|k| {
                    if *k == e.default_kind {
                        format!("{k}*")
                    } else {
                        k.to_string()
                    }
                })
                .collect();
            [
                e.id.to_string(),
                e.name.to_string(),
                kinds.join(","),
                e.endpoints.production.to_string(),
                e.endpoints.testnet.unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let header = [
        "EXCHANGE",
        "NAME",
        "KINDS (*default)",
        "ENDPOINT",
        "TESTNET",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
