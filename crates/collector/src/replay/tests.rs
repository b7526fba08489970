//! The merge of several files (ties) and a torn `.partial`, on real files.

use super::merge::Merge;
use super::reader::{Payload, RawFileReader};
use std::io::Write;
use std::path::{Path, PathBuf};

fn line(at_ns: i64, conn: u64, text: &str) -> String {
    let text = serde_json::to_string(text).unwrap();
    format!(r#"{{"at_ns":{at_ns},"conn":{conn},"exchange":"bitmex","event":"recv","text":{text}}}"#)
        + "\n"
}

/// Writes `frames` (each a zstd frame of lines) to `dir/name`.
fn zst(dir: &Path, name: &str, frames: &[Vec<String>]) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    for lines in frames {
        let bytes = zstd::encode_all(lines.concat().as_bytes(), 3).unwrap();
        file.write_all(&bytes).unwrap();
    }
    path
}

fn texts(merge: Merge) -> Vec<String> {
    merge
        .map(|r| match r.payload {
            Payload::Text(text) => text,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn files_merge_by_receive_time_and_ties_go_to_the_file_given_first() {
    let dir = tempfile::tempdir().unwrap();
    let a = zst(
        dir.path(),
        "a.jsonl.zst",
        &[
            vec![line(10, 1, "a10"), line(30, 1, "a30")],
            vec![line(30, 1, "a30b")],
        ],
    );
    let b = zst(
        dir.path(),
        "b.jsonl.zst",
        &[vec![
            line(5, 2, "b5"),
            line(30, 2, "b30"),
            line(40, 2, "b40"),
        ]],
    );
    let c = dir.path().join("c.jsonl");
    std::fs::write(&c, line(20, 3, "c20") + &line(30, 3, "c30")).unwrap();
    let open = |paths: &[&PathBuf]| {
        Merge::new(
            paths
                .iter()
                .map(|p| RawFileReader::open(p).unwrap())
                .collect(),
        )
    };
    assert_eq!(
        texts(open(&[&a, &b, &c])),
        ["b5", "a10", "c20", "a30", "a30b", "b30", "c30", "b40"]
    );
    // Ties follow the order the files are given in; a file keeps its order.
    assert_eq!(
        texts(open(&[&c, &b, &a])),
        ["b5", "a10", "c20", "c30", "b30", "a30", "a30b", "b40"]
    );
}

#[test]
fn a_torn_partial_is_read_up_to_its_last_whole_frame_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = zst(
        dir.path(),
        "120000.jsonl.zst.partial",
        &[
            vec![line(1, 1, "one"), line(2, 1, "two")],
            vec![line(3, 1, "three"), line(4, 1, "four")],
        ],
    );
    // The crash: the second frame is cut in the middle.
    let first = zstd::encode_all(line(1, 1, "one").as_bytes(), 3)
        .unwrap()
        .len();
    let bytes = std::fs::read(&path).unwrap();
    let whole_first = bytes.len()
        - zstd::encode_all((line(3, 1, "three") + &line(4, 1, "four")).as_bytes(), 3)
            .unwrap()
            .len();
    assert!(whole_first > first / 2);
    std::fs::write(&path, &bytes[..whole_first + 10]).unwrap();
    let mut reader = RawFileReader::open(&path).unwrap();
    let mut read = Vec::new();
    while let Some(record) = reader.next_record() {
        read.push(record.at_ns);
    }
    assert_eq!(read, [1, 2], "the whole frame, nothing of the torn one");
    assert!(reader.report().torn.is_some(), "{:?}", reader.report());
    assert_eq!(reader.report().records, 2);

    // Plain text: a last line without its newline is torn; a bad line is
    // skipped and counted.
    let plain = dir.path().join("x.jsonl.partial");
    std::fs::write(
        &plain,
        line(1, 1, "one") + "not json\n" + &line(2, 1, "two") + r#"{"at_ns":3,"co"#,
    )
    .unwrap();
    let mut reader = RawFileReader::open(&plain).unwrap();
    let mut read = Vec::new();
    while let Some(record) = reader.next_record() {
        read.push(record.at_ns);
    }
    assert_eq!(read, [1, 2]);
    assert_eq!(reader.report().bad_lines, 1);
    assert!(
        reader
            .report()
            .torn
            .as_deref()
            .unwrap()
            .contains("without its newline")
    );
}

#[test]
fn a_paced_replay_keeps_the_recorded_intervals_divided_by_the_speed_and_bounded() {
    use super::{MAX_PAUSE, due_at};
    use std::time::Duration;
    let start = tokio::time::Instant::now();
    let ms = |n: u64| Duration::from_millis(n);
    assert_eq!(
        due_at(None, 5_000_000, 1, start),
        start,
        "the first at once"
    );
    let last = Some((1_000_000_000, start));
    // 250 ms later as recorded: 250 ms at speed 1, 62.5 ms at speed 4.
    assert_eq!(due_at(last, 1_250_000_000, 1, start), start + ms(250));
    assert_eq!(
        due_at(last, 1_250_000_000, 4, start),
        start + Duration::from_micros(62_500)
    );
    // A quiet hour is not waited out; a record out of order is due at once.
    assert_eq!(due_at(last, 3_600_000_000_000, 1, start), start + MAX_PAUSE);
    assert_eq!(due_at(last, 0, 1, start), start);
}
