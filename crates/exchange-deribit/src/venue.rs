//! [`DeribitVenue`]: Deribit's public JSON-RPC WebSocket as the simulator
//! plays it, sans I/O.
//!
//! No greeting. Every request gets one answer with its `id`:
//! - `public/set_heartbeat` (`interval` ≥ 10 s, else `-32602 Invalid
//!   params`) → `"result":"ok"`, and from then on a
//!   `{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}`
//!   every interval (or [`VenueConfig::heartbeat`], so tests need not wait
//!   10 s). A `test_request` still unanswered by `public/test` when the
//!   next one is due ends the connection ([`Venue::close_code`]: 1000):
//!   Deribit documents that it closes such a connection at once, but not
//!   after how long; the venue gives one interval. The check runs at each
//!   market event, and four times an interval on a quieter market.
//! - `public/test` → `{"version":…}`.
//! - `public/subscribe` / `public/unsubscribe` with `ticker.{listed}.100ms`
//!   channels → the list of channels done; unknown ones are left out of it
//!   (the simulator's reading of Deribit, see `PROTOCOL-notes.md`). A new
//!   subscription's ticker follows at once.
//! - Anything else: `-32601 Method not found`; not JSON: `-32700 Parse error`.
//!
//! Each market event sends every subscribed instrument's whole ticker
//! (Deribit's tickers are images): best bid and ask every event, mark and
//! index every `updates_per_headline`-th, last every other. Prices are JSON
//! numbers from a seeded walk in cents, printed as Deribit prints them
//! (`29931.0`, `29932.79`).
//!
//! Its rate-limit fault: Deribit's error 10028 `too_many_requests` says no
//! wait; the simulator adds `"data":{"reason":…,"retry_after_ms":…}` so
//! the fault's wait reaches the client (the simulator's, not Deribit's).

use mercury_core::{
    PriceWalk, SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, WalkStep, WalkedPrices,
    pad_object,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["BTC-PERPETUAL", "ETH-PERPETUAL", "SOL_USDC-PERPETUAL"];

/// The close code for a client that left a `test_request` unanswered.
pub const UNANSWERED_CLOSE_CODE: u16 = 1000;
/// Heartbeat checks per heartbeat interval, on a market quieter than that.
const TICKS_PER_BEAT: u32 = 4;
/// The least heartbeat interval Deribit accepts, in seconds.
const MIN_INTERVAL_SECS: f64 = 10.0;

/// This venue's price walk (floors and the bid's distance below the mark, in its tick).
const WALK: PriceWalk = PriceWalk {
    floor: 100,
    bid_below_mark: 50,
    bid_floor: 1,
};

#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    prices: WalkedPrices,
}

/// Cents as Deribit prints a JSON number: `6187525` → `61875.25`,
/// `6187500` → `61875.0`, `6187520` → `61875.2`.
fn cents(value: i64) -> String {
    let (whole, frac) = (value / 100, value % 100);
    if frac % 10 == 0 {
        format!("{whole}.{}", frac / 10)
    } else {
        format!("{whole}.{frac:02}")
    }
}

/// The server-driven heartbeat of one connection.
#[derive(Debug, Default)]
struct Beat {
    interval: Option<Duration>,
    next: Option<Timestamp>,
    /// A `test_request` was sent and not yet answered.
    awaiting: bool,
}

/// The exchange side of one simulated Deribit connection.
#[derive(Debug)]
pub struct DeribitVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    subscribed: BTreeSet<usize>,
    events: u64,
    /// Calls of `on_event` so far.
    ticks: u64,
    beat: Beat,
    close: Option<u16>,
}

/// An answer to request `id` (a JSON value, as received).
fn answer(id: &Value, key: &str, value: &str, now: Timestamp) -> String {
    let us = now.unix_nanos() / 1000;
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"{key}":{value},"usIn":{us},"usOut":{},"usDiff":12,"testnet":false}}"#,
        us + 12
    )
}

/// A JSON-RPC error answer.
fn refusal(id: &Value, code: i64, message: &str, reason: Option<&str>, now: Timestamp) -> String {
    let message = serde_json::to_string(message).unwrap_or_default();
    let data = reason
        .map(|r| {
            format!(
                r#","data":{{"reason":{}}}"#,
                serde_json::to_string(r).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    answer(
        id,
        "error",
        &format!(r#"{{"message":{message},"code":{code}{data}}}"#),
        now,
    )
}

impl DeribitVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let instruments = (config.symbols_or(&DEFAULT_SYMBOLS).into_iter().enumerate())
            .map(|(i, symbol)| {
                let mark = [6_187_525, 298_110, 14_437][i % 3] + rng.step(500);
                Instrument {
                    symbol,
                    prices: WALK.start(mark),
                }
            })
            .collect();
        DeribitVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
            ticks: 0,
            beat: Beat::default(),
            close: None,
        }
    }

    fn ticker(&self, index: usize, now: Timestamp) -> String {
        let i = &self.instruments[index];
        let ms = now.unix_nanos() / 1_000_000;
        let (mark, index_price) = (cents(i.prices.mark), cents(i.prices.mark + 7));
        let (bid, ask) = (cents(i.prices.bid), cents(i.prices.bid + 50));
        format!(
            r#"{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":"ticker.{s}.100ms","data":{{"timestamp":{ms},"state":"open","settlement_price":{mark},"open_interest":559791310,"min_price":{min},"max_price":{max},"mark_price":{mark},"last_price":{last},"instrument_name":"{s}","index_price":{index_price},"funding_8h":0.00000255,"estimated_delivery_price":{index_price},"current_funding":0.0,"best_bid_price":{bid},"best_bid_amount":149910.0,"best_ask_price":{ask},"best_ask_amount":62850.0}}}}}}"#,
            s = i.symbol,
            min = cents(i.prices.mark * 98 / 100),
            max = cents(i.prices.mark * 102 / 100),
            last = cents(i.prices.last),
        )
    }

    fn set_heartbeat(
        &mut self,
        id: &Value,
        request: &Value,
        now: Timestamp,
        out: &mut Vec<String>,
    ) {
        let interval = request["params"]["interval"].as_f64().unwrap_or(0.0);
        if interval < MIN_INTERVAL_SECS {
            let reason = "interval must be at least 10";
            return out.push(refusal(id, -32602, "Invalid params", Some(reason), now));
        }
        let interval = self
            .config
            .heartbeat
            .unwrap_or_else(|| Duration::from_secs_f64(interval.min(3600.0)));
        self.beat = Beat {
            interval: Some(interval),
            next: Some(now.saturating_add(interval)),
            awaiting: false,
        };
        out.push(answer(id, "result", r#""ok""#, now));
    }

    fn subscribe(&mut self, id: &Value, request: &Value, now: Timestamp, out: &mut Vec<String>) {
        let unsubscribe = request["method"].as_str() == Some("public/unsubscribe");
        let mut done = Vec::new();
        let mut new = Vec::new();
        for channel in request["params"]["channels"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(channel) = channel.as_str() else {
                continue;
            };
            let symbol = channel
                .strip_prefix("ticker.")
                .and_then(|rest| rest.strip_suffix(".100ms"));
            let Some(index) =
                symbol.and_then(|s| self.instruments.iter().position(|i| i.symbol == s))
            else {
                continue;
            };
            done.push(channel.to_owned());
            if unsubscribe {
                self.subscribed.remove(&index);
            } else if self.subscribed.insert(index) {
                new.push(index);
            }
        }
        let list = serde_json::to_string(&done).unwrap_or_else(|_| "[]".into());
        out.push(answer(id, "result", &list, now));
        for index in new {
            out.push(self.ticker(index, now));
        }
    }

    /// Sends a `test_request` when one is due, or ends the connection if
    /// the last one is still unanswered.
    fn heartbeat(&mut self, now: Timestamp, out: &mut Vec<String>) {
        let (Some(interval), Some(next)) = (self.beat.interval, self.beat.next) else {
            return;
        };
        if now < next {
            return;
        }
        if self.beat.awaiting {
            self.close = Some(UNANSWERED_CLOSE_CODE);
            return;
        }
        out.push(
            r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#.into(),
        );
        self.beat.awaiting = true;
        self.beat.next = Some(now.saturating_add(interval));
    }

    /// How often [`Venue::on_event`] is called.
    fn tick(&self) -> Duration {
        let market = self.config.event_interval();
        match self.beat.interval {
            Some(beat) if !market.is_zero() => market.min(beat / TICKS_PER_BEAT),
            _ => market,
        }
    }

    /// Calls of [`Venue::on_event`] per market event.
    fn ticks_per_event(&self) -> u64 {
        let tick = self.tick().as_nanos();
        let market = self.config.event_interval().as_nanos();
        u64::try_from(market.checked_div(tick).unwrap_or(1))
            .unwrap_or(1)
            .max(1)
    }

    fn walk(&mut self) {
        self.events += 1;
        let step = WalkStep::of(self.events, self.config.updates_per_headline());
        for i in &mut self.instruments {
            WALK.advance(step, &mut self.rng, &mut i.prices);
        }
    }
}

impl Venue for DeribitVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, now } => {
                let ms = retry_after.as_millis();
                let error = format!(
                    r#"{{"message":"too_many_requests","code":{},"data":{{"reason":"rate limit","retry_after_ms":{ms}}}}}"#,
                    crate::session::TOO_MANY_REQUESTS
                );
                Some(answer(&Value::from(1), "error", &error, now))
            }
            VenueFault::Padded { frame, padding } => frame
                .contains(r#""method":"subscription""#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {}

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return out.push(refusal(&Value::Null, -32700, "Parse error", None, now));
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        match request["method"].as_str() {
            Some("public/set_heartbeat") => self.set_heartbeat(&id, &request, now, out),
            Some("public/test") => {
                self.beat.awaiting = false;
                out.push(answer(&id, "result", r#"{"version":"1.2.26"}"#, now));
            }
            Some("public/subscribe" | "public/unsubscribe") => {
                self.subscribe(&id, &request, now, out)
            }
            _ => out.push(refusal(&id, -32601, "Method not found", None, now)),
        }
    }

    /// The market's pace, or a quarter of the heartbeat interval when that
    /// is shorter, so a quiet market still gets its `test_request`s on time.
    fn next_event_in(&self) -> Duration {
        self.tick()
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        self.heartbeat(now, out);
        if self.close.is_some() {
            return;
        }
        self.ticks += 1;
        if !self.ticks.is_multiple_of(self.ticks_per_event()) {
            return;
        }
        self.walk();
        let subscribed: Vec<usize> = self.subscribed.iter().copied().collect();
        for index in subscribed {
            out.push(self.ticker(index, now));
        }
    }

    fn close_code(&self) -> Option<u16> {
        self.close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_print_like_deribit_numbers() {
        assert_eq!(cents(6_187_525), "61875.25");
        assert_eq!(cents(6_187_500), "61875.0");
        assert_eq!(cents(6_187_520), "61875.2");
        assert_eq!(cents(1_205), "12.05");
    }
}
