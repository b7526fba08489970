//! [`BybitVenue`]: Bybit's public linear tickers as the simulator plays
//! them, sans I/O.
//!
//! No greeting. `{"op":"subscribe","args":[…],"req_id":…}` gets one reply
//! per request, `"success":true` when every topic is a listed symbol's
//! ticker, else `"success":false` with `error:handler not found,topic:…`
//! (the form of the one real refusal on record; the subscription then
//! fails as a whole, a simplification). A subscribed ticker starts with a
//! `snapshot`; then each event sends a `delta` with only what changed: the
//! best bid and ask every event, mark and index price every
//! `updates_per_headline`-th, the last price every other. `{"op":"ping"}` gets
//! the linear stream's pong. Prices are decimal strings from a seeded walk,
//! in cents.
//!
//! Its rate-limit fault: Bybit documents no in-band rate-limit frame on
//! its public streams (see `PROTOCOL-notes.md`). The venue refuses in the
//! shape of an op reply (`"success":false`) with Bybit's rate-limit text
//! (`Too many visits!`, code 10006 on REST) and the reset time REST gives
//! in `X-Bapi-Limit-Reset-Timestamp`; the session reads it as a retryable
//! error that waits until then.

use mercury_core::{
    PriceWalk, SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, WalkStep, WalkedPrices,
    pad_object,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

/// A fixed connection id, in Bybit's format.
const CONN_ID: &str = "5e3c1d2a-8f4b-4c6d-9e0f-mercurysim01";

/// This venue's price walk (floors and the bid's distance below the mark, in its tick).
const WALK: PriceWalk = PriceWalk {
    floor: 100,
    bid_below_mark: 5,
    bid_floor: 1,
};

#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    prices: WalkedPrices,
}

/// Cents as a two-decimal string: `6187525` → `61875.25`.
fn cents(value: i64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

/// The exchange side of one simulated Bybit connection.
#[derive(Debug)]
pub struct BybitVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    subscribed: BTreeSet<usize>,
    events: u64,
    cs: u64,
}

impl BybitVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let symbols = config.symbols_or(&DEFAULT_SYMBOLS);
        let instruments = symbols
            .into_iter()
            .enumerate()
            .map(|(i, symbol)| {
                let mark = [6_187_525, 298_110, 14_437][i % 3] + rng.step(500);
                Instrument {
                    symbol,
                    prices: WALK.start(mark),
                }
            })
            .collect();
        BybitVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
            cs: 176_530_004_279,
        }
    }

    fn reply(success: bool, message: &str, req_id: &str, op: &str) -> String {
        let message = serde_json::to_string(message).unwrap_or_default();
        let req_id = serde_json::to_string(req_id).unwrap_or_default();
        format!(
            r#"{{"success":{success},"ret_msg":{message},"conn_id":"{CONN_ID}","req_id":{req_id},"op":"{op}"}}"#
        )
    }

    fn ticker(&mut self, index: usize, kind: &str, fields: &[(&str, String)], ms: i128) -> String {
        self.cs += 1;
        let i = &self.instruments[index];
        let mut data = format!(r#""symbol":"{}""#, i.symbol);
        for (name, value) in fields {
            data.push_str(&format!(r#","{name}":"{value}""#));
        }
        format!(
            r#"{{"topic":"tickers.{}","type":"{kind}","data":{{{data}}},"cs":{},"ts":{ms}}}"#,
            i.symbol, self.cs
        )
    }

    fn snapshot(&mut self, index: usize, ms: i128) -> String {
        let i = &self.instruments[index];
        let fields = [
            ("lastPrice", cents(i.prices.last)),
            ("markPrice", cents(i.prices.mark)),
            ("indexPrice", cents(i.prices.mark + 3)),
            ("fundingRate", "0.0001".to_owned()),
            ("bid1Price", cents(i.prices.bid)),
            ("bid1Size", "3.543".to_owned()),
            ("ask1Price", cents(i.prices.bid + 10)),
            ("ask1Size", "1.250".to_owned()),
        ];
        self.ticker(index, "snapshot", &fields, ms)
    }

    fn subscribe(&mut self, request: &Value, now: Timestamp, out: &mut Vec<String>) {
        let req_id = request
            .get("req_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let op = request
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let topics: Vec<&str> = request
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut indices = Vec::new();
        for topic in &topics {
            let symbol = topic.strip_prefix("tickers.").unwrap_or_default();
            match self.instruments.iter().position(|i| i.symbol == symbol) {
                Some(index) => indices.push(index),
                None => {
                    let message = format!("error:handler not found,topic:{topic}");
                    return out.push(Self::reply(false, &message, req_id, op));
                }
            }
        }
        out.push(Self::reply(true, "", req_id, op));
        let ms = now.unix_nanos() / 1_000_000;
        for index in indices {
            if op == "unsubscribe" {
                self.subscribed.remove(&index);
            } else if self.subscribed.insert(index) {
                let snapshot = self.snapshot(index, ms);
                out.push(snapshot);
            }
        }
    }
}

impl Venue for BybitVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, now } => {
                let reset = now.saturating_add(retry_after).unix_millis();
                let message = format!(
                    "{} X-Bapi-Limit-Reset-Timestamp: {reset}",
                    crate::session::TOO_MANY_VISITS
                );
                Some(Self::reply(false, &message, "", "subscribe"))
            }
            VenueFault::Padded { frame, padding } => frame
                .contains(r#""type":"snapshot""#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {}

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return out.push(Self::reply(false, "error:request not json", "", ""));
        };
        match request.get("op").and_then(Value::as_str) {
            Some("ping") => {
                let req_id = request
                    .get("req_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push(Self::reply(true, "pong", req_id, "ping"));
            }
            Some("subscribe" | "unsubscribe") => self.subscribe(&request, now, out),
            Some(other) => out.push(Self::reply(
                false,
                &format!("error:unknown op {other}"),
                "",
                other,
            )),
            None => out.push(Self::reply(false, "error:missing op", "", "")),
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
        let (mark_step, last_step) = (step.mark, step.last);
        let ms = now.unix_nanos() / 1_000_000;
        let subscribed: Vec<usize> = self.subscribed.iter().copied().collect();
        for index in subscribed {
            let i = &self.instruments[index];
            let mut fields = vec![
                ("bid1Price", cents(i.prices.bid)),
                ("bid1Size", "2.120".to_owned()),
                ("ask1Price", cents(i.prices.bid + 10)),
                ("ask1Size", "5.020".to_owned()),
            ];
            if mark_step {
                fields.push(("markPrice", cents(i.prices.mark)));
                fields.push(("indexPrice", cents(i.prices.mark + 3)));
            }
            if last_step {
                fields.push(("lastPrice", cents(i.prices.last)));
            }
            let delta = self.ticker(index, "delta", &fields, ms);
            out.push(delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_print_like_bybit() {
        assert_eq!(cents(6_187_525), "61875.25");
        assert_eq!(cents(1_200), "12.00");
    }
}
