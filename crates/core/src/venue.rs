//! The contract of a simulated exchange: [`Venue`].
//!
//! A venue is the exchange side of one client connection, sans I/O: the
//! shared simulator server owns the socket and the clock and asks the venue
//! what to send when. Each exchange crate brings its own venue, so the
//! simulator behaves like that exchange (greeting, acks, partials, errors,
//! heartbeat answers, data) without knowing anything about it.

use crate::Timestamp;
use std::time::Duration;

/// How a simulated venue makes its market data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueConfig {
    /// Seed of the synthetic price walk: the same seed gives the same prices.
    pub seed: u64,
    /// How often the headline price (e.g. BitMEX `fairPrice`) changes.
    pub fair_interval: Duration,
    /// Data frames per headline price change (the others carry other fields).
    pub updates_per_fair: u32,
    /// Ignore the intervals and produce events as fast as they are taken.
    pub firehose: bool,
    /// The instruments the venue lists.
    pub symbols: Vec<String>,
    /// Replay the exchange's embedded real capture where it has one,
    /// instead of the synthetic walk.
    pub replay: bool,
}

impl Default for VenueConfig {
    /// Fast enough that ten fair prices take about a second.
    fn default() -> Self {
        VenueConfig {
            seed: 1,
            fair_interval: Duration::from_millis(100),
            updates_per_fair: 4,
            firehose: false,
            symbols: Vec::new(),
            replay: false,
        }
    }
}

impl VenueConfig {
    /// Data frames per headline price change, at least 1.
    pub fn updates_per_fair(&self) -> u32 {
        self.updates_per_fair.max(1)
    }

    /// The time between two market events: a data frame every
    /// `fair_interval / updates_per_fair`, or none at all in firehose mode.
    pub fn event_interval(&self) -> Duration {
        if self.firehose {
            Duration::ZERO
        } else {
            self.fair_interval / self.updates_per_fair()
        }
    }

    /// The listed instruments: the configured ones, or `defaults`.
    pub fn symbols_or(&self, defaults: &[&str]) -> Vec<String> {
        if self.symbols.is_empty() {
            defaults.iter().map(|s| (*s).to_owned()).collect()
        } else {
            self.symbols.clone()
        }
    }
}

/// The exchange side of one simulated connection.
pub trait Venue: Send {
    /// Frames to send right after the upgrade; `query` is the query string
    /// of the request URL, if any (some exchanges subscribe through it).
    fn on_connect(&mut self, query: Option<&str>, now: Timestamp, out: &mut Vec<String>);

    /// The client sent `text`: append the replies.
    fn on_text(&mut self, text: &str, now: Timestamp, out: &mut Vec<String>);

    /// How long until the next market event (`Duration::ZERO` in firehose mode).
    fn next_event_in(&self) -> Duration;

    /// The next market event is due: append the frames it sends to this
    /// client (only for what the client subscribed to, possibly none).
    fn on_event(&mut self, now: Timestamp, out: &mut Vec<String>);
}

/// Makes the venue of one simulated connection.
pub type VenueFactory = fn(&VenueConfig) -> Box<dyn Venue>;
