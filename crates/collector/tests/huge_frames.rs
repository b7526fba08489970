//! A frame header that claims more than the limit is refused as soon as
//! the header is in, before its payload is buffered.
//!
//! Regression (issue #14, item 1): actix-http's parser waits for the whole
//! frame before it checks the limit, so a header claiming 2^62 bytes made
//! the client buffer everything that followed (RSS 6 → 1 030 MB in a
//! second), and a 64 MB frame peaked at 61 MB before it was refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::{States, rss_kib};

use actix::prelude::*;
use mercury_collector::{Backoff, ConnectionState, Connector, ConnectorConfig, ConnectorError};
use mercury_core::{ConnectionPlan, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};
use mercury_testkit::bitmex::opening;
use mercury_testkit::raw::text_header;
use mercury_testkit::{RawScript, RawServer, RawStep};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[actix::test]
async fn a_header_claiming_too_much_is_refused_before_its_payload() {
    // 2^62 bytes claimed; 256 MB actually sent. 64 MB claimed (4× the limit).
    for claimed in [1u64 << 62, 64 << 20] {
        let mut steps: Vec<RawStep> = opening().into_iter().map(RawStep::Play).collect();
        steps.push(RawStep::Bytes(text_header(claimed)));
        steps.push(RawStep::Flood(256 << 20));
        let server = RawServer::start(RawScript::new(steps));
        let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
        let plan = ConnectionPlan::new(&Bitmex, &server.url(), &subscriptions).unwrap();
        let mut config = ConnectorConfig::new();
        config.backoff = Backoff {
            max_attempts: Some(0),
            ..Backoff::default()
        };
        let (tx, mut states) = mpsc::unbounded_channel();
        let recorder = States(tx).start();
        let before = rss_kib();
        let started = Instant::now();
        let _connector = Connector::new(&Bitmex, plan, config, recorder.recipient()).start();
        let failed = loop {
            let state = actix_rt::time::timeout(Duration::from_secs(10), states.recv())
                .await
                .expect("a verdict within 10 s")
                .unwrap();
            if let ConnectionState::Failed(error) = state {
                break error;
            }
        };
        let grown = rss_kib().saturating_sub(before);
        assert!(
            matches!(&failed, ConnectorError::Protocol(text) if text.contains("size limit")),
            "{claimed}: {failed:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{claimed}");
        assert!(grown < 24 << 10, "{claimed}: RSS grew by {grown} KiB");
    }
}
