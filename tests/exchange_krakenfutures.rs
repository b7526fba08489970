//! Kraken Futures' own heartbeat, end to end: the real `collector fetch`
//! against the real `collector sim krakenfutures`. Its keep-alive is the
//! WebSocket ping frame (Kraken's sample client's), which the server
//! answers at the protocol level; a text ping would be answered `Json
//! Error` and end the fetch. So:
//!
//! - a link quieter than the heartbeat stays up: pings go out, pongs come
//!   back, one connection serves every quote, no gap;
//! - a link that stops answering (the simulator's stall ignores pings) is
//!   declared dead and replaced, and the quotes resume after a gap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use mercury_tests::{Fetched, SimProcess, collector, oracle};
use std::time::Duration;

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

/// `collector fetch krakenfutures PF_XBTUSD -n N` against `sim`, JSON
/// output, pinging after 0.3 s of silence (dead 0.3 s later).
fn fetch(sim: &SimProcess, n: usize) -> Fetched {
    let mut command = collector();
    command
        .args(["fetch", "krakenfutures", "PF_XBTUSD", "-n", &n.to_string()])
        .args(["--url", sim.url(), "--format", "json"])
        .args(["--heartbeat", "0.3", "--timeout", "30"]);
    Fetched::run(&mut command, LIMIT)
}

/// How many connections the simulator served.
fn connections(sim: &mut SimProcess) -> usize {
    let log = read_log(sim.stop_and_log()).unwrap();
    sent_by_connection(&log).len()
}

#[test]
fn a_quiet_link_is_kept_alive_by_websocket_pings() {
    // A ticker every 1.2 s: four heartbeat periods of silence each time.
    let mut sim = SimProcess::start_for(
        "krakenfutures",
        "krakenfutures-quiet",
        &["--fair-interval", "1.2", "--frames-per-quote", "1"],
    );
    let fetched = fetch(&sim, 3);
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.prices().len(), 3);
    assert!(fetched.gaps().is_empty(), "{}", fetched.stderr());
    assert!(
        fetched.elapsed >= Duration::from_secs(2),
        "the link was quiet between quotes: {:?}",
        fetched.elapsed
    );
    assert_eq!(connections(&mut sim), 1, "{}", fetched.stderr());
}

#[test]
fn a_dead_link_is_detected_and_replaced() {
    // The first connection goes silent after its greeting, its
    // acknowledgement and two tickers, and ignores pings from then on.
    let mut sim = SimProcess::start_for(
        "krakenfutures",
        "krakenfutures-stall",
        &["--stall-after", "4", "--faulty-connections", "1"],
    );
    let fetched = fetch(&sim, 4);
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert_eq!(fetched.gaps(), [2], "{}", fetched.stderr());
    // Every quote is one the simulator sent, in order: the first
    // connection's two, then the second's first two.
    let sent = oracle::sent("krakenfutures", "PF_XBTUSD", sim.stop_and_log());
    assert_eq!(sent.len(), 2, "{}", fetched.stderr());
    let expected: Vec<Price> = sent
        .values()
        .flat_map(|prices| prices.iter().take(2).cloned())
        .collect();
    assert_eq!(fetched.prices(), expected);
}
