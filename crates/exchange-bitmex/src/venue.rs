//! [`BitmexVenue`]: BitMEX as the simulator plays it, sans I/O.
//!
//! It follows `PROTOCOL-bitmex.md`: a welcome on connect (2026 shape), one
//! ack per topic echoing the request, a `partial` with keys, types and
//! filter, then `update`/`insert` frames whose rows carry only what
//! changed — most instrument updates carry no `fairPrice`. Subscriptions
//! come as `{"op":"subscribe","args":…}` or in the URL (`?subscribe=`).
//! The text `ping` is answered with `pong`. Unknown tables and symbols and
//! malformed requests get `{"status":400,…}` errors; the wording for an
//! unknown symbol (`Unknown symbol: X`) is ours, the shape is BitMEX's.
//!
//! Prices follow a seeded walk, so a seed always gives the same prices. A
//! real session is served instead from a raw capture by the simulator
//! (`--replay`: [`EMBEDDED_CAPTURE`](crate::EMBEDDED_CAPTURE)).

use crate::tables::Table;
use crate::wire::BitmexRequest;
use mercury_core::{SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, pad_object};
use std::collections::BTreeSet;
use std::time::Duration;

/// The instruments listed when the configuration names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["XBTUSD", "ETHUSD", "SOLUSD"];

const UNRECOGNIZED: &str = "Unrecognized request. See the docs or send 'help' for more details.";

/// One listed instrument, prices in cents.
#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    fair: i64,
    last: i64,
    bid: i64,
    volume: u64,
}

/// Cents as JavaScript would print the double: `4321050` → `43210.5`.
fn price(cents: i64) -> String {
    let (whole, frac) = (cents / 100, cents % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// The exchange side of one simulated BitMEX connection.
#[derive(Debug)]
pub struct BitmexVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    subscribed: BTreeSet<(u8, usize)>,
    events: u64,
}

fn table_code(table: Table) -> u8 {
    match table {
        Table::Instrument => 0,
        Table::Quote => 1,
        Table::Trade => 2,
    }
}

impl BitmexVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let instruments = config
            .symbols_or(&DEFAULT_SYMBOLS)
            .into_iter()
            .enumerate()
            .map(|(i, symbol)| {
                let base = [4_321_050, 234_512, 14_523][i % 3] + rng.step(500);
                Instrument {
                    symbol,
                    fair: base,
                    last: base,
                    bid: base - 50,
                    volume: 1_000,
                }
            })
            .collect();
        BitmexVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
        }
    }

    fn welcome(&self, now: Timestamp) -> String {
        format!(
            r#"{{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0","timestamp":"{now}","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false,"appName":"mercury-simulator"}}"#
        )
    }

    fn error(status: u16, message: &str, request: &str) -> String {
        let message = serde_json::to_string(message).unwrap_or_default();
        format!(r#"{{"status":{status},"error":{message},"meta":{{}},"request":{request}}}"#)
    }

    fn subscribe(
        &mut self,
        request: &BitmexRequest,
        echo: &str,
        now: Timestamp,
        out: &mut Vec<String>,
    ) {
        for topic in &request.args {
            let (table_name, symbol) = topic.split_once(':').unwrap_or((topic.as_str(), ""));
            let Some(table) = Table::from_wire(table_name) else {
                out.push(Self::error(
                    400,
                    &format!("Unknown table: {table_name}"),
                    echo,
                ));
                continue;
            };
            let indices: Vec<usize> = match symbol {
                "" | "*" => (0..self.instruments.len()).collect(),
                symbol => match self.instruments.iter().position(|i| i.symbol == symbol) {
                    Some(index) => vec![index],
                    None => {
                        out.push(Self::error(400, &format!("Unknown symbol: {symbol}"), echo));
                        continue;
                    }
                },
            };
            let topic_json = serde_json::to_string(topic).unwrap_or_default();
            let op = if request.op == "unsubscribe" {
                "unsubscribe"
            } else {
                "subscribe"
            };
            out.push(format!(
                r#"{{"success":true,"{op}":{topic_json},"request":{echo}}}"#
            ));
            for &index in &indices {
                if op == "subscribe" {
                    self.subscribed.insert((table_code(table), index));
                } else {
                    self.subscribed.remove(&(table_code(table), index));
                }
            }
            if op == "subscribe" {
                let filter = match symbol {
                    "" | "*" => String::new(),
                    symbol => format!(r#""symbol":"{symbol}""#),
                };
                out.push(self.partial(table, &indices, &filter, now));
            }
        }
    }

    fn partial(&self, table: Table, indices: &[usize], filter: &str, now: Timestamp) -> String {
        let rows: Vec<String> = indices
            .iter()
            .map(|&i| self.full_row(table, i, now))
            .collect();
        let (keys, types) = match table {
            Table::Instrument => (
                r#"["symbol"]"#,
                r#"{"symbol":"symbol","state":"symbol","lastPrice":"float","fairPrice":"float","markPrice":"float","indicativeSettlePrice":"float","volume":"long","timestamp":"timestamp"}"#,
            ),
            Table::Quote => (
                "[]",
                r#"{"timestamp":"timestamp","symbol":"symbol","bidSize":"long","bidPrice":"float","askPrice":"float","askSize":"long"}"#,
            ),
            Table::Trade => (
                "[]",
                r#"{"timestamp":"timestamp","symbol":"symbol","side":"symbol","size":"long","price":"float"}"#,
            ),
        };
        format!(
            r#"{{"table":"{}","action":"partial","keys":{keys},"types":{types},"foreignKeys":{{}},"attributes":{{}},"filter":{{{filter}}},"data":[{}]}}"#,
            table.wire_name(),
            rows.join(",")
        )
    }

    fn full_row(&self, table: Table, index: usize, now: Timestamp) -> String {
        let i = &self.instruments[index];
        match table {
            Table::Instrument => format!(
                r#"{{"symbol":"{}","state":"Open","typ":"FFWCSX","lastPrice":{},"fairPrice":{},"markPrice":{},"indicativeSettlePrice":{},"fairMethod":"FundingRate","markMethod":"FairPrice","volume":{},"timestamp":"{now}"}}"#,
                i.symbol,
                price(i.last),
                price(i.fair),
                price(i.fair),
                price(i.fair),
                i.volume
            ),
            Table::Quote => format!(
                r#"{{"timestamp":"{now}","symbol":"{}","bidSize":100,"bidPrice":{},"askPrice":{},"askSize":200}}"#,
                i.symbol,
                price(i.bid),
                price(i.bid + 50)
            ),
            Table::Trade => format!(
                r#"{{"timestamp":"{now}","symbol":"{}","side":"Buy","size":10,"price":{}}}"#,
                i.symbol,
                price(i.last)
            ),
        }
    }

    /// Moves every instrument one step and returns whether this step
    /// changes the fair price.
    fn walk(&mut self) -> bool {
        self.events += 1;
        let fair_step = self
            .events
            .is_multiple_of(u64::from(self.config.updates_per_headline()));
        for index in 0..self.instruments.len() {
            let (d_fair, d_last, d_bid) =
                (self.rng.step(50), self.rng.step(100), self.rng.step(25));
            let i = &mut self.instruments[index];
            if fair_step {
                i.fair = (i.fair + d_fair).max(100);
            }
            i.last = (i.fair + d_last).max(100);
            i.bid = (i.last - 50 + d_bid).max(50);
            i.volume += 10;
        }
        fair_step
    }

    fn subscribed_to(&self, table: Table) -> Vec<usize> {
        let code = table_code(table);
        self.subscribed
            .iter()
            .filter(|(t, _)| *t == code)
            .map(|(_, i)| *i)
            .collect()
    }
}

impl Venue for BitmexVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, .. } => {
                let seconds = retry_after.as_secs();
                Some(format!(
                    r#"{{"status":429,"error":"Rate limit exceeded, retry in {seconds} seconds.","meta":{{"retryAfter":{seconds}}},"request":{{"op":"subscribe","args":[]}}}}"#
                ))
            }
            VenueFault::Padded { frame, padding } => frame
                .contains(r#""action":"partial""#)
                .then(|| pad_object(frame, padding))
                .flatten(),
            _ => None,
        }
    }

    fn on_connect(&mut self, query: Option<&str>, now: Timestamp, out: &mut Vec<String>) {
        out.push(self.welcome(now));
        let topics = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|pair| pair.strip_prefix("subscribe="))
            .flat_map(|list| list.split(','))
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if !topics.is_empty() {
            let request = BitmexRequest {
                op: "subscribe".into(),
                args: topics,
            };
            let echo = serde_json::to_string(
                &serde_json::json!({"op": "subscribe", "args": request.args}),
            )
            .unwrap_or_default();
            self.subscribe(&request, &echo, now, out);
        }
    }

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        match text.trim() {
            "ping" => return out.push("pong".into()),
            "help" => {
                return out.push(
                    r#"{"info":"See https://www.bitmex.com/app/wsAPI for documentation.","usage":"Send a message in the format: {\"op\": string, \"args\": Array<string>}","ops":["subscribe","unsubscribe","ping"]}"#
                        .into(),
                )
            }
            _ => {}
        }
        let echo_text = || serde_json::to_string(text).unwrap_or_default();
        let Ok(request) = serde_json::from_str::<BitmexRequest>(text) else {
            return out.push(Self::error(400, UNRECOGNIZED, &echo_text()));
        };
        let echo =
            serde_json::to_string(&serde_json::json!({"op": request.op, "args": request.args}))
                .unwrap_or_else(|_| echo_text());
        match request.op.as_str() {
            "subscribe" | "unsubscribe" => self.subscribe(&request, &echo, now, out),
            _ => out.push(Self::error(400, UNRECOGNIZED, &echo)),
        }
    }

    fn next_event_in(&self) -> Duration {
        self.config.event_interval()
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        let fair_step = self.walk();
        let instrument = self.subscribed_to(Table::Instrument);
        if !instrument.is_empty() {
            let rows: Vec<String> = instrument
                .iter()
                .map(|&index| {
                    let i = &self.instruments[index];
                    if fair_step {
                        format!(
                            r#"{{"symbol":"{}","fairPrice":{},"markPrice":{},"indicativeSettlePrice":{},"timestamp":"{now}"}}"#,
                            i.symbol, price(i.fair), price(i.fair), price(i.fair)
                        )
                    } else {
                        format!(
                            r#"{{"symbol":"{}","lastPrice":{},"volume":{},"impactBidPrice":{},"timestamp":"{now}"}}"#,
                            i.symbol, price(i.last), i.volume, price(i.bid)
                        )
                    }
                })
                .collect();
            out.push(format!(
                r#"{{"table":"instrument","action":"update","data":[{}]}}"#,
                rows.join(",")
            ));
        }
        for table in [Table::Quote, Table::Trade] {
            let indices = self.subscribed_to(table);
            if indices.is_empty() || (table == Table::Trade && self.events % 2 == 1) {
                continue;
            }
            let rows: Vec<String> = indices
                .iter()
                .map(|&i| self.full_row(table, i, now))
                .collect();
            out.push(format!(
                r#"{{"table":"{}","action":"insert","data":[{}]}}"#,
                table.wire_name(),
                rows.join(",")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_print_like_javascript_doubles() {
        assert_eq!(price(4_321_050), "43210.5");
        assert_eq!(price(4_321_000), "43210");
        assert_eq!(price(4_321_005), "43210.05");
        assert_eq!(price(4_321_037), "43210.37");
    }

    #[test]
    fn the_walk_is_seeded() {
        let config = VenueConfig {
            seed: 7,
            ..VenueConfig::default()
        };
        let (mut a, mut b) = (BitmexVenue::new(&config), BitmexVenue::new(&config));
        for _ in 0..100 {
            a.walk();
            b.walk();
        }
        assert_eq!(a.instruments[0].fair, b.instruments[0].fair);
        let mut c = BitmexVenue::new(&VenueConfig { seed: 8, ..config });
        (0..100).for_each(|_| {
            c.walk();
        });
        assert_ne!(a.instruments[0].fair, c.instruments[0].fair);
    }
}
