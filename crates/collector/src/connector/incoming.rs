//! What arrives on a connection: frames (control frames answered or fed
//! to the link, fragments reassembled), messages decoded by the session,
//! and the quotes a subscription wants forwarded to the collector.

use super::Connector;
use crate::error::ConnectorError;
use crate::frames::Assembled;
use crate::link::{Generation, Input};
use crate::messages::{ConnectorOutput, InFlight};
use crate::outbox::Outbound;
use crate::record::raw::RawEvent;
use actix::prelude::*;
use awc::ws::Frame;
use mercury_core::{Control, ExchangeError, Quote, SourceEvent, WireFrame};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tracing::{debug, info};

impl Connector {
    pub(super) fn on_frame(
        &mut self,
        generation: Generation,
        frame: Frame,
        ctx: &mut Context<Self>,
    ) {
        if generation != self.link.generation() {
            return;
        }
        if let Some(error) = self.outbox.peer_not_reading(self.config.max_write_stall) {
            return self.feed(Input::StreamFailed(generation, error), ctx);
        }
        let message = match frame {
            Frame::Text(bytes) => Assembled::Text(bytes),
            Frame::Binary(bytes) => Assembled::Binary(bytes),
            Frame::Continuation(item) => match self.reassembler.push(item) {
                Ok(Some(message)) => message,
                Ok(None) => return self.feed(Input::Alive(generation), ctx),
                Err(error) => return self.feed(Input::StreamFailed(generation, error), ctx),
            },
            // Answered (one pong for any number of unanswered pings), but
            // not proof of life: a server's pings alone must not keep a
            // link that answers none of ours looking healthy.
            Frame::Ping(bytes) => {
                if self.outbox.ping(bytes) {
                    self.queue(Outbound::Pong);
                }
                return;
            }
            Frame::Pong(_) => return self.feed(Input::Alive(generation), ctx),
            Frame::Close(reason) => {
                self.capture(RawEvent::Close {
                    code: reason.as_ref().map(|r| u16::from(r.code)),
                    reason: reason.as_ref().and_then(|r| r.description.clone()),
                });
                let input = Input::ServerClose {
                    generation,
                    code: reason.as_ref().map(|r| u16::from(r.code)),
                    reason: reason.and_then(|r| r.description),
                };
                return self.feed(input, ctx);
            }
        };
        self.on_message(generation, message, ctx);
    }

    fn on_message(&mut self, generation: Generation, message: Assembled, ctx: &mut Context<Self>) {
        self.counters.frames += 1;
        // The one clock read of this frame.
        let (now, wall) = self.clock.read();
        let received_at = self.receive_time(wall);
        self.capture_received(&message, received_at);
        let decoded = match &message {
            Assembled::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    self.decoder
                        .decode(WireFrame::Text(text), received_at, &mut self.events)
                }
                Err(_) => Err(mercury_core::DecodeError::Malformed(
                    "text frame is not UTF-8".into(),
                )),
            },
            Assembled::Binary(bytes) => {
                self.decoder
                    .decode(WireFrame::Binary(bytes), received_at, &mut self.events)
            }
        };
        if let Err(error) = &decoded {
            self.counters.skipped += 1;
            debug!(%error, skipped = self.counters.skipped, "skipping a frame that does not decode");
        }
        let (decoded_quotes, errors, restarted) = self.sort_events();
        if !errors.is_empty() {
            // The exchange's errors reach the collector after the quotes
            // of the frames before this one, as they happened.
            self.flush_quotes(ctx);
            for error in &errors {
                self.reports.exchange_error(error, &mut self.counters);
            }
        }
        let input = Input::Message {
            generation,
            decoded: decoded_quotes,
            forwarded: self.quotes.len(),
            undecodable: decoded.is_err(),
        };
        self.feed_at(now, input, ctx);
        self.quotes.clear();
        // In order, behind what was queued before; one per frame at most
        // (the Emitter's bound), through the bounded outbox.
        for reply in std::mem::take(&mut self.replies) {
            if generation == self.link.generation() {
                self.send(&reply);
            }
        }
        for error in errors {
            self.feed(Input::ServerError(generation, error), ctx);
        }
        if restarted {
            // The quotes before it stand; the connection is of no more use.
            self.feed(
                Input::StreamFailed(generation, ConnectorError::SessionRestarted),
                ctx,
            );
        }
    }

    /// Keeps the quotes some subscription asks for (in `self.quotes`);
    /// returns how many quotes were decoded, the exchange's errors, and
    /// whether the server restarted the session.
    fn sort_events(&mut self) -> (u64, Vec<ExchangeError>, bool) {
        let mut decoded = 0;
        let mut errors = Vec::new();
        let mut restarted = false;
        let subscriptions = &self.plan.subscriptions;
        let wanted =
            |q: &Quote| subscriptions.is_empty() || subscriptions.iter().any(|s| s.matches(q));
        for event in self.events.drain(..) {
            match event {
                SourceEvent::Quote(quote) => {
                    decoded += 1;
                    if wanted(&quote) {
                        self.quotes.push(quote);
                    }
                }
                SourceEvent::Control(Control::SessionRestarted) => restarted = true,
                SourceEvent::Control(control) => debug!(?control, "control"),
                SourceEvent::ExchangeError(error) => errors.push(error),
                SourceEvent::Reply(reply) => self.replies.push(reply),
            }
        }
        self.counters.decoded += decoded;
        (decoded, errors, restarted)
    }

    /// Adds the quotes of the message just handled to the batch; a gap
    /// starts a batch of its own (it marks the batch's first quote).
    pub(super) fn stage_quotes(&mut self, gap: Option<Duration>, ctx: &mut Context<Self>) {
        if gap.is_some() {
            self.flush_quotes(ctx);
        }
        if self.batch.is_empty() {
            self.batch_gap = gap;
            // Reuses the message's buffer: no copy for a batch of one.
            std::mem::swap(&mut self.batch, &mut self.quotes);
        } else {
            self.batch.append(&mut self.quotes);
        }
        self.batch_frames += 1;
    }

    /// Sends the batch's quotes without waiting while few frames are in
    /// flight; past the bound, waits until the collector has handled
    /// them, which stops this actor from reading its socket meanwhile
    /// (backpressure).
    pub(super) fn flush_quotes(&mut self, ctx: &mut Context<Self>) {
        if self.batch.is_empty() {
            return;
        }
        let gap = self.batch_gap.take();
        if let Some(gap) = gap {
            info!(?gap, "quotes flow again after a gap");
        }
        let quotes = std::mem::take(&mut self.batch);
        let frames = std::mem::take(&mut self.batch_frames);
        self.counters.quotes += quotes.len() as u64;
        let message = ConnectorOutput::Quotes {
            connection: self.id,
            quotes,
            gap,
            in_flight: InFlight::weighted(&self.in_flight, frames),
        };
        if self.in_flight.load(Ordering::Acquire) <= self.config.max_in_flight {
            self.output.do_send(message);
        } else {
            ctx.wait(self.output.send(message).into_actor(self).map(|_, _, _| ()));
        }
    }
}
