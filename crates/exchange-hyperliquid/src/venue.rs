//! [`HyperliquidVenue`]: Hyperliquid's public WebSocket as the simulator
//! plays it, sans I/O.
//!
//! The greeting the official Python SDK expects (`Websocket connection
//! established.`, plain text). `{"method":"subscribe","subscription":{"type":…,"coin":…}}`
//! gets a `subscriptionResponse` echoing the subscription, then at once the
//! current asset context or best bid and offer (trades come as they
//! happen). `activeAssetCtx` is sent every headline (mark and oracle move
//! together), `bbo` every event, `trades` every other event. A second
//! subscribe of the same feed gets the real server's `Already subscribed:`
//! error; an unknown coin or type gets `Invalid subscription: …` (the real
//! server's answer is not documented, see `PROTOCOL-notes.md`); a request
//! it cannot read gets the real `Error parsing JSON into valid websocket
//! request: …`. `{"method":"ping"}` gets `{"channel":"pong"}`. Prices are
//! decimal strings from a seeded walk.
//!
//! Its rate-limit fault: the real server's text for its message limit,
//! `Cannot send more than 2000 messages per minute.`, to which the venue
//! adds the wait the simulator was asked for (`(mercury simulator: retry in
//! N s)`): the real one names none.

use crate::errors::{ALREADY_SUBSCRIBED, RETRY_IN};
use crate::wire;
use mercury_core::{SplitMix64, Timestamp, Venue, VenueConfig, VenueFault, pad_object};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The coins listed when the configuration names none.
pub const DEFAULT_SYMBOLS: [&str; 3] = ["BTC", "ETH", "SOL"];

/// A subscription's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Feed {
    Ctx,
    Bbo,
    Trades,
}

impl Feed {
    fn parse(channel: &str) -> Option<Feed> {
        match channel {
            wire::ACTIVE_ASSET_CTX => Some(Feed::Ctx),
            wire::BBO => Some(Feed::Bbo),
            wire::TRADES => Some(Feed::Trades),
            _ => None,
        }
    }
}

/// One listed coin; prices in units of its tick (`10^-decimals`).
#[derive(Debug, Clone)]
struct Instrument {
    coin: String,
    decimals: u32,
    mark: i64,
    oracle: i64,
    bid: i64,
}

impl Instrument {
    /// `ticks` printed as Hyperliquid prints prices: `91234.0`, `3012.5`.
    fn px(&self, ticks: i64) -> String {
        let scale = 10_i64.pow(self.decimals);
        match self.decimals {
            0 => format!("{ticks}.0"),
            d => format!(
                "{}.{:0width$}",
                ticks / scale,
                ticks % scale,
                width = d as usize
            ),
        }
    }
}

/// The exchange side of one simulated Hyperliquid connection.
#[derive(Debug)]
pub struct HyperliquidVenue {
    config: VenueConfig,
    rng: SplitMix64,
    instruments: Vec<Instrument>,
    subscribed: BTreeSet<(Feed, usize)>,
    events: u64,
    tid: u64,
}

fn error_frame(text: &str) -> String {
    let text = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
    format!(r#"{{"channel":"error","data":{text}}}"#)
}

impl HyperliquidVenue {
    /// A venue for one connection.
    pub fn new(config: &VenueConfig) -> Self {
        let mut rng = SplitMix64::new(config.seed);
        let instruments = config
            .symbols_or(&DEFAULT_SYMBOLS)
            .into_iter()
            .enumerate()
            .map(|(i, coin)| {
                let (decimals, mark) = [(0, 91_234), (1, 30_125), (2, 14_237)][i % 3];
                let mark = mark + rng.step(50);
                Instrument {
                    coin,
                    decimals,
                    mark,
                    oracle: mark + 3,
                    bid: mark - 1,
                }
            })
            .collect();
        HyperliquidVenue {
            config: config.clone(),
            rng,
            instruments,
            subscribed: BTreeSet::new(),
            events: 0,
            tid: 716_095_722_814_130,
        }
    }

    fn ctx(&self, index: usize) -> String {
        let i = &self.instruments[index];
        let (mark, oracle) = (i.px(i.mark), i.px(i.oracle));
        let (bid, ask) = (i.px(i.bid), i.px(i.bid + 1));
        format!(
            r#"{{"channel":"activeAssetCtx","data":{{"coin":"{}","ctx":{{"funding":"0.0000125","openInterest":"34554.56282","prevDayPx":"{mark}","dayNtlVlm":"2115733633.6778900623","premium":"-0.0002501933","oraclePx":"{oracle}","markPx":"{mark}","midPx":"{bid}","impactPxs":["{bid}","{ask}"],"dayBaseVlm":"26942.23195"}}}}}}"#,
            i.coin
        )
    }

    fn bbo(&self, index: usize, ms: i128) -> String {
        let i = &self.instruments[index];
        format!(
            r#"{{"channel":"bbo","data":{{"coin":"{}","time":{ms},"bbo":[{{"px":"{}","sz":"10.25923","n":36}},{{"px":"{}","sz":"50.66422","n":18}}]}}}}"#,
            i.coin,
            i.px(i.bid),
            i.px(i.bid + 1)
        )
    }

    fn trade(&mut self, index: usize, ms: i128) -> String {
        self.tid += 1;
        let i = &self.instruments[index];
        let (side, px) = if self.tid.is_multiple_of(2) {
            ("B", i.bid + 1)
        } else {
            ("A", i.bid)
        };
        format!(
            r#"{{"channel":"trades","data":[{{"coin":"{}","side":"{side}","px":"{}","sz":"0.00132","time":{ms},"hash":"0x{:064x}","tid":{},"users":["0x8cdba352268065be9d5444e1f82b8fe83717bbd5","0x13558be785661958932ceac35ba20de187275a42"]}}]}}"#,
            i.coin,
            i.px(px),
            self.tid,
            self.tid
        )
    }

    fn subscribe(
        &mut self,
        method: &str,
        subscription: &Value,
        now: Timestamp,
        out: &mut Vec<String>,
    ) {
        let field = |name: &str| subscription.get(name).and_then(Value::as_str);
        let channel = field("type").unwrap_or_default();
        let coin = field("coin").unwrap_or_default();
        let feed = Feed::parse(channel);
        let index = self.instruments.iter().position(|i| i.coin == coin);
        let (Some(feed), Some(index)) = (feed, index) else {
            return out.push(error_frame(&format!(
                "Invalid subscription: {subscription}"
            )));
        };
        let echo = wire::subscription(channel, coin);
        let new = if method == "unsubscribe" {
            self.subscribed.remove(&(feed, index))
        } else {
            self.subscribed.insert((feed, index))
        };
        if !new && method == "subscribe" {
            return out.push(error_frame(&format!("{ALREADY_SUBSCRIBED}: {echo}")));
        }
        out.push(format!(
            r#"{{"channel":"subscriptionResponse","data":{{"method":"{method}","subscription":{echo}}}}}"#
        ));
        if method == "subscribe" {
            let ms = now.unix_nanos() / 1_000_000;
            match feed {
                Feed::Ctx => out.push(self.ctx(index)),
                Feed::Bbo => out.push(self.bbo(index, ms)),
                Feed::Trades => {}
            }
        }
    }
}

impl Venue for HyperliquidVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        match fault {
            VenueFault::RateLimit { retry_after, .. } => {
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(error_frame(&format!(
                    "Cannot send more than 2000 messages per minute. (mercury simulator: {RETRY_IN}{seconds} s)"
                )))
            }
            VenueFault::Padded { frame, padding } => {
                let image = [wire::ACTIVE_ASSET_CTX, wire::BBO]
                    .iter()
                    .any(|channel| frame.starts_with(&format!(r#"{{"channel":"{channel}""#)));
                image.then(|| pad_object(frame, padding)).flatten()
            }
            _ => None,
        }
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, out: &mut Vec<String>) {
        out.push(wire::WELCOME.to_owned());
    }

    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>) {
        let request = serde_json::from_str::<Value>(text).ok();
        let method = request
            .as_ref()
            .and_then(|r| r.get("method"))
            .and_then(Value::as_str);
        let subscription = request.as_ref().and_then(|r| r.get("subscription"));
        match (method, subscription) {
            (Some("ping"), _) => out.push(format!(r#"{{"channel":"{}"}}"#, wire::PONG)),
            (Some(method @ ("subscribe" | "unsubscribe")), Some(subscription)) => {
                self.subscribe(method, subscription, now, out);
            }
            _ => out.push(error_frame(&format!(
                "Error parsing JSON into valid websocket request: {text}"
            ))),
        }
    }

    fn next_event_in(&self) -> Duration {
        self.config.event_interval()
    }

    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>) {
        self.events += 1;
        let headline = self
            .events
            .is_multiple_of(u64::from(self.config.updates_per_headline()));
        let trading = self.events.is_multiple_of(2);
        for i in &mut self.instruments {
            if headline {
                i.mark = (i.mark + self.rng.step(20)).max(100);
                i.oracle = (i.mark + self.rng.step(5)).max(100);
            }
            i.bid = (i.mark - 1 + self.rng.step(2)).max(1);
        }
        let ms = now.unix_nanos() / 1_000_000;
        let subscribed: Vec<(Feed, usize)> = self.subscribed.iter().copied().collect();
        for (feed, index) in subscribed {
            match feed {
                Feed::Ctx if headline => out.push(self.ctx(index)),
                Feed::Bbo => out.push(self.bbo(index, ms)),
                Feed::Trades if trading => {
                    let trade = self.trade(index, ms);
                    out.push(trade);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_print_like_hyperliquid() {
        let mut i = Instrument {
            coin: "BTC".into(),
            decimals: 0,
            mark: 91_234,
            oracle: 0,
            bid: 0,
        };
        assert_eq!(i.px(91_234), "91234.0");
        i.decimals = 2;
        assert_eq!(i.px(14_207), "142.07");
    }
}
