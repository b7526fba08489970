//! The soak's instruments: a browser-side client of the page's `/ws`
//! events, a plain HTTP scrape of `/metrics`, and descriptor counts.

use futures_util::{SinkExt, StreamExt};
use mercury_core::Price;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One sample of `serve`'s resources.
pub struct Sample {
    /// Since the start of the soak.
    pub at: Duration,
    /// Resident memory.
    pub rss_kib: u64,
    /// Open file descriptors.
    pub fds: usize,
}

/// The open file descriptors of process `pid` (Linux `/proc`), 0 if unknown.
pub fn fds_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

pub use mercury_tests::{metric_sum, scrape};

/// What the browser-side client saw.
#[derive(Debug, Default)]
pub struct Watched {
    /// Each quote event's exchange and price, in arrival order.
    pub quotes: Vec<(String, Price)>,
    /// The most events the hub said it dropped for this client.
    pub drops: u64,
}

impl Watched {
    /// The prices of `exchange`'s quotes, in arrival order.
    pub fn prices_of(&self, exchange: &str) -> Vec<Price> {
        self.quotes
            .iter()
            .filter(|(e, _)| e == exchange)
            .map(|(_, p)| *p)
            .collect()
    }

    fn take(&mut self, text: &str) {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        match event["type"].as_str() {
            Some("quote") => {
                let exchange = event["exchange"].as_str().unwrap_or_default().to_owned();
                let price = event["price"].as_str().and_then(|p| p.parse().ok());
                self.quotes
                    .push((exchange, price.expect("a quote's price")));
            }
            Some("stats") => {
                self.drops = self.drops.max(event["drops"].as_u64().unwrap_or(0));
            }
            _ => {}
        }
    }
}

/// Reads the page's events from `url` (`ws://…/ws`) on a thread of its
/// own, answering pings as a browser does, until the server goes or
/// `stop` is set.
pub fn watch(url: String, stop: Arc<AtomicBool>) -> JoinHandle<Watched> {
    std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let mut watched = Watched::default();
            let (_, mut socket) = awc::Client::new()
                .ws(url)
                .max_frame_size(1 << 20)
                .connect()
                .await
                .expect("the page's /ws");
            while !stop.load(Ordering::SeqCst) {
                let next = actix_rt::time::timeout(Duration::from_secs(1), socket.next()).await;
                match next {
                    Err(_) => {}
                    Ok(Some(Ok(awc::ws::Frame::Text(text)))) => {
                        watched.take(std::str::from_utf8(&text).unwrap_or_default());
                    }
                    Ok(Some(Ok(awc::ws::Frame::Ping(payload)))) => {
                        let _ = socket.send(awc::ws::Message::Pong(payload)).await;
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(_)) | None) => break,
                }
            }
            watched
        })
    })
}
