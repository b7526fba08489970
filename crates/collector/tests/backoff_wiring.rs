//! The connector follows its [`Backoff`]: the delays it announces are the
//! seeded schedule's, it gives up after `max_attempts`, a healthy
//! connection forgets earlier failures, and an unreachable first connection
//! is not retried, and a connection is renewed before the exchange's age
//! limit. Observed through the connector's own state reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{
    Backoff, ConnectionState, Connector, ConnectorConfig, ConnectorError, ConnectorOutput,
    Schedule, StopConnector,
};
use mercury_core::ConnectionPlan;
use mercury_core::{QuoteKind, Subscription, VenueConfig};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Faults, Simulator, SimulatorConfig};
use mercury_testkit::{MockServer, Script};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keeps every state a connector reports.
struct Recorder(Arc<Mutex<Vec<ConnectionState>>>);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for Recorder {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, _: &mut Context<Self>) {
        if let ConnectorOutput::State { state, .. } = output {
            self.0.lock().unwrap().push(state);
        }
    }
}

/// Starts a connector to `url` and returns its states, as they come.
fn connect(url: String, backoff: Backoff) -> (Arc<Mutex<Vec<ConnectionState>>>, Addr<Connector>) {
    let states = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder(states.clone()).start();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &url, &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.backoff = backoff;
    let connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();
    (states, connector)
}

/// Waits (10 s at most) until `done` holds for the states so far.
async fn wait_for(
    states: &Arc<Mutex<Vec<ConnectionState>>>,
    done: impl Fn(&[ConnectionState]) -> bool,
) -> Vec<ConnectionState> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = states.lock().unwrap().clone();
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "states so far: {now:?}");
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
}

fn reconnects(states: &[ConnectionState]) -> Vec<(u32, Duration)> {
    states
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Reconnecting { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        })
        .collect()
}

fn failed(states: &[ConnectionState]) -> bool {
    states
        .iter()
        .any(|s| matches!(s, ConnectionState::Failed(_)))
}

#[actix::test]
async fn the_announced_delays_are_the_seeded_schedule_then_it_gives_up() {
    let policy = Backoff {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(150),
        max_attempts: Some(5),
        healthy_after: Duration::from_secs(30),
        seed: Some(7),
    };
    // 502 is retryable and carries no Retry-After: only the backoff decides.
    let server = MockServer::start(Script::reject(502));
    let (states, _connector) = connect(server.url(), policy.clone());
    let states = wait_for(&states, failed).await;

    let mut schedule = Schedule::new(policy);
    let expected: Vec<(u32, Duration)> = (1..=5)
        .map(|attempt| (attempt, schedule.next_delay(None).unwrap()))
        .collect();
    assert_eq!(reconnects(&states), expected);
    assert_eq!(server.connections(), 6, "the first try and five more");
    let Some(ConnectionState::Failed(ConnectorError::GaveUp { attempts, last })) = states.last()
    else {
        panic!("{states:?}")
    };
    assert_eq!(*attempts, 5);
    assert!(matches!(
        **last,
        ConnectorError::HandshakeRejected { status: 502, .. }
    ));
}

#[actix::test]
async fn a_healthy_connection_forgets_earlier_failures() {
    // Every connection is dropped after ~0.4 s (40 frames, one per 10 ms);
    // 0.2 s counts as healthy, so one attempt is always enough.
    let config = SimulatorConfig {
        faults: Faults {
            drop_after: Some(40),
            ..Faults::default()
        },
        venue: VenueConfig {
            headline_interval: Duration::from_millis(40),
            ..VenueConfig::default()
        },
        ..SimulatorConfig::loopback()
    };
    let simulator = Simulator::start(config, &Bitmex).unwrap();
    let policy = Backoff {
        base: Duration::from_millis(20),
        max_attempts: Some(1),
        healthy_after: Duration::from_millis(200),
        ..Backoff::default()
    };
    let (states, connector) = connect(simulator.url(), policy);
    let states = wait_for(&states, |s| reconnects(s).len() >= 3 || failed(s)).await;
    assert!(!failed(&states), "{states:?}");
    assert!(reconnects(&states).iter().all(|(attempt, _)| *attempt == 1));
    // The simulator really cuts the TCP connection: EOF, not a silent link.
    for state in &states {
        if let ConnectionState::Reconnecting { error, .. } = state {
            assert_eq!(*error, ConnectorError::Disconnected);
        }
    }
    connector.send(StopConnector).await.unwrap();
    simulator.stop().await;
}

#[actix::test]
async fn an_unreachable_first_connection_is_not_retried() {
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (states, _connector) = connect(
        format!("ws://127.0.0.1:{port}/realtime"),
        Backoff::default(),
    );
    let states = wait_for(&states, failed).await;
    assert!(reconnects(&states).is_empty(), "{states:?}");
    assert!(matches!(
        states.last(),
        Some(ConnectionState::Failed(ConnectorError::Connect { .. }))
    ));
}

#[actix::test]
async fn an_old_connection_is_renewed_without_counting_a_failure() {
    let simulator = Simulator::start(
        SimulatorConfig {
            venue: VenueConfig {
                headline_interval: Duration::from_millis(40),
                ..VenueConfig::default()
            },
            ..SimulatorConfig::loopback()
        },
        &Bitmex,
    )
    .unwrap();
    let states = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder(states.clone()).start();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &simulator.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.max_connection_age = Some(Duration::from_millis(300));
    config.backoff.max_attempts = Some(0);
    let connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();
    let connecting = |s: &[ConnectionState]| {
        s.iter()
            .filter(|s| matches!(s, ConnectionState::Connecting { .. }))
            .count()
    };
    let states = wait_for(&states, |s| connecting(s) >= 3 || failed(s)).await;
    assert!(!failed(&states), "{states:?}");
    assert!(
        reconnects(&states).is_empty(),
        "a renewal is no failure: {states:?}"
    );
    let streaming = states
        .iter()
        .filter(|s| matches!(s, ConnectionState::Streaming))
        .count();
    assert!(
        streaming >= 2,
        "quotes flowed on the renewed connections: {states:?}"
    );
    connector.send(StopConnector).await.unwrap();
    simulator.stop().await;
}
