//! The messages between connectors, the collector and its clients.

use crate::error::{ConnectorError, FetchError, FetchFailed};
use actix::{Message, Recipient};
use mercury_core::{ExchangeError, ExchangeId, Quote, Subscription};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Identifies one connector (one logical connection, across reconnects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl ConnectionId {
    /// A process-wide unique id.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnectionId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// A quote as the collector hands it out: numbered in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// Global sequence number: 1, 2, 3, … in arrival order at the collector,
    /// with no gaps and no duplicates.
    pub seq: u64,
    /// The connection it came from.
    pub connection: ConnectionId,
    /// Its number within its connection: 1, 2, 3, … in arrival order,
    /// counted by the collector across that connector's reconnects (no
    /// gaps; unlike [`Quote::conn_seq`], which restarts with each session
    /// and counts quotes the connector did not forward).
    pub conn_seq: u64,
    /// The quote.
    pub quote: Quote,
    /// The first quote of its connection after a reconnect: quotes may
    /// have been missed just before it.
    pub after_gap: bool,
}

impl Message for Tick {
    type Result = ();
}

/// Where a connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Opening the socket and upgrading.
    Connecting {
        /// The URL.
        url: String,
    },
    /// Upgraded; subscribe requests sent.
    Subscribing,
    /// Quotes are flowing.
    Streaming,
    /// The link failed; the next attempt comes after `delay`.
    Reconnecting {
        /// The attempt about to be made (1 for the first reconnect).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// Why the link failed.
        error: ConnectorError,
    },
    /// Gave up; the connector has stopped.
    Failed(ConnectorError),
    /// Stopped on request.
    Stopped,
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionState::Connecting { .. } => f.write_str("connecting"),
            ConnectionState::Subscribing => f.write_str("subscribing"),
            ConnectionState::Streaming => f.write_str("streaming"),
            ConnectionState::Reconnecting { attempt, .. } => {
                write!(f, "reconnecting (attempt {attempt})")
            }
            ConnectionState::Failed(_) => f.write_str("failed"),
            ConnectionState::Stopped => f.write_str("stopped"),
        }
    }
}

/// Counts one message in flight from a connector to the collector (or
/// the frames it carries); the count drops when the collector has handled
/// (dropped) the message.
#[derive(Debug)]
pub struct InFlight(Arc<AtomicUsize>, usize);

impl InFlight {
    /// Counts one more message in flight on `counter` until dropped.
    pub fn new(counter: &Arc<AtomicUsize>) -> Self {
        Self::weighted(counter, 1)
    }

    /// Counts `weight` more (a batch's frames) on `counter` until dropped.
    pub fn weighted(counter: &Arc<AtomicUsize>, weight: usize) -> Self {
        counter.fetch_add(weight, Ordering::AcqRel);
        InFlight(counter.clone(), weight)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::AcqRel);
    }
}

/// What a connector tells the collector. From one connector these arrive
/// in the order they happened (one mailbox, first in first out).
#[derive(Debug)]
pub enum ConnectorOutput {
    /// The quotes of a batch of frames (one read of the socket's worth),
    /// in frame and row order.
    Quotes {
        /// The connection.
        connection: ConnectionId,
        /// The quotes.
        quotes: Vec<Quote>,
        /// Set on the first batch after a reconnect: how long quotes were
        /// interrupted (from the failure to this batch).
        gap: Option<Duration>,
        /// Keeps the connector's in-flight count until handled.
        in_flight: InFlight,
    },
    /// The connection changed state.
    State {
        /// The connection.
        connection: ConnectionId,
        /// Its exchange.
        exchange: ExchangeId,
        /// The new state.
        state: ConnectionState,
    },
    /// The connection's counters, reported about once a second while they change.
    Counters {
        /// The connection.
        connection: ConnectionId,
        /// Its counters.
        counters: crate::ConnectionCounters,
        /// At most one counters report of a connector is unhandled.
        in_flight: InFlight,
    },
    /// The exchange reported an error that did not end the connection.
    ExchangeError {
        /// The connection.
        connection: ConnectionId,
        /// The error.
        error: ExchangeError,
        /// Bounds the unhandled errors of a connector (the rest are only
        /// counted, in [`ConnectionCounters::exchange_errors`](crate::ConnectionCounters)).
        in_flight: InFlight,
    },
}

impl Message for ConnectorOutput {
    type Result = ();
}

/// Ask the collector for the next `n` quotes matching `subscriptions`.
///
/// Answered with exactly `n` [`Tick`]s in arrival order, or with
/// [`FetchFailed`] (timeout, a connection that failed for good, or
/// cancellation) carrying what did arrive.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// Which quotes count.
    pub subscriptions: Vec<Subscription>,
    /// How many.
    pub n: usize,
    /// How long to wait at most.
    pub timeout: Duration,
}

impl Message for Fetch {
    type Result = Result<Vec<Tick>, FetchFailed>;
}

/// Stream every quote matching `subscriptions` (all quotes if empty) to
/// `recipient`, from now on, by the `delivery` rule (see
/// [`Delivery`](crate::Delivery)): the recipient's own bounded mailbox is
/// its queue; when it is full a `Lossless` subscriber makes the collector
/// wait (back-pressure to the connectors), a `Lossy` one loses the quote,
/// counted in [`CollectorStats::consumer_drops`].
#[derive(Debug, Clone)]
pub struct Subscribe {
    /// Which quotes to deliver; empty means all.
    pub subscriptions: Vec<Subscription>,
    /// Who receives them.
    pub recipient: Recipient<Tick>,
    /// What happens when the recipient's mailbox is full.
    pub delivery: crate::Delivery,
}

impl Message for Subscribe {
    type Result = ();
}

/// Open a lossless stream of the quotes matching `subscriptions`: the next
/// `n` of them (`None`: until [`CancelFetches`]), through a bounded channel
/// of `capacity` ticks. When the reader falls behind, the collector waits
/// for it (back-pressure reaches the connectors and TCP), so memory does
/// not grow with `n`. The stream ends — its channel closes after the last
/// tick, then [`TickStream::end`] says why — after `n` quotes, at the
/// `timeout`, when a connection it needs fails for good, or on
/// [`CancelFetches`].
#[derive(Debug, Clone)]
pub struct OpenStream {
    /// Which quotes count.
    pub subscriptions: Vec<Subscription>,
    /// How many (`None`: no limit).
    pub n: Option<usize>,
    /// How long to wait at most (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The channel's bound, in ticks.
    pub capacity: usize,
}

impl Message for OpenStream {
    type Result = TickStream;
}

/// How a stream ended: `Ok(count)` after its `n` quotes, or why not.
pub type StreamEnd = Result<u64, FetchError>;

/// The reading side of an [`OpenStream`].
#[derive(Debug)]
pub struct TickStream {
    /// The ticks, in arrival order; closed after the last one.
    pub ticks: tokio::sync::mpsc::Receiver<Tick>,
    /// Why the stream ended, once it has.
    pub end: tokio::sync::oneshot::Receiver<StreamEnd>,
}

/// End every pending fetch now with [`FetchError::Cancelled`](crate::FetchError::Cancelled).
#[derive(Debug, Clone, Copy)]
pub struct CancelFetches;

impl Message for CancelFetches {
    type Result = ();
}

/// Every state change of every connection goes to `recipient` too (for
/// dashboards). Delivery never blocks: a full mailbox loses the change,
/// counted in [`CollectorStats::watcher_drops`].
#[derive(Debug, Clone)]
pub struct WatchConnections {
    /// Who receives the changes.
    pub recipient: Recipient<ConnectionEvent>,
}

impl Message for WatchConnections {
    type Result = ();
}

/// A connection changed state (sent to [`WatchConnections`] watchers).
#[derive(Debug, Clone)]
pub struct ConnectionEvent {
    /// The connection.
    pub connection: ConnectionId,
    /// Its exchange.
    pub exchange: ExchangeId,
    /// The new state.
    pub state: ConnectionState,
}

impl Message for ConnectionEvent {
    type Result = ();
}

/// Ask for the collector's counters and the state of each connection.
#[derive(Debug, Clone, Copy)]
pub struct GetStats;

impl Message for GetStats {
    type Result = CollectorStats;
}

/// A snapshot of the collector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectorStats {
    /// Quotes received from all connectors.
    pub quotes: u64,
    /// Quotes lossy sinks dropped because their queue was full.
    pub consumer_drops: u64,
    /// State changes dropped because a watcher's queue was full.
    pub watcher_drops: u64,
    /// Each known connection.
    pub connections: Vec<ConnectionSnapshot>,
    /// `(received, wanted)` of each pending fetch.
    pub fetches: Vec<(usize, usize)>,
    /// Feed and internal latency per (exchange, kind), since the start.
    pub latency: crate::LatencyStats,
}

/// One connection as the collector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSnapshot {
    /// The connection.
    pub connection: ConnectionId,
    /// Its exchange.
    pub exchange: ExchangeId,
    /// Its latest state.
    pub state: ConnectionState,
    /// Quotes received from it.
    pub quotes: u64,
    /// WebSocket messages it received (as last reported by its connector).
    pub frames: u64,
    /// Errors the exchange reported on it, forwarded or not (as last
    /// reported by its connector).
    pub exchange_errors: u64,
    /// Times it started reconnecting after a failure.
    pub reconnects: u64,
    /// Quotes that came after a gap (the first after each reconnect).
    pub gaps: u64,
    /// When its latest quote arrived.
    pub last_quote_at: Option<mercury_core::Timestamp>,
    /// The failure it is recovering from: set when it fails, cleared when
    /// quotes flow again, so it is always current.
    pub last_error: Option<ConnectorError>,
}
