//! `collector exchanges`: the registry as a table.

use crate::registry::EXCHANGES;
use mercury_core::Exchange;
use std::io::Write;

/// Writes one row per registered exchange: id, name, kinds (the default
/// kind first, marked `*`), production and testnet endpoints.
pub fn print(out: &mut dyn Write) -> anyhow::Result<()> {
    let rows: Vec<[String; 5]> = EXCHANGES
        .iter()
        .map(|e| {
            let kinds: Vec<String> = e
                .kinds()
                .iter()
                .map(|k| {
                    if *k == e.default_kind() {
                        format!("{k}*")
                    } else {
                        k.to_string()
                    }
                })
                .collect();
            [
                e.id().to_string(),
                e.name().to_string(),
                kinds.join(","),
                routed(*e, e.endpoints().production),
                e.endpoints()
                    .testnet
                    .map_or_else(|| "-".to_string(), |t| routed(*e, t)),
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
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// The URLs `endpoint` routes the exchange's kinds to, each once.
fn routed(exchange: &dyn Exchange, endpoint: &str) -> String {
    let mut urls: Vec<String> = Vec::new();
    for &kind in exchange.kinds() {
        let url = exchange.route(endpoint, kind);
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls.join(" ")
}
