//! The link feed through a real collector actor: every event, in order,
//! through a channel of one (the collector waits for the reader).

use super::*;
use crate::collector::Collector;
use crate::messages::{ConnectorOutput, InFlight};
use actix::prelude::*;
use mercury_core::{Price, Quote, QuoteKind};
use std::sync::atomic::AtomicUsize;

fn quote(ms: i128) -> Quote {
    Quote {
        exchange: ExchangeId::from_static("bitmex"),
        symbol: "XBTUSD".into(),
        kind: QuoteKind::Fair,
        price: "43210.5".parse::<Price>().unwrap(),
        exchange_time: None,
        received_at: Timestamp::from_unix_nanos(ms * 1_000_000),
        conn_seq: 1,
    }
}

fn quotes(connection: ConnectionId, ms: i128, gap: Option<Duration>) -> ConnectorOutput {
    ConnectorOutput::Quotes {
        connection,
        quotes: vec![quote(ms), quote(ms + 1)],
        gap,
        in_flight: InFlight::new(&Arc::new(AtomicUsize::new(0))),
    }
}

fn state(connection: ConnectionId, state: ConnectionState) -> ConnectorOutput {
    ConnectorOutput::State {
        connection,
        exchange: ExchangeId::from_static("bitmex"),
        state,
    }
}

#[actix::test]
async fn every_change_arrives_in_order_through_a_full_channel() {
    let collector = Collector::new().start();
    let connection = ConnectionId(7);
    let subscription =
        Subscription::new(ExchangeId::from_static("bitmex"), "XBTUSD", QuoteKind::Fair);
    collector.do_send(PlanConnection {
        connection,
        exchange: ExchangeId::from_static("bitmex"),
        subscriptions: vec![subscription.clone()],
    });
    // A channel of one that nobody reads yet: the collector must wait.
    let (sender, mut events) = mpsc::channel(1);
    collector.do_send(WatchLinks { sender });
    let reconnecting = |error| ConnectionState::Reconnecting {
        attempt: 1,
        delay: Duration::from_millis(10),
        error,
    };
    collector.do_send(quotes(connection, 1_000, None));
    collector.do_send(quotes(connection, 1_100, None));
    collector.do_send(state(
        connection,
        reconnecting(ConnectorError::Disconnected),
    ));
    let stall = ConnectorError::HeartbeatTimeout {
        silent_for: Duration::from_secs(2),
    };
    collector.do_send(state(connection, reconnecting(stall)));
    collector.do_send(quotes(connection, 5_000, Some(Duration::from_millis(700))));
    // A renewal: a gap with no failure before it.
    collector.do_send(quotes(connection, 9_000, Some(Duration::from_millis(20))));
    collector.do_send(state(
        connection,
        reconnecting(ConnectorError::Disconnected),
    ));
    collector.do_send(state(connection, ConnectionState::Stopped));

    // Read only now: the collector waited for room, and lost nothing.
    let mut got = Vec::new();
    let wait = Duration::from_secs(10);
    while let Some(event) = tokio::time::timeout(wait, events.recv())
        .await
        .expect("an event was lost: none for 10 s")
    {
        assert_eq!(event.connection, connection);
        assert_eq!(
            &event.subscriptions[..],
            std::slice::from_ref(&subscription)
        );
        let end = matches!(event.change, LinkChange::End(_));
        got.push(event);
        if end {
            break;
        }
    }
    collector.send(UnwatchLinks).await.unwrap();
    let closed = tokio::time::timeout(wait, events.recv()).await;
    assert!(matches!(closed, Ok(None)), "closed once unwatched");
    let changes: Vec<(i128, String)> = got
        .iter()
        .map(|e| {
            let what = match &e.change {
                LinkChange::Covered => "covered".to_owned(),
                LinkChange::GapStart(f) => format!("gap_start {}", f.kind),
                LinkChange::Retry(f) => format!("retry {}", f.kind),
                LinkChange::GapEnd {
                    by_shutdown: true, ..
                } => "gap_end shutdown".to_owned(),
                LinkChange::GapEnd { gap, .. } => format!("gap_end {}", gap.as_millis()),
                LinkChange::End(f) => format!("end {:?}", f.as_ref().map(|f| f.kind)),
            };
            (e.at.unix_nanos() / 1_000_000, what)
        })
        .collect();
    let names: Vec<&str> = changes.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(
        names,
        [
            "covered",
            "gap_start drop",
            "retry stall",
            "gap_end 700",
            "gap_start renew",
            "gap_end 20",
            "gap_start drop",
            "gap_end shutdown",
            "end None",
        ],
        "{changes:?}"
    );
    // Coverage starts at the first quote; a gap ends at the first quote
    // after it; a renewal's gap starts `gap` before that.
    assert_eq!(changes[0].0, 1_000);
    assert_eq!(changes[3].0, 5_000);
    assert_eq!((changes[4].0, changes[5].0), (8_980, 9_000));
}

#[test]
fn failures_have_kinds() {
    let rate_limited = ConnectorError::Exchange(mercury_core::ExchangeError {
        status: Some(429),
        message: "Rate limit exceeded, retry in 1 seconds.".into(),
        retryable: true,
        retry_after: Some(Duration::from_secs(1)),
        request: None,
    });
    assert_eq!(failure_kind(&rate_limited), "rate_limit");
    assert_eq!(failure_kind(&ConnectorError::Disconnected), "drop");
    let closed = ConnectorError::Closed {
        code: Some(1011),
        reason: None,
    };
    assert_eq!(failure_kind(&closed), "close");
    let text = Failure::of(&ConnectorError::Protocol("a\u{1b}[31m".into())).error;
    assert!(!text.contains('\u{1b}'), "{text}");
}
