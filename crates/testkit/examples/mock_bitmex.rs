//! A stand-in BitMEX on 127.0.0.1 for trying the CLI by hand, until the
//! built-in simulator lands:
//!
//! ```text
//! cargo run -p mercury-testkit --example mock_bitmex -- [SECONDS_TO_RUN]
//! collector fetch bitmex XBTUSD -n 10 --url ws://127.0.0.1:PORT/realtime --format json
//! ```
//!
//! Each connection gets the real welcome and XBTUSD partial, then synthetic
//! updates: one without `fairPrice` and one with it every 100 ms.
#![allow(clippy::print_stdout)] // an example prints

use mercury_testkit::bitmex::fair_session;
use mercury_testkit::{MockServer, Script};
use std::time::Duration;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let fairs: Vec<String> = (0..100).map(|i| format!("43210.{i}")).collect();
    let fairs: Vec<&str> = fairs.iter().map(String::as_str).collect();
    let server = MockServer::start(Script::new(fair_session(
        &fairs,
        Duration::from_millis(100),
    )));
    println!("{}", server.url());
    std::thread::sleep(Duration::from_secs(seconds));
}
