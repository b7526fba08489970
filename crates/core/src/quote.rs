//! Quotes and subscriptions.

use crate::{Error, ExchangeId, Price, Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which price of an instrument a quote carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteKind {
    /// The exchange's fair price (BitMEX `fairPrice`).
    Fair,
    /// The mark price used for margining (BitMEX `markPrice`).
    Mark,
    /// The last traded price as reported on the instrument (BitMEX `lastPrice`).
    Last,
    /// The best bid (BitMEX `quote.bidPrice`).
    Bid,
    /// The best ask (BitMEX `quote.askPrice`).
    Ask,
    /// The price of one trade (BitMEX `trade.price`).
    Trade,
    /// The venue's index (or oracle) price of the underlying (BitMEX
    /// `indicativeSettlePrice`, Deribit `index_price`, OKX `index-tickers`).
    Index,
}

impl QuoteKind {
    /// Every kind, in a stable order.
    pub const ALL: [QuoteKind; 7] = [
        QuoteKind::Fair,
        QuoteKind::Mark,
        QuoteKind::Last,
        QuoteKind::Bid,
        QuoteKind::Ask,
        QuoteKind::Trade,
        QuoteKind::Index,
    ];

    /// The name used on the command line and in output, e.g. `fair`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            QuoteKind::Fair => "fair",
            QuoteKind::Mark => "mark",
            QuoteKind::Last => "last",
            QuoteKind::Bid => "bid",
            QuoteKind::Ask => "ask",
            QuoteKind::Trade => "trade",
            QuoteKind::Index => "index",
        }
    }
}

impl fmt::Display for QuoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for QuoteKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        QuoteKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| Error::Parse {
                what: "quote kind (one of fair, mark, last, bid, ask, trade, index)",
                input: text.chars().take(64).collect(),
            })
    }
}

/// One price of one instrument at one moment, as an exchange reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The exchange that sent it.
    pub exchange: ExchangeId,
    /// The instrument.
    pub symbol: Symbol,
    /// Which price this is.
    pub kind: QuoteKind,
    /// The exact price.
    pub price: Price,
    /// The exchange's own time for the row, when the row carries one.
    pub exchange_time: Option<Timestamp>,
    /// When the frame that carried it was received.
    pub received_at: Timestamp,
    /// Position on its connection: 1 for the first quote of a new
    /// connection (a new [`Session`](crate::Session)), then 2, 3, … in the order of the
    /// frames and of the rows within a frame.
    pub conn_seq: u64,
}

/// A wish for one kind of price of one instrument on one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Subscription {
    /// The exchange.
    pub exchange: ExchangeId,
    /// The instrument, as the exchange spells it.
    pub symbol: Symbol,
    /// The kind of price wanted.
    pub kind: QuoteKind,
}

impl Subscription {
    /// A subscription from its three parts.
    pub fn new(exchange: ExchangeId, symbol: impl Into<Symbol>, kind: QuoteKind) -> Self {
        Subscription {
            exchange,
            symbol: symbol.into(),
            kind,
        }
    }

    /// Whether `quote` is what this subscription asks for.
    pub fn matches(&self, quote: &Quote) -> bool {
        self.kind == quote.kind && self.symbol == quote.symbol && self.exchange == quote.exchange
    }
}

impl fmt::Display for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.exchange, self.symbol, self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(symbol: &str, kind: QuoteKind) -> Quote {
        Quote {
            exchange: ExchangeId::from_static("bitmex"),
            symbol: Symbol::new(symbol),
            kind,
            price: "1".parse().unwrap(),
            exchange_time: None,
            received_at: Timestamp::UNIX_EPOCH,
            conn_seq: 1,
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in QuoteKind::ALL {
            assert_eq!(kind.as_str().parse::<QuoteKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!("FAIR".parse::<QuoteKind>().unwrap(), QuoteKind::Fair);
        assert!("fairPrice".parse::<QuoteKind>().is_err());
    }

    #[test]
    fn subscription_matches_exchange_symbol_and_kind() {
        let sub = Subscription::new(ExchangeId::from_static("bitmex"), "XBTUSD", QuoteKind::Fair);
        assert!(sub.matches(&quote("XBTUSD", QuoteKind::Fair)));
        assert!(!sub.matches(&quote("XBTUSD", QuoteKind::Mark)));
        assert!(!sub.matches(&quote("ETHUSD", QuoteKind::Fair)));
        let mut other = quote("XBTUSD", QuoteKind::Fair);
        other.exchange = ExchangeId::from_static("binance");
        assert!(!sub.matches(&other));
        assert_eq!(sub.to_string(), "bitmex:XBTUSD:fair");
    }
}
