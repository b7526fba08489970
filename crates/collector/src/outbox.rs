//! What we send is bounded too: the outgoing side of one connection.
//!
//! actix's `SinkWrite` queues every item in a `VecDeque` without bound
//! while the socket's write buffer is full, and a server that floods pings
//! and never reads made us queue one pong per ping: ~30 MB/s, while each
//! ping kept the link looking alive (issue #14, item 2). So:
//!
//! - **Pongs are coalesced.** RFC 6455 §5.5.3 lets an endpoint that has
//!   not yet answered earlier pings answer only the most recent one: at
//!   most one pong waits in the queue, and it carries the payload of the
//!   latest ping when it is handed to the socket.
//! - **A peer that does not read what we must send is a dead link.** The
//!   queue tracks how long it has made no progress; once something has
//!   waited longer than the configured `max_write_stall`, or more than
//!   [`MAX_QUEUED`] messages wait, the connector fails the attempt with
//!   [`ConnectorError::PeerNotReading`](crate::ConnectorError) (retryable:
//!   the usual reconnect follows).
//!
//! Everything else we send is paced by the link (the subscriptions once
//! per connection, a heartbeat ping per silence, one Close), and the
//! codec's own write buffer accepts an item only below 8 KiB, so the
//! bytes waiting on our side stay within a few KiB plus [`MAX_QUEUED`]
//! small messages.

use crate::error::ConnectorError;
use awc::ws::Message as WsMessage;
use bytes::Bytes;
use futures_util::Sink;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The most messages that may wait to be written before the peer is
/// declared dead at once, however short the wait.
pub(crate) const MAX_QUEUED: usize = 256;

/// One item of the outgoing queue.
pub(crate) enum Outbound {
    /// A message, sent as it is.
    Message(WsMessage),
    /// The answer to the latest ping, whose payload is taken when the pong
    /// is handed to the socket.
    Pong,
}

/// The state shared by the connector and the sink of one attempt.
#[derive(Debug, Default)]
struct Pending {
    /// Items written and not yet handed to the socket's codec.
    queued: usize,
    /// Since when the queue has made no progress (while `queued > 0`).
    stalled_since: Option<Instant>,
    /// The payload of the latest unanswered ping.
    ping: Option<Bytes>,
    /// A [`Outbound::Pong`] is in the queue.
    pong_queued: bool,
}

/// The connector's handle on the outgoing queue of one attempt.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outbox(Rc<RefCell<Pending>>);

/// Why the outgoing queue says the peer is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stalled {
    /// How long the queue has made no progress.
    pub stalled_for: Duration,
    /// Messages waiting.
    pub queued: usize,
}

impl Outbox {
    /// Notes one more item queued at `now`.
    pub fn queued(&self, now: Instant) {
        let mut pending = self.0.borrow_mut();
        if pending.queued == 0 {
            pending.stalled_since = Some(now);
        }
        pending.queued += 1;
    }

    /// Remembers the payload of a ping; true if a pong must be queued
    /// (none is waiting already: that one will carry this payload).
    pub fn ping(&self, payload: Bytes) -> bool {
        let mut pending = self.0.borrow_mut();
        pending.ping = Some(payload);
        !std::mem::replace(&mut pending.pong_queued, true)
    }

    /// The error that ends the link if the peer has read nothing of what
    /// we must send for `limit` (or too much of it waits), now.
    pub fn peer_not_reading(&self, limit: Duration) -> Option<ConnectorError> {
        if self.0.borrow().queued == 0 {
            return None;
        }
        let stalled = self.stalled(Instant::now(), limit)?;
        Some(ConnectorError::PeerNotReading {
            stalled_for: stalled.stalled_for,
            queued: stalled.queued,
        })
    }

    /// Whether the peer has left what we must send unread too long (or
    /// too much of it), at `now`.
    pub fn stalled(&self, now: Instant, limit: Duration) -> Option<Stalled> {
        let pending = self.0.borrow();
        let stalled_for = now.saturating_duration_since(pending.stalled_since?);
        (pending.queued > 0 && (stalled_for >= limit || pending.queued > MAX_QUEUED)).then_some(
            Stalled {
                stalled_for,
                queued: pending.queued,
            },
        )
    }

    /// `inner`, counting what passes through it.
    pub fn sink<S>(&self, inner: S) -> OutboxSink<S> {
        OutboxSink {
            inner,
            outbox: self.clone(),
        }
    }

    /// One item handed to the codec at `now`: the queue made progress.
    /// Returns the message to write (a pong gets the latest ping's payload).
    fn taken(&self, item: Outbound, now: Instant) -> WsMessage {
        let mut pending = self.0.borrow_mut();
        pending.queued = pending.queued.saturating_sub(1);
        pending.stalled_since = (pending.queued > 0).then_some(now);
        match item {
            Outbound::Message(message) => message,
            Outbound::Pong => {
                pending.pong_queued = false;
                WsMessage::Pong(pending.ping.take().unwrap_or_default())
            }
        }
    }
}

/// A sink of [`Outbound`] items in front of the socket's sink.
pub(crate) struct OutboxSink<S> {
    inner: S,
    outbox: Outbox,
}

impl<S: Sink<WsMessage> + Unpin> Sink<Outbound> for OutboxSink<S> {
    type Error = S::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Outbound) -> Result<(), S::Error> {
        let message = self.outbox.taken(item, Instant::now());
        Pin::new(&mut self.inner).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(message: &WsMessage) -> &[u8] {
        match message {
            WsMessage::Pong(bytes) => bytes,
            _ => b"not a pong",
        }
    }

    #[test]
    fn one_pong_waits_and_it_answers_the_latest_ping() {
        let outbox = Outbox::default();
        let t0 = Instant::now();
        assert!(outbox.ping(Bytes::from_static(b"1")));
        outbox.queued(t0);
        for n in 2..1000 {
            assert!(!outbox.ping(Bytes::from(format!("{n}"))), "coalesced");
        }
        let pong = outbox.taken(Outbound::Pong, t0);
        assert_eq!(payload(&pong), b"999");
        // The next ping needs a pong of its own.
        assert!(outbox.ping(Bytes::from_static(b"1000")));
    }

    #[test]
    fn a_queue_without_progress_past_the_limit_is_a_stall() {
        let outbox = Outbox::default();
        let (t0, limit) = (Instant::now(), Duration::from_secs(10));
        let s = Duration::from_secs;
        assert_eq!(outbox.stalled(t0 + s(60), limit), None, "nothing queued");
        outbox.queued(t0);
        outbox.queued(t0 + s(1));
        assert_eq!(outbox.stalled(t0 + s(9), limit), None);
        // Progress at 9 s restarts the clock for what still waits.
        let _ = outbox.taken(Outbound::Message(WsMessage::Ping(Bytes::new())), t0 + s(9));
        assert_eq!(outbox.stalled(t0 + s(18), limit), None);
        assert_eq!(
            outbox.stalled(t0 + s(19), limit),
            Some(Stalled {
                stalled_for: s(10),
                queued: 1
            })
        );
        let _ = outbox.taken(Outbound::Pong, t0 + s(20));
        assert_eq!(outbox.stalled(t0 + s(99), limit), None, "all sent");
    }

    #[test]
    fn too_many_waiting_is_a_stall_at_once() {
        let outbox = Outbox::default();
        let t0 = Instant::now();
        for _ in 0..MAX_QUEUED {
            outbox.queued(t0);
        }
        assert!(outbox.stalled(t0, Duration::from_secs(10)).is_none());
        outbox.queued(t0);
        assert!(outbox.stalled(t0, Duration::from_secs(10)).is_some());
    }
}
