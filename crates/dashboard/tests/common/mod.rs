//! What the dashboard's integration tests share.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; test code may fail loudly

use mercury_testkit::bitmex::{fair_update, opening};
use mercury_testkit::{Script, Step};
use std::time::Duration;

/// A BitMEX server script: a fair price every 100 ms for 10 s.
pub fn quotes() -> Script {
    let mut steps = opening();
    for i in 0..100 {
        steps.push(Step::Send(fair_update("XBTUSD", &format!("9300.{i}"), i)));
        steps.push(Step::Pause(Duration::from_millis(100)));
    }
    Script::new(steps)
}

/// The body of a GET of `url`.
pub async fn get(url: String) -> String {
    let mut response = awc::Client::new().get(url).send().await.unwrap();
    String::from_utf8(response.body().await.unwrap().to_vec()).unwrap()
}
