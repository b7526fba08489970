use super::*;
use crate::messages::ConnectionId;
use crate::record::quotes::{QuoteFormat, QuotesConfig, start_quotes_as};
use crate::record::{QuoteRow, read_parquet_rows, repair_parquet};
use ::parquet::basic::{Encoding, LogicalType, TimeUnit};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use mercury_core::{Price, Quote};
use std::fs;
use std::path::Path;
use tokio::sync::mpsc;

/// 2030-01-01T05:00:00Z plus `millis`, plus 123 ns (receive times have them).
fn at(millis: i128) -> Timestamp {
    Timestamp::from_unix_nanos((1_893_474_000_000 + millis) * 1_000_000 + 123)
}

fn tick(seq: u64, price: &str, exchange_time: Option<i128>) -> Tick {
    Tick {
        seq,
        connection: ConnectionId(7),
        conn_seq: seq + 100,
        quote: Quote {
            exchange: ExchangeId::from_static("bitmex"),
            symbol: Symbol::new("XBTUSD"),
            kind: QuoteKind::Fair,
            price: price.parse().unwrap(),
            exchange_time: exchange_time.map(|ms| Timestamp::from_unix_nanos(ms * 1_000_000)),
            received_at: at(seq as i128),
            conn_seq: seq,
        },
        after_gap: seq == 2,
    }
}

fn expected(tick: &Tick) -> QuoteRow {
    let q = &tick.quote;
    QuoteRow {
        seq: tick.seq,
        conn: tick.connection.0,
        conn_seq: tick.conn_seq,
        exchange: q.exchange.to_string(),
        symbol: q.symbol.to_string(),
        kind: q.kind.to_string(),
        price: q.price,
        exchange_time: q.exchange_time,
        received_at: q.received_at,
        after_gap: tick.after_gap,
    }
}

fn run(
    dir: &Path,
    formats: &[QuoteFormat],
    options: ParquetOptions,
    ticks: &[Tick],
) -> Result<RecordSummary, RecordError> {
    let config = QuotesConfig {
        dir: dir.to_owned(),
        rotation: Rotation::HOURLY,
        compress: false,
    };
    let (sender, receiver) = mpsc::channel(4);
    let mut handle = start_quotes_as(config, formats, options, receiver).unwrap();
    for tick in ticks {
        sender.blocking_send(tick.clone()).unwrap();
    }
    drop(sender);
    handle.stop();
    handle.done.blocking_recv().unwrap()
}

fn partition(dir: &Path) -> PathBuf {
    dir.join("bitmex/XBTUSD/fair/2030-01-01")
}

fn rows(path: &Path) -> Vec<QuoteRow> {
    read_parquet_rows(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn small_groups(rows: usize) -> ParquetOptions {
    ParquetOptions {
        row_group_rows: rows,
        ..ParquetOptions::default()
    }
}

#[test]
fn prices_rescale_exactly_or_are_refused() {
    let scaled = |text: &str| decimal_38_18(&text.parse().unwrap());
    assert_eq!(scaled("1.814e-05"), Some(18_140_000_000_000));
    assert_eq!(scaled("43210.5"), Some(43_210_500_000_000_000_000_000));
    assert_eq!(scaled("1225"), Some(1_225_000_000_000_000_000_000));
    assert_eq!(scaled("-0.5"), Some(-500_000_000_000_000_000));
    assert_eq!(scaled("0.000000000000000001"), Some(1));
    // Trailing zeros past 18 places are no loss.
    assert_eq!(
        scaled("2.50000000000000000000"),
        Some(2_500_000_000_000_000_000)
    );
    // One digit too many, never rounded.
    assert_eq!(scaled("0.0000000000000000001"), None);
    assert_eq!(scaled("1.0000000000000000005"), None);
    // 10^20 needs 39 digits at scale 18; just under fits.
    assert_eq!(scaled("100000000000000000000"), None);
    assert_eq!(scaled("79228162514264337593543950335"), None);
    assert!(scaled("9999999999.999999999999999999").is_some());
}

#[test]
fn rows_read_back_exactly_with_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    let ticks = [
        tick(1, "1.814e-05", Some(1_893_474_000_000)),
        tick(2, "43210.5", None),
        tick(3, "1225", Some(1_893_474_000_001)),
        tick(4, "28667.0", None),
        tick(5, "1188212.1300000001", None),
    ];
    let summary = run(dir.path(), &[QuoteFormat::Parquet], small_groups(2), &ticks).unwrap();
    let path = partition(dir.path()).join("050000.parquet");
    assert_eq!(summary.files, std::slice::from_ref(&path));
    let read = rows(&path);
    assert_eq!(read, ticks.iter().map(expected).collect::<Vec<_>>());
    let texts: Vec<String> = read.iter().map(|r| r.price.to_string()).collect();
    assert_eq!(texts[..3], ["0.00001814", "43210.5", "1225"]);
    assert_eq!(
        read[0].received_at.unix_nanos() % 1000,
        123,
        "nanoseconds kept"
    );
    assert!(!footer_path(&path.with_extension("parquet.partial")).exists());

    // The schema, as the parquet crate's own reader sees it.
    let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
    let metadata = reader.metadata();
    assert_eq!(metadata.num_row_groups(), 3, "row groups of 2 rows");
    let schema = metadata.file_metadata().schema_descr();
    let price = schema.column(6);
    assert_eq!((price.type_precision(), price.type_scale()), (38, 18));
    assert_eq!(price.type_length(), 16);
    for i in [7, 8] {
        assert_eq!(
            schema.column(i).logical_type_ref(),
            Some(&LogicalType::timestamp(true, TimeUnit::NANOS))
        );
    }
    let kv = metadata.file_metadata().key_value_metadata().unwrap();
    assert!(
        kv.iter()
            .any(|kv| kv.key == "mercury.schema_version" && kv.value.as_deref() == Some("1"))
    );
    let group = metadata.row_group(0);
    for i in 3..=5 {
        let encodings: Vec<Encoding> = group.column(i).encodings().collect();
        assert!(
            encodings.contains(&Encoding::RLE_DICTIONARY),
            "{i}: {encodings:?}"
        );
    }
    assert!(matches!(
        group.column(6).compression(),
        ::parquet::basic::Compression::ZSTD(_)
    ));
}

#[test]
fn a_price_parquet_cannot_hold_is_refused_loudly_and_kept_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let ticks = [
        tick(1, "43210.5", None),
        tick(2, "0.0000000000000000001", None),
        tick(3, "1225", None),
    ];
    let formats = [QuoteFormat::Jsonl, QuoteFormat::Parquet];
    let error = run(dir.path(), &formats, ParquetOptions::default(), &ticks).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, RecordError::Unrepresentable { count: 1, .. }) && text.contains("seq 2"),
        "{text}"
    );
    let seqs: Vec<u64> = rows(&partition(dir.path()).join("050000.parquet"))
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [1, 3]);
    let jsonl = fs::read_to_string(partition(dir.path()).join("050000.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 3);
    assert!(jsonl.contains("\"0.0000000000000000001\""));
}

#[test]
fn the_three_formats_hold_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ticks: Vec<Tick> = (1..=50)
        .map(|i| tick(i, &format!("{i}.{i}"), (i % 2 == 0).then_some(i as i128)))
        .collect();
    let formats = [QuoteFormat::Jsonl, QuoteFormat::Csv, QuoteFormat::Parquet];
    run(dir.path(), &formats, small_groups(7), &ticks).unwrap();
    let part = partition(dir.path());
    let parquet = rows(&part.join("050000.parquet"));
    assert_eq!(parquet, ticks.iter().map(expected).collect::<Vec<_>>());
    let csv = fs::read_to_string(part.join("050000.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(crate::record::csv::CSV_HEADER.trim_end())
    );
    for (line, row) in lines.zip(&parquet) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].parse::<u64>().unwrap(), row.seq);
        assert_eq!(cells[2].parse::<u64>().unwrap(), row.conn_seq);
        assert_eq!(cells[6].parse::<Price>().unwrap(), row.price);
        let received: Timestamp = cells[8].parse().unwrap();
        assert_eq!(received, row.received_at);
        assert_eq!(cells[9], row.after_gap.to_string());
    }
    let jsonl = fs::read_to_string(part.join("050000.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 50);
}

#[test]
fn a_crashed_file_is_repaired_to_its_complete_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = ParquetFiles::new(
        dir.path().to_owned(),
        Rotation::HOURLY,
        small_groups(2),
        crate::record::SinkStats::new("parquet"),
    );
    for i in 1..=5 {
        files.write(&tick(i, "43210.5", None)).unwrap();
    }
    // A crash: never finished; a torn write follows the last row group.
    drop(files);
    let part = partition(dir.path());
    let partial = part.join("050000.parquet.partial");
    let mut bytes = fs::read(&partial).unwrap();
    bytes.extend_from_slice(b"torn row group");
    fs::write(&partial, bytes).unwrap();
    assert!(footer_path(&partial).exists());
    assert!(read_parquet_rows(&partial).is_err(), "no footer yet");
    // A finished file of that name exists: it is never replaced.
    fs::write(part.join("050000.parquet"), b"earlier").unwrap();

    let outcome = repair_parquet(&partial).unwrap();
    assert_eq!(outcome.finished, part.join("050000-1.parquet"));
    assert_eq!((outcome.rows, outcome.row_groups), (4, 2));
    assert_eq!(outcome.dropped_bytes, b"torn row group".len() as u64);
    let seqs: Vec<u64> = rows(&outcome.finished).iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert!(!partial.exists() && !footer_path(&partial).exists());
    assert_eq!(fs::read(part.join("050000.parquet")).unwrap(), b"earlier");
}

#[test]
fn a_crash_before_any_row_group_repairs_to_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("010000.parquet.partial");
    fs::write(&partial, b"PAR1 and half a row group").unwrap();
    let outcome = repair_parquet(&partial).unwrap();
    assert_eq!((outcome.rows, outcome.row_groups), (0, 0));
    assert_eq!(rows(&outcome.finished), []);
    // Not ours: refused, untouched.
    let other = dir.path().join("x.parquet.partial");
    fs::write(&other, b"something else").unwrap();
    assert!(repair_parquet(&other).is_err());
    assert_eq!(fs::read(&other).unwrap(), b"something else");
    assert!(repair_parquet(&dir.path().join("x.jsonl.partial")).is_err());
}

#[test]
fn the_row_budget_cuts_the_fullest_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = ParquetOptions {
        buffered_rows: 3,
        ..ParquetOptions::default()
    };
    let mut files = ParquetFiles::new(
        dir.path().to_owned(),
        Rotation::HOURLY,
        options,
        crate::record::SinkStats::new("parquet"),
    );
    for i in 1..=3 {
        files.write(&tick(i, "1", None)).unwrap();
    }
    // Three rows waited in all: they became a row group with its sidecar.
    let partial = partition(dir.path()).join("050000.parquet.partial");
    assert!(footer_path(&partial).exists());
    assert_eq!(files.open.files_mut()[0].rows_waiting(), 0);
    // What the module docs say a waiting row costs.
    assert_eq!(std::mem::size_of::<Row>(), 80);
}

#[test]
fn a_write_error_leaves_the_file_partial_never_finished() {
    let dir = tempfile::tempdir().unwrap();
    let file = PartialFile::on_a_full_disk(dir.path(), "parquet");
    let names = ["bitmex", "XBTUSD", "fair"];
    let mut parquet = ParquetFile::create(file, names, small_groups(2)).unwrap();
    parquet
        .append(&Row::of(&tick(1, "1", None)).unwrap())
        .unwrap();
    let error = parquet
        .append(&Row::of(&tick(2, "2", None)).unwrap())
        .unwrap_err();
    assert!(error.to_string().contains("x.parquet.partial"), "{error}");
    // Never touched again: no footer, no rename, no sidecar.
    assert!(parquet.finish().is_err());
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["x.parquet.partial"]);
}
