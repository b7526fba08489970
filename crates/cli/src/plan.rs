//! From the command line's targets to connections: which exchange, which
//! URL, which subscriptions. Pure logic, checked before any I/O.
//!
//! A target is `EXCHANGE SYMBOL` (the single-exchange form) or one or more
//! `EXCHANGE:SYMBOL`. Each exchange's source routes each kind to a URL
//! ([`QuoteSource::url_for`](mercury_core::QuoteSource::url_for)); one
//! connection serves all the subscriptions that share an exchange and a URL.

use crate::{UsageError, registry};
use mercury_core::{ExchangeDescriptor, QuoteKind, Subscription};

/// One instrument to fetch.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its exchange.
    pub exchange: &'static ExchangeDescriptor,
    /// The symbol as the exchange spells it.
    pub symbol: String,
    /// The kind of price.
    pub kind: QuoteKind,
}

/// One connection to open.
#[derive(Debug, Clone)]
pub struct PlannedConnection {
    /// Its exchange.
    pub exchange: &'static ExchangeDescriptor,
    /// Where to connect.
    pub url: String,
    /// What it subscribes to.
    pub subscriptions: Vec<Subscription>,
}

fn exchange(id: &str) -> Result<&'static ExchangeDescriptor, UsageError> {
    registry::find(id).ok_or_else(|| {
        UsageError(format!(
            "unknown exchange {id:?}; known exchanges: {}",
            registry::known_ids()
        ))
    })
}

/// The targets of `words`, each with `kind` or its exchange's default
/// kind; refuses a kind an exchange does not offer and a symbol it cannot
/// be asked for.
pub fn targets(words: &[String], kind: Option<QuoteKind>) -> Result<Vec<Target>, UsageError> {
    let pairs: Vec<(&str, &str)> = match words {
        [exchange, symbol] if !exchange.contains(':') && !symbol.contains(':') => {
            vec![(exchange.as_str(), symbol.as_str())]
        }
        _ => words
            .iter()
            .map(|word| {
                word.split_once(':').ok_or_else(|| {
                    UsageError(format!(
                        "{word:?} is not EXCHANGE:SYMBOL (e.g. bitmex:XBTUSD); or give EXCHANGE SYMBOL"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut targets: Vec<Target> = Vec::new();
    for (id, symbol) in pairs {
        let exchange = exchange(id)?;
        let kind = kind.unwrap_or(exchange.default_kind);
        if !exchange.kinds.contains(&kind) {
            return Err(UsageError(format!(
                "{} does not offer {kind} quotes (it offers {})",
                exchange.name,
                exchange
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let subscription = Subscription::new(exchange.id.clone(), symbol, kind);
        (exchange.new_source)()
            .subscribe_messages(std::slice::from_ref(&subscription))
            .map_err(|e| UsageError(e.to_string()))?;
        if !targets
            .iter()
            .any(|t| t.exchange.id == exchange.id && t.symbol == symbol)
        {
            targets.push(Target {
                exchange,
                symbol: symbol.to_owned(),
                kind,
            });
        }
    }
    Ok(targets)
}

/// Where an exchange's connections go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// An endpoint (production, testnet or a simulator): each kind is
    /// routed by the exchange's `url_for`.
    Endpoint(String),
    /// A URL given by the user: used as it is, for every kind.
    Verbatim(String),
}

/// The connections for `targets`, given each exchange's base.
pub fn connections(
    targets: &[Target],
    base_of: impl Fn(&'static ExchangeDescriptor) -> Result<Base, UsageError>,
) -> Result<Vec<PlannedConnection>, UsageError> {
    let mut planned: Vec<PlannedConnection> = Vec::new();
    for target in targets {
        let url = match base_of(target.exchange)? {
            Base::Verbatim(url) => url,
            Base::Endpoint(base) => (target.exchange.new_source)().url_for(&base, target.kind),
        };
        let subscription = Subscription::new(
            target.exchange.id.clone(),
            target.symbol.as_str(),
            target.kind,
        );
        match planned
            .iter_mut()
            .find(|c| c.exchange.id == target.exchange.id && c.url == url)
        {
            Some(connection) => connection.subscriptions.push(subscription),
            None => planned.push(PlannedConnection {
                exchange: target.exchange,
                url,
                subscriptions: vec![subscription],
            }),
        }
    }
    Ok(planned)
}

/// `origin` (`ws://127.0.0.1:PORT`) with the path of `endpoint`: where a
/// simulator of that exchange is reached as if it were the exchange
/// (`wss://ws.bitmex.com/realtime` → `ws://127.0.0.1:PORT/realtime`).
pub fn rebase(endpoint: &str, origin: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    format!("{}{path}", origin.trim_end_matches('/'))
}

/// The `--url` values: a plain URL (one exchange only) or `EXCHANGE=URL`.
pub fn url_overrides(
    values: &[String],
    targets: &[Target],
) -> Result<Vec<(&'static ExchangeDescriptor, String)>, UsageError> {
    let mut overrides = Vec::new();
    for value in values {
        let named = value
            .split_once('=')
            .filter(|(id, _)| !id.contains(':') && !id.contains('/'))
            .and_then(|(id, url)| registry::find(id).map(|e| (e, url.to_owned())));
        let (exchange, url) = match named {
            Some(pair) => pair,
            None => match targets {
                [target, rest @ ..] if rest.iter().all(|t| t.exchange.id == target.exchange.id) => {
                    (target.exchange, value.clone())
                }
                _ => {
                    return Err(UsageError(
                        "with several exchanges, give --url EXCHANGE=URL for each".into(),
                    ));
                }
            },
        };
        overrides.push((exchange, url));
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn both_forms_of_targets() {
        let single = targets(&words("bitmex XBTUSD"), None).unwrap();
        assert_eq!(
            (single[0].exchange.id.as_str(), single[0].symbol.as_str()),
            ("bitmex", "XBTUSD")
        );
        assert_eq!(single[0].kind, QuoteKind::Fair);
        let multi = targets(&words("bitmex:XBTUSD binance:BTCUSDT"), None).unwrap();
        assert_eq!(multi.len(), 2);
        assert_eq!(
            multi[1].kind,
            QuoteKind::Mark,
            "each exchange's default kind"
        );
        let bids = targets(
            &words("bitmex:XBTUSD binance:BTCUSDT"),
            Some(QuoteKind::Bid),
        )
        .unwrap();
        assert!(bids.iter().all(|t| t.kind == QuoteKind::Bid));
        for bad in [
            "nasdaq:AAPL",
            "bitmex XBTUSD ETHUSD",
            "bitmex",
            "binance:btcusdt",
        ] {
            assert!(targets(&words(bad), None).is_err(), "{bad}");
        }
        let fair = targets(
            &words("bitmex:XBTUSD binance:BTCUSDT"),
            Some(QuoteKind::Fair),
        );
        assert!(fair.unwrap_err().0.contains("does not offer fair"));
    }

    #[test]
    fn one_connection_per_exchange_and_url() {
        let t = targets(&words("bitmex:XBTUSD bitmex:ETHUSD binance:BTCUSDT"), None).unwrap();
        let base =
            |e: &'static ExchangeDescriptor| Ok(Base::Endpoint(e.endpoints.production.into()));
        let planned = connections(&t, base).unwrap();
        let urls: Vec<(&str, usize)> = planned
            .iter()
            .map(|c| (c.url.as_str(), c.subscriptions.len()))
            .collect();
        assert_eq!(
            urls,
            [
                ("wss://ws.bitmex.com/realtime", 2),
                ("wss://fstream.binance.com/market/stream", 1)
            ]
        );
        let t = targets(
            &words("binance:BTCUSDT binance:ETHUSDT"),
            Some(QuoteKind::Bid),
        )
        .unwrap();
        let planned = connections(&t, |_| Ok(Base::Verbatim("ws://h/x".into()))).unwrap();
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].url, "ws://h/x");
    }

    #[test]
    fn simulators_are_reached_like_the_exchange() {
        assert_eq!(
            rebase("wss://ws.bitmex.com/realtime", "ws://127.0.0.1:9"),
            "ws://127.0.0.1:9/realtime"
        );
        assert_eq!(
            rebase("wss://fstream.binance.com", "ws://127.0.0.1:9/"),
            "ws://127.0.0.1:9"
        );
    }

    #[test]
    fn urls_by_exchange() {
        let t = targets(&words("bitmex:XBTUSD binance:BTCUSDT"), None).unwrap();
        let named = url_overrides(&words("binance=ws://a/ bitmex=ws://b/?x=1"), &t).unwrap();
        assert_eq!(named[0].0.id.as_str(), "binance");
        assert_eq!(named[1].1, "ws://b/?x=1");
        assert!(url_overrides(&words("ws://a/"), &t).is_err());
        let one = targets(&words("bitmex XBTUSD"), None).unwrap();
        assert_eq!(
            url_overrides(&words("ws://a/?subscribe=x"), &one).unwrap()[0].1,
            "ws://a/?subscribe=x"
        );
    }
}
