//! Malformed frames from a raw-socket server (a masked server frame, RSV1
//! set, opcode 3): actix-http's parser refuses each without consuming it,
//! so the stream would yield the same error on every poll.
//!
//! Regression (issue #12, item 3): one such frame counted as ten failed
//! attempts within a millisecond, and with more attempts allowed two
//! connections were open and subscribed at the same time. Now: exactly one
//! failure per bad frame, one reconnect after the seeded backoff's delay,
//! never two connections at once, and the second connection's quotes only
//! after the first is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{
    Backoff, ConnectionState, Connector, ConnectorConfig, ConnectorError, ConnectorOutput,
    Schedule, StopConnector,
};
use mercury_core::ConnectionPlan;
use mercury_core::{Price, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::{fair_update, instrument_partial, opening};
use mercury_testkit::raw::malformed_frames;
use mercury_testkit::{RawScript, RawServer, RawStep};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the connector said, in order.
#[derive(Debug, Clone)]
enum Heard {
    State(ConnectionState),
    Quotes(Vec<Price>, bool),
}

struct Recorder(Arc<Mutex<Vec<Heard>>>);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for Recorder {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, _: &mut Context<Self>) {
        let heard = match output {
            ConnectorOutput::State { state, .. } => Heard::State(state),
            ConnectorOutput::Quotes { quotes, gap, .. } => {
                Heard::Quotes(quotes.iter().map(|q| q.price).collect(), gap.is_some())
            }
            _ => return,
        };
        self.0.lock().unwrap().push(heard);
    }
}

fn policy() -> Backoff {
    Backoff {
        base: Duration::from_millis(200),
        cap: Duration::from_millis(400),
        max_attempts: Some(10),
        healthy_after: Duration::from_secs(60),
        seed: Some(3),
    }
}

/// The real partial (fair 9277.2), two fair updates, then `bad`.
fn script(bad: Vec<u8>) -> RawScript {
    let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
    for (i, fair) in ["43210.5", "43211"].iter().enumerate() {
        steps.push(RawStep::Play(mercury_testkit::Step::Send(fair_update(
            "XBTUSD", fair, i as u32,
        ))));
    }
    steps.push(RawStep::Bytes(bad));
    RawScript::new(steps)
}

fn reconnects(heard: &[Heard]) -> Vec<(u32, Duration, ConnectorError)> {
    heard
        .iter()
        .filter_map(|h| match h {
            Heard::State(ConnectionState::Reconnecting {
                attempt,
                delay,
                error,
            }) => Some((*attempt, *delay, error.clone())),
            _ => None,
        })
        .collect()
}

#[actix::test]
async fn each_malformed_frame_fails_the_link_once_and_reconnects_after_the_backoff() {
    assert!(instrument_partial().contains("9277.2"));
    for (name, bad) in malformed_frames() {
        let server = RawServer::start(script(bad));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder(heard.clone()).start();
        let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
        let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
        let mut config = ConnectorConfig::new();
        config.backoff = policy();
        let connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();

        // Three connections, each ended by the bad frame after its quotes.
        let deadline = Instant::now() + Duration::from_secs(10);
        while reconnects(&heard.lock().unwrap()).len() < 3 {
            assert!(
                Instant::now() < deadline,
                "{name}: {:?}",
                heard.lock().unwrap()
            );
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        connector.send(StopConnector).await.unwrap();
        let heard = heard.lock().unwrap().clone();

        // Exactly one failure per connection, with the seeded delays.
        let mut schedule = Schedule::new(policy());
        let failures = reconnects(&heard);
        for (i, (attempt, delay, error)) in failures.iter().take(3).enumerate() {
            assert_eq!(*attempt, i as u32 + 1, "{name}: {failures:?}");
            assert_eq!(Some(*delay), schedule.next_delay(None), "{name}");
            assert!(
                matches!(error, ConnectorError::Protocol(_)),
                "{name}: {error:?}"
            );
        }
        assert!(
            !heard
                .iter()
                .any(|h| matches!(h, Heard::State(ConnectionState::Failed(_)))),
            "{name}: {heard:?}"
        );
        let connections = server.connections();
        assert!(
            (3..=4).contains(&connections.len()),
            "{name}: {} connections for 3 failures",
            connections.len()
        );
        assert_eq!(server.most_at_once(), 1, "{name}: two connections at once");
        for pair in connections.windows(2) {
            let gone = pair[0].gone.expect("the earlier connection ended");
            assert!(pair[1].accepted >= gone, "{name}: overlapping connections");
        }

        // The quotes: each connection's three, in order (in one batch or
        // several: a batch is what one read of the socket yields); the
        // first quote of each later connection marked after a gap.
        let quotes: Vec<(Price, bool)> = heard
            .iter()
            .filter_map(|h| match h {
                Heard::Quotes(prices, gap) => Some(
                    (prices.iter().enumerate()).map(move |(i, &price)| (price, *gap && i == 0)),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        let p = |s: &str| s.parse::<Price>().unwrap();
        let one_connection = [p("9277.2"), p("43210.5"), p("43211")];
        for (i, (price, gap)) in quotes.iter().take(9).enumerate() {
            assert_eq!(*price, one_connection[i % 3], "{name}: quote {i}");
            assert_eq!(*gap, i % 3 == 0 && i > 0, "{name}: quote {i}");
        }
        assert!(quotes.len() >= 9, "{name}: {quotes:?}");
    }
}
