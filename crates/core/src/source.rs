//! The vocabulary of a connection: frames received ([`WireFrame`]),
//! messages sent ([`Outgoing`]), endpoints, heartbeat policy, and what
//! decoding a frame yields ([`SourceEvent`]).
//!
//! ```text
//!  driver                                   exchange / session
//!  ──────                                   ──────────────────
//!  plans = exchange.plan(base, subs)        urls, subscribe messages, heartbeat, age
//!  for each plan, for each attempt:
//!      connect to plan.url
//!      decoder = Decoder::new(exchange)     a fresh Session, conn_seq = 0
//!      send plan.open, then plan.subscribe
//!      for every frame received:
//!          decoder.decode(frame, now, &mut events)
//!          send each SourceEvent::Reply on the same connection, in order
//!      after heartbeat.idle of silence: send heartbeat.ping
//!          no frame within pong_deadline → the link is dead; reconnect
//! ```

use crate::{DecodeError, Quote};
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
    /// A table, channel or event the exchange does not turn into quotes
    /// (e.g. BitMEX `orderBookL2`, a Binance event type it does not read).
    Unhandled,
    /// A change for something (a table, a symbol) whose first full image
    /// (BitMEX `partial`, Bybit `snapshot`) has not arrived yet on this
    /// connection; it must be dropped.
    BeforeSnapshot,
    /// An action or message type the protocol does not define here.
    UnknownAction,
    /// One field of an otherwise valid row or event did not parse (a price
    /// that is not a number, a time that is not a time); the row's other
    /// fields were still read. `what` names the table or event and the
    /// field, e.g. `instrument.markPrice`.
    InvalidField,
    /// Keeping it would pass a bound the session keeps on its state (e.g.
    /// the number of symbols a table image holds).
    OverLimit,
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
    /// The exchange restarted the session on an open connection (e.g. a
    /// second BitMEX welcome): its subscriptions and table images are void,
    /// so the connection is of no more use; the connector reconnects.
    SessionRestarted,
    /// Any other informational message (e.g. the reply to `help`).
    Info(String),
    /// A valid frame that was deliberately dropped.
    Skipped {
        /// Why it was dropped.
        reason: SkipReason,
        /// What it belonged to: a table, channel, topic or event type.
        what: String,
    },
}

/// The longest wait a server may ask for (a `retryAfter`, a ban's end):
/// an exchange clamps a longer one to this and says so in a log line.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

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
    /// A message the session asks the driver to send on this connection,
    /// in answer to the frame (Deribit: `public/test` for the server's
    /// `test_request`). Sent after what was queued before it, in order;
    /// at most [`MAX_REPLIES_PER_FRAME`] per frame.
    Reply(Outgoing),
}

/// The most replies one received frame may ask for; the
/// [`Emitter`](crate::Emitter) skips more (`SkipReason::OverLimit`, what
/// `reply`), so a server cannot make a client send more than it reads.
pub const MAX_REPLIES_PER_FRAME: usize = 1;

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
