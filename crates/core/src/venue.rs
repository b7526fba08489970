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
    /// How often the headline price changes (the exchange's default kind:
    /// BitMEX `fairPrice`, Binance and Bybit `markPrice`).
    pub headline_interval: Duration,
    /// Data frames per headline price change (the others carry other fields).
    pub updates_per_headline: u32,
    /// Ignore the intervals and produce events as fast as they are taken.
    pub firehose: bool,
    /// The instruments the venue lists.
    pub symbols: Vec<String>,
    /// For a venue whose server drives the heartbeat (Deribit's
    /// `test_request` after `public/set_heartbeat`): this interval instead
    /// of the one the client asks for, so tests need not wait the real
    /// minimum (10 s). `None`: the client's.
    pub heartbeat: Option<Duration>,
}

impl Default for VenueConfig {
    /// Fast enough that ten headline prices take about a second.
    fn default() -> Self {
        VenueConfig {
            seed: 1,
            headline_interval: Duration::from_millis(100),
            updates_per_headline: 4,
            firehose: false,
            symbols: Vec::new(),
            heartbeat: None,
        }
    }
}

impl VenueConfig {
    /// Data frames per headline price change, at least 1.
    pub fn updates_per_headline(&self) -> u32 {
        self.updates_per_headline.max(1)
    }

    /// The time between two market events: a data frame every
    /// `headline_interval / updates_per_headline`, or none at all in firehose mode.
    pub fn event_interval(&self) -> Duration {
        if self.firehose {
            Duration::ZERO
        } else {
            self.headline_interval / self.updates_per_headline()
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

/// A fault the simulator injects in-band, in the words of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VenueFault<'a> {
    /// The exchange's in-band rate-limit error, asking the client to wait
    /// `retry_after` (from `now`) before it comes back. The simulator sends
    /// it, then closes the connection.
    RateLimit {
        /// How long the client must wait.
        retry_after: Duration,
        /// When the frame is sent.
        now: Timestamp,
    },
    /// `frame` made larger by `padding` bytes of a field the client does
    /// not know, for the frames that carry a full image (a BitMEX
    /// `partial`, a Bybit `snapshot`, every Binance event).
    Padded {
        /// The frame as the venue made it.
        frame: &'a str,
        /// How many bytes to add.
        padding: usize,
    },
}

/// The exchange side of one simulated connection.
pub trait Venue: Send {
    /// The frame that injects `fault` as this exchange would say it; `None`
    /// if the exchange has no such frame (for [`VenueFault::Padded`]: if
    /// `frame` is not an image), and the simulator sends nothing.
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String>;

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

    /// Whether the venue ends the connection, with this close code, once
    /// the frames it just appended are sent: the exchange closes a client
    /// that broke its rules (Deribit: a `test_request` left unanswered).
    /// Asked after every call above; most venues never close.
    fn close_code(&self) -> Option<u16> {
        None
    }
}

/// `frame` (a JSON object) with `"padding":"xxx…"` (`padding` bytes of
/// `x`) as its first field; `None` if it is not an object. For
/// [`Venue::fault_frame`] implementations.
pub fn pad_object(frame: &str, padding: usize) -> Option<String> {
    let rest = frame.strip_prefix('{')?;
    let mut padded = String::with_capacity(frame.len() + padding + 16);
    padded.push_str(r#"{"padding":""#);
    padded.extend(std::iter::repeat_n('x', padding));
    padded.push_str(r#"","#);
    padded.push_str(rest);
    Some(padded)
}
