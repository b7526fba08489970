//! [`OkxVenue`]: OKX's public channels as the simulator plays them, sans
//! I/O.
//!
//! No greeting. `{"op":"subscribe","args":[…]}` is answered arg by arg: an
//! ack (`{"event":"subscribe","arg":{…},"connId":…}`) and at once the
//! channel's first push for a listed instrument, or the 60018 error for
//! anything else — an `index-tickers` arg must name an index, that is a
//! listed instrument with a single `-` (`BTC-USDT`), as on OKX. Then each
//! event pushes what moved: `bbo-tbt` every event, `tickers` every other,
//! `mark-price` and `index-tickers` every `updates_per_headline`-th (so the
//! default kind, mark, changes every `headline_interval`). Prices are
//! decimal strings from a seeded walk in tenths, printed as OKX prints
//! them (`43210.5`, `43210`). The text `ping` gets the text `pong`.
//!
//! Its rate-limit fault: OKX's refusal is code 60014 "Requests too
//! frequent", which names no wait; the venue adds one in its own words,
//! `Wait until <Unix ms>` (see `PROTOCOL-notes.md`).

use crate::wire::{BBO_TBT, INDEX_TICKERS, MARK_PRICE, TICKERS};
use mercury_core::{
    PriceWalk, SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, WalkStep, WalkedPrices,
    pad_object,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none: two swaps and
/// the two indexes (also spot pairs) they follow.
pub const DEFAULT_SYMBOLS: [&str; 4] = ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USDT", "ETH-USDT"];

/// A fixed connection id, in OKX's format (8 hex digits).
const CONN_ID: &str = "6d3c2b1a";

/// The channels the venue serves, in the order it pushes them.
const CHANNELS: [&str; 4] = [MARK_PRICE, INDEX_TICKERS, TICKERS, BBO_TBT];

/// This venue's price walk (floors and the bid's distance below the mark, in its tick).
const WALK: PriceWalk = PriceWalk {
    floor: 100,
    bid_below_mark: 1,
    bid_floor: 1,
};

#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    /// Prices in tenths.
    prices: WalkedPrices,
}

impl Instrument {
    /// OKX names an index like a spot pair: `BTC-USDT`.
    fn is_index(&self) -> bool {
        self.symbol.matches('-').count() == 1
    }

    fn inst_type(&self) -> &'static str {
        if self.symbol.ends_with("-SWAP") {
            "SWAP"
        } else if self.is_index() {
            "SPOT"
        } else {
            "FUTURES"
        }
    }
}

/// Tenths as OKX prints a price: `432105` → `43210.5`, `432100` → `43210`.
fn tenths(value: i64) -> String {
    let value = value.max(0);
    match value % 10 {
        0 => format!("{}", value / 10),
        d => format!("{}.{d}", value / 10),
    }
}

/// The exchange side of one simulated OKX connection.
#[derive(Debug)]
pub struct OkxVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    /// (channel index in [`CHANNELS`], instrument index).
    subscribed: BTreeSet<(usize, usize)>,
    events: u64,
}

impl OkxVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let instruments = config
            .symbols_or(&DEFAULT_SYMBOLS)
            .into_iter()
            .map(|symbol| {
                let base = if symbol.starts_with("ETH") {
                    22_984
                } else {
                    432_105
                };
                let mark = base + rng.step(50);
                Instrument {
                    symbol,
                    prices: WALK.start(mark),
                }
            })
            .collect();
        OkxVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
        }
    }

    fn error(code: &str, message: &str) -> String {
        let message = serde_json::to_string(message).unwrap_or_default();
        format!(r#"{{"event":"error","code":"{code}","msg":{message},"connId":"{CONN_ID}"}}"#)
    }

    /// The push of `channel` for instrument `index`.
    fn push(&self, channel: usize, index: usize, ms: i128) -> String {
        let i = &self.instruments[index];
        let (name, symbol) = (CHANNELS[channel], &i.symbol);
        let row = match CHANNELS[channel] {
            MARK_PRICE => format!(
                r#"{{"instType":"{}","instId":"{symbol}","markPx":"{}","ts":"{ms}"}}"#,
                if i.is_index() {
                    "MARGIN"
                } else {
                    i.inst_type()
                },
                tenths(i.prices.mark)
            ),
            INDEX_TICKERS => format!(
                r#"{{"instId":"{symbol}","idxPx":"{}","high24h":"{}","low24h":"{}","open24h":"{}","sodUtc0":"{}","sodUtc8":"{}","ts":"{ms}"}}"#,
                tenths(i.prices.mark - 3),
                tenths(i.prices.mark + 900),
                tenths(i.prices.mark - 900),
                tenths(i.prices.mark - 100),
                tenths(i.prices.mark - 50),
                tenths(i.prices.mark + 20),
            ),
            TICKERS => format!(
                r#"{{"instType":"{}","instId":"{symbol}","last":"{}","lastSz":"1","askPx":"{}","askSz":"12","bidPx":"{}","bidSz":"431","open24h":"{}","high24h":"{}","low24h":"{}","sodUtc0":"{}","sodUtc8":"{}","volCcy24h":"108540.53","vol24h":"10854053","ts":"{ms}"}}"#,
                i.inst_type(),
                tenths(i.prices.last),
                tenths(i.prices.bid + 1),
                tenths(i.prices.bid),
                tenths(i.prices.mark - 100),
                tenths(i.prices.mark + 900),
                tenths(i.prices.mark - 900),
                tenths(i.prices.mark - 50),
                tenths(i.prices.mark + 20),
            ),
            _ => format!(
                r#"{{"asks":[["{}","7","0","2"]],"bids":[["{}","50","0","5"]],"ts":"{ms}","seqId":{}}}"#,
                tenths(i.prices.bid + 1),
                tenths(i.prices.bid),
                self.events
            ),
        };
        format!(r#"{{"arg":{{"channel":"{name}","instId":"{symbol}"}},"data":[{row}]}}"#)
    }

    /// One arg of a request: `Ok((channel, instrument))` if served.
    fn find(&self, arg: &Value) -> Result<(usize, usize), String> {
        let channel = arg
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let inst_id = arg
            .get("instId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let index = self.instruments.iter().position(|i| i.symbol == inst_id);
        let channel_index = CHANNELS.iter().position(|c| *c == channel);
        match (channel_index, index) {
            (Some(c), Some(i))
                if CHANNELS[c] != INDEX_TICKERS || self.instruments[i].is_index() =>
            {
                Ok((c, i))
            }
            _ => Err(format!(
                "Wrong URL or channel:{channel},instId:{inst_id} doesn't exist. Please use the correct URL, channel and parameters referring to API document."
            )),
        }
    }

    fn subscribe(&mut self, op: &str, request: &Value, now: Timestamp, out: &mut Vec<String>) {
        let Some(args) = request.get("args").and_then(Value::as_array) else {
            return out.push(Self::error("60013", "Invalid args"));
        };
        let ms = now.unix_nanos() / 1_000_000;
        for arg in args {
            match self.find(arg) {
                Ok((channel, index)) => {
                    let echo = serde_json::to_string(arg).unwrap_or_default();
                    out.push(format!(
                        r#"{{"event":"{op}","arg":{echo},"connId":"{CONN_ID}"}}"#
                    ));
                    if op == "unsubscribe" {
                        self.subscribed.remove(&(channel, index));
                    } else if self.subscribed.insert((channel, index)) {
                        out.push(self.push(channel, index, ms));
                    }
                }
                Err(message) => out.push(Self::error("60018", &message)),
            }
        }
    }
}

impl Venue for OkxVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, now } => {
                let reset = now.saturating_add(retry_after).unix_millis();
                let message = format!(
                    "Requests too frequent. {}{reset}",
                    crate::session::WAIT_UNTIL
                );
                Some(Self::error(crate::session::TOO_FREQUENT, &message))
            }
            VenueFault::Padded { frame, padding } => frame
                .starts_with(r#"{"arg""#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {}

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        if text == crate::PING {
            return out.push(crate::session::PONG.to_owned());
        }
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return out.push(Self::error("60012", &format!("Invalid request: {text}")));
        };
        match request.get("op").and_then(Value::as_str) {
            Some(op @ ("subscribe" | "unsubscribe")) => self.subscribe(op, &request, now, out),
            Some(other) => out.push(Self::error("60019", &format!("Invalid op: {other}"))),
            None => out.push(Self::error("60012", &format!("Invalid request: {text}"))),
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
        let (headline, last_step) = (step.mark, step.last);
        let ms = now.unix_nanos() / 1_000_000;
        let due: Vec<(usize, usize)> = self
            .subscribed
            .iter()
            .copied()
            .filter(|&(channel, _)| match CHANNELS[channel] {
                MARK_PRICE | INDEX_TICKERS => headline,
                TICKERS => last_step,
                _ => true,
            })
            .collect();
        for (channel, index) in due {
            out.push(self.push(channel, index, ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_print_like_okx() {
        assert_eq!(tenths(432_105), "43210.5");
        assert_eq!(tenths(432_100), "43210");
        assert_eq!(tenths(7), "0.7");
    }
}
