//! A price Parquet's DECIMAL(38, 18) cannot hold exactly is refused, never
//! rounded, as a process: `collector sim bitmex --replay-file` serves a
//! capture made here (test frames in BitMEX's shape, not real ones) whose
//! fair prices are `43210.5`, `0.0000000000000000001` (19 places),
//! `1.814e-05` and `1225`; `collector record --format jsonl,parquet` keeps
//! all four in JSON Lines, the other three in Parquet, exactly, and ends
//! with exit 1 and one `error:` line naming the refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_collector::record::read_parquet_rows;
use mercury_core::Price;
use mercury_tests::recorded::{files_under, lines_of};
use mercury_tests::{SimProcess, collector, run_bounded};
use std::time::Duration;

const FAIRS: [&str; 4] = ["43210.5", "0.0000000000000000001", "1.814e-05", "1225"];

/// A raw capture of one BitMEX connection that receives `FAIRS`.
fn capture() -> String {
    let mut frames = vec![
        r#"{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0","timestamp":"2026-12-02T00:00:00.000Z"}"#.to_string(),
        r#"{"success":true,"subscribe":"instrument:XBTUSD","request":{"op":"subscribe","args":["instrument:XBTUSD"]}}"#.to_string(),
    ];
    for (i, fair) in FAIRS.iter().enumerate() {
        let action = if i == 0 { "partial" } else { "update" };
        frames.push(format!(
            r#"{{"table":"instrument","action":"{action}","data":[{{"symbol":"XBTUSD","fairPrice":{fair},"timestamp":"2026-12-02T00:00:0{i}.000Z"}}]}}"#
        ));
    }
    let at = 1_764_633_600_000_000_000_i64;
    frames
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let record = serde_json::json!({
                "at_ns": at + i as i64 * 1_000_000,
                "conn": 1,
                "exchange": "bitmex",
                "event": "recv",
                "text": text,
            });
            format!("{record}\n")
        })
        .collect()
}

fn prices(texts: &[&str]) -> Vec<Price> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

#[test]
fn a_price_with_19_places_is_kept_in_json_lines_and_refused_by_parquet_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.jsonl");
    std::fs::write(&file, capture()).unwrap();
    let sim = SimProcess::start_for(
        "bitmex",
        "refused-price",
        &["--replay-file", file.to_str().unwrap(), "--speed", "max"],
    );
    let out = dir.path().join("data");
    let output = run_bounded(
        collector()
            .args(["record", "bitmex:XBTUSD", "--url", sim.url()])
            .args(["--duration", "3", "--format", "jsonl,parquet", "--out"])
            .arg(&out),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("0.0000000000000000001") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let files = files_under(&out.join("bitmex/XBTUSD/fair"));
    let jsonl: Vec<Price> = files
        .iter()
        .filter(|f| f.to_string_lossy().contains(".jsonl"))
        .flat_map(|f| lines_of(f))
        .map(|l| l["price"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(jsonl, prices(&FAIRS));
    let parquet: Vec<Price> = files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".parquet"))
        .flat_map(|f| read_parquet_rows(f).unwrap().map(|r| r.unwrap().price))
        .collect();
    assert_eq!(parquet, prices(&[FAIRS[0], FAIRS[2], FAIRS[3]]));
}
