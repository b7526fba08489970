//! How a connection ends: what ended it, tearing it down, and whether to
//! reconnect (after the backoff), renew it (at the exchange's age limit) or
//! give up. Every failure of a live link goes through
//! [`Connector::connection_failed`].

use super::{CloseCode, CloseReason, Connector, WsMessage};
use crate::error::ConnectorError;
use crate::messages::ConnectionState;
use actix::prelude::*;
use std::time::Instant;
use tracing::info;

impl Connector {
    pub(super) fn connection_ended(&mut self, ctx: &mut Context<Self>) {
        if self.stopping {
            return self.finish(ctx);
        }
        if !self.live {
            return;
        }
        self.connection_failed(ConnectorError::Disconnected, ctx);
    }

    /// What ended the connection: what the server said (a retryable error
    /// frame, then its Close) wins over what we noticed next (EOF, a dead
    /// heartbeat), because it carries the reason and any `retryAfter`.
    pub(super) fn cause(&mut self, noticed: ConnectorError) -> ConnectorError {
        match (
            self.last_exchange_error.take(),
            self.closed_by_server.take(),
        ) {
            (Some(exchange), _) => ConnectorError::Exchange(exchange),
            (None, Some(closed)) => closed,
            (None, None) => noticed,
        }
    }

    /// Ends the live connection: its stream, timers and sink.
    pub(super) fn teardown(&mut self, ctx: &mut Context<Self>) {
        for handle in self.handles.drain(..) {
            ctx.cancel_future(handle);
        }
        if let Some(mut sink) = self.sink.take() {
            sink.close();
        }
        self.heartbeat = None;
        self.live = false;
        self.streaming = false;
        if let Some(since) = self.connected_at.take() {
            self.schedule.connection_lasted(since.elapsed());
        }
    }

    /// Replaces a connection that reached the exchange's age limit: not a
    /// failure, so no backoff and no attempt counted.
    pub(super) fn renew(&mut self, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        info!("renewing the connection before the exchange's age limit");
        if self.counters.quotes > 0 {
            self.gap_since.get_or_insert_with(Instant::now);
        }
        if let Some(sink) = self.sink.as_mut() {
            let _ = sink.write(WsMessage::Close(Some(CloseReason::from(CloseCode::Normal))));
        }
        self.teardown(ctx);
        self.connect(ctx);
    }

    /// Whether `error` deserves another attempt. A first connection that
    /// cannot even reach the host fails fast (most likely a wrong URL);
    /// once a link has worked, every retryable failure is retried.
    pub(super) fn should_retry(&self, error: &ConnectorError) -> bool {
        let unreachable = matches!(
            error,
            ConnectorError::Connect { .. }
                | ConnectorError::Dns { .. }
                | ConnectorError::ConnectTimeout { .. }
        );
        error.is_retryable() && !self.stopping && (self.ever_connected || !unreachable)
    }

    /// The connection failed: reconnect after a backoff, or give up.
    pub(super) fn connection_failed(&mut self, error: ConnectorError, ctx: &mut Context<Self>) {
        if self.done {
            return;
        }
        let _entered = self.span.clone().entered();
        let mut error = self.cause(error);
        self.teardown(ctx);
        // Reported to the caller as a value; logged here for -v only.
        info!(%error, frames = self.counters.frames, skipped = self.counters.skipped, "connection failed");
        if self.should_retry(&error) {
            if let Some(delay) = self.schedule.next_delay(error.retry_after()) {
                if self.counters.quotes > 0 {
                    // Quotes were flowing: the next ones come after a gap.
                    self.gap_since.get_or_insert_with(Instant::now);
                }
                let attempt = self.schedule.attempts();
                info!(?delay, attempt, "reconnecting");
                self.report(ConnectionState::Reconnecting {
                    attempt,
                    delay,
                    error,
                });
                ctx.run_later(delay, |act, ctx| act.connect(ctx));
                return;
            }
            let attempts = self.schedule.attempts();
            if attempts > 0 {
                error = ConnectorError::GaveUp {
                    attempts,
                    last: Box::new(error),
                };
            }
        }
        self.done = true;
        self.report(ConnectionState::Failed(error));
        ctx.stop();
    }
}
