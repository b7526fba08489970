//! Server-driven heartbeats are answered: a venue that closes a client
//! which leaves its heartbeat requests unanswered (Deribit's
//! `test_request`) must never close one whose session answers them
//! ([`Emitter::reply`](mercury_core::Emitter::reply)).
//!
//! The venue runs twice with a short heartbeat (`VenueConfig::heartbeat`)
//! for [`BEATS`] intervals: once with the client's replies thrown away —
//! if the venue then closes, it enforces a heartbeat — and once with every
//! reply handed back to it, as the collector sends them; that run must
//! stay open.

use crate::{BASE, NOW};
use mercury_core::{
    Decoder, Exchange, Outgoing, SourceEvent, Subscription, Timestamp, VenueConfig, WireFrame,
};
use std::time::Duration;

/// The venue's heartbeat interval in the check.
const BEAT: Duration = Duration::from_secs(1);
/// Time steps per heartbeat interval.
const STEPS_PER_BEAT: u32 = 4;
/// Heartbeat intervals run.
const BEATS: u32 = 10;

/// What one run saw.
struct Run {
    /// The close code, if the venue closed.
    closed: Option<u16>,
    /// Replies the session asked for.
    replies: usize,
}

/// Runs `exchange`'s venue against its session; the replies go back to
/// the venue when `answer` is set. `None` if the exchange has no venue.
fn run(exchange: &dyn Exchange, symbol: &str, answer: bool) -> Option<Run> {
    let mut venue = exchange.new_venue(&VenueConfig {
        symbols: vec![symbol.to_owned()],
        heartbeat: Some(BEAT),
        ..VenueConfig::default()
    })?;
    let subscription = Subscription::new(exchange.id(), symbol, exchange.default_kind());
    let mut now = NOW;
    let mut frames = Vec::new();
    venue.on_connect(None, now, &mut frames);
    for plan in exchange.plan(BASE, &[subscription]).expect("subscribes") {
        for message in plan.open.iter().chain(&plan.subscribe) {
            if let Some(text) = message.as_text() {
                venue.on_text(text, now, &mut frames);
            }
        }
    }
    let mut decoder = Decoder::new(exchange);
    let mut replies = 0;
    let step = BEAT / STEPS_PER_BEAT;
    for _ in 0..BEATS * STEPS_PER_BEAT {
        let mut answers = Vec::new();
        for frame in std::mem::take(&mut frames) {
            let mut events = Vec::new();
            // Whether it decodes is the other checks' business.
            let _ = decoder.decode(WireFrame::Text(&frame), now, &mut events);
            for event in events {
                if let SourceEvent::Reply(Outgoing::Text(text)) = event {
                    replies += 1;
                    answers.push(text);
                }
            }
        }
        if answer {
            for text in answers {
                venue.on_text(&text, now, &mut frames);
            }
        }
        if let Some(code) = venue.close_code() {
            return Some(Run {
                closed: Some(code),
                replies,
            });
        }
        now = later(now, step);
        venue.on_event(now, &mut frames);
    }
    Some(Run {
        closed: venue.close_code(),
        replies,
    })
}

fn later(now: Timestamp, by: Duration) -> Timestamp {
    now.saturating_add(by)
}

/// Panics if the venue enforces a heartbeat and closes a client whose
/// session answers every request; returns the replies the answering
/// session sent (0 for a venue without a server-driven heartbeat).
pub(crate) fn check(exchange: &dyn Exchange, symbol: &str) -> usize {
    let id = exchange.id();
    let Some(silent) = run(exchange, symbol, false) else {
        return 0;
    };
    let Some(answering) = run(exchange, symbol, true) else {
        return 0;
    };
    if silent.closed.is_none() {
        // The venue enforces no heartbeat; whatever was answered did no harm.
        assert!(
            answering.closed.is_none(),
            "{id}: the venue closed a client that answered (code {:?})",
            answering.closed
        );
        return answering.replies;
    }
    assert!(
        answering.replies > 0,
        "{id}: the venue closes a silent client (code {:?}) but the session \
         answered none of its {BEATS} heartbeats",
        silent.closed
    );
    assert!(
        answering.closed.is_none(),
        "{id}: the venue closed a client whose session answered its heartbeats \
         (code {:?}, {} replies)",
        answering.closed,
        answering.replies
    );
    answering.replies
}
