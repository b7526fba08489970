//! Subjects and message ids: where a quote goes in JetStream and the id
//! that lets the stream store each exchange update once.
//!
//! **Subjects** are `<prefix>.<exchange>.<kind>.<symbol>`, e.g.
//! `mercury.bitmex.fair.XBTUSD`. Each part is one NATS token, escaped by
//! [`escape_token`]: ASCII letters, digits, `-` and `_` stay as they are
//! (`XBTUSD`, `BTC-USDT-SWAP`, `PF_XBTUSD` read as written); every other
//! byte of the UTF-8 text — `.`, `*`, `>`, whitespace, control characters,
//! `~` itself, any non-ASCII — becomes `~` and two upper-case hex digits
//! (`BTC/USD` → `BTC~2FUSD`, `a.b` → `a~2Eb`). The escape is injective:
//! `~` only ever starts an escape, so decoding is unambiguous
//! ([`unescape_token`]); an empty text becomes `~` alone (a token may not
//! be empty, and `~` alone is no escape).
//!
//! **Message ids** (`Nats-Msg-Id`, [`MsgIds`]) are derived from what the
//! exchange sent, never from our connection, so two collectors on the same
//! feed give an update the same id and the stream keeps it once:
//! `<exchange>:<kind>:<symbol>:<exchange time ns>:<price>:<k>`, where the
//! symbol is escaped as above and `k` is the quote's index among the
//! quotes of its subscription with the same exchange time (0 for the
//! first). Two genuine updates identical in exchange, symbol, kind,
//! exchange time and price (two trades at one price in one millisecond)
//! thus get `k` = 0 and 1 and are both kept. Limits, chosen so that an
//! update is never wrongly merged (a copy too many is possible, a loss is
//! not):
//! - a collector that starts, or reconnects, in the middle of one exchange
//!   time numbers that time's quotes from a different `k` than its twin,
//!   so a few quotes around its start may be stored twice; the same holds
//!   for an exchange's snapshot after a reconnect that repeats the last
//!   update's time (the record keeps it, as the files do);
//! - a quote without an exchange time (Hyperliquid's mid prices) has
//!   nothing from the exchange to tell two equal prices apart, so its id
//!   uses the time the collector received it instead
//!   (`…:r<received ns>:<price>:<k>`): never merged wrongly, but redundant
//!   collectors store one copy each of those.
//!
//! Deduplication holds within the stream's duplicates window (2 minutes by
//! default): the same id published again later is stored again.

use crate::messages::Tick;
use mercury_core::{ExchangeId, QuoteKind, Symbol, Timestamp};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The character that starts an escape in a subject token.
const ESCAPE: char = '~';

/// `text` as one NATS subject token; see the module docs.
pub fn escape_token(text: &str) -> String {
    if text.is_empty() {
        return ESCAPE.to_string();
    }
    let mut token = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            token.push(char::from(byte));
        } else {
            let _ = write!(token, "{ESCAPE}{byte:02X}");
        }
    }
    token
}

/// The text [`escape_token`] made `token` from, or `None` if no text
/// escapes to it.
pub fn unescape_token(token: &str) -> Option<String> {
    if token == "~" {
        return Some(String::new());
    }
    let mut bytes = Vec::with_capacity(token.len());
    let mut rest = token.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'~' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if hex.bytes().any(|b| b.is_ascii_lowercase()) {
                return None;
            }
            let byte = u8::from_str_radix(hex, 16).ok()?;
            if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                return None;
            }
            bytes.push(byte);
            rest = tail.get(2..)?;
        } else if first.is_ascii_alphanumeric() || first == b'-' || first == b'_' {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The subject of a quote: `<prefix>.<exchange>.<kind>.<symbol>`, each
/// part escaped (the prefix is checked by
/// [`NatsConfig::check`](super::NatsConfig::check), not escaped: it may
/// hold several tokens).
pub fn subject(prefix: &str, exchange: &ExchangeId, kind: QuoteKind, symbol: &Symbol) -> String {
    format!(
        "{prefix}.{}.{}.{}",
        escape_token(exchange.as_str()),
        escape_token(kind.as_str()),
        escape_token(symbol.as_str())
    )
}

/// Where a subscription stands in its current exchange time.
#[derive(Debug, Default)]
struct Position {
    exchange_time: Option<Timestamp>,
    index: u64,
}

/// Gives each tick its message id (see the module docs); one per publisher,
/// fed the ticks in stream order. Holds one entry per subscription seen.
#[derive(Debug, Default)]
pub struct MsgIds {
    positions: HashMap<(ExchangeId, Symbol, QuoteKind), Position>,
}

impl MsgIds {
    /// No quote seen yet.
    pub fn new() -> Self {
        MsgIds::default()
    }

    /// The message id of `tick`, the next quote of its subscription.
    pub fn next(&mut self, tick: &Tick) -> String {
        let q = &tick.quote;
        let key = (q.exchange.clone(), q.symbol.clone(), q.kind);
        let position = self.positions.entry(key).or_default();
        let index = match (position.exchange_time, q.exchange_time) {
            (Some(last), Some(now)) if last == now => position.index + 1,
            _ => 0,
        };
        *position = Position {
            exchange_time: q.exchange_time,
            index,
        };
        let time = match q.exchange_time {
            Some(at) => at.unix_nanos().to_string(),
            None => format!("r{}", q.received_at.unix_nanos()),
        };
        format!(
            "{}:{}:{}:{time}:{}:{index}",
            escape_token(q.exchange.as_str()),
            escape_token(q.kind.as_str()),
            escape_token(q.symbol.as_str()),
            q.price
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::messages::{ConnectionId, Tick};
    use mercury_core::{Price, Quote};

    #[test]
    fn ordinary_symbols_read_as_written() {
        for symbol in ["XBTUSD", "BTC-USDT-SWAP", "PF_XBTUSD", "BTCUSDT", "ETH"] {
            assert_eq!(escape_token(symbol), symbol);
        }
        let subject = subject(
            "mercury",
            &ExchangeId::from_static("bitmex"),
            QuoteKind::Fair,
            &Symbol::new("XBTUSD"),
        );
        assert_eq!(subject, "mercury.bitmex.fair.XBTUSD");
    }

    #[test]
    fn hostile_symbols_become_one_safe_token_and_decode_back() {
        let cases = [
            ("BTC/USD", "BTC~2FUSD"),
            ("a.b", "a~2Eb"),
            ("*", "~2A"),
            (">", "~3E"),
            ("a b\tc", "a~20b~09c"),
            ("~2E", "~7E2E"),
            ("", "~"),
            ("\u{0}\u{7f}", "~00~7F"),
            ("é", "~C3~A9"),
        ];
        for (symbol, token) in cases {
            let escaped = escape_token(symbol);
            assert_eq!(escaped, token, "{symbol:?}");
            assert!(
                escaped
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b".*>".contains(&b))
            );
            assert_eq!(unescape_token(&escaped).as_deref(), Some(symbol));
        }
        // Injective: distinct texts, distinct tokens.
        let texts = ["a.b", "a~2Eb", "a2Eb", "~", "", "~7E"];
        let tokens: std::collections::HashSet<_> = texts.iter().map(|t| escape_token(t)).collect();
        assert_eq!(tokens.len(), texts.len());
        for bad in ["a.b", "~2", "~2e", "~41", "a b"] {
            assert_eq!(unescape_token(bad), None, "{bad:?}");
        }
    }

    fn tick(symbol: &str, price: &str, exchange_ms: Option<i64>, received_ns: i128) -> Tick {
        Tick {
            seq: 1,
            connection: ConnectionId(1),
            conn_seq: 1,
            quote: Quote {
                exchange: ExchangeId::from_static("bitmex"),
                symbol: Symbol::new(symbol),
                kind: QuoteKind::Trade,
                price: price.parse::<Price>().unwrap(),
                exchange_time: exchange_ms.and_then(Timestamp::from_unix_millis),
                received_at: Timestamp::from_unix_nanos(received_ns),
                conn_seq: 1,
            },
            after_gap: false,
        }
    }

    #[test]
    fn ids_come_from_the_exchange_and_keep_identical_updates_apart() {
        let mut ours = MsgIds::new();
        let mut twin = MsgIds::new();
        let feed = [
            tick("XBTUSD", "100.5", Some(1_000), 5),
            tick("XBTUSD", "100.5", Some(1_000), 6),
            tick("XBTUSD", "101", Some(1_000), 7),
            tick("XBTUSD", "100.5", Some(1_001), 8),
            tick("ETHUSD", "100.5", Some(1_000), 9),
        ];
        let ids: Vec<String> = feed.iter().map(|t| ours.next(t)).collect();
        assert_eq!(ids[0], "bitmex:trade:XBTUSD:1000000000:100.5:0");
        assert_eq!(ids[1], "bitmex:trade:XBTUSD:1000000000:100.5:1");
        assert_eq!(ids[2], "bitmex:trade:XBTUSD:1000000000:101:2");
        assert_eq!(ids[3], "bitmex:trade:XBTUSD:1001000000:100.5:0");
        assert_eq!(ids[4], "bitmex:trade:ETHUSD:1000000000:100.5:0");
        // A twin collector receives at other times, on another connection:
        // the same ids.
        let twins: Vec<String> = feed
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.seq += 1000;
                t.quote.received_at = Timestamp::from_unix_nanos(99);
                twin.next(&t)
            })
            .collect();
        assert_eq!(ids, twins);
    }

    #[test]
    fn without_an_exchange_time_the_receive_time_keeps_ids_apart() {
        let mut ids = MsgIds::new();
        let a = ids.next(&tick("BTC", "1", None, 5));
        let b = ids.next(&tick("BTC", "1", None, 6));
        assert_eq!(a, "bitmex:trade:BTC:r5:1:0");
        assert_ne!(a, b);
    }
}
