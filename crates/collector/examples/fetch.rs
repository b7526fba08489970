//! The whole fetch as a library user writes it:
//!
//! ```text
//! cargo run -p mercury-collector --example fetch                      # live BitMEX
//! cargo run -p mercury-collector --example fetch -- ws://127.0.0.1:PORT/realtime
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)] // an example prints

use actix::Actor;
use mercury_collector::{Collector, Connector, ConnectorConfig, Fetch};
use mercury_core::{Exchange, QuoteKind, Subscription};
use mercury_exchange_bitmex::{Bitmex, ENDPOINTS, EXCHANGE_ID};
use std::time::Duration;

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ENDPOINTS.production.to_string());
    let subscriptions = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
    // Checked before any I/O: the URL given is used as it is.
    let plans = match Bitmex.plan_at(&url, &subscriptions) {
        Ok(plans) => plans,
        Err(error) => return eprintln!("cannot subscribe: {error}"),
    };
    let answer = actix_rt::System::new().block_on(async move {
        let collector = Collector::new().start();
        let fetch = collector.send(Fetch {
            subscriptions: subscriptions.clone(),
            n: 10,
            timeout: Duration::from_secs(120),
        });
        for plan in plans {
            let config = ConnectorConfig::new();
            Connector::new(&Bitmex, plan, config, collector.clone().recipient()).start();
        }
        fetch.await
    });
    match answer {
        Ok(Ok(ticks)) => ticks
            .iter()
            .for_each(|t| println!("{} {} {}", t.seq, t.quote.symbol, t.quote.price)),
        Ok(Err(failed)) => eprintln!(
            "fetch failed: {failed} ({} quotes arrived)",
            failed.received.len()
        ),
        Err(error) => eprintln!("the collector stopped: {error}"),
    }
}
