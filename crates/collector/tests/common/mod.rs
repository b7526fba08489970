//! Helpers shared by the collector's integration tests.
#![allow(dead_code)] // each test file uses its own part

use actix::prelude::*;
use mercury_collector::{ConnectionState, ConnectorOutput};
use tokio::sync::mpsc;

/// Forwards the connector's states.
pub struct States(pub mpsc::UnboundedSender<ConnectionState>);

impl Actor for States {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for States {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, _: &mut Context<Self>) {
        if let ConnectorOutput::State { state, .. } = output {
            let _ = self.0.send(state);
        }
    }
}

/// This process's resident set in KiB.
pub fn rss_kib() -> u64 {
    mercury_testkit::rss_kib(std::process::id()).unwrap_or(0)
}
