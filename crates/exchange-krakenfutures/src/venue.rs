//! [`KrakenFuturesVenue`]: Kraken Futures' public `ticker` feed as the
//! simulator plays it, sans I/O.
//!
//! A new connection is greeted with `{"event":"info","version":1}`.
//! `{"event":"subscribe","feed":"ticker","product_ids":[…]}` is answered
//! product by product, as the real server does: a listed product gets
//! `{"event":"subscribed","feed":"ticker","product_ids":["PF_XBTUSD"]}` and
//! at once its first ticker; an unlisted one gets
//! `{"event":"error","message":"Invalid product id"}`, another feed
//! `Invalid feed`, text that is not JSON `Json Error` (the documented
//! errors). `heartbeat` subscriptions are acknowledged. Then each headline
//! change (every `updates_per_headline`-th event) sends each subscribed
//! product's whole ticker, as Kraken sends every field every time and at
//! most once a second: best bid and ask move every event, mark and index
//! every headline, the last price every other event. Prices are JSON
//! numbers from a seeded walk, in cents. The keep-alive is the WebSocket
//! ping, which the simulator's server answers itself.
//!
//! Its rate-limit fault: Kraken documents no in-band rate-limit frame on
//! this stream (see `PROTOCOL-notes.md`). The venue sends an error event
//! with Kraken Futures' REST rate-limit text, `apiLimitExceeded`, and a
//! `retry_after` in seconds of its own making; the session reads it as a
//! retryable error with that wait.

use crate::session::API_LIMIT_EXCEEDED;
use mercury_core::{
    PriceWalk, SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, WalkStep, WalkedPrices,
    pad_object,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none (the first is
/// the documentation's example).
pub const DEFAULT_SYMBOLS: [&str; 3] = ["PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD"];

/// This venue's price walk (floors and the bid's distance below the mark, in its tick).
const WALK: PriceWalk = PriceWalk {
    floor: 1000,
    bid_below_mark: 50,
    bid_floor: 100,
};

#[derive(Debug, Clone)]
struct Instrument {
    product: String,
    prices: WalkedPrices,
}

/// Cents as a JSON number with two decimals: `6187525` → `61875.25`.
fn cents(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

/// A reply event about one product (or none).
fn reply(event: &str, feed: &str, product: Option<&str>) -> String {
    let feed = serde_json::to_string(feed).unwrap_or_default();
    match product {
        Some(product) => {
            let product = serde_json::to_string(product).unwrap_or_default();
            format!(r#"{{"event":"{event}","feed":{feed},"product_ids":[{product}]}}"#)
        }
        None => format!(r#"{{"event":"{event}","feed":{feed}}}"#),
    }
}

/// An error event with one of Kraken's messages.
fn error(message: &str) -> String {
    format!(r#"{{"event":"error","message":"{message}"}}"#)
}

/// The exchange side of one simulated Kraken Futures connection.
#[derive(Debug)]
pub struct KrakenFuturesVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    subscribed: BTreeSet<usize>,
    events: u64,
}

impl KrakenFuturesVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let instruments = config
            .symbols_or(&DEFAULT_SYMBOLS)
            .into_iter()
            .enumerate()
            .map(|(i, product)| {
                let mark = [6_187_525, 298_110, 14_437][i % 3] + rng.step(500);
                Instrument {
                    product,
                    prices: WALK.start(mark),
                }
            })
            .collect();
        KrakenFuturesVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
        }
    }

    /// The whole ticker of one product, fields in the real order.
    fn ticker(&self, index: usize, now: Timestamp) -> String {
        let i = &self.instruments[index];
        let ms = now.unix_nanos() / 1_000_000;
        format!(
            concat!(
                r#"{{"time":{ms},"product_id":"{product}","funding_rate":0.0001,"#,
                r#""feed":"ticker","bid":{bid},"ask":{ask},"bid_size":0.1239,"ask_size":0.1179,"#,
                r#""volume":3669.9134,"dtm":0,"leverage":"50x","index":{index},"premium":0.0,"#,
                r#""last":{last},"change":-0.68,"suspended":false,"tag":"perpetual","#,
                r#""openInterest":2157.6281,"markPrice":{mark},"maturityTime":0,"post_only":false}}"#
            ),
            ms = ms,
            product = i.product,
            bid = cents(i.prices.bid),
            ask = cents(i.prices.bid + 100),
            index = cents(i.prices.mark + 3),
            last = cents(i.prices.last),
            mark = cents(i.prices.mark),
        )
    }

    fn subscribe(&mut self, request: &Value, now: Timestamp, out: &mut Vec<String>) {
        let event = request
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let feed = request
            .get("feed")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if feed == "heartbeat" {
            return out.push(reply(&format!("{event}d"), feed, None));
        }
        if feed != crate::TICKER_FEED {
            return out.push(error("Invalid feed"));
        }
        let products = request
            .get("product_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        for product in products {
            let Some(index) = self
                .instruments
                .iter()
                .position(|i| i.product.eq_ignore_ascii_case(product))
            else {
                out.push(error("Invalid product id"));
                continue;
            };
            let listed = self.instruments[index].product.clone();
            out.push(reply(&format!("{event}d"), feed, Some(&listed)));
            if event == "unsubscribe" {
                self.subscribed.remove(&index);
            } else if self.subscribed.insert(index) {
                out.push(self.ticker(index, now));
            }
        }
    }
}

impl Venue for KrakenFuturesVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, .. } => Some(format!(
                r#"{{"event":"error","message":"{API_LIMIT_EXCEEDED}","retry_after":{}.{:03}}}"#,
                retry_after.as_secs(),
                retry_after.subsec_millis()
            )),
            VenueFault::Padded { frame, padding } => frame
                .contains(r#""feed":"ticker""#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, out: &mut Vec<String>) {
        out.push(r#"{"event":"info","version":1}"#.to_owned());
    }

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return out.push(error("Json Error"));
        };
        match request.get("event").and_then(Value::as_str) {
            Some("subscribe" | "unsubscribe") => self.subscribe(&request, now, out),
            _ => out.push(error("Json Error")),
        }
    }

    fn next_event_in(&self) -> Duration {
        self.config.event_interval()
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        self.events += 1;
        let step = WalkStep::of(self.events, self.config.updates_per_headline());
        for i in &mut self.instruments {
            WALK.advance(step, &mut self.rng, &mut i.prices);
        }
        let mark_step = step.mark;
        // Kraken throttles a product's ticker to one message a second: one
        // whole ticker per headline change here.
        if mark_step {
            for &index in &self.subscribed {
                out.push(self.ticker(index, now));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_print_as_json_numbers() {
        assert_eq!(cents(6_187_525), "61875.25");
        assert_eq!(cents(1_200), "12.00");
    }
}
