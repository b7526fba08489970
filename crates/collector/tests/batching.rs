//! The connector batches: the quotes of what one read of the socket
//! yields (at most `READ_BATCH` frames) go to the collector as one
//! message, in frame and row order, and a slow receiver still loses
//! nothing (the in-flight bound waits). Against a real firehose
//! simulator on 127.0.0.1, every frame carrying a fair price.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{Connector, ConnectorConfig, ConnectorOutput, READ_BATCH, StopConnector};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription, VenueConfig};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_simulator::{Simulator, SimulatorConfig};
use std::time::Duration;
use tokio::sync::oneshot;

/// What the receiver saw: per message, the `conn_seq`s of its quotes.
type Seen = Vec<Vec<u64>>;

/// Takes the connector's messages in place of the collector.
struct Receiver {
    wanted: usize,
    quotes: usize,
    seen: Seen,
    /// How long each message takes to handle (a slow collector).
    pause: Duration,
    done: Option<oneshot::Sender<Seen>>,
}

impl Actor for Receiver {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for Receiver {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, _: &mut Context<Self>) {
        if let ConnectorOutput::Quotes { quotes, .. } = output {
            assert!(quotes.iter().all(|q| q.kind == QuoteKind::Fair));
            self.quotes += quotes.len();
            self.seen.push(quotes.iter().map(|q| q.conn_seq).collect());
            std::thread::sleep(self.pause);
            if self.quotes >= self.wanted
                && let Some(done) = self.done.take()
            {
                let _ = done.send(std::mem::take(&mut self.seen));
            }
        }
    }
}

async fn receive(wanted: usize, pause: Duration, max_in_flight: usize) -> Seen {
    let config = SimulatorConfig {
        venue: VenueConfig {
            firehose: true,
            updates_per_headline: 1,
            symbols: vec!["XBTUSD".into()],
            ..VenueConfig::default()
        },
        ..SimulatorConfig::loopback()
    };
    let simulator = Simulator::start(config, &Bitmex).unwrap();
    let (done, seen) = oneshot::channel();
    let receiver = Receiver {
        wanted,
        quotes: 0,
        seen: Vec::new(),
        pause,
        done: Some(done),
    }
    .start();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &simulator.url(), &subscriptions).unwrap();
    let mut config = ConnectorConfig::new();
    config.max_in_flight = max_in_flight;
    let connector = Connector::new(&Bitmex, plan, config, receiver.recipient()).start();
    let seen = actix_rt::time::timeout(Duration::from_secs(20), seen)
        .await
        .expect("the quotes within 20 s")
        .unwrap();
    connector.do_send(StopConnector);
    seen
}

/// Every quote once, in order: after the partial's, each update's fair
/// price is 3 quotes after the last (it also carries a mark and an index
/// price, unwanted).
fn assert_in_order(seen: &Seen) {
    let all: Vec<u64> = seen.iter().flatten().copied().collect();
    let step = |w: &[u64]| w[1] == w[0] + 3;
    assert!(all[0] < all[1]);
    assert!(
        all[1..].windows(2).all(step),
        "out of order or missing: {:?}",
        all[1..].windows(2).find(|w| !step(w))
    );
}

#[actix::test]
async fn the_quotes_of_one_read_go_as_one_message_in_order() {
    let seen = receive(20_000, Duration::ZERO, 1024).await;
    assert_in_order(&seen);
    let largest = seen.iter().map(Vec::len).max().unwrap();
    // One wanted quote per frame: a message holds at most one read's frames.
    assert!(largest <= READ_BATCH, "{largest} quotes in one message");
    assert!(largest > 1, "never batched: one message per frame");
    assert!(seen.iter().all(|m| !m.is_empty()));
}

#[actix::test]
async fn a_slow_receiver_loses_nothing_behind_the_in_flight_bound() {
    // A receiver taking 1 ms a message, a bound of 8 frames in flight: the
    // connector waits (and stops reading) instead of queueing.
    let seen = receive(3_000, Duration::from_millis(1), 8).await;
    assert_in_order(&seen);
}
