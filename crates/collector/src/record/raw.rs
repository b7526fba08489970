//! The raw capture: every frame a connector received and sent, and every
//! event of its connections, as it happened — the ground truth from which
//! everything else can be rebuilt.
//!
//! ## The format
//!
//! JSON Lines, one record per line, compressed with zstd (one independent
//! frame per flush; see [the module above](super)). Every record has:
//!
//! - `at_ns`: when it happened (received, sent, …), in nanoseconds since
//!   the Unix epoch, UTC (from the connector's clock);
//! - `conn`: the connection id (a connector, across its reconnects; the
//!   `conn` of the quotes it made);
//! - `exchange`: the exchange's id;
//! - `event`, and the fields of that event:
//!
//! | `event` | fields | when |
//! |---|---|---|
//! | `recv` | `text` (or `bin`, base64) | a whole message received (continuations reassembled) |
//! | `sent` | `text` | a text message sent (subscribe requests, heartbeat text pings) |
//! | `connecting` | `url` | an attempt starts |
//! | `open` | `url` | the upgrade succeeded |
//! | `subscriptions` | `subscriptions` | what the plan asks for, each `SYMBOL:kind` (before `subscribe`; a replay forwards only these) |
//! | `subscribe` | `requests` | the subscribe requests are about to be sent (they follow as `sent`) |
//! | `close` | `code`, `reason` | the server sent a Close frame |
//! | `reconnect` | `attempt`, `delay_ms`, `cause` | the link failed and will be retried |
//! | `gap` | `gap_ms` | quotes flow again after a reconnect, this long after the failure |
//! | `failed` | `cause` | the connector gave up |
//! | `stopping` | | the connector was asked to stop (what it receives meanwhile is not forwarded) |
//! | `stopped` | | the connector stopped on request |
//!
//! A frame's text is kept exactly (serde_json escapes it); a text message
//! that is not UTF-8 is recorded as `bin`. WebSocket pings and pongs are
//! not recorded.
//!
//! ```text
//! {"at_ns":1764651600123456789,"conn":1,"exchange":"bitmex","event":"open","url":"ws://127.0.0.1:40000/realtime"}
//! {"at_ns":1764651600123990001,"conn":1,"exchange":"bitmex","event":"recv","text":"{\"info\":\"Welcome\"}"}
//! ```
//!
//! ## Order
//!
//! `at_ns` is strictly increasing over every record of a capture (one
//! [`RawSink`]: a run), all connections together
//! ([`RawSink::capture_time`]: a tie, or a step back of the
//! wall clock, is moved to 1 ns after the last record), and a quote's
//! `received_at` is its `recv` record's `at_ns`. All connectors and the
//! collector run on one thread, so this is the order in which the
//! collector received the quotes (their `seq`): merging a run's files by
//! `at_ns` (`collector replay`) numbers them as the live run did.
//!
//! ## Delivery
//!
//! A connector hands its records to a [`RawSink`] (a bounded channel of
//! [`RAW_CAPACITY`] records) through a tap that never blocks its thread:
//! when the channel is full the records wait in the tap, in order, and the
//! connector reads nothing more from its socket until they are queued
//! (lossless; TCP slows the exchange). If the writer has ended (an error),
//! the tap drops what comes and the run ends on the writer's error.

use super::files::{PartialFile, Rotation, date_and_time, path_component};
use super::{Files, OpenFiles, RecordError, RecordSummary, SinkStats, WriterHandle};
use crate::messages::{ConnectionId, ConnectionState};
use base64::Engine;
use bytes::Bytes;
use mercury_core::{ExchangeId, Timestamp};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// The bound of the raw capture's channel, in records.
pub const RAW_CAPACITY: usize = 4096;

/// One thing that happened on a connection. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawEvent {
    /// A whole message received: text (when `text`) or binary.
    Received {
        /// The message's bytes.
        payload: Bytes,
        /// Sent as a text message.
        text: bool,
    },
    /// A text message sent.
    Sent(String),
    /// An attempt starts.
    Connecting(String),
    /// The upgrade succeeded.
    Open(String),
    /// Subscribe requests are about to be sent.
    Subscribe(usize),
    /// What the connection's plan asks for, each `SYMBOL:kind`.
    Subscriptions(Vec<String>),
    /// The connector was asked to stop.
    Stopping,
    /// The server's Close frame.
    Close {
        /// Its code.
        code: Option<u16>,
        /// Its reason.
        reason: Option<String>,
    },
    /// The link failed and will be retried.
    Reconnect {
        /// The attempt about to be made.
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// Why the link failed.
        cause: String,
    },
    /// Quotes flow again, this long after the failure.
    Gap(Duration),
    /// The connector gave up.
    Failed(String),
    /// The connector stopped on request.
    Stopped,
}

impl RawEvent {
    /// The event of a state change worth recording (not `Subscribing`,
    /// `Streaming`: the frames say it).
    pub fn of_state(state: &ConnectionState) -> Option<RawEvent> {
        Some(match state {
            ConnectionState::Connecting { url } => RawEvent::Connecting(url.clone()),
            ConnectionState::Reconnecting {
                attempt,
                delay,
                error,
            } => RawEvent::Reconnect {
                attempt: *attempt,
                delay: *delay,
                cause: error.to_string(),
            },
            ConnectionState::Failed(error) => RawEvent::Failed(error.to_string()),
            ConnectionState::Stopped => RawEvent::Stopped,
            _ => return None,
        })
    }
}

/// One record of the raw capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// When it happened.
    pub at: Timestamp,
    /// On which connection.
    pub connection: ConnectionId,
    /// Of which exchange.
    pub exchange: ExchangeId,
    /// What happened.
    pub event: RawEvent,
}

/// A record as one JSON line.
#[derive(Serialize, Default)]
struct Line<'a> {
    at_ns: i64,
    conn: u64,
    exchange: &'a str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscriptions: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_ms: Option<u64>,
}

impl RawRecord {
    /// Appends the record as one JSON line (newline included) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut line = Line {
            at_ns: i64::try_from(self.at.unix_nanos()).unwrap_or(i64::MAX),
            conn: self.connection.0,
            exchange: self.exchange.as_str(),
            ..Line::default()
        };
        let millis = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        line.event = match &self.event {
            RawEvent::Received { payload, text } => {
                match std::str::from_utf8(payload).ok().filter(|_| *text) {
                    Some(text) => line.text = Some(text),
                    None => {
                        line.bin = Some(base64::engine::general_purpose::STANDARD.encode(payload))
                    }
                }
                "recv"
            }
            RawEvent::Sent(text) => {
                line.text = Some(text);
                "sent"
            }
            RawEvent::Connecting(url) => {
                line.url = Some(url);
                "connecting"
            }
            RawEvent::Open(url) => {
                line.url = Some(url);
                "open"
            }
            RawEvent::Subscribe(requests) => {
                line.requests = Some(*requests);
                "subscribe"
            }
            RawEvent::Subscriptions(subscriptions) => {
                line.subscriptions = Some(subscriptions);
                "subscriptions"
            }
            RawEvent::Stopping => "stopping",
            RawEvent::Close { code, reason } => {
                line.code = *code;
                line.reason = reason.as_deref();
                "close"
            }
            RawEvent::Reconnect {
                attempt,
                delay,
                cause,
            } => {
                line.attempt = Some(*attempt);
                line.delay_ms = Some(millis(delay));
                line.cause = Some(cause);
                "reconnect"
            }
            RawEvent::Gap(gap) => {
                line.gap_ms = Some(millis(gap));
                "gap"
            }
            RawEvent::Failed(cause) => {
                line.cause = Some(cause);
                "failed"
            }
            RawEvent::Stopped => "stopped",
        };
        // Serializing plain fields into a Vec cannot fail.
        if serde_json::to_writer(&mut *out, &line).is_ok() {
            out.push(b'\n');
        }
    }
}

/// Where connectors send their raw records (set
/// [`ConnectorConfig::raw`](crate::ConnectorConfig::raw)); cheap to clone.
#[derive(Debug, Clone)]
pub struct RawSink(mpsc::Sender<RawRecord>, Arc<AtomicI64>);

impl RawSink {
    /// A sink of `capacity` records and its receiving end, for a consumer
    /// of one's own (tests, a replay); [`start_raw`] makes the file one.
    pub fn channel(capacity: usize) -> (RawSink, mpsc::Receiver<RawRecord>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let last = Arc::new(AtomicI64::new(i64::MIN));
        (RawSink(sender, last), receiver)
    }

    /// The time of a record captured `now`: strictly after every record
    /// captured before into this sink, by any connector (see the module
    /// docs, *Order*).
    pub fn capture_time(&self, now: Timestamp) -> Timestamp {
        let now = i64::try_from(now.unix_nanos()).unwrap_or(i64::MAX);
        let mut last = self.1.load(Ordering::Relaxed);
        loop {
            let at = now.max(last.saturating_add(1));
            match (self.1).compare_exchange_weak(last, at, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Timestamp::from_unix_nanos(i128::from(at)),
                Err(actual) => last = actual,
            }
        }
    }
}

/// Where and how the raw capture is written.
#[derive(Debug, Clone)]
pub struct RawConfig {
    /// The recording's directory (files go to `DIR/raw/…`).
    pub dir: PathBuf,
    /// When files are finished.
    pub rotation: Rotation,
}

/// Starts the raw capture's writer: connectors send to the [`RawSink`];
/// it ends when every sink is dropped or on [`WriterHandle::stop`].
pub fn start_raw(config: RawConfig) -> Result<(RawSink, WriterHandle), RecordError> {
    let (sink, receiver) = RawSink::channel(RAW_CAPACITY);
    let stats = SinkStats::new("raw");
    let files = RawFiles {
        dir: config.dir.join("raw"),
        open: OpenFiles::new(config.rotation, stats.clone()),
        line: Vec::with_capacity(1024),
    };
    let handle = super::spawn("raw", receiver, files, vec![stats])?;
    Ok((sink, handle))
}

struct RawFiles {
    dir: PathBuf,
    open: OpenFiles<ExchangeId>,
    line: Vec<u8>,
}

impl Files<RawRecord> for RawFiles {
    fn write(&mut self, record: RawRecord) -> Result<(), RecordError> {
        self.line.clear();
        record.encode(&mut self.line);
        let dir = &self.dir;
        let exchange = record.exchange.as_str();
        let create = |start, end| {
            let (date, time) = date_and_time(start);
            let dir = dir.join(path_component(exchange)).join(date);
            PartialFile::create(&dir, &time, "jsonl.zst", true, end)
        };
        self.open
            .write(record.exchange.clone(), record.at, &self.line, create)
    }

    fn tick(&mut self, now: Timestamp) -> Result<(), RecordError> {
        self.open.tick(now)
    }

    fn finish(self) -> Result<RecordSummary, RecordError> {
        self.open.finish_all()
    }
}

/// A connector's side of the raw capture. See the module docs.
#[derive(Debug)]
pub(crate) struct Tap {
    sink: RawSink,
    connection: ConnectionId,
    exchange: ExchangeId,
    /// Records waiting for room, in order.
    backlog: Vec<RawRecord>,
    /// A backlog is being sent: what comes meanwhile queues behind it.
    waiting: bool,
    /// The writer has ended.
    closed: bool,
    /// The connector stops once the tap is idle.
    pub(crate) exiting: bool,
}

impl Tap {
    pub(crate) fn new(sink: RawSink, connection: ConnectionId, exchange: ExchangeId) -> Self {
        Tap {
            sink,
            connection,
            exchange,
            backlog: Vec::new(),
            waiting: false,
            closed: false,
            exiting: false,
        }
    }

    /// Records `event`, at once if there is room, else in the backlog.
    pub(crate) fn record(&mut self, at: Timestamp, event: RawEvent) {
        if self.closed {
            return;
        }
        let record = RawRecord {
            at,
            connection: self.connection,
            exchange: self.exchange.clone(),
            event,
        };
        if self.waiting || !self.backlog.is_empty() {
            return self.backlog.push(record);
        }
        match self.sink.0.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(record)) => self.backlog.push(record),
            Err(TrySendError::Closed(_)) => self.closed = true,
        }
    }

    /// The backlog to send (the caller waits for it, then calls
    /// [`sent`](Self::sent)), if any and none is being sent.
    pub(crate) fn take_backlog(&mut self) -> Option<impl Future<Output = bool> + 'static + use<>> {
        if self.waiting || self.backlog.is_empty() {
            return None;
        }
        self.waiting = true;
        let records = std::mem::take(&mut self.backlog);
        let sender = self.sink.0.clone();
        Some(async move {
            for record in records {
                if sender.send(record).await.is_err() {
                    return false;
                }
            }
            true
        })
    }

    /// The time of a record captured `now` (see [`RawSink::capture_time`]).
    pub(crate) fn capture_time(&self, now: Timestamp) -> Timestamp {
        self.sink.capture_time(now)
    }

    /// Nothing waits to be sent, and nothing is being sent.
    pub(crate) fn idle(&self) -> bool {
        !self.waiting && self.backlog.is_empty()
    }

    /// A backlog went out (`delivered`) or the writer is gone.
    pub(crate) fn sent(&mut self, delivered: bool) {
        self.waiting = false;
        if !delivered {
            self.closed = true;
            self.backlog.clear();
        }
    }
}

#[cfg(test)]
#[path = "raw_tests.rs"]
mod tests;
