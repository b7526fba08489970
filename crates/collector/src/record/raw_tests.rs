use super::*;
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

fn record(at: i128, connection: u64, event: RawEvent) -> RawRecord {
    RawRecord {
        at: Timestamp::from_unix_nanos(at),
        connection: ConnectionId(connection),
        exchange: ExchangeId::from_static("bitmex"),
        event,
    }
}

fn text(text: &str) -> RawEvent {
    RawEvent::Received {
        payload: Bytes::copy_from_slice(text.as_bytes()),
        text: true,
    }
}

/// 2030-01-01T05:00:00Z (ahead: no tick finishes its files early) plus `seconds`.
fn at(seconds: i128) -> i128 {
    (1_893_474_000 + seconds) * 1_000_000_000
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every complete line an independent zstd decoder gets out of `bytes`
/// (a truncated last frame ends the reading, with an error).
fn decode_lines(bytes: &[u8]) -> (Vec<Value>, bool) {
    let mut decoder = zstd::stream::read::Decoder::new(bytes).unwrap();
    let mut out = Vec::new();
    let complete = decoder.read_to_end(&mut out).is_ok();
    let text = String::from_utf8_lossy(&out);
    let lines = text
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, complete)
}

fn wait_done(mut handle: WriterHandle) -> RecordSummary {
    handle.stop();
    handle.done.blocking_recv().unwrap().unwrap()
}

#[test]
fn every_record_reads_back_exactly_with_an_independent_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
    };
    let (sink, handle) = start_raw(config).unwrap();
    let hostile = "{\"a\":\"line\nbreak \u{1b}[31m \\\" é ✓\"}";
    let records = vec![
        record(
            at(0),
            1,
            RawEvent::Connecting("ws://127.0.0.1:1/realtime".into()),
        ),
        record(at(1), 1, RawEvent::Open("ws://127.0.0.1:1/realtime".into())),
        record(at(1) + 1, 1, RawEvent::Subscribe(1)),
        record(
            at(1) + 2,
            1,
            RawEvent::Sent("{\"op\":\"subscribe\"}".into()),
        ),
        record(at(2) + 123_456_789, 1, text(hostile)),
        record(
            at(3),
            1,
            RawEvent::Received {
                payload: Bytes::from_static(&[0, 159, 255]),
                text: false,
            },
        ),
        record(
            at(3),
            1,
            RawEvent::Received {
                payload: Bytes::from_static(&[0xff, b'a']),
                text: true,
            },
        ),
        record(
            at(4),
            1,
            RawEvent::Close {
                code: Some(1011),
                reason: Some("bye".into()),
            },
        ),
        record(
            at(4),
            1,
            RawEvent::Reconnect {
                attempt: 1,
                delay: Duration::from_millis(250),
                cause: "closed".into(),
            },
        ),
        record(at(5), 1, RawEvent::Gap(Duration::from_millis(1500))),
        record(at(6), 1, RawEvent::Stopped),
    ];
    for r in &records {
        sink.0.blocking_send(r.clone()).unwrap();
    }
    drop(sink);
    let summary = wait_done(handle);
    let expected_path = dir.path().join("raw/bitmex/2030-01-01/050000.jsonl.zst");
    assert_eq!(summary.files, vec![expected_path.clone()]);
    assert_eq!(summary.records, records.len() as u64);
    assert_eq!(
        files_under(dir.path()),
        vec![expected_path.clone()],
        "no .partial left"
    );

    let (lines, complete) = decode_lines(&std::fs::read(&expected_path).unwrap());
    assert!(complete);
    let base = |ns: i128, event: &str| json!({"at_ns": ns as i64, "conn": 1, "exchange": "bitmex", "event": event});
    let with = |mut v: Value, extra: Value| {
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let expected = vec![
        with(
            base(at(0), "connecting"),
            json!({"url": "ws://127.0.0.1:1/realtime"}),
        ),
        with(
            base(at(1), "open"),
            json!({"url": "ws://127.0.0.1:1/realtime"}),
        ),
        with(base(at(1) + 1, "subscribe"), json!({"requests": 1})),
        with(
            base(at(1) + 2, "sent"),
            json!({"text": "{\"op\":\"subscribe\"}"}),
        ),
        with(base(at(2) + 123_456_789, "recv"), json!({"text": hostile})),
        with(base(at(3), "recv"), json!({"bin": "AJ//"})),
        with(base(at(3), "recv"), json!({"bin": "/2E="})),
        with(base(at(4), "close"), json!({"code": 1011, "reason": "bye"})),
        with(
            base(at(4), "reconnect"),
            json!({"attempt": 1, "delay_ms": 250, "cause": "closed"}),
        ),
        with(base(at(5), "gap"), json!({"gap_ms": 1500})),
        base(at(6), "stopped"),
    ];
    assert_eq!(lines, expected);

    // The zstd command-line tool reads it too, where installed.
    if let Ok(output) = std::process::Command::new("zstd")
        .arg("-dc")
        .arg(&expected_path)
        .output()
    {
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        let cli: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(cli, expected);
    }
}

/// Waits (bounded) until `path` is longer than `than` bytes.
fn wait_growth(path: &Path, than: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if len > than {
            return len;
        }
        assert!(
            Instant::now() < deadline,
            "{} was never flushed",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_file_cut_in_its_last_flush_still_yields_every_earlier_flush() {
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
    };
    let (sink, handle) = start_raw(config).unwrap();
    let partial = dir
        .path()
        .join("raw/bitmex/2030-01-01/050000.jsonl.zst.partial");
    let mut len = 0;
    let mut sent = Vec::new();
    for flush in 0..3 {
        for i in 0..50 {
            let r = record(
                at(flush * 60 + i),
                7,
                text(&format!("{{\"flush\":{flush},\"i\":{i}}}")),
            );
            sink.0.blocking_send(r).unwrap();
            sent.push((flush, i));
        }
        // Each batch is flushed (one zstd frame) before the next is sent.
        len = wait_growth(&partial, len);
    }
    // A crash now would leave the .partial as it is: every batch readable.
    let crashed = std::fs::read(&partial).unwrap();
    let (lines, complete) = decode_lines(&crashed);
    assert!(complete);
    assert_eq!(lines.len(), 150);
    // The last flush cut short (a torn write): the earlier two still read.
    let (lines, complete) = decode_lines(&crashed[..crashed.len() - 7]);
    assert!(!complete, "the decoder notices the cut");
    let got: Vec<String> = lines
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect();
    let first_two: Vec<String> = sent[..100]
        .iter()
        .map(|(flush, i)| format!("{{\"flush\":{flush},\"i\":{i}}}"))
        .collect();
    assert!(got.len() >= 100 && got.len() < 150, "{} lines", got.len());
    assert_eq!(got[..100], first_two[..]);
    drop(sink);
    let summary = wait_done(handle);
    assert_eq!(summary.records, 150);
}

#[test]
fn a_restart_never_writes_into_a_finished_or_crashed_file() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("raw/bitmex/2030-01-01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(day.join("050000.jsonl.zst"), b"finished").unwrap();
    std::fs::write(day.join("050000-1.jsonl.zst.partial"), b"crashed").unwrap();
    let config = RawConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
    };
    let (sink, handle) = start_raw(config).unwrap();
    sink.0
        .blocking_send(record(at(1), 1, RawEvent::Stopped))
        .unwrap();
    drop(sink);
    let summary = wait_done(handle);
    assert_eq!(summary.files, vec![day.join("050000-2.jsonl.zst")]);
    assert_eq!(
        std::fs::read(day.join("050000.jsonl.zst")).unwrap(),
        b"finished"
    );
    assert_eq!(
        std::fs::read(day.join("050000-1.jsonl.zst.partial")).unwrap(),
        b"crashed"
    );
}

#[test]
fn rotation_by_time_and_size_splits_files_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation {
            period: Duration::from_secs(60),
            max_bytes: Some(2000),
        },
    };
    let (sink, handle) = start_raw(config).unwrap();
    let n = 300;
    for i in 0..n {
        // 300 records over three minutes: three periods, each cut by size.
        let r = record(at(i * 180 / n), 1, text(&format!("{{\"i\":{i}}}")));
        sink.0.blocking_send(r).unwrap();
    }
    drop(sink);
    let summary = wait_done(handle);
    assert!(summary.files.len() > 3, "{:?}", summary.files);
    let mut all = Vec::new();
    for file in files_under(dir.path()) {
        assert!(!file.to_string_lossy().ends_with(".partial"));
        let (lines, complete) = decode_lines(&std::fs::read(&file).unwrap());
        assert!(complete);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut last = -1;
        for line in lines {
            let ns = line["at_ns"].as_i64().unwrap() as i128;
            let minute = (ns - at(0)) / 60_000_000_000;
            assert!(
                name.starts_with(&format!("05{minute:02}00")),
                "{name} holds minute {minute}"
            );
            let text: Value = serde_json::from_str(line["text"].as_str().unwrap()).unwrap();
            let i = text["i"].as_i64().unwrap();
            assert!(i > last, "in order within {name}");
            last = i;
            all.push(i);
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..n as i64).collect::<Vec<_>>(), "every record once");
}
