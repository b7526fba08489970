//! Reconnecting against the built-in simulator with faults injected. The
//! expected quotes are computed from the simulator's frame log, connection
//! by connection: nothing lost or duplicated on a connection that stayed
//! up, nothing from before a partial.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::{
    Backoff, Collector, Connector, ConnectorConfig, ConnectorError, Fetch, FetchError, FetchFailed,
    Tick,
};
use mercury_core::ConnectionPlan;
use mercury_core::{HeartbeatPolicy, Outgoing, Price, QuoteKind, Subscription, VenueConfig};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Faults, LogEvent, Simulator, SimulatorConfig, read_log};
use mercury_testkit::bitmex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Run {
    result: Result<Vec<Tick>, FetchFailed>,
    log: PathBuf,
    elapsed: Duration,
}

async fn run(faults: Faults, symbol: &str, n: usize, max_attempts: u32) -> Run {
    let log = std::env::temp_dir().join(format!(
        "mercury-reconnect-{}-{:?}.jsonl",
        std::process::id(),
        std::thread::current().id()
    ));
    let config = SimulatorConfig {
        faults,
        log: Some(log.clone()),
        venue: VenueConfig {
            headline_interval: Duration::from_millis(40),
            ..VenueConfig::default()
        },
        ..SimulatorConfig::loopback()
    };
    let simulator = Simulator::start(config, &Bitmex).unwrap();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, symbol, QuoteKind::Fair)];
    let collector = Collector::new().start();
    let fetch = collector.send(Fetch {
        subscriptions: subscriptions.clone(),
        n,
        timeout: Duration::from_secs(15),
    });
    let plan = ConnectionPlan::new(&Bitmex, &simulator.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff = Backoff {
        base: Duration::from_millis(50),
        max_attempts: Some(max_attempts),
        ..Backoff::default()
    };
    config.heartbeat = Some(HeartbeatPolicy {
        idle: Duration::from_millis(200),
        ping: Outgoing::Text("ping".into()),
        pong_deadline: Duration::from_millis(200),
    });
    let started = Instant::now();
    Connector::new(&Bitmex, plan, config, collector.recipient()).start();
    let result = fetch.await.unwrap();
    let elapsed = started.elapsed();
    simulator.stop().await;
    Run {
        result,
        log,
        elapsed,
    }
}

fn fairs_by_connection(log: &Path) -> BTreeMap<u64, Vec<Price>> {
    bitmex::fairs_by_connection(log).unwrap()
}

fn events(log: &Path) -> Vec<(u64, LogEvent)> {
    read_log(log)
        .unwrap()
        .into_iter()
        .filter(|e| !matches!(e.event, LogEvent::Sent { .. }))
        .map(|e| (e.connection, e.event))
        .collect()
}

/// The fetch returned exactly the first `n` fair prices sent, connection
/// after connection, and marked the first quote of each later connection.
fn assert_every_quote_accounted_for(run: &Run, n: usize) -> Vec<Tick> {
    let ticks = run.result.clone().unwrap_or_else(|e| panic!("{e}"));
    let by_connection = fairs_by_connection(&run.log);
    let expected: Vec<Price> = by_connection.values().flatten().copied().take(n).collect();
    assert_eq!(
        ticks.iter().map(|t| t.quote.price).collect::<Vec<_>>(),
        expected
    );
    let first_of_each = bitmex::gap_indices(&by_connection, n);
    let gaps: Vec<usize> = ticks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.after_gap)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        gaps, first_of_each,
        "after_gap marks the first quote after each reconnect"
    );
    assert!(ticks.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    ticks
}

fn once(faults: Faults) -> Faults {
    Faults {
        faulty_connections: 1,
        ..faults
    }
}

#[actix::test]
async fn a_dropped_connection_is_resumed() {
    let run = run(
        once(Faults {
            drop_after: Some(8),
            ..Faults::default()
        }),
        "XBTUSD",
        6,
        5,
    )
    .await;
    assert_every_quote_accounted_for(&run, 6);
    assert!(events(&run.log).contains(&(1, LogEvent::Dropped)));
}

#[actix::test]
async fn a_closed_connection_is_resumed() {
    let run = run(
        once(Faults {
            close_after: Some((8, 1001)),
            ..Faults::default()
        }),
        "XBTUSD",
        6,
        5,
    )
    .await;
    assert_every_quote_accounted_for(&run, 6);
    assert!(events(&run.log).contains(&(1, LogEvent::Closed { code: 1001 })));
}

#[actix::test]
async fn a_stalled_connection_is_declared_dead_and_resumed() {
    let run = run(
        once(Faults {
            stall_after: Some(8),
            ..Faults::default()
        }),
        "XBTUSD",
        6,
        5,
    )
    .await;
    assert_every_quote_accounted_for(&run, 6);
    assert!(events(&run.log).contains(&(1, LogEvent::Stalled)));
}

#[actix::test]
async fn the_in_band_rate_limit_is_honoured() {
    let faults = once(Faults {
        rate_limit_after: Some((8, Duration::from_secs(1))),
        ..Faults::default()
    });
    let run = run(faults, "XBTUSD", 6, 5).await;
    assert_every_quote_accounted_for(&run, 6);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "waited retryAfter: {:?}",
        run.elapsed
    );
    assert_eq!(fairs_by_connection(&run.log).len(), 2, "one reconnect");
}

#[actix::test]
async fn refused_upgrades_are_retried() {
    let faults = Faults {
        refuse_first: 2,
        refusal_retry_after: Some(Duration::from_secs(2)),
        ..Faults::default()
    };
    let run = run(faults, "XBTUSD", 3, 5).await;
    assert_every_quote_accounted_for(&run, 3);
    let refused = events(&run.log)
        .iter()
        .filter(|(_, e)| matches!(e, LogEvent::Refused { status: 429 }))
        .count();
    assert_eq!(refused, 2);
    // The backoff alone would wait at most 50 + 100 ms.
    assert!(
        run.elapsed >= Duration::from_secs(4),
        "Retry-After: 2 honoured twice: {:?}",
        run.elapsed
    );
}

#[actix::test]
async fn garbage_and_big_partials_need_no_reconnect() {
    let run = run(
        Faults {
            garbage_every: Some(3),
            big_partials: true,
            ..Faults::default()
        },
        "XBTUSD",
        5,
        0,
    )
    .await;
    assert_every_quote_accounted_for(&run, 5);
    assert_eq!(fairs_by_connection(&run.log).len(), 1);
}

#[actix::test]
async fn an_unknown_symbol_is_not_retried() {
    let run = run(Faults::default(), "NOPE", 1, 5).await;
    let failed = run.result.unwrap_err();
    let FetchError::Connection {
        error: ConnectorError::Exchange(error),
    } = failed.reason
    else {
        panic!("{failed}")
    };
    assert_eq!(error.message, "Unknown symbol: NOPE");
    assert_eq!(
        read_log(&run.log)
            .unwrap()
            .iter()
            .map(|e| e.connection)
            .max(),
        Some(1)
    );
}

#[actix::test]
async fn http_200_is_not_retried() {
    let run = run(
        Faults {
            http_200: true,
            ..Faults::default()
        },
        "XBTUSD",
        1,
        5,
    )
    .await;
    let failed = run.result.unwrap_err();
    assert!(matches!(
        failed.reason,
        FetchError::Connection {
            error: ConnectorError::HandshakeRejected { status: 200, .. }
        }
    ));
    assert_eq!(events(&run.log).len(), 1);
}

#[actix::test]
async fn it_gives_up_after_the_attempts_are_used() {
    let run = run(
        Faults {
            drop_after: Some(6),
            ..Faults::default()
        },
        "XBTUSD",
        100,
        2,
    )
    .await;
    let failed = run.result.unwrap_err();
    let FetchError::Connection {
        error: ConnectorError::GaveUp { attempts, last },
    } = failed.reason
    else {
        panic!("{failed}")
    };
    assert_eq!(attempts, 2);
    assert!(last.is_retryable());
    assert_eq!(
        fairs_by_connection(&run.log).len(),
        3,
        "the first connection and two more"
    );
}
