//! The static side of an exchange: [`Exchange`], and how subscriptions
//! become [`ConnectionPlan`]s.
//!
//! An exchange is a value (`&'static dyn Exchange`) that answers questions
//! without any connection: its name, endpoints and kinds, how it names a
//! topic and writes a subscribe request, where each kind is served, its
//! heartbeat and connection age. Everything that follows from those answers
//! is done here, once, for every exchange: checking subscriptions, removing
//! duplicates, spreading topics over requests and connections
//! ([`plan`](trait.Exchange.html#method.plan)). What happens on one
//! connection is a [`Session`]'s job, made fresh for each connection.
//!
//! ```text
//!  Exchange ──plan(base, subscriptions)──▶ [ConnectionPlan]   (pure, before any I/O)
//!     │                                        │ url, subscribe messages,
//!     │                                        │ heartbeat, maximum age
//!     └──new_session()──▶ Session ◀── one per connection, dropped with it
//! ```

use crate::{
    Endpoints, Error, ExchangeId, HeartbeatPolicy, Outgoing, QuoteKind, Session, Subscription,
    Venue, VenueConfig,
};
use std::time::Duration;

/// Which symbols an exchange can be asked for. The symbol goes into a
/// message mercury sends, so anything outside the exchange's plain
/// alphabet is refused before it is sent.
#[derive(Debug, Clone, Copy)]
pub struct SymbolRule {
    /// The longest symbol accepted.
    pub max_len: usize,
    /// Whether a byte may appear in a symbol.
    pub allowed: fn(u8) -> bool,
    /// The alphabet in words, for error messages, e.g.
    /// `upper-case letters, digits and '_', e.g. BTCUSDT`.
    pub described: &'static str,
}

impl SymbolRule {
    /// Whether `symbol` is non-empty, short enough and of allowed bytes.
    pub fn accepts(&self, symbol: &str) -> bool {
        !symbol.is_empty() && symbol.len() <= self.max_len && symbol.bytes().all(self.allowed)
    }
}

/// How many topics an exchange takes per subscribe request and per
/// connection; more topics make more requests, then more connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeLimits {
    /// Topics in one subscribe request.
    pub per_request: usize,
    /// Topics on one connection.
    pub per_connection: usize,
}

/// What an exchange allows one IP address in all, across connections
/// (Hyperliquid: 100 connections, 1 000 subscriptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLimits {
    /// Connections open at once.
    pub connections: usize,
    /// Topics subscribed at once.
    pub topics: usize,
}

/// One connection to open: where, what to send once connected, and how to
/// keep it honest. Made by [`Exchange::plan`](trait.Exchange.html#method.plan)
/// or [`ConnectionPlan::new`], before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPlan {
    /// The exchange.
    pub exchange: ExchangeId,
    /// The WebSocket URL.
    pub url: String,
    /// What the connection serves (only quotes matching one of these are
    /// wanted; empty: everything).
    pub subscriptions: Vec<Subscription>,
    /// What to send first on a fresh connection, before the subscribe
    /// requests, in order ([`Exchange::opening_messages`]; Deribit:
    /// `public/set_heartbeat`).
    pub open: Vec<Outgoing>,
    /// The requests that subscribe a fresh connection, in order.
    pub subscribe: Vec<Outgoing>,
    /// How to notice that the connection is dead.
    pub heartbeat: HeartbeatPolicy,
    /// Renew the connection before this age (the exchange closes older ones).
    pub max_age: Option<Duration>,
}

/// The data side of an [`Exchange`]: what it is, independent of any
/// connection and of any code. Each exchange crate writes one as a
/// `static` and answers [`Exchange::info`] with it.
#[derive(Debug, Clone)]
pub struct ExchangeInfo {
    /// The identifier used on the command line, e.g. `bitmex`.
    pub id: ExchangeId,
    /// The display name, e.g. `BitMEX`.
    pub name: &'static str,
    /// The default endpoints (production, testnet).
    pub endpoints: Endpoints,
    /// The kinds of quote offered.
    pub kinds: &'static [QuoteKind],
    /// The kind a fetch uses when none is asked for (one of `kinds`).
    pub default_kind: QuoteKind,
    /// Which symbols can be asked for.
    pub symbols: SymbolRule,
    /// Topics per request and per connection.
    pub limits: SubscribeLimits,
}

/// The static description of an exchange: everything that does not depend
/// on a connection. Object-safe; each exchange crate exports one as a
/// `static`, and a program keeps a list of `&'static dyn Exchange`.
pub trait Exchange: std::fmt::Debug + Send + Sync + 'static {
    /// What the exchange is, as data: identifier, name, endpoints, kinds,
    /// symbol alphabet and subscribe limits. The methods below answer
    /// from it; an exchange crate writes one [`ExchangeInfo`] `static`.
    fn info(&self) -> &'static ExchangeInfo;

    /// The identifier used on the command line, e.g. `bitmex`.
    fn id(&self) -> ExchangeId {
        self.info().id.clone()
    }

    /// The display name, e.g. `BitMEX`.
    fn name(&self) -> &'static str {
        self.info().name
    }

    /// The default endpoints. A driver may always be given another URL.
    fn endpoints(&self) -> Endpoints {
        self.info().endpoints
    }

    /// The kinds of quote offered.
    fn kinds(&self) -> &'static [QuoteKind] {
        self.info().kinds
    }

    /// The kind a fetch uses when none is asked for.
    fn default_kind(&self) -> QuoteKind {
        self.info().default_kind
    }

    /// Which symbols can be asked for.
    fn symbols(&self) -> SymbolRule {
        self.info().symbols
    }

    /// Topics per request and per connection.
    fn limits(&self) -> SubscribeLimits {
        self.info().limits
    }

    /// The exchange's name for the topic that carries `kind` of `symbol`
    /// (already checked against [`symbols`](Self::symbols) and
    /// [`kinds`](Self::kinds)), e.g. `instrument:XBTUSD`, `btcusdt@bookTicker`.
    fn topic(&self, symbol: &str, kind: QuoteKind) -> String;

    /// The request that subscribes to `topics` (never more than
    /// [`SubscribeLimits::per_request`]); `request` numbers the requests
    /// of a connection from 1.
    fn subscribe_message(&self, topics: &[String], request: u64) -> Outgoing;

    /// The URL that serves `kind`, given an endpoint `base` (production,
    /// testnet, or a simulator's URL built the same way). Most exchanges
    /// serve every kind at `base`; Binance serves mark prices at
    /// `base/market/stream` and the book at `base/public/stream`.
    fn route(&self, base: &str, kind: QuoteKind) -> String {
        let _ = kind;
        base.to_owned()
    }

    /// How to detect a dead link.
    fn heartbeat(&self) -> HeartbeatPolicy;

    /// What a fresh connection sends first, before its subscribe requests
    /// (Deribit: `public/set_heartbeat`, which makes the server send
    /// `test_request`s the session answers). Most exchanges need nothing.
    fn opening_messages(&self) -> Vec<Outgoing> {
        Vec::new()
    }

    /// How long the exchange keeps one connection at most (Binance: 24 h).
    fn max_connection_age(&self) -> Option<Duration> {
        None
    }

    /// What the exchange allows one IP address in all; a plan beyond it is
    /// refused before any connection opens, not discovered by being cut
    /// off. `None` (the default): no such limit is known.
    fn per_ip(&self) -> Option<IpLimits> {
        None
    }

    /// Send the [`heartbeat`](Self::heartbeat)'s ping at least this often,
    /// even while data flows, for an exchange that wants to hear from the
    /// client (Kraken Futures: "a ping request at least every 60
    /// seconds"). `None`, the default: ping only after the heartbeat's
    /// idle time.
    fn keepalive(&self) -> Option<Duration> {
        None
    }

    /// A session for one new connection, in its initial state.
    fn new_session(&self) -> Box<dyn Session>;

    /// The simulated venue for one connection, where the exchange has one.
    fn new_venue(&self, config: &VenueConfig) -> Option<Box<dyn Venue>> {
        let _ = config;
        None
    }

    /// A real session of this exchange in mercury's raw capture format
    /// (the lines of `collector record`'s raw files, plain JSON Lines),
    /// embedded in the binary: what `collector sim EXCHANGE --replay`
    /// serves, the same way `--replay-file` serves a user's own capture.
    fn embedded_capture(&self) -> Option<&'static str> {
        None
    }

    // What follows is the same for every exchange: do not override.

    /// The topic of `subscription`, after checking that it is this
    /// exchange's, of an offered kind and of a symbol [`symbols`](Self::symbols)
    /// accepts.
    fn check(&self, subscription: &Subscription) -> Result<String, Error> {
        check(self, subscription)
    }

    /// The connections that serve `subscriptions` from the endpoint
    /// `base`: one per URL the kinds are [`route`](Self::route)d to (more
    /// if the topics exceed [`SubscribeLimits::per_connection`]), each
    /// topic once, in the order first asked for, at most
    /// [`SubscribeLimits::per_request`] per request. Fails, before any
    /// I/O, on the first subscription the exchange cannot serve.
    fn plan(
        &self,
        base: &str,
        subscriptions: &[Subscription],
    ) -> Result<Vec<ConnectionPlan>, Error> {
        plan(self, base, subscriptions)
    }

    /// Like [`plan`](Self::plan), but every connection goes to exactly
    /// `url` (a URL given by the user: no routing). No subscriptions: one
    /// connection that subscribes to nothing.
    fn plan_at(
        &self,
        url: &str,
        subscriptions: &[Subscription],
    ) -> Result<Vec<ConnectionPlan>, Error> {
        plan_at(self, url, subscriptions)
    }
}

/// See [`Exchange::check`].
fn check<E: Exchange + ?Sized>(this: &E, subscription: &Subscription) -> Result<String, Error> {
    let name = this.name();
    if subscription.exchange != this.id() {
        return Err(Error::InvalidSubscription(format!(
            "{subscription} is not a {name} subscription"
        )));
    }
    if !this.kinds().contains(&subscription.kind) {
        return Err(Error::InvalidSubscription(format!(
            "{name} does not offer {} quotes (it offers {})",
            subscription.kind,
            this.kinds()
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let symbol = subscription.symbol.as_str();
    let rule = this.symbols();
    if !rule.accepts(symbol) {
        return Err(Error::InvalidSubscription(format!(
            "{:?} is not a {name} symbol ({}; at most {} characters)",
            crate::excerpt(symbol),
            rule.described,
            rule.max_len
        )));
    }
    Ok(this.topic(symbol, subscription.kind))
}

/// See [`Exchange::plan`].
fn plan<E: Exchange + ?Sized>(
    this: &E,
    base: &str,
    subscriptions: &[Subscription],
) -> Result<Vec<ConnectionPlan>, Error> {
    let mut routes: Vec<(String, Vec<Subscription>)> = Vec::new();
    for subscription in subscriptions {
        check(this, subscription)?;
        let url = this.route(base, subscription.kind);
        match routes.iter_mut().find(|(u, _)| *u == url) {
            Some((_, subs)) => subs.push(subscription.clone()),
            None => routes.push((url, vec![subscription.clone()])),
        }
    }
    let mut plans = Vec::new();
    for (url, subscriptions) in routes {
        plans.extend(plan_at(this, &url, &subscriptions)?);
    }
    let topics: std::collections::BTreeSet<String> = subscriptions
        .iter()
        .map(|s| check(this, s))
        .collect::<Result<_, _>>()?;
    within_ip_limits(this, topics.len(), plans.len())?;
    Ok(plans)
}

/// Refuses `topics` on `connections` beyond [`Exchange::per_ip`].
fn within_ip_limits<E: Exchange + ?Sized>(
    this: &E,
    topics: usize,
    connections: usize,
) -> Result<(), Error> {
    match this.per_ip() {
        Some(ip) if topics > ip.topics || connections > ip.connections => {
            Err(Error::InvalidSubscription(format!(
                "{} allows one IP address {} topics on {} connections at most; this asks for {topics} on {connections}",
                this.name(),
                ip.topics,
                ip.connections
            )))
        }
        _ => Ok(()),
    }
}

/// See [`Exchange::plan_at`].
fn plan_at<E: Exchange + ?Sized>(
    this: &E,
    url: &str,
    subscriptions: &[Subscription],
) -> Result<Vec<ConnectionPlan>, Error> {
    let limits = this.limits();
    // Each topic once, in the order first asked for, with the
    // subscriptions it serves.
    let mut topics: Vec<(String, Vec<Subscription>)> = Vec::new();
    for subscription in subscriptions {
        let topic = check(this, subscription)?;
        match topics.iter_mut().find(|(t, _)| *t == topic) {
            Some((_, subs)) => {
                if !subs.contains(subscription) {
                    subs.push(subscription.clone());
                }
            }
            None => topics.push((topic, vec![subscription.clone()])),
        }
    }
    let plan = |chunk: &[(String, Vec<Subscription>)]| {
        let names: Vec<String> = chunk.iter().map(|(t, _)| t.clone()).collect();
        ConnectionPlan {
            exchange: this.id(),
            url: url.to_owned(),
            subscriptions: chunk.iter().flat_map(|(_, s)| s.iter().cloned()).collect(),
            open: this.opening_messages(),
            subscribe: names
                .chunks(limits.per_request.max(1))
                .zip(1u64..)
                .map(|(topics, request)| this.subscribe_message(topics, request))
                .collect(),
            heartbeat: this.heartbeat(),
            max_age: this.max_connection_age(),
        }
    };
    if topics.is_empty() {
        return Ok(vec![plan(&[])]);
    }
    let plans: Vec<ConnectionPlan> = topics
        .chunks(limits.per_connection.max(1))
        .map(plan)
        .collect();
    within_ip_limits(this, topics.len(), plans.len())?;
    Ok(plans)
}

impl ConnectionPlan {
    /// The one connection of `exchange` at exactly `url` for
    /// `subscriptions`; an error if they are refused or need more than one
    /// connection.
    pub fn new<E: Exchange + ?Sized>(
        exchange: &E,
        url: &str,
        subscriptions: &[Subscription],
    ) -> Result<ConnectionPlan, Error> {
        let mut plans = exchange.plan_at(url, subscriptions)?;
        if plans.len() > 1 {
            return Err(Error::InvalidSubscription(format!(
                "{} topics need {} connections",
                exchange.name(),
                plans.len()
            )));
        }
        Ok(plans.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeError, Emitter, Timestamp, WireFrame};

    /// Mark prices at `/mark`, the book at `/book`; 2 topics a request, 3
    /// a connection.
    #[derive(Debug)]
    struct Two;

    struct Nothing;

    impl Session for Nothing {
        fn decode(
            &mut self,
            _: WireFrame<'_>,
            _: Timestamp,
            _: &mut Emitter<'_>,
        ) -> Result<(), DecodeError> {
            Ok(())
        }
    }

    static TWO: ExchangeInfo = ExchangeInfo {
        id: ExchangeId::from_static("two"),
        name: "Two",
        endpoints: Endpoints {
            production: "wss://two.invalid",
            testnet: None,
        },
        kinds: &[QuoteKind::Mark, QuoteKind::Bid],
        default_kind: QuoteKind::Mark,
        symbols: SymbolRule {
            max_len: 8,
            allowed: |b| b.is_ascii_uppercase(),
            described: "upper-case letters",
        },
        limits: SubscribeLimits {
            per_request: 2,
            per_connection: 3,
        },
    };

    impl Exchange for Two {
        fn info(&self) -> &'static ExchangeInfo {
            &TWO
        }

        fn topic(&self, symbol: &str, kind: QuoteKind) -> String {
            format!("{symbol}.{kind}")
        }
        fn subscribe_message(&self, topics: &[String], request: u64) -> Outgoing {
            Outgoing::Text(format!("{request}:{}", topics.join(",")))
        }
        fn route(&self, base: &str, kind: QuoteKind) -> String {
            match kind {
                QuoteKind::Mark => format!("{base}/mark"),
                _ => format!("{base}/book"),
            }
        }
        fn heartbeat(&self) -> HeartbeatPolicy {
            HeartbeatPolicy {
                idle: Duration::from_secs(5),
                ping: Outgoing::Text("ping".into()),
                pong_deadline: Duration::from_secs(5),
            }
        }
        fn new_session(&self) -> Box<dyn Session> {
            Box::new(Nothing)
        }
    }

    fn sub(symbol: &str, kind: QuoteKind) -> Subscription {
        Subscription::new(ExchangeId::from_static("two"), symbol, kind)
    }

    fn texts(plan: &ConnectionPlan) -> Vec<&str> {
        plan.subscribe
            .iter()
            .filter_map(Outgoing::as_text)
            .collect()
    }

    #[test]
    fn routes_make_plans_and_limits_make_requests_and_connections() {
        let subs: Vec<Subscription> = ["A", "B", "C", "D", "A"]
            .iter()
            .map(|s| sub(s, QuoteKind::Mark))
            .chain([sub("A", QuoteKind::Bid)])
            .collect();
        let plans = Two.plan("ws://h", &subs).unwrap();
        let summary: Vec<(&str, Vec<&str>)> =
            plans.iter().map(|p| (p.url.as_str(), texts(p))).collect();
        assert_eq!(
            summary,
            [
                ("ws://h/mark", vec!["1:A.mark,B.mark", "2:C.mark"]),
                ("ws://h/mark", vec!["1:D.mark"]),
                ("ws://h/book", vec!["1:A.bid"]),
            ]
        );
        assert_eq!(plans[0].subscriptions.len(), 3, "the duplicate A once");
        assert!(plans.iter().all(|p| p.heartbeat == Two.heartbeat()));
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let refused = |s: Subscription| Two.plan("ws://h", &[s]).unwrap_err().to_string();
        assert!(refused(sub("A", QuoteKind::Fair)).contains("does not offer fair"));
        assert!(refused(sub("a\u{1b}", QuoteKind::Mark)).contains("\\u{1b}"));
        let foreign = Subscription::new(ExchangeId::from_static("x"), "A", QuoteKind::Mark);
        assert!(refused(foreign).contains("not a Two subscription"));
    }

    #[test]
    fn one_connection_at_a_given_url() {
        let plan = ConnectionPlan::new(&Two, "ws://given", &[]).unwrap();
        assert_eq!((plan.url.as_str(), plan.subscribe.len()), ("ws://given", 0));
        let subs: Vec<Subscription> = ["A", "B", "C", "D"]
            .iter()
            .map(|s| sub(s, QuoteKind::Bid))
            .collect();
        assert!(ConnectionPlan::new(&Two, "ws://given", &subs).is_err());
        assert_eq!(Two.plan_at("ws://given", &subs).unwrap().len(), 2);
    }
}
