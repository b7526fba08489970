//! # mercury-conformance
//!
//! The checks every [`QuoteSource`](mercury_core::QuoteSource) must pass, so that adding an exchange
//! is a matter of its own crate and one registry line, and "it works" means
//! the same thing for every exchange. An exchange crate runs the whole kit
//! from one test:
//!
//! ```text
//! #[test]
//! fn binance_conforms() {
//!     Kit::new(&DESCRIPTOR, "BTCUSDT")
//!         .fixture(Fixture::from_jsonl("tests/fixtures/x.jsonl"))
//!         .expect("x.jsonl", "BTCUSDT", QuoteKind::Mark, prices)
//!         .run();
//! }
//! ```
//!
//! What it checks (each is also a public method, for a focused test):
//! - [`Kit::check_descriptor`]: the descriptor agrees with its source.
//! - [`Kit::check_fixtures`]: real recorded frames decode, and give exactly
//!   the expected prices per symbol and kind, in order.
//! - [`Kit::check_hostile_input`]: empty, binary, truncated, mutated,
//!   garbage, deeply nested and huge frames give an error or nothing, never
//!   a panic, and an error appends nothing.
//! - [`Kit::check_reset`]: after `reset()` the same frames give the same
//!   events again (state cleared, `conn_seq` from 1).
//! - [`Kit::check_subscriptions`]: every offered kind subscribes; foreign
//!   exchanges, unoffered kinds and unsafe symbols are refused.
//! - [`Kit::check_heartbeat`]: the policy is within sane bounds.
//! - [`Kit::check_venue`]: the exchange's simulated venue accepts the
//!   source's own subscribe messages and heartbeat, and what it sends
//!   decodes to quotes of every kind.
//!
//! This is test support: failures panic with a message naming the check.
#![deny(missing_docs)]
#![allow(clippy::panic, clippy::expect_used)] // a failed check is a failed test

mod hostile;

use mercury_core::{
    Control, ExchangeDescriptor, Outgoing, Price, QuoteKind, SourceEvent, Subscription, Timestamp,
    VenueConfig, WireFrame,
};
use std::path::Path;
use std::time::Duration;

/// The receive time the kit hands the source.
const NOW: Timestamp = Timestamp::from_unix_nanos(1_795_500_000_000_000_000);
/// Venue events run in the venue check.
const VENUE_EVENTS: usize = 40;

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
#[derive(Debug, Clone)]
pub struct Kit {
    descriptor: ExchangeDescriptor,
    symbol: String,
    fixtures: Vec<Fixture>,
    expected: Vec<Expectation>,
}

impl Kit {
    /// A kit for `descriptor`; `symbol` is a listed instrument used for the
    /// subscription and venue checks.
    pub fn new(descriptor: &ExchangeDescriptor, symbol: &str) -> Kit {
        Kit {
            descriptor: descriptor.clone(),
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
        self.check_descriptor();
        self.check_fixtures();
        self.check_hostile_input();
        self.check_reset();
        self.check_subscriptions();
        self.check_heartbeat();
        self.check_venue();
    }

    fn id(&self) -> &str {
        self.descriptor.id.as_str()
    }

    /// The descriptor agrees with the source it makes.
    pub fn check_descriptor(&self) {
        let d = &self.descriptor;
        let source = (d.new_source)();
        assert_eq!(source.exchange(), d.id, "{}: descriptor id", self.id());
        assert_eq!(source.kinds(), d.kinds, "{}: descriptor kinds", self.id());
        assert_eq!(source.endpoints(), d.endpoints, "{}: endpoints", self.id());
        assert!(
            d.kinds.contains(&d.default_kind),
            "{}: default kind not offered",
            self.id()
        );
        assert!(!d.name.is_empty(), "{}: no display name", self.id());
        for url in std::iter::once(d.endpoints.production).chain(d.endpoints.testnet) {
            assert!(
                url.starts_with("wss://"),
                "{}: endpoint {url} is not wss://",
                self.id()
            );
        }
    }

    /// Every fixture frame decodes; each expectation is met exactly.
    pub fn check_fixtures(&self) {
        for fixture in &self.fixtures {
            let events = decode_session(&self.descriptor, fixture);
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
        hostile::check(&self.descriptor, &frames);
    }

    /// `reset()` makes the source as new: the same frames, the same events.
    pub fn check_reset(&self) {
        for fixture in &self.fixtures {
            let mut source = (self.descriptor.new_source)();
            let first = decode_all(source.as_mut(), &fixture.frames);
            source.reset();
            let again = decode_all(source.as_mut(), &fixture.frames);
            assert_eq!(
                first,
                again,
                "{}: {} after reset()",
                self.id(),
                fixture.name
            );
        }
    }

    /// Every offered kind subscribes; bad subscriptions are refused.
    pub fn check_subscriptions(&self) {
        let source = (self.descriptor.new_source)();
        let sub = |symbol: &str, kind| Subscription::new(self.descriptor.id.clone(), symbol, kind);
        for &kind in self.descriptor.kinds {
            let messages = source
                .subscribe_messages(&[sub(&self.symbol, kind)])
                .unwrap_or_else(|e| panic!("{}: cannot subscribe to {kind}: {e}", self.id()));
            assert!(
                !messages.is_empty(),
                "{}: no message subscribes to {kind}",
                self.id()
            );
            for message in &messages {
                let text = message.as_text().unwrap_or_default();
                assert!(
                    !text.is_empty() && text.len() <= 4096,
                    "{}: subscribe message {message:?}",
                    self.id()
                );
            }
        }
        let foreign = Subscription::new(
            mercury_core::ExchangeId::from_static("not-this-exchange"),
            self.symbol.as_str(),
            self.descriptor.default_kind,
        );
        assert!(
            source.subscribe_messages(&[foreign]).is_err(),
            "{}: foreign exchange",
            self.id()
        );
        for kind in QuoteKind::ALL
            .into_iter()
            .filter(|k| !self.descriptor.kinds.contains(k))
        {
            assert!(
                source
                    .subscribe_messages(&[sub(&self.symbol, kind)])
                    .is_err(),
                "{}: {kind} is not offered but subscribes",
                self.id()
            );
        }
        for unsafe_symbol in ["", "A\"B", "A B", "A/B", "A,B", "A\\B", "A\nB"] {
            let result =
                source.subscribe_messages(&[sub(unsafe_symbol, self.descriptor.default_kind)]);
            assert!(
                result.is_err(),
                "{}: symbol {unsafe_symbol:?} accepted",
                self.id()
            );
        }
    }

    /// The heartbeat policy is within sane bounds.
    pub fn check_heartbeat(&self) {
        let policy = (self.descriptor.new_source)().heartbeat();
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
    }

    /// The venue and the source understand each other.
    pub fn check_venue(&self) {
        let Some(new_venue) = self.descriptor.new_venue else {
            return;
        };
        let mut venue = new_venue(&VenueConfig {
            symbols: vec![self.symbol.clone()],
            ..VenueConfig::default()
        });
        let mut source = (self.descriptor.new_source)();
        let subscriptions: Vec<Subscription> = self
            .descriptor
            .kinds
            .iter()
            .map(|&kind| Subscription::new(self.descriptor.id.clone(), self.symbol.as_str(), kind))
            .collect();
        let mut frames = Vec::new();
        venue.on_connect(None, NOW, &mut frames);
        for message in source
            .subscribe_messages(&subscriptions)
            .expect("subscribes")
        {
            if let Some(text) = message.as_text() {
                venue.on_text(text, NOW, &mut frames);
            }
        }
        for _ in 0..VENUE_EVENTS {
            venue.on_event(NOW, &mut frames);
        }
        if let Outgoing::Text(ping) = source.heartbeat().ping {
            venue.on_text(&ping, NOW, &mut frames);
        }
        let events = decode_all(source.as_mut(), &frames);
        for event in &events {
            assert!(
                !matches!(event, SourceEvent::ExchangeError(_)),
                "{}: the venue refused the source: {event:?}",
                self.id()
            );
        }
        let has = |f: &dyn Fn(&SourceEvent) -> bool| events.iter().any(f);
        assert!(
            has(&|e| matches!(e, SourceEvent::Control(Control::Subscribed { .. }))),
            "{}: the venue acknowledged no subscription",
            self.id()
        );
        if matches!(source.heartbeat().ping, Outgoing::Text(_)) {
            assert!(
                has(&|e| matches!(e, SourceEvent::Control(Control::Pong))),
                "{}: the venue did not answer the heartbeat",
                self.id()
            );
        }
        for &kind in self.descriptor.kinds {
            assert!(
                has(
                    &|e| matches!(e, SourceEvent::Quote(q) if q.kind == kind && q.symbol.as_str() == self.symbol)
                ),
                "{}: no {kind} quote of {} from the venue in {VENUE_EVENTS} events",
                self.id(),
                self.symbol
            );
        }
    }
}

/// Decodes a fixture with a fresh source; every frame must decode.
fn decode_session(descriptor: &ExchangeDescriptor, fixture: &Fixture) -> Vec<SourceEvent> {
    let mut source = (descriptor.new_source)();
    decode_all(source.as_mut(), &fixture.frames)
}

fn decode_all(source: &mut dyn mercury_core::QuoteSource, frames: &[String]) -> Vec<SourceEvent> {
    let mut events = Vec::new();
    for frame in frames {
        source
            .decode(WireFrame::Text(frame), NOW, &mut events)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: frame does not decode ({e}): {frame}",
                    source.exchange()
                )
            });
    }
    events
}
