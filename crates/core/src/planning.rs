//! From what a user asks for to connections: targets
//! (`EXCHANGE SYMBOL`, `EXCHANGE:SYMBOL …`), where each exchange's
//! connections go ([`Base`]), and the [`Connection`]s to open. Pure logic,
//! checked before any I/O, shared by every program that collects
//! (`collector fetch`, `collector serve`, a recorder): the program only
//! supplies its registry and its choice of bases.

use crate::{ConnectionPlan, Error, Exchange, QuoteKind, Subscription};

/// One instrument to collect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its exchange.
    pub exchange: &'static dyn Exchange,
    /// The symbol as the exchange spells it.
    pub symbol: String,
    /// The kind of price.
    pub kind: QuoteKind,
}

impl Target {
    /// The subscription this target stands for.
    pub fn subscription(&self) -> Subscription {
        Subscription::new(self.exchange.id(), self.symbol.as_str(), self.kind)
    }
}

/// One connection to open: its exchange (which makes its sessions) and its plan.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The exchange.
    pub exchange: &'static dyn Exchange,
    /// Where to connect, what to send, how to keep it alive.
    pub plan: ConnectionPlan,
}

/// Where an exchange's connections go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// An endpoint (production, testnet or a simulator): each kind is
    /// routed by the exchange ([`Exchange::route`]).
    Endpoint(String),
    /// A URL given by the user: used as it is, for every kind.
    Verbatim(String),
}

/// The exchange of `registry` called `id` (case-insensitive).
pub fn find(registry: &[&'static dyn Exchange], id: &str) -> Option<&'static dyn Exchange> {
    registry
        .iter()
        .copied()
        .find(|e| e.id().as_str().eq_ignore_ascii_case(id))
}

fn exchange(registry: &[&'static dyn Exchange], id: &str) -> Result<&'static dyn Exchange, Error> {
    find(registry, id).ok_or_else(|| {
        let known: Vec<String> = registry.iter().map(|e| e.id().to_string()).collect();
        Error::Target(format!(
            "unknown exchange {id:?}; known exchanges: {}",
            known.join(", ")
        ))
    })
}

/// The targets of `words` (`EXCHANGE SYMBOL`, or one or more
/// `EXCHANGE:SYMBOL`), each with `kind` or its exchange's default kind;
/// refuses an unknown exchange, a kind an exchange does not offer and a
/// symbol it cannot be asked for. A target given twice counts once.
pub fn targets(
    registry: &[&'static dyn Exchange],
    words: &[String],
    kind: Option<QuoteKind>,
) -> Result<Vec<Target>, Error> {
    let pairs: Vec<(&str, &str)> = match words {
        [exchange, symbol] if !exchange.contains(':') && !symbol.contains(':') => {
            vec![(exchange.as_str(), symbol.as_str())]
        }
        _ => words
            .iter()
            .map(|word| {
                word.split_once(':').ok_or_else(|| {
                    Error::Target(format!(
                        "{word:?} is not EXCHANGE:SYMBOL (e.g. bitmex:XBTUSD); or give EXCHANGE SYMBOL"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut targets: Vec<Target> = Vec::new();
    for (id, symbol) in pairs {
        let exchange = exchange(registry, id)?;
        let kind = kind.unwrap_or(exchange.default_kind());
        if !exchange.kinds().contains(&kind) {
            let offered: Vec<&str> = exchange.kinds().iter().map(|k| k.as_str()).collect();
            return Err(Error::Target(format!(
                "{} does not offer {kind} quotes (it offers {})",
                exchange.name(),
                offered.join(", ")
            )));
        }
        let target = Target {
            exchange,
            symbol: symbol.to_owned(),
            kind,
        };
        exchange.check(&target.subscription())?;
        if !targets
            .iter()
            .any(|t| t.exchange.id() == exchange.id() && t.symbol == symbol)
        {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// The connections for `targets`, given each exchange's base: each
/// exchange's targets planned together ([`Exchange::plan`], or
/// [`Exchange::plan_at`] for a verbatim URL), exchanges in the order first
/// named.
pub fn connections<E: From<Error>>(
    targets: &[Target],
    base_of: impl Fn(&'static dyn Exchange) -> Result<Base, E>,
) -> Result<Vec<Connection>, E> {
    let mut exchanges: Vec<(&'static dyn Exchange, Vec<Subscription>)> = Vec::new();
    for target in targets {
        let subscription = target.subscription();
        match exchanges
            .iter_mut()
            .find(|(e, _)| e.id() == target.exchange.id())
        {
            Some((_, subs)) => subs.push(subscription),
            None => exchanges.push((target.exchange, vec![subscription])),
        }
    }
    let mut connections = Vec::new();
    for (exchange, subscriptions) in exchanges {
        let plans = match base_of(exchange)? {
            Base::Endpoint(base) => exchange.plan(&base, &subscriptions)?,
            Base::Verbatim(url) => exchange.plan_at(&url, &subscriptions)?,
        };
        connections.extend(plans.into_iter().map(|plan| Connection { exchange, plan }));
    }
    Ok(connections)
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

/// The `--url` values: a plain URL (when every target is of one exchange)
/// or `EXCHANGE=URL`.
pub fn url_overrides(
    registry: &[&'static dyn Exchange],
    values: &[String],
    targets: &[Target],
) -> Result<Vec<(&'static dyn Exchange, String)>, Error> {
    let mut overrides = Vec::new();
    for value in values {
        let named = value
            .split_once('=')
            .filter(|(id, _)| !id.contains(':') && !id.contains('/'))
            .and_then(|(id, url)| find(registry, id).map(|e| (e, url.to_owned())));
        let (exchange, url) = match named {
            Some(pair) => pair,
            None => match targets {
                [target, rest @ ..]
                    if rest.iter().all(|t| t.exchange.id() == target.exchange.id()) =>
                {
                    (target.exchange, value.clone())
                }
                _ => {
                    return Err(Error::Target(
                        "with several exchanges, give --url EXCHANGE=URL for each".into(),
                    ));
                }
            },
        };
        if url.trim().is_empty() {
            // Found by the cli_targets fuzz target: `--url ""` made a plan
            // with no URL, refused only when connecting.
            return Err(Error::Target(format!(
                "--url {value:?} gives no URL; use ws://HOST[:PORT]/PATH or wss://…"
            )));
        }
        overrides.push((exchange, url));
    }
    Ok(overrides)
}
