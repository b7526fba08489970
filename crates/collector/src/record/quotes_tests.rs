use super::*;
use crate::messages::ConnectionId;
use mercury_core::{Price, Quote};
use std::path::Path;
use std::time::Duration;

/// 2030-01-01T05:00:00Z plus `millis` (ahead: no tick finishes a file early).
fn at(millis: i128) -> Timestamp {
    Timestamp::from_unix_nanos((1_893_474_000_000 + millis) * 1_000_000)
}

fn tick(
    seq: u64,
    exchange: &'static str,
    symbol: &str,
    kind: QuoteKind,
    price: &str,
    millis: i128,
) -> Tick {
    Tick {
        seq,
        connection: ConnectionId(1),
        conn_seq: seq,
        quote: Quote {
            exchange: ExchangeId::from_static(exchange),
            symbol: Symbol::new(symbol),
            kind,
            price: price.parse::<Price>().unwrap(),
            exchange_time: None,
            received_at: at(millis),
            conn_seq: seq,
        },
        after_gap: seq == 3,
    }
}

fn line(tick: &Tick) -> String {
    let mut out = Vec::new();
    tick.write_json(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn run(config: QuotesConfig, ticks: &[Tick]) -> Result<RecordSummary, RecordError> {
    let (sender, receiver) = mpsc::channel(4);
    let mut handle = start_quotes(config, receiver).unwrap();
    for tick in ticks {
        if sender.blocking_send(tick.clone()).is_err() {
            break; // the writer failed
        }
    }
    drop(sender);
    handle.stop();
    handle.done.blocking_recv().unwrap()
}

fn read(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let text = if path.extension().is_some_and(|e| e == "zst") {
        String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap()
    } else {
        String::from_utf8(bytes).unwrap()
    };
    text.lines().map(str::to_owned).collect()
}

fn sample() -> Vec<Tick> {
    vec![
        tick(1, "bitmex", "XBTUSD", QuoteKind::Fair, "43210.5", 0),
        tick(2, "binance", "BTCUSDT", QuoteKind::Mark, "1225", 10),
        tick(3, "bitmex", "XBTUSD", QuoteKind::Fair, "1.814e-05", 20),
        tick(4, "bitmex", "XBTUSD", QuoteKind::Bid, "43210", 30),
        tick(5, "bitmex", "XBTUSD", QuoteKind::Fair, "43211", 61_000),
        tick(6, "bitmex", "../x", QuoteKind::Fair, "1", 62_000),
    ]
}

#[test]
fn quotes_go_to_their_partition_once_in_order() {
    for compress in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let rotation = Rotation {
            period: Duration::from_secs(60),
            max_bytes: None,
        };
        let config = QuotesConfig {
            dir: dir.path().to_owned(),
            rotation,
            compress,
        };
        let ticks = sample();
        let summary = run(config, &ticks).unwrap();
        let ext = if compress { "jsonl.zst" } else { "jsonl" };
        let p = |rel: &str| dir.path().join(format!("{rel}.{ext}"));
        let expected = [
            (p("bitmex/XBTUSD/fair/2030-01-01/050000"), vec![0, 2]),
            (p("binance/BTCUSDT/mark/2030-01-01/050000"), vec![1]),
            (p("bitmex/XBTUSD/bid/2030-01-01/050000"), vec![3]),
            (p("bitmex/XBTUSD/fair/2030-01-01/050100"), vec![4]),
            (p("bitmex/..%2Fx/fair/2030-01-01/050100"), vec![5]),
        ];
        assert_eq!(summary.records, 6);
        assert_eq!(summary.files.len(), expected.len(), "{:?}", summary.files);
        for (path, indexes) in expected {
            assert!(summary.files.contains(&path), "{}", path.display());
            let want: Vec<String> = indexes.iter().map(|&i| line(&ticks[i])).collect();
            assert_eq!(read(&path), want, "{}", path.display());
        }
        let first = &read(
            &dir.path()
                .join(format!("bitmex/XBTUSD/fair/2030-01-01/050000.{ext}")),
        )[1];
        assert!(
            first.contains(r#""price":"0.00001814""#) || first.contains(r#""price":"1.814e-05""#),
            "{first}"
        );
        assert!(first.ends_with(r#","after_gap":true}"#), "{first}");
    }
}

#[test]
fn size_rotation_splits_a_period_without_loss_or_duplication() {
    let dir = tempfile::tempdir().unwrap();
    let rotation = Rotation {
        period: Duration::from_secs(3600),
        max_bytes: Some(1000),
    };
    let config = QuotesConfig {
        dir: dir.path().to_owned(),
        rotation,
        compress: false,
    };
    let ticks: Vec<Tick> = (1..=100)
        .map(|i| {
            tick(
                i,
                "bitmex",
                "XBTUSD",
                QuoteKind::Fair,
                &format!("{i}.5"),
                i as i128,
            )
        })
        .collect();
    let summary = run(config, &ticks).unwrap();
    assert!(summary.files.len() > 5, "{:?}", summary.files);
    let mut all = Vec::new();
    for file in &summary.files {
        all.extend(read(file));
    }
    let want: Vec<String> = ticks.iter().map(line).collect();
    assert_eq!(
        all, want,
        "files in the order finished hold every quote once, in order"
    );
}

#[test]
fn a_write_error_ends_the_writer_and_the_other_files_are_finished() {
    let dir = tempfile::tempdir().unwrap();
    // BitMEX's directory cannot be made: a file is in its place.
    std::fs::write(dir.path().join("bitmex"), b"in the way").unwrap();
    let config = QuotesConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation::HOURLY,
        compress: false,
    };
    let ticks = [
        tick(1, "binance", "BTCUSDT", QuoteKind::Mark, "1225", 0),
        tick(2, "bitmex", "XBTUSD", QuoteKind::Fair, "43210.5", 1),
        tick(3, "binance", "BTCUSDT", QuoteKind::Mark, "1226", 2),
    ];
    let error = run(config, &ticks).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("cannot create the directory ") && text.contains("bitmex"),
        "{text}"
    );
    let binance = dir
        .path()
        .join("binance/BTCUSDT/mark/2030-01-01/050000.jsonl");
    assert_eq!(
        read(&binance),
        vec![line(&ticks[0])],
        "finished with what it held"
    );
    assert!(!binance.with_extension("jsonl.partial").exists());
}

#[test]
fn the_stats_count_the_files_and_the_bytes_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let config = QuotesConfig {
        dir: dir.path().to_owned(),
        rotation: Rotation {
            period: Duration::from_secs(60),
            max_bytes: None,
        },
        compress: true,
    };
    let (sender, receiver) = mpsc::channel(4);
    let handle = start_quotes(config, receiver).unwrap();
    let stats = handle.stats[0].clone();
    assert_eq!(
        stats.snapshot(),
        crate::record::SinkSnapshot::empty("jsonl")
    );
    for tick in sample() {
        sender.blocking_send(tick).unwrap();
    }
    drop(sender);
    let summary = handle.done.blocking_recv().unwrap().unwrap();
    let seen = stats.snapshot();
    let on_disk: u64 = summary
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!(seen.files_finished, summary.files.len() as u64);
    assert_eq!((seen.files_open, seen.records), (0, 6));
    assert_eq!(seen.bytes, on_disk, "the compressed bytes, as on disk");
    assert_eq!(seen.last_received, Some(at(62_000)));
    assert!(seen.ended && seen.failed.is_none() && seen.last_write.is_some());
}
