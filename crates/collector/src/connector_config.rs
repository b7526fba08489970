//! How patient a connector is: the limits of each phase and the overrides
//! tests use (where and what come from its
//! [`ConnectionPlan`](mercury_core::ConnectionPlan)); and what it counts.

use crate::backoff::Backoff;
use crate::transport::Timeouts;
use mercury_core::HeartbeatPolicy;
use std::sync::Arc;
use std::time::Duration;

/// The default largest WebSocket message: 16 MiB (BitMEX book partials
/// reach ~700 KB; awc's own default of 64 KiB is far too small).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// The default bound on frames whose quotes are on their way to the
/// collector (a batch weighs the frames it carries); past it the connector
/// stops reading the socket until the collector catches up.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
/// The default longest time what we must send (a pong, a heartbeat
/// ping) may wait unread by the peer before the link counts as dead.
pub const DEFAULT_MAX_WRITE_STALL: Duration = Duration::from_secs(10);
/// How patient a connector is.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    /// The limit of each connection phase.
    pub timeouts: Timeouts,
    /// The largest message accepted, whole or reassembled.
    pub max_frame_size: usize,
    /// Overrides the plan's heartbeat policy (tests use short ones).
    pub heartbeat: Option<HeartbeatPolicy>,
    /// Overrides the plan's maximum connection age (tests use short ones).
    pub max_connection_age: Option<Duration>,
    /// The bound on frames whose quotes are in flight to the collector.
    pub max_in_flight: usize,
    /// How long what we must send may wait, the peer reading none of it,
    /// before the link fails with
    /// [`PeerNotReading`](crate::ConnectorError::PeerNotReading).
    pub max_write_stall: Duration,
    /// When to reconnect after a retryable failure.
    pub backoff: Backoff,
    /// The TLS configuration of `wss://` connections (which CAs to trust;
    /// see [`tls_client_config`](crate::tls_client_config)). `None`: the
    /// default roots ([`TlsTrust::default`](crate::TlsTrust)), read once per
    /// process when the first `wss://` connection needs them, so a `ws://`
    /// run never pays for reading the system's store.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Where to send the raw capture (every frame received and sent, and
    /// the connection's events); `None`: no capture.
    pub raw: Option<crate::record::raw::RawSink>,
}

impl ConnectorConfig {
    /// A configuration with the default limits, trusting the default
    /// roots.
    pub fn new() -> Self {
        ConnectorConfig {
            timeouts: Timeouts::default(),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            heartbeat: None,
            max_connection_age: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_write_stall: DEFAULT_MAX_WRITE_STALL,
            backoff: Backoff::default(),
            tls: None,
            raw: None,
        }
    }
}

impl Default for ConnectorConfig {
    fn default() -> Self {
        ConnectorConfig::new()
    }
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionCounters {
    /// Whole messages received.
    pub frames: u64,
    /// Messages that could not be decoded and were skipped.
    pub skipped: u64,
    /// Quotes the sessions decoded, wanted or not (frames a session
    /// skipped unparsed, having no wanted quote, yield none).
    pub decoded: u64,
    /// Quotes forwarded (those the subscriptions ask for).
    pub quotes: u64,
    /// Errors the exchange reported (error frames), every one.
    pub exchange_errors: u64,
    /// Of those, errors not forwarded to the collector because too many
    /// were still unhandled (only counted).
    pub errors_not_forwarded: u64,
}
