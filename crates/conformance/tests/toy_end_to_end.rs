//! Adding an exchange is its crate, a registry line and a dependency line:
//! the toy exchange (`toy/mod.rs`, nothing but its `Exchange`, `Session`
//! and `Venue`) in a one-line registry goes through the same planning, the
//! real simulator, connectors and collector as BitMEX, Binance and Bybit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod toy;

use actix::Actor;
use mercury_collector::{Collector, Connector, ConnectorConfig, Fetch};
use mercury_core::Exchange;
use mercury_core::planning::{self, Base};
use mercury_simulator::{Simulator, SimulatorConfig};
use std::collections::BTreeSet;
use std::time::Duration;

/// The registry of a program that knows only the toy: one line.
static REGISTRY: &[&dyn Exchange] = &[&toy::TOY];

#[actix_rt::test]
async fn a_registered_toy_is_planned_simulated_connected_and_collected() {
    let words: Vec<String> = ["toy:A", "toy:B", "toy:C", "toy:D"]
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
    let targets = planning::targets(REGISTRY, &words, None).unwrap();
    let mut config = SimulatorConfig::loopback();
    config.venue.symbols = vec!["A".into(), "B".into(), "C".into(), "D".into()];
    let simulator = Simulator::start(config, targets[0].exchange).unwrap();
    assert!(simulator.url().ends_with("/ws"), "{}", simulator.url());
    let connections = planning::connections(&targets, |_| {
        Ok::<_, mercury_core::Error>(Base::Endpoint(simulator.url()))
    })
    .unwrap();
    // Three topics a connection at most: A, B, C on one, D on another.
    assert_eq!(connections.len(), 2);

    let collector = Collector::new().start();
    let subscriptions: Vec<_> = targets.iter().map(|t| t.subscription()).collect();
    let fetch = collector.send(Fetch {
        subscriptions,
        n: 16,
        timeout: Duration::from_secs(10),
    });
    for connection in connections {
        Connector::new(
            connection.exchange,
            connection.plan,
            ConnectorConfig::new(),
            collector.clone().recipient(),
        )
        .start();
    }
    let ticks = fetch.await.unwrap().unwrap();
    assert_eq!(ticks.len(), 16);
    let symbols: BTreeSet<&str> = ticks.iter().map(|t| t.quote.symbol.as_str()).collect();
    assert_eq!(symbols, BTreeSet::from(["A", "B", "C", "D"]));
    let connectors: BTreeSet<_> = ticks.iter().map(|t| t.connection).collect();
    assert_eq!(connectors.len(), 2, "both connections delivered");
    assert!(ticks.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
    simulator.stop().await;
}
