//! The contract every exchange implements: [`QuoteSource`].
//!
//! A source is a sans-I/O protocol state machine for one connection. The
//! driver (in `mercury-collector`) owns the socket and the timers; it asks
//! the source what to send and hands it every frame it receives:
//!
//! ```text
//!  driver                                  source
//!  ──────                                  ──────
//!  connect to endpoints().production  ─┐
//!  reset()                             │   clear table state, conn_seq = 0
//!  send subscribe_messages(subs)       │   one or more text messages
//!  for every frame received:           │
//!      decode(frame, now, &mut events) │   quotes, control, exchange errors
//!  after heartbeat().idle of silence:  │
//!      send heartbeat().ping           │
//!      no frame within pong_deadline → the link is dead; reconnect
//! ```

use crate::{DecodeError, Error, ExchangeId, Quote, QuoteKind, Subscription, Timestamp};
use std::time::Duration;

/// One WebSocket data frame as received (after reassembly of continuations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFrame<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame.
    Binary(&'a [u8]),
}

impl<'a> WireFrame<'a> {
    /// The text of a frame for a text protocol: a binary frame, an empty
    /// (or blank) one and one over `max_len` bytes are the errors every
    /// JSON exchange reports the same way.
    pub fn text(self, max_len: usize) -> Result<&'a str, DecodeError> {
        let text = match self {
            WireFrame::Text(text) => text,
            WireFrame::Binary(bytes) => {
                return Err(DecodeError::UnexpectedBinary { len: bytes.len() });
            }
        };
        if text.len() > max_len {
            return Err(DecodeError::TooLarge {
                len: text.len(),
                max: max_len,
            });
        }
        if text.trim().is_empty() {
            return Err(DecodeError::Empty);
        }
        Ok(text)
    }
}

/// A message the driver should send to the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outgoing {
    /// A text frame.
    Text(String),
    /// A WebSocket Ping control frame with this payload (for exchanges
    /// whose heartbeat is the protocol's own, such as Binance).
    Ping(Vec<u8>),
}

impl Outgoing {
    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Outgoing::Text(text) => Some(text),
            Outgoing::Ping(_) => None,
        }
    }
}

/// Where an exchange listens. The driver may always be given another URL
/// (a simulator, a proxy); these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The production WebSocket URL.
    pub production: &'static str,
    /// The testnet WebSocket URL, where the exchange has one.
    pub testnet: Option<&'static str>,
}

impl Endpoints {
    /// The production URL, or the testnet URL when `testnet` is set
    /// (`None` if the exchange has no testnet).
    pub fn select(&self, testnet: bool) -> Option<&'static str> {
        if testnet {
            self.testnet
        } else {
            Some(self.production)
        }
    }
}

/// How the driver keeps a quiet connection honest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatPolicy {
    /// After this long without any frame, send [`ping`](Self::ping).
    pub idle: Duration,
    /// What to send when the link has been idle.
    pub ping: Outgoing,
    /// If no frame at all arrives this long after the ping, the link is dead.
    pub pong_deadline: Duration,
}

/// Why a frame was valid but produced nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A table the source does not turn into quotes (e.g. `orderBookL2`).
    UnhandledTable,
    /// Data for a table (and symbol) whose first `partial` image has not
    /// arrived yet on this connection; it must be dropped.
    BeforePartial,
    /// An action the protocol does not define for this table.
    UnknownAction,
}

/// A protocol message that carries no quote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// The exchange greeted a new connection.
    Welcome {
        /// The greeting text.
        info: String,
    },
    /// The exchange confirmed a subscription to `topic`.
    Subscribed {
        /// The topic as the exchange names it, e.g. `instrument:XBTUSD`.
        topic: String,
    },
    /// The exchange confirmed that `topic` was unsubscribed.
    Unsubscribed {
        /// The topic as the exchange names it.
        topic: String,
    },
    /// The answer to a heartbeat ping.
    Pong,
    /// Any other informational message (e.g. the reply to `help`).
    Info(String),
    /// A valid frame that was deliberately dropped.
    Skipped {
        /// Why it was dropped.
        reason: SkipReason,
        /// The table (or channel) it belonged to.
        table: String,
    },
}

/// An error the exchange itself reported in-band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    /// The HTTP-like status, when the exchange gives one (400, 401, 429, …).
    pub status: Option<u16>,
    /// The exchange's own message, verbatim.
    pub message: String,
    /// Whether reconnecting (after [`retry_after`](Self::retry_after)) can help.
    pub retryable: bool,
    /// How long the exchange asks us to wait before trying again.
    pub retry_after: Option<Duration>,
    /// The request the error answers, as the exchange echoed it (JSON text).
    pub request: Option<String>,
}

/// What decoding one frame produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEvent {
    /// A price.
    Quote(Quote),
    /// A control message.
    Control(Control),
    /// An error reported by the exchange.
    ExchangeError(ExchangeError),
}

/// The sans-I/O contract of one exchange connection.
///
/// Implementations never open sockets, spawn tasks or read clocks: the
/// driver passes in every frame and the time it arrived. The trait is
/// object-safe, so a program can hold a `Box<dyn QuoteSource>` chosen at run
/// time from a registry.
pub trait QuoteSource: Send {
    /// The exchange this source speaks to.
    fn exchange(&self) -> ExchangeId;

    /// The exchange's default endpoints.
    fn endpoints(&self) -> Endpoints;

    /// The kinds of quote this exchange can deliver.
    fn kinds(&self) -> &'static [QuoteKind];

    /// The URL that serves `kind`, given an endpoint `base` (the
    /// production or testnet endpoint, or a simulator's URL built the same
    /// way). Most exchanges serve every kind at one URL and return `base`;
    /// Binance routes mark prices to `base/market/stream` and the book to
    /// `base/public/stream`. A driver opens one connection per distinct URL.
    fn url_for(&self, base: &str, kind: QuoteKind) -> String {
        let _ = kind;
        base.to_owned()
    }

    /// The messages that subscribe a fresh connection to `subscriptions`.
    ///
    /// Fails with [`Error::InvalidSubscription`] for a kind the exchange does
    /// not offer, a subscription for another exchange, or a symbol that cannot
    /// be sent safely.
    fn subscribe_messages(&self, subscriptions: &[Subscription]) -> Result<Vec<Outgoing>, Error>;

    /// Decodes one received frame, appending what it carried to `out`, in
    /// the order of the frame's rows.
    ///
    /// On error nothing is appended; the caller should log, count and skip
    /// the frame. Never panics, whatever the input.
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError>;

    /// How to detect a dead link on this exchange.
    fn heartbeat(&self) -> HeartbeatPolicy;

    /// How long the exchange keeps one connection at most (Binance closes
    /// every connection after 24 hours). The driver reconnects on its own
    /// a little before, instead of waiting to be cut off. `None`: no limit.
    fn max_connection_age(&self) -> Option<Duration> {
        None
    }

    /// Forgets all per-connection state (table images, sequence numbers).
    /// Called before every new connection.
    fn reset(&mut self);

    /// Like [`decode`](Self::decode), returning a new vector. Convenient in
    /// tests and tools; the driver reuses one buffer instead.
    fn decode_to_vec(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
    ) -> Result<Vec<SourceEvent>, DecodeError> {
        let mut out = Vec::new();
        self.decode(frame, received_at, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_select_testnet_only_where_there_is_one() {
        let with = Endpoints {
            production: "wss://a/",
            testnet: Some("wss://t/"),
        };
        assert_eq!(with.select(false), Some("wss://a/"));
        assert_eq!(with.select(true), Some("wss://t/"));
        let without = Endpoints {
            production: "wss://a/",
            testnet: None,
        };
        assert_eq!(without.select(true), None);
    }
}

/// What a registry needs to know of an exchange: how it is named, where it
/// listens, what it offers, and how to make a fresh [`QuoteSource`] for it.
///
/// Each exchange crate exports one as a constant; the program keeps a list of
/// them in one place.
#[derive(Debug, Clone)]
pub struct ExchangeDescriptor {
    /// The identifier used on the command line, e.g. `bitmex`.
    pub id: ExchangeId,
    /// The exchange's display name, e.g. `BitMEX`.
    pub name: &'static str,
    /// The default endpoints.
    pub endpoints: Endpoints,
    /// The kinds of quote it offers.
    pub kinds: &'static [QuoteKind],
    /// The kind a fetch uses when none is asked for.
    pub default_kind: QuoteKind,
    /// Makes a source in its initial state.
    pub new_source: fn() -> Box<dyn QuoteSource>,
    /// Makes a simulated venue for one connection, where the exchange has one.
    pub new_venue: Option<crate::VenueFactory>,
}
