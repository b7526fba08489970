//! The link's states and transitions. See the parent module for the
//! invariants, and ARCHITECTURE.md for the diagram.

use super::{Action, Generation, Input, LinkConfig, NORMAL_CLOSE, Timer};
use crate::backoff::Schedule;
use crate::error::ConnectorError;
use crate::heartbeat::{Beat, Heartbeat};
use crate::messages::ConnectionState;
use mercury_core::ExchangeError;
use std::time::Instant;
use tracing::info;

/// Where the link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started.
    Idle,
    /// The upgrade of the current generation is under way.
    Connecting,
    /// Upgraded: subscribing, then streaming.
    Open,
    /// The server sent Close and we echoed it; waiting for the end of the
    /// stream (or the grace period).
    Closing,
    /// We sent Close on request; waiting for the echo (or the grace period).
    Stopping,
    /// Failed; the next attempt waits for the backoff.
    Waiting,
    /// Stopped or failed for good.
    Done,
}

/// What the link knows of the current connection only.
#[derive(Debug, Default)]
struct Attempt {
    connected_at: Option<Instant>,
    heartbeat: Option<Heartbeat>,
    frames: u64,
    skipped: u64,
    decoded: u64,
    streaming: bool,
    /// A retryable error the server reported, until another message decodes.
    server_error: Option<ExchangeError>,
    /// The server's Close, once it came.
    server_close: Option<ConnectorError>,
}

/// One logical connection's state machine. See the module docs.
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    phase: Phase,
    generation: Generation,
    attempt: Attempt,
    schedule: Schedule,
    ever_connected: bool,
    quotes_flowed: bool,
    gap_since: Option<Instant>,
}

impl Link {
    /// A link that has not started.
    pub fn new(config: LinkConfig) -> Self {
        let schedule = Schedule::new(config.backoff.clone());
        Link {
            config,
            phase: Phase::Idle,
            generation: 0,
            attempt: Attempt::default(),
            schedule,
            ever_connected: false,
            quotes_flowed: false,
            gap_since: None,
        }
    }

    /// The current connection attempt (0 before the first).
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// Failed attempts since the last healthy connection.
    pub fn attempts(&self) -> u32 {
        self.schedule.attempts()
    }

    /// Whether the link is over.
    #[cfg(test)]
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Feeds one input that happened at `now`; appends what to do to `out`.
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        let current = |g: Generation| g == self.generation;
        match (self.phase, input) {
            (Phase::Done, _) => {}
            (_, Input::Stop) => self.stop(now, out),
            (Phase::Idle, Input::Start) => self.connect(out),
            (Phase::Connecting, Input::Upgraded(g)) if current(g) => self.upgraded(now, out),
            (Phase::Connecting, Input::UpgradeFailed(g, error)) if current(g) => {
                self.fail(now, error, out)
            }
            (
                Phase::Open,
                Input::Message {
                    generation,
                    decoded,
                    forwarded,
                    undecodable,
                },
            ) if current(generation) => {
                self.message(now, decoded, forwarded, undecodable, out);
            }
            (Phase::Open | Phase::Stopping, Input::Alive(g)) if current(g) => {
                if let Some(heartbeat) = self.attempt.heartbeat.as_mut() {
                    heartbeat.on_frame(now);
                }
            }
            (Phase::Open, Input::ServerError(g, error)) if current(g) => {
                self.server_error(now, error, out)
            }
            (
                Phase::Open,
                Input::ServerClose {
                    generation,
                    code,
                    reason,
                },
            ) if current(generation) => self.server_closed(code, reason, out),
            (Phase::Stopping, Input::ServerClose { generation, .. }) if current(generation) => {
                self.stopped(now, out)
            }
            (Phase::Stopping, Input::StreamFailed(g, _) | Input::StreamEnded(g)) if current(g) => {
                self.stopped(now, out)
            }
            (Phase::Open | Phase::Closing, Input::StreamFailed(g, error)) if current(g) => {
                self.fail(now, error, out)
            }
            (Phase::Open | Phase::Closing, Input::StreamEnded(g)) if current(g) => {
                self.fail(now, ConnectorError::Disconnected, out)
            }
            (phase, Input::Timer(g, timer)) if current(g) => self.timer(now, phase, timer, out),
            // Anything else is stale (an older generation, or a phase that
            // has moved on): it no longer counts.
            _ => {}
        }
    }

    fn connect(&mut self, out: &mut Vec<Action>) {
        self.generation += 1;
        self.attempt = Attempt::default();
        self.phase = Phase::Connecting;
        out.push(Action::Report(ConnectionState::Connecting {
            url: self.config.url.clone(),
        }));
        out.push(Action::Connect(self.generation));
    }

    fn upgraded(&mut self, now: Instant, out: &mut Vec<Action>) {
        let g = self.generation;
        self.phase = Phase::Open;
        self.ever_connected = true;
        self.attempt.connected_at = Some(now);
        let heartbeat = Heartbeat::new(self.config.heartbeat.clone(), self.config.keepalive, now);
        let check_every = heartbeat.check_every();
        self.attempt.heartbeat = Some(heartbeat);
        out.push(Action::Attach(g));
        out.push(Action::Subscribe);
        out.push(Action::Report(ConnectionState::Subscribing));
        out.push(Action::Arm(g, Timer::Heartbeat, check_every));
        out.push(Action::Arm(g, Timer::FirstData, self.config.first_data));
        if let Some(renew) = self.config.renew_after() {
            out.push(Action::Arm(g, Timer::Renew, renew));
        }
    }

    fn message(
        &mut self,
        now: Instant,
        decoded: u64,
        forwarded: usize,
        undecodable: bool,
        out: &mut Vec<Action>,
    ) {
        let attempt = &mut self.attempt;
        attempt.frames += 1;
        if let Some(heartbeat) = attempt.heartbeat.as_mut() {
            heartbeat.on_frame(now);
        }
        if undecodable {
            attempt.skipped += 1;
            return;
        }
        // The link goes on after the error frame: it was not the cause.
        attempt.server_error = None;
        attempt.decoded += decoded;
        if forwarded == 0 {
            return;
        }
        if !attempt.streaming {
            attempt.streaming = true;
            out.push(Action::Report(ConnectionState::Streaming));
        }
        self.quotes_flowed = true;
        let gap = self
            .gap_since
            .take()
            .map(|since| now.saturating_duration_since(since));
        out.push(Action::Forward { gap });
    }

    fn server_error(&mut self, now: Instant, error: ExchangeError, out: &mut Vec<Action>) {
        if error.retryable {
            // Most likely the server closes next; if so, this is why.
            self.attempt.server_error = Some(error);
        } else {
            self.fail(now, ConnectorError::Exchange(error), out);
        }
    }

    fn server_closed(&mut self, code: Option<u16>, reason: Option<String>, out: &mut Vec<Action>) {
        info!(?code, ?reason, "server closed the connection");
        self.phase = Phase::Closing;
        // The server has spoken: no heartbeat verdict on a closing link.
        self.attempt.heartbeat = None;
        // The server's words reach a terminal: shortened, control bytes escaped.
        self.attempt.server_close = Some(ConnectorError::Closed {
            code,
            reason: reason.as_deref().map(mercury_core::excerpt),
        });
        out.push(Action::Close { code, reason });
        out.push(Action::Arm(
            self.generation,
            Timer::CloseGrace,
            self.config.close_grace,
        ));
    }

    fn timer(&mut self, now: Instant, phase: Phase, timer: Timer, out: &mut Vec<Action>) {
        let g = self.generation;
        match (phase, timer) {
            (Phase::Open, Timer::Heartbeat) => {
                let Some(heartbeat) = self.attempt.heartbeat.as_mut() else {
                    return;
                };
                let check_every = heartbeat.check_every();
                match heartbeat.check(now) {
                    Beat::Quiet => {}
                    Beat::SendPing => out.push(Action::Send(heartbeat.policy().ping.clone())),
                    Beat::Dead { silent_for } => {
                        return self.fail(
                            now,
                            ConnectorError::HeartbeatTimeout { silent_for },
                            out,
                        );
                    }
                }
                out.push(Action::Arm(g, Timer::Heartbeat, check_every));
            }
            (Phase::Open, Timer::FirstData) if self.attempt.decoded == 0 => {
                let error = ConnectorError::NoData {
                    after: self.config.first_data,
                    frames: self.attempt.frames,
                    skipped: self.attempt.skipped,
                };
                self.fail(now, error, out);
            }
            (Phase::Open, Timer::Renew) => self.renew(now, out),
            (Phase::Closing, Timer::CloseGrace) => {
                self.fail(now, ConnectorError::Disconnected, out)
            }
            (Phase::Stopping, Timer::CloseGrace) => self.stopped(now, out),
            (Phase::Waiting, Timer::Retry) => self.connect(out),
            _ => {}
        }
    }

    /// Replaces a connection at the exchange's age limit: not a failure,
    /// so no backoff and no attempt counted.
    fn renew(&mut self, now: Instant, out: &mut Vec<Action>) {
        info!("renewing the connection before the exchange's age limit");
        out.push(Action::Close {
            code: Some(NORMAL_CLOSE),
            reason: None,
        });
        self.end_attempt(now, out);
        self.connect(out);
    }

    fn stop(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.phase {
            Phase::Open => {
                self.phase = Phase::Stopping;
                self.attempt.heartbeat = None;
                out.push(Action::Close {
                    code: Some(NORMAL_CLOSE),
                    reason: None,
                });
                out.push(Action::Arm(
                    self.generation,
                    Timer::CloseGrace,
                    self.config.close_grace,
                ));
            }
            Phase::Stopping | Phase::Done => {}
            Phase::Connecting | Phase::Closing => self.stopped(now, out),
            Phase::Idle | Phase::Waiting => self.finish(ConnectionState::Stopped, out),
        }
    }

    /// Ends the live connection (or the pending upgrade) on request.
    fn stopped(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.end_attempt(now, out);
        self.finish(ConnectionState::Stopped, out);
    }

    /// Tears the current connection down and notes how long it lasted.
    fn end_attempt(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Teardown);
        if let Some(since) = self.attempt.connected_at.take() {
            self.schedule
                .connection_lasted(now.saturating_duration_since(since));
        }
        self.attempt.heartbeat = None;
        if self.quotes_flowed {
            // Quotes were flowing: the next ones come after a gap.
            self.gap_since.get_or_insert(now);
        }
    }

    /// What ended the connection: a fatal error stands; otherwise what the
    /// server said (a retryable error frame, then its Close) wins over what
    /// we noticed next (EOF, a dead heartbeat), because it carries the
    /// reason and any `retryAfter`.
    fn cause(&mut self, noticed: ConnectorError) -> ConnectorError {
        if !noticed.is_retryable() {
            return noticed;
        }
        match (
            self.attempt.server_error.take(),
            self.attempt.server_close.take(),
        ) {
            (Some(error), _) => ConnectorError::Exchange(error),
            (None, Some(closed)) => closed,
            (None, None) => noticed,
        }
    }

    /// Whether `error` deserves another attempt. A first connection that
    /// cannot even reach the host fails fast (most likely a wrong URL);
    /// once a link has worked, every retryable failure is retried.
    fn should_retry(&self, error: &ConnectorError) -> bool {
        let unreachable = matches!(
            error,
            ConnectorError::Connect { .. }
                | ConnectorError::Dns { .. }
                | ConnectorError::ConnectTimeout { .. }
        );
        error.is_retryable() && (self.ever_connected || !unreachable)
    }

    /// The connection failed: reconnect after the backoff, or give up.
    fn fail(&mut self, now: Instant, noticed: ConnectorError, out: &mut Vec<Action>) {
        let mut error = self.cause(noticed);
        self.end_attempt(now, out);
        info!(%error, frames = self.attempt.frames, skipped = self.attempt.skipped, "connection failed");
        if self.should_retry(&error) {
            if let Some(delay) = self.schedule.next_delay(error.retry_after()) {
                let attempt = self.schedule.attempts();
                info!(?delay, attempt, "reconnecting");
                self.phase = Phase::Waiting;
                out.push(Action::Report(ConnectionState::Reconnecting {
                    attempt,
                    delay,
                    error,
                }));
                out.push(Action::Arm(self.generation, Timer::Retry, delay));
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
        self.finish(ConnectionState::Failed(error), out);
    }

    /// The link is over; the connection, if any, is already torn down.
    fn finish(&mut self, state: ConnectionState, out: &mut Vec<Action>) {
        self.phase = Phase::Done;
        out.push(Action::Report(state));
        out.push(Action::Exit);
    }
}
