//! The link: the life of one logical connection (across its reconnects) as
//! a sans-I/O state machine, in the manner of quinn and rustls.
//!
//! The [`Connector`](crate::Connector) actor is its driver: it feeds the
//! machine what happened ([`Input`]: the upgrade finished or failed, a
//! message arrived, the stream failed or ended, a timer fired, a stop was
//! asked for) with the time it happened, and performs what the machine
//! answers ([`Action`]: connect, attach the socket, subscribe, send, close,
//! tear down, arm a timer, report a state, forward quotes, exit). Every
//! decision — when a link has failed, what failed it, whether and when to
//! try again — is made here, so it is tested with tables of events and no
//! sockets (`link/tests.rs`).
//!
//! ## Invariants
//! - **A link ends once.** Every connection attempt has a [`Generation`];
//!   stream events, upgrade results and timers carry theirs. Once a
//!   generation has failed (or the link is stopping), nothing more from it
//!   counts: a stream that yields the same error on every poll (as
//!   actix-http's parser does after a protocol error, and rustls after a
//!   reset) fails the link once and schedules one retry.
//! - **At most one live connection, ever.** [`Action::Connect`] is emitted
//!   only from `Idle` or `Waiting` (after [`Action::Teardown`] of the
//!   previous generation), or when renewing, right after its teardown.
//! - **Stop acts at once in every state**, a pending upgrade included:
//!   nothing waits for a socket that may never answer.
//! - **The server's word is the cause.** A retryable error frame, or the
//!   server's Close, is what ended the link if the link ends before another
//!   message decodes; an error frame followed by good data is forgotten.

mod state;
#[cfg(test)]
mod tests;

pub use state::Link;

use crate::backoff::Backoff;
use crate::error::ConnectorError;
use crate::messages::ConnectionState;
use mercury_core::{ExchangeError, HeartbeatPolicy, Outgoing};
use std::time::Duration;

/// Numbers the connection attempts of one link: 1, 2, 3, …
pub type Generation = u64;

/// Renew a connection this fraction (1/100) of its maximum age early.
const RENEW_MARGIN_DIVISOR: u32 = 100;

/// What a link needs to know to decide.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// The URL, for the `Connecting` report.
    pub url: String,
    /// When to ping a quiet link and when to declare it dead.
    pub heartbeat: HeartbeatPolicy,
    /// Ping at least this often, even while data flows
    /// ([`Exchange::keepalive`](mercury_core::Exchange::keepalive)).
    pub keepalive: Option<Duration>,
    /// The first quote must arrive this soon after the upgrade.
    pub first_data: Duration,
    /// Renew each connection before it reaches this age.
    pub max_age: Option<Duration>,
    /// How long to wait for the peer to finish a closing handshake.
    pub close_grace: Duration,
    /// When to reconnect.
    pub backoff: Backoff,
}

impl LinkConfig {
    /// When to renew a connection of the configured maximum age: a little
    /// before the exchange's limit, so it never cuts us off.
    fn renew_after(&self) -> Option<Duration> {
        self.max_age
            .map(|age| age.saturating_sub(age / RENEW_MARGIN_DIVISOR))
    }
}

/// The timers a link arms; each fires as [`Input::Timer`] with the
/// generation that armed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Time to check the heartbeat.
    Heartbeat,
    /// The first quote should have arrived by now.
    FirstData,
    /// The connection is old: replace it.
    Renew,
    /// The peer has had its time to finish closing.
    CloseGrace,
    /// The backoff is over: connect again.
    Retry,
}

impl Timer {
    /// Every timer, for drivers that keep one slot per timer.
    pub const ALL: [Timer; 5] = [
        Timer::Heartbeat,
        Timer::FirstData,
        Timer::Renew,
        Timer::CloseGrace,
        Timer::Retry,
    ];

    /// A small index, unique per timer.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What happened, as the driver saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin: connect for the first time.
    Start,
    /// The WebSocket upgrade of this generation succeeded.
    Upgraded(Generation),
    /// The WebSocket upgrade of this generation failed.
    UpgradeFailed(Generation, ConnectorError),
    /// A whole data message arrived and went through the session.
    Message {
        /// Its connection attempt.
        generation: Generation,
        /// Quotes the session decoded from it (wanted or not).
        decoded: u64,
        /// Of those, quotes the subscriptions ask for (to be forwarded).
        forwarded: usize,
        /// The message did not decode (it was skipped).
        undecodable: bool,
    },
    /// A control frame or a fragment arrived: the link is alive.
    Alive(Generation),
    /// The exchange reported an error in a message.
    ServerError(Generation, ExchangeError),
    /// The server sent a Close frame.
    ServerClose {
        /// Its connection attempt.
        generation: Generation,
        /// The close code, if any.
        code: Option<u16>,
        /// The close reason, if any.
        reason: Option<String>,
    },
    /// Reading or writing failed (protocol error, reset, oversized message).
    StreamFailed(Generation, ConnectorError),
    /// The stream ended (EOF).
    StreamEnded(Generation),
    /// A timer armed by this generation fired.
    Timer(Generation, Timer),
    /// Close politely and stop.
    Stop,
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a connection (TCP, TLS, upgrade) for this generation; report
    /// its result as [`Input::Upgraded`] or [`Input::UpgradeFailed`].
    Connect(Generation),
    /// Take the upgraded socket of this generation into use.
    Attach(Generation),
    /// Send the subscribe messages.
    Subscribe,
    /// Send this message (a heartbeat ping).
    Send(Outgoing),
    /// Send a Close frame with this code and reason.
    Close {
        /// The code (1000 for a normal close, or the server's, echoed).
        code: Option<u16>,
        /// The reason, echoed.
        reason: Option<String>,
    },
    /// End the current connection: the pending upgrade, the stream, the
    /// sink and every timer.
    Teardown,
    /// Fire [`Input::Timer`] for this generation after this long.
    Arm(Generation, Timer, Duration),
    /// Tell the world the link's new state.
    Report(ConnectionState),
    /// Send the quotes of the message just fed; `gap` is set on the first
    /// batch after a gap (how long quotes were interrupted).
    Forward {
        /// How long quotes were interrupted, on the first batch after one.
        gap: Option<Duration>,
    },
    /// The link is over (stopped or failed for good): stop the actor.
    Exit,
}

/// The close code of a normal closure.
pub const NORMAL_CLOSE: u16 = 1000;
