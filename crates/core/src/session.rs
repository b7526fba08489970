//! One connection's side of an exchange: [`Session`], fed by a
//! [`Decoder`] that owns the two rules every exchange used to re-write.
//!
//! - **A new connection, a new session.** The driver asks the
//!   [`Exchange`](crate::Exchange) for a session at each connection attempt
//!   and drops it with the connection, so no table image, snapshot flag or
//!   sequence number can survive a reconnect; there is no `reset`.
//! - **A frame's events count only if the frame decodes.** A session
//!   emits through an [`Emitter`], which numbers quotes per connection
//!   (`conn_seq` 1, 2, 3, …) and, when `decode` fails, discards everything
//!   the frame emitted and takes its numbers back. An exchange cannot get
//!   this wrong: it never touches the caller's buffer.
//! - **A session may answer a frame, never more than once.** Some servers
//!   ask the client to answer on the connection (Deribit's heartbeat
//!   `test_request`, to be answered with `public/test`). The session hands
//!   the answer to [`Emitter::reply`]; the driver sends it on the same
//!   connection, in order. At most [`MAX_REPLIES_PER_FRAME`] per frame, and
//!   like every event, none for a frame that fails to decode.

use crate::{
    Control, DecodeError, ExchangeError, ExchangeId, MAX_REPLIES_PER_FRAME, Outgoing, Price, Quote,
    QuoteKind, SkipReason, SourceEvent, Subscription, Symbol, Timestamp, WireFrame,
};

/// The sans-I/O protocol state of one connection: the frames it has seen
/// (images, snapshots) and nothing else. Never opens a socket, never reads
/// a clock, never panics.
pub trait Session: Send {
    /// Decodes one received frame, emitting what it carried in the order
    /// of its rows. On error, what was emitted is discarded (by the
    /// [`Decoder`]); the caller logs, counts and skips the frame.
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError>;

    /// Says which quotes the driver keeps (its subscriptions on this
    /// connection; empty: all of them). A session may then skip, unparsed,
    /// frames that cannot carry one of those — it must never skip a frame
    /// that does, nor one that changes what later frames yield (a
    /// snapshot). Skipped frames yield no event at all. By default every
    /// frame is decoded.
    fn want(&mut self, wanted: &[Subscription]) {
        let _ = wanted;
    }
}

/// Where a session puts what one frame carried. Quotes are numbered here;
/// nothing reaches the caller unless the frame decodes.
#[derive(Debug)]
pub struct Emitter<'a> {
    exchange: &'a ExchangeId,
    received_at: Timestamp,
    conn_seq: u64,
    replies: usize,
    out: &'a mut Vec<SourceEvent>,
}

impl Emitter<'_> {
    /// A quote of `symbol`: `kind` at `price`, with the exchange's own time
    /// of the row if it has one; numbered next on this connection.
    pub fn quote(
        &mut self,
        symbol: &Symbol,
        kind: QuoteKind,
        price: Price,
        exchange_time: Option<Timestamp>,
    ) {
        self.conn_seq += 1;
        self.out.push(SourceEvent::Quote(Quote {
            exchange: self.exchange.clone(),
            symbol: symbol.clone(),
            kind,
            price,
            exchange_time,
            received_at: self.received_at,
            conn_seq: self.conn_seq,
        }));
    }

    /// A protocol message that carries no quote; the server's text in it
    /// (greeting, topic, what was skipped) is quoted through
    /// [`excerpt`](crate::excerpt) when it is long or holds a control
    /// character, whatever the exchange sent.
    pub fn control(&mut self, mut control: Control) {
        match &mut control {
            Control::Welcome { info: text }
            | Control::Subscribed { topic: text }
            | Control::Unsubscribed { topic: text }
            | Control::Info(text)
            | Control::Skipped { what: text, .. } => crate::text::quote_in_place(text),
            Control::Pong | Control::SessionRestarted => {}
        }
        self.out.push(SourceEvent::Control(control));
    }

    /// A valid frame (or part of one) dropped on purpose; `what` names the
    /// table, channel, topic or event type.
    pub fn skipped(&mut self, reason: SkipReason, what: impl Into<String>) {
        self.control(Control::Skipped {
            reason,
            what: what.into(),
        });
    }

    /// An error the exchange reported in-band; its message and request are
    /// quoted through [`excerpt`](crate::excerpt) (bounded, control
    /// characters escaped) whatever the exchange sent.
    pub fn exchange_error(&mut self, mut error: ExchangeError) {
        error.message = crate::excerpt(&error.message);
        error.request = error.request.as_deref().map(crate::excerpt);
        self.out.push(SourceEvent::ExchangeError(error));
    }

    /// A message to send on this connection in answer to this frame (a
    /// server's heartbeat request, e.g. Deribit's `test_request`). The
    /// driver sends it after what it queued before, in order, through
    /// its bounded outbox. At most [`MAX_REPLIES_PER_FRAME`] per frame:
    /// more are skipped (`SkipReason::OverLimit`, what `reply`), so a
    /// server can never make us send more than it sends.
    pub fn reply(&mut self, message: Outgoing) {
        if self.replies >= MAX_REPLIES_PER_FRAME {
            return self.skipped(SkipReason::OverLimit, "reply");
        }
        self.replies += 1;
        self.out.push(SourceEvent::Reply(message));
    }
}

/// One connection's decoding: a fresh [`Session`] and its quote numbering.
/// Make a new one for every connection. `S` is `dyn Session` for a driver;
/// an exchange's own tests use its session type to look inside.
pub struct Decoder<S: Session + ?Sized = dyn Session> {
    exchange: ExchangeId,
    conn_seq: u64,
    session: Box<S>,
}

impl<S: Session + ?Sized> std::fmt::Debug for Decoder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("exchange", &self.exchange)
            .field("conn_seq", &self.conn_seq)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// Decoding for a new connection of `exchange`.
    pub fn new<E: crate::Exchange + ?Sized>(exchange: &E) -> Decoder {
        Decoder::with_session(exchange.id(), exchange.new_session())
    }
}

impl<S: Session + ?Sized> Decoder<S> {
    /// Decoding with a given session (tests, tools).
    pub fn with_session(exchange: ExchangeId, session: Box<S>) -> Decoder<S> {
        Decoder {
            exchange,
            session,
            conn_seq: 0,
        }
    }

    /// The session, to look inside (an exchange's tests).
    pub fn session(&self) -> &S {
        &self.session
    }

    /// The exchange decoded.
    pub fn exchange(&self) -> &ExchangeId {
        &self.exchange
    }

    /// Tells the session which quotes are kept (see [`Session::want`]):
    /// frames that cannot carry one may be skipped unparsed.
    pub fn want(&mut self, wanted: &[Subscription]) {
        self.session.want(wanted);
    }

    /// Decodes one frame, appending its events to `out` only if it decodes.
    pub fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let start = out.len();
        let mut emitter = Emitter {
            exchange: &self.exchange,
            received_at,
            conn_seq: self.conn_seq,
            replies: 0,
            out,
        };
        let result = self.session.decode(frame, received_at, &mut emitter);
        match result {
            Ok(()) => self.conn_seq = emitter.conn_seq,
            Err(_) => emitter.out.truncate(start),
        }
        result
    }

    /// Like [`decode`](Self::decode), returning a new vector.
    pub fn decode_to_vec(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
    ) -> Result<Vec<SourceEvent>, DecodeError> {
        let mut out = Vec::new();
        self.decode(frame, received_at, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Emits a quote per `p:` word, then fails on `!`.
    struct Words;

    impl Session for Words {
        fn decode(
            &mut self,
            frame: WireFrame<'_>,
            _: Timestamp,
            out: &mut Emitter<'_>,
        ) -> Result<(), DecodeError> {
            let text = frame.text(1024)?;
            for word in text.split_whitespace() {
                if word == "!" {
                    return Err(DecodeError::UnknownShape(word.into()));
                }
                let price = word
                    .parse()
                    .map_err(|_| DecodeError::InvalidPrice(word.into()))?;
                out.quote(&Symbol::new("X"), QuoteKind::Mark, price, None);
            }
            out.exchange_error(ExchangeError {
                status: None,
                message: "a\nb".repeat(300),
                retryable: false,
                retry_after: None,
                request: None,
            });
            Ok(())
        }
    }

    fn seqs(events: &[SourceEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                SourceEvent::Quote(q) => Some(q.conn_seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_frame_that_fails_appends_nothing_and_takes_its_numbers_back() {
        let mut decoder = Decoder::with_session(ExchangeId::from_static("words"), Box::new(Words));
        let mut out = Vec::new();
        decoder
            .decode(WireFrame::Text("1 2"), Timestamp::UNIX_EPOCH, &mut out)
            .unwrap();
        assert_eq!(seqs(&out), [1, 2]);
        let before = out.clone();
        assert!(
            decoder
                .decode(WireFrame::Text("3 4 !"), Timestamp::UNIX_EPOCH, &mut out)
                .is_err()
        );
        assert_eq!(out, before);
        decoder
            .decode(WireFrame::Text("5"), Timestamp::UNIX_EPOCH, &mut out)
            .unwrap();
        assert_eq!(seqs(&out), [1, 2, 3]);
    }

    /// Asks for a reply per word.
    struct Chatty;

    impl Session for Chatty {
        fn decode(
            &mut self,
            frame: WireFrame<'_>,
            _: Timestamp,
            out: &mut Emitter<'_>,
        ) -> Result<(), DecodeError> {
            let text = frame.text(1024)?;
            for word in text.split_whitespace() {
                out.reply(Outgoing::Text(word.into()));
            }
            if text.contains('!') {
                return Err(DecodeError::UnknownShape("!".into()));
            }
            Ok(())
        }
    }

    #[test]
    fn replies_are_bounded_per_frame_and_go_with_a_failing_frame() {
        let mut decoder = Decoder::with_session(ExchangeId::from_static("chat"), Box::new(Chatty));
        let events = decoder
            .decode_to_vec(WireFrame::Text("a b c"), Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(
            events,
            [
                SourceEvent::Reply(Outgoing::Text("a".into())),
                SourceEvent::Control(Control::Skipped {
                    reason: SkipReason::OverLimit,
                    what: "reply".into()
                }),
                SourceEvent::Control(Control::Skipped {
                    reason: SkipReason::OverLimit,
                    what: "reply".into()
                }),
            ]
        );
        // The bound is per frame: the next frame may reply again.
        let events = decoder
            .decode_to_vec(WireFrame::Text("d"), Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(events, [SourceEvent::Reply(Outgoing::Text("d".into()))]);
        let mut out = Vec::new();
        assert!(
            decoder
                .decode(WireFrame::Text("e !"), Timestamp::UNIX_EPOCH, &mut out)
                .is_err()
        );
        assert!(out.is_empty(), "a failing frame's reply is discarded");
    }

    #[test]
    fn exchange_errors_are_quoted_short_and_escaped() {
        let mut decoder = Decoder::with_session(ExchangeId::from_static("words"), Box::new(Words));
        let events = decoder
            .decode_to_vec(WireFrame::Text("1"), Timestamp::UNIX_EPOCH)
            .unwrap();
        let Some(SourceEvent::ExchangeError(error)) = events.last() else {
            panic!("an error: {events:?}")
        };
        assert!(error.message.chars().count() <= crate::text::EXCERPT_CHARS + 1);
        assert!(!error.message.contains('\n'));
    }
}
