//! The connector's side of the raw capture (see `record/raw.rs`): what
//! it records, and how it waits, without blocking its thread, while the
//! capture's channel is full.

use super::Connector;
use crate::frames::Assembled;
use crate::record::raw::{RawEvent, Tap};
use actix::prelude::*;
use mercury_core::Timestamp;

impl Connector {
    /// Records `event` in the raw capture, if there is one.
    pub(super) fn capture(&mut self, event: RawEvent) {
        if let Some(tap) = self.tap.as_mut() {
            let at = tap.capture_time(self.clock.wall());
            tap.record(at, event);
        }
    }

    /// Lossless capture: while records wait for room in the capture's
    /// channel, this actor handles nothing else (reads no socket).
    pub(super) fn drain_tap(&mut self, ctx: &mut Context<Self>) {
        if let Some(sent) = self.tap.as_mut().and_then(Tap::take_backlog) {
            ctx.wait(sent.into_actor(self).map(|delivered, act, ctx| {
                if let Some(tap) = act.tap.as_mut() {
                    tap.sent(delivered);
                }
                act.drain_tap(ctx);
                if act.tap.as_ref().is_some_and(|t| t.exiting && t.idle()) {
                    ctx.stop();
                }
            }));
        }
    }

    /// Stops the actor once the capture holds every record (a stopping
    /// actor would no longer wait for them: its last records, `stopped`
    /// among them, would be lost).
    pub(super) fn stop_after_capture(&mut self, ctx: &mut Context<Self>) {
        match self.tap.as_mut() {
            Some(tap) if !tap.idle() => tap.exiting = true,
            _ => ctx.stop(),
        }
    }

    /// The receive time of a message: with a raw capture, its
    /// [`RawSink::capture_time`](crate::record::raw::RawSink::capture_time), so the quotes'
    /// `received_at` is their `recv` record's `at_ns`.
    /// `wall` is the frame's time by the connector's clock.
    pub(super) fn receive_time(&self, wall: Timestamp) -> Timestamp {
        match &self.tap {
            Some(tap) => tap.capture_time(wall),
            None => wall,
        }
    }

    /// Records a whole message received at `at`.
    pub(super) fn capture_received(&mut self, message: &Assembled, at: Timestamp) {
        if let Some(tap) = self.tap.as_mut() {
            let (payload, text) = match message {
                Assembled::Text(bytes) => (bytes.clone(), true),
                Assembled::Binary(bytes) => (bytes.clone(), false),
            };
            tap.record(at, RawEvent::Received { payload, text });
        }
    }
}
