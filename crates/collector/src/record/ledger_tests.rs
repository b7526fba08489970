//! The ledger's file read back with serde_json: one line per subscription
//! and event, in order, flushed as each event comes; finished at the end.

use super::*;
use crate::messages::ConnectionId;
use mercury_core::{ExchangeId, QuoteKind};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

fn event(change: LinkChange, subscriptions: &Arc<[Subscription]>) -> LinkEvent {
    LinkEvent {
        at: Timestamp::from_unix_nanos(1_764_651_600_123_000_000),
        connection: ConnectionId(3),
        exchange: ExchangeId::from_static("binance"),
        subscriptions: subscriptions.clone(),
        change,
    }
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn each_event_is_on_disk_before_the_next_and_the_file_is_finished_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (sender, mut handle) = start_ledger(LedgerConfig {
        dir: dir.path().to_owned(),
    })
    .unwrap();
    let binance = ExchangeId::from_static("binance");
    let subscriptions: Arc<[Subscription]> = vec![
        Subscription::new(binance.clone(), "BTCUSDT", QuoteKind::Mark),
        Subscription::new(binance, "ETHUSDT", QuoteKind::Mark),
    ]
    .into();
    let dropped = Failure {
        kind: "drop",
        error: "the connection dropped without a close frame".into(),
    };
    let changes = [
        LinkChange::Covered,
        LinkChange::GapStart(dropped),
        LinkChange::GapEnd {
            gap: Duration::from_millis(612),
            by_shutdown: false,
        },
        LinkChange::End(None),
    ];
    let partials = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        let date = std::fs::read_dir(dir.join(LEDGER_DIR))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        std::fs::read_dir(date.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    for (i, change) in changes.into_iter().enumerate() {
        sender.blocking_send(event(change, &subscriptions)).unwrap();
        // Flushed per event: the partial file holds it without a stop.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let files = partials(dir.path());
            assert_eq!(files.len(), 1);
            assert!(files[0].to_string_lossy().ends_with(".jsonl.partial"));
            let text = std::fs::read_to_string(&files[0]).unwrap();
            if text.lines().count() == 2 * (i + 1) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "event {i} not flushed"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    drop(sender);
    handle.stop();
    let summary = handle.done.blocking_recv().unwrap().unwrap();
    assert_eq!(summary.files.len(), 1);
    let path = &summary.files[0];
    assert!(path.to_string_lossy().ends_with(".jsonl"), "{path:?}");
    let got = lines(&std::fs::read_to_string(path).unwrap());
    let events: Vec<(&str, &str)> = got
        .iter()
        .map(|l| (l["event"].as_str().unwrap(), l["symbol"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        [
            ("covered", "BTCUSDT"),
            ("covered", "ETHUSDT"),
            ("gap_start", "BTCUSDT"),
            ("gap_start", "ETHUSDT"),
            ("gap_end", "BTCUSDT"),
            ("gap_end", "ETHUSDT"),
            ("end", "BTCUSDT"),
            ("end", "ETHUSDT"),
        ]
    );
    assert_eq!(got[2]["cause"], "reconnect");
    assert_eq!(got[2]["error_kind"], "drop");
    assert_eq!(got[4]["gap_ns"], 612_000_000);
    assert_eq!(got[4]["cause"], "resumed");
    assert_eq!(got[6]["cause"], "shutdown");
    assert_eq!(got[0]["at_ns"], 1_764_651_600_123_000_000_i64);
    assert_eq!(
        (got[0]["conn"].as_u64(), got[0]["kind"].as_str()),
        (Some(3), Some("mark"))
    );
}

#[test]
fn a_connection_without_subscriptions_has_one_line_per_event() {
    let mut out = Vec::new();
    let failure = Failure {
        kind: "fatal",
        error: "bad\nline".into(),
    };
    encode(
        &event(LinkChange::End(Some(failure)), &Arc::from(Vec::new())),
        &mut out,
    );
    let got = lines(std::str::from_utf8(&out).unwrap());
    assert_eq!(got.len(), 1);
    assert!(got[0].get("symbol").is_none());
    assert_eq!(
        (got[0]["event"].as_str(), got[0]["cause"].as_str()),
        (Some("end"), Some("failed"))
    );
    assert_eq!(got[0]["error"], "bad\nline");
}
