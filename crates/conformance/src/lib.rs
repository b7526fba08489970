//! # mercury-conformance
//!
//! The checks every [`Exchange`] and its [`Session`](mercury_core::Session)s
//! must pass, so that adding an exchange is a matter of its own crate and
//! one registry line, and "it works" means the same thing for every
//! exchange. An exchange crate runs the whole kit from one test:
//!
//! ```text
//! #[test]
//! fn binance_conforms() {
//!     Kit::new(&Binance, "BTCUSDT")
//!         .fixture(Fixture::from_jsonl("tests/fixtures/x.jsonl"))
//!         .expect("x.jsonl", "BTCUSDT", QuoteKind::Mark, prices)
//!         .run();
//! }
//! ```
//!
//! What it checks (each is also a public method, for a focused test):
//! - [`Kit::check_exchange`]: the static description is coherent (name,
//!   `wss://` endpoints, default kind offered, limits).
//! - [`Kit::check_fixtures`]: real recorded frames decode, and give exactly
//!   the expected prices per symbol and kind, in order.
//! - [`Kit::check_hostile_input`]: empty, binary, truncated, mutated,
//!   garbage, deeply nested and huge frames give an error or nothing, never
//!   a panic, and an error appends nothing.
//! - [`Kit::check_sessions`]: a fresh session per connection gives the same
//!   events for the same frames, `conn_seq` from 1 without gaps, also
//!   across frames that fail (the emitter's commit rule).
//! - [`Kit::check_subscriptions`]: every offered kind plans; foreign
//!   exchanges, unoffered kinds and unsafe symbols are refused; duplicates
//!   are sent once; topics are spread over requests and connections by the
//!   exchange's limits; each kind goes to its route.
//! - [`Kit::check_heartbeat`]: the policy is within sane bounds and is the
//!   plans'.
//! - [`Kit::check_venue`]: the exchange's simulated venue accepts the
//!   planned subscribe messages and heartbeat, what it sends decodes to
//!   quotes of every kind, its padded frames decode the same, and its
//!   rate-limit frame reads back as a retryable error with its wait.
//! - [`Kit::check_heartbeat_answers`]: a venue that closes a client which
//!   leaves its heartbeat requests unanswered (Deribit) keeps one whose
//!   session answers them with [`Emitter::reply`](mercury_core::Emitter::reply).
//!
//! This is test support: failures panic with a message naming the check.
#![deny(missing_docs)]
#![allow(clippy::panic, clippy::expect_used)] // a failed check is a failed test

mod heartbeats;
mod hostile;

use mercury_core::{
    Control, Decoder, Exchange, Outgoing, Price, QuoteKind, SourceEvent, Subscription, Timestamp,
    VenueConfig, VenueFault, WireFrame,
};
use std::path::Path;
use std::time::Duration;

/// The receive time the kit hands the source.
const NOW: Timestamp = Timestamp::from_unix_nanos(1_795_500_000_000_000_000);
/// Venue events run in the venue check.
const VENUE_EVENTS: usize = 40;
/// The wait asked for by the venue's rate-limit frame in the venue check.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(2);
/// Padding added to image frames in the venue check.
const PADDING: usize = 1 << 16;
/// The endpoint plans are made from in the subscription check.
const BASE: &str = "wss://example.invalid/base";

/// Real recorded frames of one connection, in order.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// A name for messages (the file name).
    pub name: String,
    /// The frames.
    pub frames: Vec<String>,
}

impl Fixture {
    /// Reads a JSON Lines file: one frame per non-blank line.
    pub fn from_jsonl(path: impl AsRef<Path>) -> Fixture {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
        Fixture {
            name: path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            frames: text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl Fixture {
    /// Every `*.jsonl` file in `dir`, sorted by name, except those whose
    /// name contains one of `except` (client requests are not frames a
    /// client receives).
    pub fn all_in(dir: impl AsRef<Path>, except: &[&str]) -> Vec<Fixture> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list fixtures in {}: {e}", dir.display()));
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
            .filter(|path| {
                let name = path.to_string_lossy();
                !except.iter().any(|skip| name.contains(skip))
            })
            .collect();
        files.sort();
        files.into_iter().map(Fixture::from_jsonl).collect()
    }
}

/// The prices of one symbol and kind a fixture must give, in order.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The fixture's name.
    pub fixture: String,
    /// The symbol.
    pub symbol: String,
    /// The kind.
    pub kind: QuoteKind,
    /// The prices, in order.
    pub prices: Vec<Price>,
}

/// What an oracle reads from a fixture: for each symbol and kind, the
/// prices in order.
pub type Oracle = std::collections::BTreeMap<(String, QuoteKind), Vec<Price>>;

/// The kit for one exchange; see the crate docs.
#[derive(Clone)]
pub struct Kit {
    exchange: &'static dyn Exchange,
    symbol: String,
    fixtures: Vec<Fixture>,
    expected: Vec<Expectation>,
}

impl std::fmt::Debug for Kit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kit")
            .field("exchange", &self.exchange.id())
            .field("symbol", &self.symbol)
            .field("fixtures", &self.fixtures.len())
            .finish_non_exhaustive()
    }
}

impl Kit {
    /// A kit for `exchange`; `symbol` is a listed instrument used for the
    /// subscription and venue checks.
    pub fn new(exchange: &'static dyn Exchange, symbol: &str) -> Kit {
        Kit {
            exchange,
            symbol: symbol.to_owned(),
            fixtures: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// Adds real recorded frames.
    pub fn fixture(mut self, fixture: Fixture) -> Kit {
        self.fixtures.push(fixture);
        self
    }

    /// Expects `fixture` to give exactly `prices` for `symbol` and `kind`.
    pub fn expect(
        mut self,
        fixture: &str,
        symbol: &str,
        kind: QuoteKind,
        prices: Vec<Price>,
    ) -> Kit {
        self.expected.push(Expectation {
            fixture: fixture.to_owned(),
            symbol: symbol.to_owned(),
            kind,
            prices,
        });
        self
    }

    /// Adds `fixtures`, each expected to give what `oracle` reads from it
    /// (prices per symbol and kind, in order); returns how many prices
    /// that is, so a test can insist the fixtures are not thin.
    pub fn fixtures_with(
        &mut self,
        fixtures: Vec<Fixture>,
        oracle: impl Fn(&Fixture) -> Oracle,
    ) -> usize {
        let mut prices = 0;
        for fixture in fixtures {
            for ((symbol, kind), expected) in oracle(&fixture) {
                prices += expected.len();
                self.expected.push(Expectation {
                    fixture: fixture.name.clone(),
                    symbol,
                    kind,
                    prices: expected,
                });
            }
            self.fixtures.push(fixture);
        }
        prices
    }

    /// Runs every check.
    pub fn run(&self) {
        assert!(!self.fixtures.is_empty(), "conformance: no fixtures given");
        assert!(
            !self.expected.is_empty(),
            "conformance: no expectations given"
        );
        self.check_exchange();
        self.check_fixtures();
        self.check_hostile_input();
        self.check_sessions();
        self.check_subscriptions();
        self.check_heartbeat();
        self.check_venue();
        self.check_heartbeat_answers();
    }

    /// A venue that closes clients leaving its heartbeat requests
    /// unanswered (Deribit's `test_request`) keeps a client whose session
    /// answers them ([`Emitter::reply`](mercury_core::Emitter::reply));
    /// returns how many replies the session sent.
    pub fn check_heartbeat_answers(&self) -> usize {
        heartbeats::check(self.exchange, &self.symbol)
    }

    fn id(&self) -> String {
        self.exchange.id().to_string()
    }

    fn sub(&self, symbol: &str, kind: QuoteKind) -> Subscription {
        Subscription::new(self.exchange.id(), symbol, kind)
    }

    /// The static description is coherent.
    pub fn check_exchange(&self) {
        let e = self.exchange;
        assert!(
            e.kinds().contains(&e.default_kind()),
            "{}: default kind not offered",
            self.id()
        );
        assert!(!e.name().is_empty(), "{}: no display name", self.id());
        let endpoints = e.endpoints();
        for url in std::iter::once(endpoints.production).chain(endpoints.testnet) {
            assert!(
                url.starts_with("wss://"),
                "{}: endpoint {url} is not wss://",
                self.id()
            );
        }
        let limits = e.limits();
        assert!(
            limits.per_request >= 1 && limits.per_connection >= limits.per_request,
            "{}: limits {limits:?}",
            self.id()
        );
        assert!(
            e.symbols().accepts(&self.symbol),
            "{}: the kit's symbol {} is refused",
            self.id(),
            self.symbol
        );
    }

    /// Every fixture frame decodes; each expectation is met exactly.
    pub fn check_fixtures(&self) {
        for fixture in &self.fixtures {
            let events = decode_all(
                self.exchange,
                &mut Decoder::new(self.exchange),
                &fixture.frames,
            );
            for expectation in self.expected.iter().filter(|e| e.fixture == fixture.name) {
                let got: Vec<Price> = events
                    .iter()
                    .filter_map(|e| match e {
                        SourceEvent::Quote(q)
                            if q.kind == expectation.kind
                                && q.symbol.as_str() == expectation.symbol =>
                        {
                            Some(q.price)
                        }
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    got,
                    expectation.prices,
                    "{}: {} {} {} prices",
                    self.id(),
                    fixture.name,
                    expectation.symbol,
                    expectation.kind
                );
            }
        }
        for expectation in &self.expected {
            assert!(
                self.fixtures.iter().any(|f| f.name == expectation.fixture),
                "{}: expectation for unknown fixture {}",
                self.id(),
                expectation.fixture
            );
        }
    }

    /// Hostile input never panics and an error appends nothing.
    pub fn check_hostile_input(&self) {
        let frames: Vec<&str> = self
            .fixtures
            .iter()
            .flat_map(|f| f.frames.iter().map(String::as_str))
            .collect();
        hostile::check(self.exchange, &frames);
    }

    /// A new connection is a new session: the same frames give the same
    /// events on every connection, whatever the one before saw, and quotes
    /// are numbered 1, 2, 3, … on each, also across frames that fail.
    pub fn check_sessions(&self) {
        for fixture in &self.fixtures {
            let first = decode_all(
                self.exchange,
                &mut Decoder::new(self.exchange),
                &fixture.frames,
            );
            let again = decode_all(
                self.exchange,
                &mut Decoder::new(self.exchange),
                &fixture.frames,
            );
            assert_eq!(
                first,
                again,
                "{}: {} on a second connection",
                self.id(),
                fixture.name
            );
            assert_numbered(&self.id(), &fixture.name, &first);
            // The same frames with a failing frame between each: the
            // failures leave no event and no hole in the numbering.
            let mut decoder = Decoder::new(self.exchange);
            let mut events = Vec::new();
            for frame in &fixture.frames {
                let _ = decoder.decode(WireFrame::Text(frame), NOW, &mut events);
                let mut half = frame.len() / 2;
                while !frame.is_char_boundary(half) {
                    half -= 1;
                }
                let cut = &frame[..half];
                let _ = decoder.decode(WireFrame::Text(cut), NOW, &mut events);
            }
            assert_numbered(&self.id(), &fixture.name, &events);
        }
    }

    /// Every offered kind plans; bad subscriptions are refused;
    /// duplicates are sent once; topics are spread by the limits; each
    /// kind goes to its route.
    pub fn check_subscriptions(&self) {
        let e = self.exchange;
        for &kind in e.kinds() {
            let plans = e
                .plan(BASE, &[self.sub(&self.symbol, kind)])
                .unwrap_or_else(|err| panic!("{}: cannot subscribe to {kind}: {err}", self.id()));
            assert_eq!(
                plans.len(),
                1,
                "{}: one {kind} subscription, one connection",
                self.id()
            );
            let plan = &plans[0];
            assert_eq!(
                plan.url,
                e.route(BASE, kind),
                "{}: {kind} routed",
                self.id()
            );
            assert_eq!(
                plan.subscriptions,
                [self.sub(&self.symbol, kind)],
                "{}: plan of {kind}",
                self.id()
            );
            assert_eq!(
                plan.subscribe.len(),
                1,
                "{}: requests for {kind}",
                self.id()
            );
            for message in &plan.subscribe {
                let text = message.as_text().unwrap_or_default();
                assert!(
                    !text.is_empty() && text.len() <= 4096,
                    "{}: subscribe message {message:?}",
                    self.id()
                );
            }
            let twice = e
                .plan(
                    BASE,
                    &[self.sub(&self.symbol, kind), self.sub(&self.symbol, kind)],
                )
                .expect("subscribes");
            assert_eq!(twice, plans, "{}: a duplicate is sent once", self.id());
        }
        let foreign = Subscription::new(
            mercury_core::ExchangeId::from_static("not-this-exchange"),
            self.symbol.as_str(),
            e.default_kind(),
        );
        assert!(
            e.plan(BASE, &[foreign]).is_err(),
            "{}: foreign exchange",
            self.id()
        );
        for kind in QuoteKind::ALL
            .into_iter()
            .filter(|k| !e.kinds().contains(k))
        {
            assert!(
                e.plan(BASE, &[self.sub(&self.symbol, kind)]).is_err(),
                "{}: {kind} is not offered but subscribes",
                self.id()
            );
        }
        for unsafe_symbol in ["", "A\"B", "A B", "A/B", "A,B", "A\\B", "A\nB"] {
            let result = e.plan(BASE, &[self.sub(unsafe_symbol, e.default_kind())]);
            assert!(
                result.is_err(),
                "{}: symbol {unsafe_symbol:?} accepted",
                self.id()
            );
        }
        self.check_chunking();
    }

    /// Many topics of one kind: requests of at most `per_request` topics,
    /// connections of at most `per_connection`; past `per_ip`, refused.
    fn check_chunking(&self) {
        let e = self.exchange;
        let limits = e.limits();
        let kind = e.default_kind();
        let n = (2 * limits.per_request + 1).min(2000);
        let subs: Vec<Subscription> = (0..n)
            .map(|i| self.sub(&format!("{}{i}", self.symbol), kind))
            .collect();
        let plans = e.plan(BASE, &subs).expect("many symbols subscribe");
        assert_eq!(
            plans.len(),
            n.div_ceil(limits.per_connection),
            "{}: connections for {n} topics",
            self.id()
        );
        let mut planned = 0;
        for plan in &plans {
            let topics = plan.subscriptions.len();
            planned += topics;
            assert_eq!(
                plan.subscribe.len(),
                topics.div_ceil(limits.per_request),
                "{}: requests for {topics} topics",
                self.id()
            );
        }
        assert_eq!(planned, n, "{}: every subscription planned once", self.id());
        if let Some(ip) = e.per_ip() {
            let over: Vec<Subscription> = (0..=ip.topics)
                .map(|i| self.sub(&format!("{}{i}", self.symbol), kind))
                .collect();
            assert!(
                e.plan(BASE, &over).is_err(),
                "{}: {} topics planned past the per-IP limit",
                self.id(),
                over.len()
            );
        }
    }

    /// The heartbeat policy is within sane bounds, and the plans carry it.
    pub fn check_heartbeat(&self) {
        let policy = self.exchange.heartbeat();
        let sane = Duration::from_secs(1)..=Duration::from_secs(120);
        assert!(
            sane.contains(&policy.idle),
            "{}: idle {:?}",
            self.id(),
            policy.idle
        );
        assert!(
            sane.contains(&policy.pong_deadline),
            "{}: pong deadline {:?}",
            self.id(),
            policy.pong_deadline
        );
        match &policy.ping {
            Outgoing::Text(text) => assert!(!text.is_empty(), "{}: empty ping", self.id()),
            Outgoing::Ping(payload) => assert!(payload.len() <= 125, "{}: ping payload", self.id()),
            other => panic!("{}: unknown ping {other:?}", self.id()),
        }
        let plans = self
            .exchange
            .plan(
                BASE,
                &[self.sub(&self.symbol, self.exchange.default_kind())],
            )
            .expect("subscribes");
        for plan in plans {
            assert_eq!(
                plan.heartbeat,
                policy,
                "{}: the plan's heartbeat",
                self.id()
            );
            assert_eq!(
                plan.max_age,
                self.exchange.max_connection_age(),
                "{}: the plan's maximum age",
                self.id()
            );
        }
    }

    /// The venue and the sessions understand each other, faults included.
    pub fn check_venue(&self) {
        let e = self.exchange;
        let Some(mut venue) = e.new_venue(&VenueConfig {
            symbols: vec![self.symbol.clone()],
            ..VenueConfig::default()
        }) else {
            return;
        };
        let subscriptions: Vec<Subscription> = e
            .kinds()
            .iter()
            .map(|&kind| self.sub(&self.symbol, kind))
            .collect();
        let mut frames = Vec::new();
        venue.on_connect(None, NOW, &mut frames);
        // The simulator serves every route on one venue.
        for plan in e.plan(BASE, &subscriptions).expect("subscribes") {
            for message in plan.open.iter().chain(&plan.subscribe) {
                if let Some(text) = message.as_text() {
                    venue.on_text(text, NOW, &mut frames);
                }
            }
        }
        for _ in 0..VENUE_EVENTS {
            venue.on_event(NOW, &mut frames);
        }
        if let Outgoing::Text(ping) = e.heartbeat().ping {
            venue.on_text(&ping, NOW, &mut frames);
        }
        let events = decode_all(e, &mut Decoder::new(e), &frames);
        for event in &events {
            assert!(
                !matches!(event, SourceEvent::ExchangeError(_)),
                "{}: the venue refused the session: {event:?}",
                self.id()
            );
        }
        let has = |f: &dyn Fn(&SourceEvent) -> bool| events.iter().any(f);
        assert!(
            has(&|e| matches!(e, SourceEvent::Control(Control::Subscribed { .. }))),
            "{}: the venue acknowledged no subscription",
            self.id()
        );
        if matches!(e.heartbeat().ping, Outgoing::Text(_)) {
            assert!(
                has(&|e| matches!(e, SourceEvent::Control(Control::Pong))),
                "{}: the venue did not answer the heartbeat",
                self.id()
            );
        }
        for &kind in e.kinds() {
            assert!(
                has(
                    &|e| matches!(e, SourceEvent::Quote(q) if q.kind == kind && q.symbol.as_str() == self.symbol)
                ),
                "{}: no {kind} quote of {} from the venue in {VENUE_EVENTS} events",
                self.id(),
                self.symbol
            );
        }
        // Padded images read the same as the originals.
        let padded: Vec<String> = frames
            .iter()
            .map(|frame| {
                venue
                    .fault_frame(VenueFault::Padded {
                        frame,
                        padding: PADDING,
                    })
                    .unwrap_or_else(|| frame.clone())
            })
            .collect();
        assert!(
            padded.iter().any(|f| f.len() > PADDING),
            "{}: the venue pads no frame",
            self.id()
        );
        assert_eq!(
            decode_all(e, &mut Decoder::new(e), &padded),
            events,
            "{}: padded frames decode differently",
            self.id()
        );
        // The rate-limit frame: a retryable error that says how long to wait.
        let frame = venue
            .fault_frame(VenueFault::RateLimit {
                retry_after: RATE_LIMIT_WAIT,
                now: NOW,
            })
            .unwrap_or_else(|| panic!("{}: the venue has no rate-limit frame", self.id()));
        let events = decode_all(e, &mut Decoder::new(e), &[frame]);
        match &events[..] {
            [SourceEvent::ExchangeError(error)] => {
                assert!(
                    error.retryable,
                    "{}: rate limit not retryable: {error:?}",
                    self.id()
                );
                assert_eq!(
                    error.retry_after,
                    Some(RATE_LIMIT_WAIT),
                    "{}: the rate limit's wait",
                    self.id()
                );
            }
            other => panic!("{}: the rate-limit frame reads as {other:?}", self.id()),
        }
    }
}

/// Quotes numbered 1, 2, 3, … in order.
fn assert_numbered(id: &str, fixture: &str, events: &[SourceEvent]) {
    let seqs: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some(q.conn_seq),
            _ => None,
        })
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "{id}: {fixture}: conn_seq numbering");
}

/// Decodes `frames` with `decoder`; every frame must decode.
fn decode_all(
    exchange: &dyn Exchange,
    decoder: &mut Decoder,
    frames: &[String],
) -> Vec<SourceEvent> {
    let mut events = Vec::new();
    for frame in frames {
        decoder
            .decode(WireFrame::Text(frame), NOW, &mut events)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: frame does not decode ({e}): {}",
                    exchange.id(),
                    mercury_core::excerpt(frame)
                )
            });
    }
    events
}
