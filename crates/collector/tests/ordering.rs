//! The collector's three guarantees, checked over thousands of quotes from
//! several connections interleaving, and its fetch and consumer rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{
    CancelFetches, Collector, ConnectionId, ConnectionState, ConnectorError, ConnectorOutput,
    Fetch, FetchError, GetStats, InFlight, Subscribe, Tick,
};
use mercury_core::{ExchangeId, Quote, QuoteKind, Subscription, Timestamp};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BITMEX: ExchangeId = ExchangeId::from_static("bitmex");

fn quote(symbol: &str, kind: QuoteKind, conn_seq: u64) -> Quote {
    Quote {
        exchange: BITMEX,
        symbol: symbol.into(),
        kind,
        price: format!("{conn_seq}.5").parse().unwrap(),
        exchange_time: None,
        received_at: Timestamp::UNIX_EPOCH,
        conn_seq,
    }
}

fn batch(connection: ConnectionId, quotes: Vec<Quote>) -> ConnectorOutput {
    ConnectorOutput::Quotes {
        connection,
        quotes,
        gap: None,
        in_flight: InFlight::new(&Arc::new(AtomicUsize::new(0))),
    }
}

/// A fake connector: sends its batches from its own actor, one per "frame".
struct FakeConnector {
    connection: ConnectionId,
    symbol: &'static str,
    frames: usize,
    output: Recipient<ConnectorOutput>,
}

impl Actor for FakeConnector {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let mut conn_seq = 0;
        for frame in 0..self.frames {
            // 1 to 3 rows per frame, both fair and mark kinds.
            let rows = 1 + frame % 3;
            let quotes = (0..rows)
                .map(|row| {
                    conn_seq += 1;
                    let kind = if row % 2 == 0 {
                        QuoteKind::Fair
                    } else {
                        QuoteKind::Mark
                    };
                    quote(self.symbol, kind, conn_seq)
                })
                .collect();
            self.output.do_send(batch(self.connection, quotes));
        }
        ctx.stop();
    }
}

#[actix::test]
async fn three_guarantees_hold_over_interleaved_connections() {
    let collector = Collector::new().start();
    let seen: Arc<Mutex<Vec<Tick>>> = Arc::default();
    let all = Sink { seen: seen.clone() }.start();
    collector
        .send(Subscribe {
            subscriptions: vec![],
            recipient: all.recipient(),
            delivery: mercury_collector::Delivery::Lossy,
        })
        .await
        .unwrap();
    let xbt_fair = vec![Subscription::new(BITMEX, "XBTUSD", QuoteKind::Fair)];
    let fetch = collector.send(Fetch {
        subscriptions: xbt_fair.clone(),
        n: 1000,
        timeout: Duration::from_secs(10),
    });

    let symbols = ["XBTUSD", "ETHUSD", "SOLUSD", "XBTUSD"];
    let ids: Vec<ConnectionId> = symbols.iter().map(|_| ConnectionId::next()).collect();
    // Start the connectors on other threads so their sends really interleave.
    let mut arbiters = Vec::new();
    for (id, symbol) in ids.iter().zip(symbols) {
        let arbiter = Arbiter::new();
        let output = collector.clone().recipient();
        let id = *id;
        arbiter.spawn_fn(move || {
            FakeConnector {
                connection: id,
                symbol,
                frames: 1500,
                output,
            }
            .start();
        });
        arbiters.push(arbiter);
    }

    let fetched = fetch.await.unwrap().unwrap();
    // 3. Only XBTUSD fair quotes, from the two XBTUSD connections.
    assert_eq!(fetched.len(), 1000);
    assert!(fetched.iter().all(|t| xbt_fair[0].matches(&t.quote)));

    // Wait for every quote: 4 connections × 1500 frames × 2 rows on average.
    let total = 4 * (0..1500).map(|f| 1 + f % 3).sum::<usize>();
    for _ in 0..500 {
        if seen.lock().unwrap().len() == total {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), total);
    // 2. Global seq: 1, 2, 3, … in arrival order, no gaps, no duplicates.
    assert!(seen.iter().enumerate().all(|(i, t)| t.seq == i as u64 + 1));
    // 1. Per connection, exactly the order the connector produced.
    for id in &ids {
        let conn_seqs: Vec<u64> = seen
            .iter()
            .filter(|t| t.connection == *id)
            .map(|t| t.quote.conn_seq)
            .collect();
        assert_eq!(
            conn_seqs,
            (1..=conn_seqs.len() as u64).collect::<Vec<_>>(),
            "{id}"
        );
    }
    // The connections did interleave (otherwise the test proves little).
    let switches = seen
        .windows(2)
        .filter(|w| w[0].connection != w[1].connection)
        .count();
    assert!(switches > 3, "only {switches} switches between connections");
    // The fetch saw the same ticks, in the same order, as the full stream.
    let from_stream: Vec<u64> = seen
        .iter()
        .filter(|t| xbt_fair[0].matches(&t.quote))
        .take(1000)
        .map(|t| t.seq)
        .collect();
    assert_eq!(
        fetched.iter().map(|t| t.seq).collect::<Vec<_>>(),
        from_stream
    );
    for arbiter in arbiters {
        arbiter.stop();
    }
}

struct Sink {
    seen: Arc<Mutex<Vec<Tick>>>,
}
impl Actor for Sink {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(usize::MAX >> 1);
    }
}
impl Handler<Tick> for Sink {
    type Result = ();
    fn handle(&mut self, tick: Tick, _: &mut Context<Self>) {
        self.seen.lock().unwrap().push(tick);
    }
}

#[actix::test]
async fn a_fetch_times_out_with_what_arrived() {
    let collector = Collector::new().start();
    let subs = vec![Subscription::new(BITMEX, "XBTUSD", QuoteKind::Fair)];
    let fetch = collector.send(Fetch {
        subscriptions: subs,
        n: 5,
        timeout: Duration::from_millis(200),
    });
    let id = ConnectionId::next();
    collector.do_send(batch(
        id,
        vec![
            quote("XBTUSD", QuoteKind::Fair, 1),
            quote("XBTUSD", QuoteKind::Mark, 2),
        ],
    ));
    collector.do_send(batch(id, vec![quote("XBTUSD", QuoteKind::Fair, 3)]));
    let failed = fetch.await.unwrap().unwrap_err();
    assert_eq!(
        failed.reason,
        FetchError::Timeout {
            wanted: 5,
            received: 2,
            waited: Duration::from_millis(200),
            last_error: None,
        }
    );
    assert_eq!(
        failed.received.iter().map(|t| t.seq).collect::<Vec<_>>(),
        [1, 3]
    );
}

#[actix::test]
async fn a_failed_connection_ends_fetches_on_its_exchange_only() {
    let collector = Collector::new().start();
    let bitmex = collector.send(Fetch {
        subscriptions: vec![Subscription::new(BITMEX, "XBTUSD", QuoteKind::Fair)],
        n: 5,
        timeout: Duration::from_secs(5),
    });
    let other = ExchangeId::from_static("other");
    let elsewhere = collector.send(Fetch {
        subscriptions: vec![Subscription::new(other.clone(), "X", QuoteKind::Fair)],
        n: 1,
        timeout: Duration::from_secs(5),
    });
    let id = ConnectionId::next();
    collector.do_send(batch(id, vec![quote("XBTUSD", QuoteKind::Fair, 1)]));
    collector.do_send(ConnectorOutput::State {
        connection: id,
        exchange: BITMEX,
        state: ConnectionState::Failed(ConnectorError::Disconnected),
    });
    let failed = bitmex.await.unwrap().unwrap_err();
    assert_eq!(
        failed.reason,
        FetchError::Connection {
            error: ConnectorError::Disconnected
        }
    );
    assert_eq!(failed.received.len(), 1);
    // The other exchange's fetch is still pending and completes.
    let mut q = quote("X", QuoteKind::Fair, 1);
    q.exchange = other;
    collector.do_send(batch(ConnectionId::next(), vec![q]));
    assert_eq!(elsewhere.await.unwrap().unwrap().len(), 1);
    let stats = collector.send(GetStats).await.unwrap();
    assert_eq!(stats.quotes, 2);
    assert!(matches!(
        stats.connections[0].state,
        ConnectionState::Failed(_)
    ));
}

#[actix::test]
async fn cancel_returns_partial_results_and_zero_is_immediate() {
    let collector = Collector::new().start();
    assert!(
        collector
            .send(Fetch {
                subscriptions: vec![],
                n: 0,
                timeout: Duration::from_secs(5)
            })
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
    let fetch = collector.send(Fetch {
        subscriptions: vec![],
        n: 3,
        timeout: Duration::from_secs(5),
    });
    collector.do_send(batch(
        ConnectionId::next(),
        vec![quote("A", QuoteKind::Last, 1)],
    ));
    assert_eq!(collector.send(GetStats).await.unwrap().fetches, [(1, 3)]);
    collector.do_send(CancelFetches);
    let failed = fetch.await.unwrap().unwrap_err();
    assert_eq!(
        failed.reason,
        FetchError::Cancelled {
            wanted: 3,
            received: 1
        }
    );
    assert_eq!(failed.received.len(), 1);
}

/// A consumer that never gets to read: its bounded mailbox fills up and
/// the rest is dropped and counted, while the collector carries on.
struct Stuck;
impl Actor for Stuck {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4);
    }
}
impl Handler<Tick> for Stuck {
    type Result = ();
    fn handle(&mut self, _: Tick, _: &mut Context<Self>) {}
}

#[actix::test]
async fn a_slow_consumer_loses_quotes_counted_and_never_blocks_the_collector() {
    let collector = Collector::new().start();
    // The consumer lives on an arbiter that is kept busy, so it never reads.
    let busy = Arbiter::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    busy.spawn_fn(move || {
        let _ = tx.send(Stuck.start());
    });
    let stuck = rx.await.unwrap();
    let (block_tx, block_rx) = std::sync::mpsc::channel::<()>();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
    busy.spawn_fn(move || {
        let _ = entered_tx.send(());
        let _ = block_rx.recv_timeout(Duration::from_secs(10));
    });
    entered_rx.await.unwrap(); // the consumer's thread is now blocked
    collector
        .send(Subscribe {
            subscriptions: vec![],
            recipient: stuck.recipient(),
            delivery: mercury_collector::Delivery::Lossy,
        })
        .await
        .unwrap();
    let fetch = collector.send(Fetch {
        subscriptions: vec![],
        n: 100,
        timeout: Duration::from_secs(5),
    });
    let id = ConnectionId::next();
    for i in 1..=100 {
        collector.do_send(batch(id, vec![quote("A", QuoteKind::Last, i)]));
    }
    assert_eq!(
        fetch.await.unwrap().unwrap().len(),
        100,
        "the fetch is not held up"
    );
    let stats = collector.send(GetStats).await.unwrap();
    assert!(
        stats.consumer_drops >= 90,
        "drops: {}",
        stats.consumer_drops
    );
    assert!(stats.consumer_drops <= 100 - 4);
    let _ = block_tx.send(());
    busy.stop();
}

#[actix::test]
async fn conn_seq_counts_each_connections_ticks_across_reconnects() {
    let collector = Collector::new().start();
    let seen: Arc<Mutex<Vec<Tick>>> = Arc::default();
    let all = Sink { seen: seen.clone() }.start();
    collector
        .send(Subscribe {
            subscriptions: vec![],
            recipient: all.recipient(),
            delivery: mercury_collector::Delivery::Lossy,
        })
        .await
        .unwrap();
    let (a, b) = (ConnectionId::next(), ConnectionId::next());
    let q = |n| quote("XBTUSD", QuoteKind::Fair, n);
    collector.do_send(batch(a, vec![q(1), q(2)]));
    collector.do_send(batch(b, vec![q(1)]));
    // A reconnect: the new session numbers from 1 again, and the connector
    // did not forward its quote 2.
    let mut resumed = batch(a, vec![q(1), q(3)]);
    if let ConnectorOutput::Quotes { gap, .. } = &mut resumed {
        *gap = Some(Duration::from_secs(1));
    }
    collector.do_send(resumed);
    collector.do_send(batch(b, vec![q(2), q(3)]));
    for _ in 0..500 {
        if seen.lock().unwrap().len() == 7 {
            break;
        }
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let numbers = |id| -> Vec<u64> {
        seen.iter()
            .filter(|t| t.connection == id)
            .map(|t| t.conn_seq)
            .collect()
    };
    assert_eq!(numbers(a), [1, 2, 3, 4]);
    assert_eq!(numbers(b), [1, 2, 3]);
    assert_eq!(seen.iter().filter(|t| t.after_gap).count(), 1);
}
