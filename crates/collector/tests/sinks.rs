//! Sinks and their delivery rules, behind a real firehose: a slow lossless
//! stream loses nothing and memory stays bounded (the collector, then the
//! connector, then TCP wait for it); a slow lossy subscriber loses ticks,
//! counted. And the error a timeout reports is the current one, of the
//! exchange it concerns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{
    CancelFetches, Collector, ConnectionId, ConnectionState, Connector, ConnectorConfig,
    ConnectorError, ConnectorOutput, Delivery, FetchError, GetStats, InFlight, OpenStream,
    Subscribe, Tick, TickStream,
};
use mercury_core::{
    ConnectionPlan, ExchangeId, Quote, QuoteKind, Subscription, Timestamp, VenueConfig,
};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Simulator, SimulatorConfig};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

/// One firehose at a time: the memory check reads this whole process.
static ONE_FIREHOSE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn firehose() -> Simulator {
    let config = SimulatorConfig {
        venue: VenueConfig {
            firehose: true,
            symbols: vec!["XBTUSD".into()],
            ..VenueConfig::default()
        },
        ..SimulatorConfig::loopback()
    };
    Simulator::start(config, &Bitmex).unwrap()
}

fn xbt_fair() -> Vec<Subscription> {
    vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)]
}

fn connect(simulator: &Simulator, collector: &Addr<Collector>) -> Addr<Connector> {
    let plan = ConnectionPlan::new(&Bitmex, &simulator.url(), &xbt_fair()).unwrap();
    Connector::new(
        &Bitmex,
        plan,
        ConnectorConfig::new(),
        collector.clone().recipient(),
    )
    .start()
}

/// This process's resident set in KiB.
fn rss_kib() -> u64 {
    mercury_testkit::rss_kib(std::process::id()).unwrap()
}

/// Counts what it is given, slowly.
struct Slow {
    seen: u64,
}

impl Actor for Slow {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(16);
    }
}

impl Handler<Tick> for Slow {
    type Result = ();

    fn handle(&mut self, _: Tick, _: &mut Context<Self>) {
        self.seen += 1;
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[allow(clippy::await_holding_lock)] // each test has its own thread; the lock only orders them
#[actix::test]
async fn a_slow_lossless_stream_loses_nothing_and_memory_stays_bounded() {
    let _one = ONE_FIREHOSE.lock().unwrap_or_else(|e| e.into_inner());
    let simulator = firehose();
    let collector = Collector::new().start();
    let n = 20_000;
    let TickStream { mut ticks, end } = collector
        .send(OpenStream {
            subscriptions: xbt_fair(),
            n: Some(n),
            timeout: Some(Duration::from_secs(60)),
            capacity: 64,
        })
        .await
        .unwrap();
    let connector = connect(&simulator, &collector);
    let before = rss_kib();
    let mut seqs = Vec::with_capacity(n);
    while let Some(tick) = ticks.recv().await {
        seqs.push(tick.seq);
        if seqs.len() % 1000 == 0 {
            // The reader sleeps: the firehose (~1 M frames/s) must wait.
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let grown = rss_kib().saturating_sub(before);
    assert_eq!(end.await.unwrap(), Ok(n as u64));
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>(), "nothing lost");
    // One second of firehose unread would be ~250 k quotes (~60 MB).
    assert!(grown < 16 << 10, "RSS grew by {grown} KiB");
    let stats = collector.send(GetStats).await.unwrap();
    assert_eq!(stats.consumer_drops, 0);
    connector.do_send(mercury_collector::StopConnector);
    simulator.stop().await;
}

#[allow(clippy::await_holding_lock)] // each test has its own thread; the lock only orders them
#[actix::test]
async fn a_slow_lossy_subscriber_loses_ticks_counted_while_a_lossless_one_gets_all() {
    let _one = ONE_FIREHOSE.lock().unwrap_or_else(|e| e.into_inner());
    let simulator = firehose();
    let collector = Collector::new().start();
    // On a thread of its own, so that it really falls behind.
    let arbiter = Arbiter::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    arbiter.spawn_fn(move || {
        let _ = tx.send(Slow { seen: 0 }.start());
    });
    let slow = rx.await.unwrap();
    collector
        .send(Subscribe {
            subscriptions: vec![],
            recipient: slow.recipient(),
            delivery: Delivery::Lossy,
        })
        .await
        .unwrap();
    let TickStream { mut ticks, end } = collector
        .send(OpenStream {
            subscriptions: xbt_fair(),
            n: Some(5_000),
            timeout: Some(Duration::from_secs(60)),
            capacity: 1024,
        })
        .await
        .unwrap();
    let connector = connect(&simulator, &collector);
    let mut received = 0;
    while ticks.recv().await.is_some() {
        received += 1;
    }
    assert_eq!(received, 5_000);
    assert_eq!(end.await.unwrap(), Ok(5_000));
    let stats = collector.send(GetStats).await.unwrap();
    assert!(stats.consumer_drops > 0, "{stats:?}");
    connector.do_send(mercury_collector::StopConnector);
    simulator.stop().await;
    arbiter.stop();
}

fn quote(exchange: &'static str, symbol: &str) -> Quote {
    Quote {
        exchange: ExchangeId::from_static(exchange),
        symbol: symbol.into(),
        kind: QuoteKind::Fair,
        price: "1".parse().unwrap(),
        exchange_time: None,
        received_at: Timestamp::from_unix_nanos(0),
        conn_seq: 1,
    }
}

fn state(
    connection: ConnectionId,
    exchange: &'static str,
    state: ConnectionState,
) -> ConnectorOutput {
    ConnectorOutput::State {
        connection,
        exchange: ExchangeId::from_static(exchange),
        state,
    }
}

fn reconnecting() -> ConnectionState {
    ConnectionState::Reconnecting {
        attempt: 1,
        delay: Duration::from_millis(10),
        error: ConnectorError::Disconnected,
    }
}

async fn timeout_error(collector: &Addr<Collector>, exchange: &'static str) -> FetchError {
    let stream = collector
        .send(OpenStream {
            subscriptions: vec![Subscription::new(
                ExchangeId::from_static(exchange),
                "QUIET",
                QuoteKind::Fair,
            )],
            n: Some(1),
            timeout: Some(Duration::from_millis(100)),
            capacity: 8,
        })
        .await
        .unwrap();
    stream.end.await.unwrap().unwrap_err()
}

/// Regression (issue #13): the collector kept the first error forever, so
/// a later timeout on a quiet symbol said "the connection kept failing"
/// long after it healed, or about another exchange.
#[actix::test]
async fn a_timeout_reports_only_a_current_error_of_its_own_exchange() {
    let collector = Collector::new().start();
    let (bitmex, binance) = (ConnectionId::next(), ConnectionId::next());
    collector.do_send(state(bitmex, "bitmex", reconnecting()));
    // BitMEX heals: its quotes (for another symbol) flow again.
    collector.do_send(ConnectorOutput::Quotes {
        connection: bitmex,
        quotes: vec![quote("bitmex", "XBTUSD")],
        gap: Some(Duration::from_millis(10)),
        in_flight: InFlight::new(&Arc::new(AtomicUsize::new(0))),
    });
    collector.do_send(state(binance, "binance", reconnecting()));
    let FetchError::Timeout { last_error, .. } = timeout_error(&collector, "bitmex").await else {
        panic!("a timeout")
    };
    assert_eq!(last_error, None, "healed, and binance is not bitmex");
    let FetchError::Timeout { last_error, .. } = timeout_error(&collector, "binance").await else {
        panic!("a timeout")
    };
    let (exchange, error) = last_error.unwrap();
    assert_eq!(exchange.as_str(), "binance");
    assert_eq!(*error, ConnectorError::Disconnected);
    collector.do_send(CancelFetches);
}
