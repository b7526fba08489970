//! Regression (issue #14, item 5): a 429 whose `retryAfter` was `1e12`
//! was a malformed frame, so the reconnect that followed the server's drop
//! blamed the drop and waited only the backoff (five reconnects in 8 s).
//! Now it is a rate limit, and its wait is clamped to an hour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::prelude::*;
use mercury_collector::{
    ConnectionState, Connector, ConnectorConfig, ConnectorError, ConnectorOutput, StopConnector,
};
use mercury_core::{ConnectionPlan, MAX_RETRY_AFTER, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::opening;
use mercury_testkit::{MockServer, Script, Step};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

#[actix::test]
async fn a_rate_limit_asking_for_ages_waits_the_longest_wait_we_honour() {
    let mut steps = opening();
    steps.push(Step::Send(
        r#"{"status":429,"error":"Rate limit exceeded.","meta":{"retryAfter":1e12}}"#.into(),
    ));
    steps.push(Step::Drop);
    let server = MockServer::start(Script::new(steps));
    let states = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder(states.clone()).start();
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
    let connector =
        Connector::new(&Bitmex, plan, ConnectorConfig::new(), recorder.recipient()).start();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (delay, error) = loop {
        let found = states.lock().unwrap().iter().find_map(|s| match s {
            ConnectionState::Reconnecting { delay, error, .. } => Some((*delay, error.clone())),
            _ => None,
        });
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "{:?}", states.lock().unwrap());
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    };
    let ConnectorError::Exchange(error) = error else {
        panic!("the cause is the 429, not {error:?}")
    };
    assert_eq!((error.status, error.retryable), (Some(429), true));
    assert_eq!(error.retry_after, Some(MAX_RETRY_AFTER));
    assert_eq!(delay, MAX_RETRY_AFTER);
    connector.send(StopConnector).await.unwrap();
}
