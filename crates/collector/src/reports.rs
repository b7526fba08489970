//! What a connector tells the collector besides quotes, bounded.
//!
//! Quotes are bounded by the in-flight count of their batches (past it the
//! connector stops reading). The rest used `do_send` into the collector's
//! unbounded mailbox, so a server flooding error frames grew it by one
//! message per frame while the collector waited for a slow lossless reader
//! (issue #14, item 4). The policy, per connector:
//!
//! - **Exchange errors**: at most [`MAX_ERRORS_IN_FLIGHT`] unhandled ones
//!   in the mailbox; past that an error is not forwarded, only counted.
//!   Every error is counted ([`ConnectionCounters::exchange_errors`], with
//!   [`ConnectionCounters::errors_not_forwarded`]), so none goes unseen; its
//!   log line is rate-limited to one per [`ERROR_LOG_EVERY`] (the rest at
//!   debug, their number on the next line).
//! - **Counters** are cumulative, so the latest supersedes the older ones:
//!   at most one report is in the mailbox; a tick that finds one there
//!   skips, and the next reports the newer figures. The final figures go
//!   out when the connector exits.
//! - **States** are all sent, in order (each matters: a `Failed` ends the
//!   fetches that need it, a `Reconnecting` counts a reconnect). They are
//!   bounded by the link, not by what the server sends: a few per
//!   connection attempt, and attempts are spaced by the backoff.

use crate::connector_config::ConnectionCounters;
use crate::messages::{ConnectionId, ConnectionState, ConnectorOutput, InFlight};
use actix::Recipient;
use mercury_core::{ExchangeError, ExchangeId};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tracing::{debug, info};

/// The most exchange errors of one connector unhandled by the collector.
pub(crate) const MAX_ERRORS_IN_FLIGHT: usize = 16;
/// At most one `info` line about exchange errors this often per connector.
pub(crate) const ERROR_LOG_EVERY: Duration = Duration::from_secs(1);

/// The reports of one connector to the collector. See the module docs.
pub(crate) struct Reports {
    connection: ConnectionId,
    exchange: ExchangeId,
    output: Recipient<ConnectorOutput>,
    errors_in_flight: Arc<AtomicUsize>,
    counters_in_flight: Arc<AtomicUsize>,
    /// The counters last sent.
    reported: ConnectionCounters,
    last_logged: Option<Instant>,
    /// Errors logged at debug only since the last `info` line.
    unlogged: u64,
}

impl Reports {
    /// Reports of `connection` (of `exchange`) to `output`.
    pub fn new(
        connection: ConnectionId,
        exchange: ExchangeId,
        output: Recipient<ConnectorOutput>,
    ) -> Self {
        Reports {
            connection,
            exchange,
            output,
            errors_in_flight: Arc::default(),
            counters_in_flight: Arc::default(),
            reported: ConnectionCounters::default(),
            last_logged: None,
            unlogged: 0,
        }
    }

    /// The connection's new state (always sent; see the module docs).
    pub fn state(&self, state: ConnectionState) {
        self.output.do_send(ConnectorOutput::State {
            connection: self.connection,
            exchange: self.exchange.clone(),
            state,
        });
    }

    /// An error the exchange reported: counted in `counters`, logged (rate
    /// limited) and forwarded while few are unhandled.
    pub fn exchange_error(&mut self, error: &ExchangeError, counters: &mut ConnectionCounters) {
        counters.exchange_errors += 1;
        self.log(error);
        if self.errors_in_flight.load(Ordering::Acquire) >= MAX_ERRORS_IN_FLIGHT {
            counters.errors_not_forwarded += 1;
            return;
        }
        self.output.do_send(ConnectorOutput::ExchangeError {
            connection: self.connection,
            error: error.clone(),
            in_flight: InFlight::new(&self.errors_in_flight),
        });
    }

    fn log(&mut self, error: &ExchangeError) {
        let now = Instant::now();
        if self
            .last_logged
            .is_some_and(|at| now.saturating_duration_since(at) < ERROR_LOG_EVERY)
        {
            self.unlogged += 1;
            debug!(status = ?error.status, message = %error.message, "exchange error");
            return;
        }
        self.last_logged = Some(now);
        let not_logged_before = std::mem::take(&mut self.unlogged);
        info!(status = ?error.status, message = %error.message, not_logged_before, "exchange error");
    }

    /// The counters, if they changed and no report of them is unhandled.
    pub fn counters(&mut self, counters: ConnectionCounters) {
        if self.counters_in_flight.load(Ordering::Acquire) == 0 {
            self.flush(counters);
        }
    }

    /// The counters, if they changed, whatever is in flight (at exit).
    pub fn flush(&mut self, counters: ConnectionCounters) {
        if counters == self.reported {
            return;
        }
        self.reported = counters;
        self.output.do_send(ConnectorOutput::Counters {
            connection: self.connection,
            counters,
            in_flight: InFlight::new(&self.counters_in_flight),
        });
    }
}
