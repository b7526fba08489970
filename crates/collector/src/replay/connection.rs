//! A replay connection: what the live connector does with one recorded
//! connection's frames, without the socket. It decodes each `recv` with a
//! [`Decoder`] of the same exchange (a new one at each `connecting`, as
//! the connector makes one at each attempt), at the recorded receive time,
//! keeps the quotes the plan's subscriptions want, and says which batch
//! comes after a gap — by the connector's rules:
//!
//! - a batch is sent only when it holds a wanted quote;
//! - after the server's `close`, or `stopping`, nothing more counts until
//!   the next attempt (the link forwards nothing in those states);
//! - once quotes have flowed, the end of an attempt (`reconnect`, a new
//!   `connecting`) opens a gap, and the next batch carries it (its first
//!   quote is `after_gap`); its length is measured from the recorded times.

use super::reader::{Payload, ReplayRecord};
use base64::Engine;
use mercury_core::raw_line::RawLineEvent;
use mercury_core::{Decoder, Exchange, Quote, SourceEvent, Subscription, Timestamp, WireFrame};
use std::time::Duration;
use tracing::{debug, warn};

/// One recorded connection, replayed. See the module docs.
pub(crate) struct ReplayConnection {
    exchange: &'static dyn Exchange,
    decoder: Decoder,
    /// The plan's subscriptions (`None`: not recorded, every quote counts).
    subscriptions: Option<Vec<Subscription>>,
    /// Frames count (not after a Close or a stop, until the next attempt).
    listening: bool,
    quotes_flowed: bool,
    /// Since when quotes are interrupted (ns), once they had flowed.
    gap_since: Option<i64>,
    events: Vec<SourceEvent>,
    /// Frames received while not listening, or that did not decode.
    pub(crate) ignored: u64,
}

/// The quotes of one frame, as the connector forwards them.
pub(crate) struct Batch {
    pub(crate) quotes: Vec<Quote>,
    pub(crate) gap: Option<Duration>,
}

impl ReplayConnection {
    pub(crate) fn new(exchange: &'static dyn Exchange) -> Self {
        ReplayConnection {
            exchange,
            decoder: Decoder::new(exchange),
            subscriptions: None,
            listening: true,
            quotes_flowed: false,
            gap_since: None,
            events: Vec::with_capacity(64),
            ignored: 0,
        }
    }

    /// Plays one record; a frame's wanted quotes come back as a batch.
    pub(crate) fn play(&mut self, record: &ReplayRecord) -> Option<Batch> {
        match record.event {
            RawLineEvent::Recv => return self.received(record),
            RawLineEvent::Connecting => {
                self.end_attempt(record.at_ns);
                self.decoder = Decoder::new(self.exchange);
                self.listening = true;
            }
            RawLineEvent::Subscriptions => self.subscriptions = Some(self.parse_wanted(record)),
            RawLineEvent::Close | RawLineEvent::Stopping => self.listening = false,
            RawLineEvent::Reconnect | RawLineEvent::Failed | RawLineEvent::Stopped => {
                self.end_attempt(record.at_ns);
                self.listening = false;
            }
            _ => {}
        }
        None
    }

    fn end_attempt(&mut self, at_ns: i64) {
        if self.quotes_flowed {
            self.gap_since.get_or_insert(at_ns);
        }
    }

    fn received(&mut self, record: &ReplayRecord) -> Option<Batch> {
        if !self.listening {
            self.ignored += 1;
            return None;
        }
        let at = Timestamp::from_unix_nanos(i128::from(record.at_ns));
        let decoded = match &record.payload {
            Payload::Text(text) => self
                .decoder
                .decode(WireFrame::Text(text), at, &mut self.events),
            Payload::Base64(bin) => match base64::engine::general_purpose::STANDARD.decode(bin) {
                Ok(bytes) => self
                    .decoder
                    .decode(WireFrame::Binary(&bytes), at, &mut self.events),
                Err(_) => Err(mercury_core::DecodeError::Malformed("bad base64".into())),
            },
            Payload::None => return None,
        };
        if let Err(error) = decoded {
            self.ignored += 1;
            debug!(%error, "skipping a frame that does not decode");
        }
        let wanted = |q: &Quote| match &self.subscriptions {
            None => true,
            Some(subs) => subs.is_empty() || subs.iter().any(|s| s.matches(q)),
        };
        let mut quotes = Vec::new();
        for event in self.events.drain(..) {
            if let SourceEvent::Quote(quote) = event
                && wanted(&quote)
            {
                quotes.push(quote);
            }
        }
        if quotes.is_empty() {
            return None;
        }
        self.quotes_flowed = true;
        let gap = (self.gap_since.take())
            .map(|since| Duration::from_nanos(record.at_ns.saturating_sub(since).max(0) as u64));
        Some(Batch { quotes, gap })
    }

    /// The `SYMBOL:kind` entries of a `subscriptions` record.
    fn parse_wanted(&self, record: &ReplayRecord) -> Vec<Subscription> {
        let id = self.exchange.id();
        let mut wanted = Vec::with_capacity(record.subscriptions.len());
        for entry in &record.subscriptions {
            let parsed = entry
                .rsplit_once(':')
                .and_then(|(symbol, kind)| Some((symbol, kind.parse().ok()?)));
            match parsed {
                Some((symbol, kind)) => wanted.push(Subscription::new(id.clone(), symbol, kind)),
                None => {
                    warn!(entry = %mercury_core::excerpt(entry), "skipping a subscription that does not read as SYMBOL:kind")
                }
            }
        }
        wanted
    }
}
