//! One line of `collector record`'s raw capture, as read back: the
//! fields a replay needs, typed, for every program that reads a capture
//! (`collector replay` in the collector crate, `collector sim
//! --replay-file` in the simulator). Parsing a line is not I/O, so it
//! lives here; reading the file (zstd, torn tails) belongs to each reader.
//!
//! The format (written by `mercury_collector::record::raw`, whose module
//! docs hold the table of events) is one JSON object per line:
//!
//! ```
//! use mercury_core::raw_line::{RawLine, RawLineEvent};
//! let line = r#"{"at_ns":1764651600123990001,"conn":1,"exchange":"bitmex","event":"recv","text":"{\"info\":\"Welcome\"}"}"#;
//! let line: RawLine = serde_json::from_str(line).unwrap();
//! assert_eq!(line.event(), RawLineEvent::Recv);
//! assert_eq!(line.text.as_deref(), Some(r#"{"info":"Welcome"}"#));
//! ```
//!
//! Unknown fields are ignored and an unknown `event` is
//! [`RawLineEvent::Other`], so a newer capture stays readable.

use serde::Deserialize;
use std::borrow::Cow;

/// One raw capture line. Strings borrow from the line when they hold no
/// escapes.
#[derive(Debug, Clone, Deserialize)]
pub struct RawLine<'a> {
    /// When it happened, in ns since the Unix epoch (UTC).
    pub at_ns: i64,
    /// The connection (one connector across its reconnects).
    pub conn: u64,
    /// The exchange's id.
    #[serde(borrow)]
    pub exchange: Cow<'a, str>,
    /// What happened (see [`RawLine::event`]).
    #[serde(borrow)]
    pub event: Cow<'a, str>,
    /// `recv`, `sent`: the message's text.
    #[serde(borrow, default, deserialize_with = "crate::wire::borrowed_option")]
    pub text: Option<Cow<'a, str>>,
    /// `recv` of a binary (or non-UTF-8) message: base64.
    #[serde(borrow, default, deserialize_with = "crate::wire::borrowed_option")]
    pub bin: Option<Cow<'a, str>>,
    /// `subscriptions`: what the connection's plan asks for, each
    /// `SYMBOL:kind`.
    #[serde(default)]
    pub subscriptions: Option<Vec<String>>,
}

/// The events a replay tells apart; see the raw capture's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawLineEvent {
    /// A whole message received.
    Recv,
    /// A text message sent.
    Sent,
    /// A connection attempt starts (a new session).
    Connecting,
    /// The upgrade succeeded.
    Open,
    /// The plan's subscriptions.
    Subscriptions,
    /// The server's Close frame: nothing after it counts until the next
    /// attempt.
    Close,
    /// The connector was asked to stop: nothing after it counts.
    Stopping,
    /// The link failed and will be retried.
    Reconnect,
    /// The connector gave up.
    Failed,
    /// The connector stopped.
    Stopped,
    /// Anything else (`subscribe`, `gap`, an event of a newer version).
    Other,
}

impl RawLine<'_> {
    /// The event, typed.
    pub fn event(&self) -> RawLineEvent {
        match self.event.as_ref() {
            "recv" => RawLineEvent::Recv,
            "sent" => RawLineEvent::Sent,
            "connecting" => RawLineEvent::Connecting,
            "open" => RawLineEvent::Open,
            "subscriptions" => RawLineEvent::Subscriptions,
            "close" => RawLineEvent::Close,
            "stopping" => RawLineEvent::Stopping,
            "reconnect" => RawLineEvent::Reconnect,
            "failed" => RawLineEvent::Failed,
            "stopped" => RawLineEvent::Stopped,
            _ => RawLineEvent::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_fields_read_back() {
        let line = r#"{"at_ns":5,"conn":2,"exchange":"binance","event":"subscriptions","subscriptions":["BTCUSDT:mark"],"new":1}"#;
        let line: RawLine = serde_json::from_str(line).unwrap();
        assert_eq!((line.at_ns, line.conn), (5, 2));
        assert_eq!(line.event(), RawLineEvent::Subscriptions);
        assert_eq!(line.subscriptions.unwrap(), ["BTCUSDT:mark"]);
        let line: RawLine =
            serde_json::from_str(r#"{"at_ns":1,"conn":1,"exchange":"x","event":"later"}"#).unwrap();
        assert_eq!(line.event(), RawLineEvent::Other);
        assert!(serde_json::from_str::<RawLine>(r#"{"at_ns":1,"conn":1}"#).is_err());
    }
}
