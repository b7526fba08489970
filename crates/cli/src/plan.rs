//! From the command line's targets to connections, with this program's
//! registry. The planning itself is library code
//! ([`mercury_core::planning`]), shared with any other program that
//! collects; this module only binds it to [`registry::EXCHANGES`] and
//! turns its errors into usage errors (exit code 2).
//!
//! A target is `EXCHANGE SYMBOL` (the single-exchange form) or one or more
//! `EXCHANGE:SYMBOL`. Each exchange plans its connections: one per URL its
//! kinds are routed to ([`Exchange::route`]).

use crate::{UsageError, registry};
use mercury_core::{Exchange, QuoteKind};

pub use mercury_core::planning::{Base, Connection, Target, connections, rebase};

impl From<mercury_core::Error> for UsageError {
    fn from(error: mercury_core::Error) -> Self {
        UsageError(error.to_string())
    }
}

/// The targets of `words`, each with `kind` or its exchange's default
/// kind; refuses a kind an exchange does not offer and a symbol it cannot
/// be asked for.
pub fn targets(words: &[String], kind: Option<QuoteKind>) -> Result<Vec<Target>, UsageError> {
    Ok(mercury_core::planning::targets(
        registry::EXCHANGES,
        words,
        kind,
    )?)
}

/// The `--url` values: a plain URL (one exchange only) or `EXCHANGE=URL`.
pub fn url_overrides(
    values: &[String],
    targets: &[Target],
) -> Result<Vec<(&'static dyn Exchange, String)>, UsageError> {
    Ok(mercury_core::planning::url_overrides(
        registry::EXCHANGES,
        values,
        targets,
    )?)
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
            (single[0].exchange.id().as_str(), single[0].symbol.as_str()),
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
        let base = |e: &'static dyn Exchange| {
            Ok::<_, UsageError>(Base::Endpoint(e.endpoints().production.into()))
        };
        let planned = connections(&t, base).unwrap();
        let urls: Vec<(&str, usize)> = planned
            .iter()
            .map(|c| (c.plan.url.as_str(), c.plan.subscriptions.len()))
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
        let planned = connections(&t, |_| {
            Ok::<_, UsageError>(Base::Verbatim("ws://h/x".into()))
        })
        .unwrap();
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].plan.url, "ws://h/x");
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
        assert_eq!(named[0].0.id().as_str(), "binance");
        assert_eq!(named[1].1, "ws://b/?x=1");
        assert!(url_overrides(&words("ws://a/"), &t).is_err());
        let one = targets(&words("bitmex XBTUSD"), None).unwrap();
        assert_eq!(
            url_overrides(&words("ws://a/?subscribe=x"), &one).unwrap()[0].1,
            "ws://a/?subscribe=x"
        );
    }

    /// Found by the `cli_targets` fuzz target (`fetch bitmex XBTUSD --url `):
    /// an empty URL made a plan with no URL, refused only when connecting.
    #[test]
    fn an_empty_url_is_a_usage_error() {
        let one = targets(&words("bitmex XBTUSD"), None).unwrap();
        for empty in ["", " ", "bitmex="] {
            let error = url_overrides(&[empty.to_owned()], &one).unwrap_err();
            assert!(error.to_string().contains("gives no URL"), "{error}");
        }
    }
}
