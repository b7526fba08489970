//! The audit and the repair on directories made by hand, byte by byte: a
//! clean recording, torn tails, damage, duplicates, unknown formats.

use super::*;
use std::fs;

const Q1: &str = r#"{"seq":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"43210.5","exchange_time":null,"received_at":"2026-12-02T07:00:00.001Z"}"#;
const Q2: &str = r#"{"seq":2,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"1.814e-05","exchange_time":null,"received_at":"2026-12-02T07:00:00.002Z"}"#;
const Q3: &str = r#"{"seq":3,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"1225","exchange_time":null,"received_at":"2026-12-02T07:00:00.003Z","after_gap":true}"#;
const RAW: &str =
    r#"{"at_ns":1764658800000000000,"conn":1,"exchange":"bitmex","event":"recv","text":"{}"}"#;
const QUOTES: &str = "bitmex/XBTUSD/fair/2026-12-02";

fn put(dir: &Path, path: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, bytes).unwrap();
    path
}

fn lines(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

fn zstd_frames(frames: &[&[&str]]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| zstd::bulk::compress(&lines(f), 3).unwrap())
        .collect()
}

fn file<'a>(report: &'a Report, path: &str) -> &'a FileReport {
    report
        .files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| panic!("{path} not in {:?}", report.files))
}

#[test]
fn a_clean_recording_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        &format!("{QUOTES}/070000.jsonl"),
        &lines(&[Q1, Q2]),
    );
    put(
        dir.path(),
        &format!("{QUOTES}/070000-1.jsonl.zst"),
        &zstd_frames(&[&[Q3]]),
    );
    put(
        dir.path(),
        "raw/bitmex/2026-12-02/070000.jsonl.zst",
        &zstd_frames(&[&[RAW], &[RAW]]),
    );
    let report = audit(dir.path()).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems());
    assert_eq!(file(&report, &format!("{QUOTES}/070000.jsonl")).records, 2);
    assert_eq!(
        file(&report, "raw/bitmex/2026-12-02/070000.jsonl.zst").records,
        2
    );
    assert_eq!(report.quotes.len(), 1);
    assert_eq!(report.quotes[0].quotes, 3);
    let last: mercury_core::Timestamp = "2026-12-02T07:00:00.003Z".parse().unwrap();
    assert_eq!(report.quotes[0].last_ns, Some(last.unix_nanos()));
}

#[test]
fn a_crashed_partial_is_reported_with_what_it_holds_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let mut torn = zstd_frames(&[&[Q1], &[Q2]]);
    let whole = torn.len();
    torn.extend_from_slice(&zstd_frames(&[&[Q3]])[..10]);
    let zst = format!("{QUOTES}/070000.jsonl.zst.partial");
    put(dir.path(), &zst, &torn);
    let mut plain = lines(&[RAW]);
    plain.extend_from_slice(b"{\"at_ns\":17646");
    let ledger = "ledger/2026-12-02/070000.jsonl.partial";
    let ledger_line = r#"{"at_ns":1,"conn":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","event":"covered"}"#;
    let mut ledger_bytes = lines(&[ledger_line]);
    ledger_bytes.extend_from_slice(b"{\"at_");
    put(dir.path(), ledger, &ledger_bytes);
    // A finished name already taken: the repair takes the next free one.
    put(
        dir.path(),
        &format!("{QUOTES}/070000-1.jsonl"),
        &lines(&[Q3]),
    );

    let report = audit(dir.path()).unwrap();
    assert!(!report.is_clean());
    let crashed = file(&report, &zst);
    assert!(crashed.partial);
    assert_eq!((crashed.records, crashed.torn_bytes), (2, 10));
    assert!(
        crashed
            .problem
            .as_ref()
            .unwrap()
            .contains("2 records readable")
    );
    assert_eq!(file(&report, ledger).records, 1);
    assert_eq!(report.coverage.len(), 1);

    let repaired = repair(dir.path()).unwrap();
    assert_eq!(repaired.len(), 2, "{repaired:?}");
    let quotes = repaired
        .iter()
        .find(|r| r.partial == Path::new(&zst))
        .unwrap();
    assert_eq!(
        (quotes.records, quotes.kept_bytes, quotes.dropped_bytes),
        (2, whole as u64, 10)
    );
    let finished = dir.path().join(quotes.finished.as_ref().unwrap());
    assert_eq!(
        finished,
        dir.path().join(format!("{QUOTES}/070000.jsonl.zst"))
    );
    // An independent decoder reads the repaired file whole.
    let text =
        String::from_utf8(zstd::decode_all(&fs::read(&finished).unwrap()[..]).unwrap()).unwrap();
    assert_eq!(text, format!("{Q1}\n{Q2}\n"));
    assert!(!dir.path().join(&zst).exists());
    let after = audit(dir.path()).unwrap();
    assert!(after.is_clean(), "{:?}", after.problems());
    assert_eq!(after.files.len(), 3);
    assert!(
        walk(dir.path())
            .unwrap()
            .iter()
            .all(|p| !p.to_string_lossy().contains(".repairing"))
    );
}

#[test]
fn a_repair_never_takes_a_finished_name() {
    let dir = tempfile::tempdir().unwrap();
    let taken = put(dir.path(), &format!("{QUOTES}/070000.jsonl"), &lines(&[Q1]));
    put(
        dir.path(),
        &format!("{QUOTES}/070000.jsonl.partial"),
        &lines(&[Q2]),
    );
    put(
        dir.path(),
        &format!("{QUOTES}/070000-1.jsonl.partial"),
        b"{\"torn",
    );
    let repaired = repair(dir.path()).unwrap();
    let finished: Vec<_> = repaired.iter().map(|r| r.finished.clone()).collect();
    assert_eq!(
        finished,
        [
            Some(PathBuf::from(format!("{QUOTES}/070000-2.jsonl"))),
            None
        ]
    );
    assert_eq!(fs::read(&taken).unwrap(), lines(&[Q1]));
    assert!(audit(dir.path()).unwrap().is_clean());
}

#[test]
fn damage_duplicates_torn_finished_files_and_unknown_formats_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    // The same quote in two files of one partition (a copy).
    put(
        dir.path(),
        &format!("{QUOTES}/070000.jsonl"),
        &lines(&[Q1, Q2]),
    );
    put(
        dir.path(),
        &format!("{QUOTES}/070000-1.jsonl"),
        &lines(&[Q2, Q3]),
    );
    let mut torn = lines(&[RAW]);
    torn.extend_from_slice(b"{\"at");
    put(dir.path(), "raw/bitmex/2026-12-02/070000.jsonl", &torn);
    let mut damaged = zstd_frames(&[&[RAW]]);
    damaged.extend_from_slice(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0]);
    damaged.extend_from_slice(&zstd_frames(&[&[RAW]]));
    put(
        dir.path(),
        "raw/bybit/2026-12-02/070000.jsonl.zst",
        &damaged,
    );
    put(
        dir.path(),
        "binance/BTCUSDT/mark/2026-12-02/070000.parquet",
        b"PAR1",
    );
    put(
        dir.path(),
        "binance/BTCUSDT/mark/2026-12-02/070001.jsonl",
        b"not json\n",
    );
    let report = audit(dir.path()).unwrap();
    let problem = |path: &str| file(&report, path).problem.clone().unwrap_or_default();
    assert_eq!(
        file(&report, &format!("{QUOTES}/070000-1.jsonl")).duplicates,
        1
    );
    assert!(problem(&format!("{QUOTES}/070000-1.jsonl")).contains("1 duplicate"));
    assert_eq!(problem(&format!("{QUOTES}/070000.jsonl")), "");
    assert!(problem("raw/bitmex/2026-12-02/070000.jsonl").contains("not a complete record"));
    // A frame that does not read stops the reading: the rest counts as torn.
    let bybit = file(&report, "raw/bybit/2026-12-02/070000.jsonl.zst");
    assert_eq!(bybit.records, 1);
    assert!(
        bybit
            .problem
            .as_ref()
            .unwrap()
            .contains("not a complete record")
    );
    // Not Parquet at all: it does not read.
    assert!(problem("binance/BTCUSDT/mark/2026-12-02/070000.parquet").contains("unreadable"));
    assert!(
        problem("binance/BTCUSDT/mark/2026-12-02/070001.jsonl").contains("not a quotes record")
    );
    assert_eq!(report.problems().len(), 5, "{:?}", report.problems());
}

#[test]
fn the_text_report_escapes_what_came_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let evil = Q1.replace("XBTUSD\"", "X\\u001b[31mY\"");
    put(
        dir.path(),
        &format!("{QUOTES}/070000.jsonl"),
        &lines(&[&evil]),
    );
    let report = audit(dir.path()).unwrap();
    let mut out = Vec::new();
    text::write_text(&report, &[], &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(
        out.ends_with("clean: 1 files, 1 records, 0 gaps (not a problem), 0 problems\n"),
        "{out}"
    );
    let mut json = Vec::new();
    text::write_json(&report, &[], &mut json).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["clean"], true);
}
