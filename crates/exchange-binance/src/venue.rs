//! [`BinanceVenue`]: Binance USDⓈ-M market streams as the simulator plays
//! them, sans I/O.
//!
//! Like the real server it sends no greeting, answers
//! `{"method":"SUBSCRIBE","params":[…],"id":N}` with `{"result":null,"id":N}`,
//! rejects malformed requests, unknown methods, non-integer ids and
//! malformed stream names with `{"error":{"code":…,"msg":…},"id":N}`, and —
//! also like the real server — accepts a well-formed stream of a symbol it
//! does not list and then sends nothing for it. Events come one per frame
//! in the combined-stream envelope; prices are decimal strings (8 decimals
//! for the mark, 2 for the book) from a seeded walk. Streams in the URL
//! (`?streams=a/b`) are subscribed on connect. Unlike the real server it
//! serves mark and book streams on any path.
//!
//! Its rate-limit fault: Binance market streams have no in-band rate-limit
//! frame (past 10 messages a second the server just disconnects; see
//! `PROTOCOL-notes.md`), so the venue borrows Binance's documented
//! `-1003` error ("Way too much request weight used; IP banned until
//! `<ms>`. …") in the stream error envelope; the session reads it as a
//! retryable error that waits until the ban ends.

use mercury_core::{SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, pad_object};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

const UNKNOWN_METHOD: &str = "Invalid request: unknown variant, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`";

/// One listed instrument; the mark in units of 1e-8, the bid in cents.
#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    mark: i64,
    bid: i64,
}

/// The exchange side of one simulated Binance connection.
#[derive(Debug)]
pub struct BinanceVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    /// Subscribed stream names, as the client spelled them.
    streams: BTreeSet<String>,
    events: u64,
    update_id: u64,
}

/// `value` in units of 10^-`decimals`, printed with exactly that many decimals.
fn fixed(value: i64, decimals: u32) -> String {
    let unit = 10i64.pow(decimals);
    let width = usize::try_from(decimals).unwrap_or(0);
    format!("{}.{:0width$}", value / unit, value % unit)
}

impl BinanceVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let symbols = config.symbols_or(&DEFAULT_SYMBOLS);
        let instruments = symbols
            .into_iter()
            .enumerate()
            .map(|(i, symbol)| {
                let mark = [6_499_137_858_696, 234_515_704_420, 14_244_400_000][i % 3]
                    + rng.step(100_000_000);
                Instrument {
                    symbol,
                    mark,
                    bid: mark / 1_000_000 - 10,
                }
            })
            .collect();
        BinanceVenue {
            config: config.clone(),
            rng,
            instruments,
            streams: BTreeSet::new(),
            events: 0,
            update_id: 1_000_000,
        }
    }

    fn error(code: i64, msg: &str, id: &str) -> String {
        let msg = serde_json::to_string(msg).unwrap_or_default();
        format!(r#"{{"error":{{"code":{code},"msg":{msg}}},"id":{id}}}"#)
    }

    /// Whether `stream` is a well-formed name of a stream this venue serves.
    fn well_formed(stream: &str) -> bool {
        let Some((symbol, channel)) = stream.split_once('@') else {
            return false;
        };
        !symbol.is_empty()
            && symbol
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && matches!(channel, "markPrice" | "markPrice@1s" | "bookTicker")
    }

    fn request(&mut self, text: &str, out: &mut Vec<String>) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return out.push(Self::error(
                3,
                "Invalid JSON: expected value at line 1 column 1",
                "null",
            ));
        };
        let id = match request.get("id") {
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            _ => {
                return out.push(Self::error(
                    2,
                    "Invalid request: request ID must be an unsigned integer",
                    "null",
                ));
            }
        };
        let params: Vec<String> = match request.get("params") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| p.as_str().unwrap_or_default().to_owned())
                .collect(),
            Some(_) => return out.push(Self::error(2, "Invalid request: invalid params", &id)),
        };
        match request.get("method").and_then(Value::as_str) {
            Some("SUBSCRIBE" | "UNSUBSCRIBE") if params.iter().any(|s| !Self::well_formed(s)) => {
                out.push(Self::error(2, "Invalid request: invalid stream", &id));
            }
            Some("SUBSCRIBE") => {
                self.streams.extend(params);
                out.push(format!(r#"{{"result":null,"id":{id}}}"#));
            }
            Some("UNSUBSCRIBE") => {
                for stream in &params {
                    self.streams.remove(stream);
                }
                out.push(format!(r#"{{"result":null,"id":{id}}}"#));
            }
            Some("LIST_SUBSCRIPTIONS") => {
                let list = serde_json::to_string(&self.streams).unwrap_or_default();
                out.push(format!(r#"{{"result":{list},"id":{id}}}"#));
            }
            Some(_) => out.push(Self::error(2, UNKNOWN_METHOD, &id)),
            None => out.push(Self::error(
                2,
                "Invalid request: missing field `method`",
                &id,
            )),
        }
    }

    fn mark_event(i: &Instrument, stream: &str, ms: i128) -> String {
        format!(
            r#"{{"stream":"{stream}","data":{{"e":"markPriceUpdate","E":{ms},"s":"{}","p":"{}","P":"{}","i":"{}","r":"0.00010000","T":{}}}}}"#,
            i.symbol,
            fixed(i.mark, 8),
            fixed(i.mark + 1_000_000, 8),
            fixed(i.mark - 2_000_000, 8),
            ms + 3_600_000
        )
    }

    fn book_event(i: &Instrument, stream: &str, ms: i128, update_id: u64) -> String {
        format!(
            r#"{{"stream":"{stream}","data":{{"e":"bookTicker","u":{update_id},"s":"{}","b":"{}","B":"1.500","a":"{}","A":"2.250","T":{ms},"E":{ms}}}}}"#,
            i.symbol,
            fixed(i.bid, 2),
            fixed(i.bid + 10, 2)
        )
    }
}

impl Venue for BinanceVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, now } => {
                let until = now.saturating_add(retry_after).unix_millis();
                let msg = format!(
                    "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."
                );
                Some(Self::error(crate::session::TOO_MANY_REQUESTS, &msg, "null"))
            }
            VenueFault::Padded { frame, padding } => frame
                .contains(r#""data":"#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {
        let streams = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|pair| pair.strip_prefix("streams="))
            .flat_map(|list| list.split('/'))
            .filter(|s| Self::well_formed(s))
            .map(str::to_owned);
        self.streams.extend(streams);
    }

    fn on_text(&mut self, text: &str, _now: Timestamp, out: &mut Vec<String>) {
        self.request(text, out);
    }

    fn next_event_in(&self) -> Duration {
        self.config.event_interval()
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        self.events += 1;
        let mark_step = self
            .events
            .is_multiple_of(u64::from(self.config.updates_per_headline()));
        for i in &mut self.instruments {
            if mark_step {
                i.mark = (i.mark + self.rng.step(50_000_000)).max(100_000_000);
            }
            i.bid = (i.mark / 1_000_000 - 10 + self.rng.step(5)).max(1);
        }
        let ms = now.unix_nanos() / 1_000_000;
        for stream in &self.streams {
            let Some((symbol, channel)) = stream.split_once('@') else {
                continue;
            };
            let Some(i) = self
                .instruments
                .iter()
                .find(|i| i.symbol.eq_ignore_ascii_case(symbol))
            else {
                continue; // like Binance: a stream of an unknown symbol is silent
            };
            if channel == "bookTicker" {
                self.update_id += 1;
                out.push(Self::book_event(i, stream, ms, self.update_id));
            } else if mark_step {
                out.push(Self::mark_event(i, stream, ms));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_prints_like_binance() {
        assert_eq!(fixed(6_499_137_858_696, 8), "64991.37858696");
        assert_eq!(fixed(1_685_890, 2), "16858.90");
        assert_eq!(fixed(5, 2), "0.05");
    }
}
