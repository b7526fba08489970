//! The connector actor: one logical WebSocket connection of one
//! [`ConnectionPlan`], a fresh [`Session`](mercury_core::Session) of its
//! [`Exchange`] per attempt, forwarding quotes to the collector.
//!
//! It is a thin driver of two things: awc (the socket, its stream and
//! sink, the upgrade) and the [`Link`] state machine, which decides
//! everything about the connection's life — when it has failed and why,
//! whether and when to reconnect, when to ping, renew, close or stop. The
//! driver feeds the link what happened, tagged with the connection
//! attempt's [`Generation`], and performs the [`Action`]s it answers. At
//! each [`Action::Connect`] it makes a new [`Decoder`] (a new session,
//! `conn_seq` from 1), so nothing of a connection survives it. Every frame
//! goes to [`Decoder::decode`]; a frame that fails to decode is counted,
//! logged at debug and skipped. A reply the session asks for (Deribit's
//! `public/test` for a `test_request`) is sent on the same connection
//! right after the frame is handled, behind whatever was queued before it;
//! the session gives at most one per frame and the bounded outbox fails a
//! peer that does not read them (see `outbox.rs`).
//!
//! Frames are handled one by one, but their quotes leave in batches: those
//! of what one read of the socket yields (at most [`READ_BATCH`] frames)
//! go to the collector in one message at the end of the batch, or earlier, before
//! anything else this connector tells the collector (a state, an
//! exchange's error), so the collector sees everything in the order it
//! happened. The in-flight bound counts frames, not messages: a batch of
//! n frames counts n until the collector has handled it, so at most
//! [`ConnectorConfig::max_in_flight`] frames' quotes wait, as when every
//! frame was its own message.

pub use crate::connector_config::{
    ConnectionCounters, ConnectorConfig, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_WRITE_STALL,
};
use crate::error::ConnectorError;
use crate::frames::Reassembler;
use crate::guard::GuardedCodec;
use crate::link::{Action, Generation, Input, Link, LinkConfig, Timer};
use crate::messages::{ConnectionId, ConnectorOutput};
use crate::outbox::{Outbound, Outbox, OutboxSink};
use crate::record::raw::{RawEvent, Tap};

mod clock;
mod incoming;
mod tap;
use crate::reports::Reports;
use crate::retry_after::RetryAfterSlot;
use crate::transport;
use actix::io::{SinkWrite, WriteHandler};
use actix::prelude::*;
use awc::error::WsProtocolError;
use awc::ws::{CloseCode, CloseReason, Frame, Message as WsMessage};
use clock::FrameClock;
use futures_util::{Sink, SinkExt, StreamExt, future, stream};
use mercury_core::{Clock, ConnectionPlan, Decoder, Exchange, Outgoing, Quote, SourceEvent};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};
use tracing::{Span, debug, info};

type WsFramed = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;
/// The sink of one connection attempt; its errors name their generation.
type TaggedSink = Pin<Box<dyn Sink<WsMessage, Error = (Generation, WsProtocolError)>>>;
/// The writer of one connection attempt, its queue bounded by an [`Outbox`].
type Writer = SinkWrite<Outbound, OutboxSink<TaggedSink>>;

/// How often changed counters are reported to the collector.
const COUNTERS_EVERY: Duration = Duration::from_secs(1);
/// How long to wait for the server to finish a closing handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// The most frames whose quotes go to the collector as one batch (those
/// one read of the socket yields, up to this many). Small: the first
/// quote of a batch waits for the last frame's decode (16 frames of the
/// firehose are ~10 µs; 64 doubled the median latency for ~2 % fewer
/// instructions, BENCHMARKS.md).
pub const READ_BATCH: usize = 16;

/// Ask a connector to close its connection politely and stop. It acts at
/// once whatever the connection is doing (a pending upgrade is abandoned).
#[derive(Debug, Clone, Copy)]
pub struct StopConnector;

impl Message for StopConnector {
    type Result = ();
}

/// What the stream of one connection attempt yields.
enum Incoming {
    Frame(Generation, Frame),
    /// The first error ends the stream: actix-http's parser does not
    /// consume a bad frame, and rustls keeps failing after a reset, so
    /// later polls would only repeat it.
    Failed(Generation, WsProtocolError),
    Ended(Generation),
    /// The items before it are what one read of the socket yielded: send
    /// their quotes.
    Flush,
}

/// One WebSocket connection of one [`ConnectionPlan`]. See the module docs.
pub struct Connector {
    id: ConnectionId,
    exchange: &'static dyn Exchange,
    plan: ConnectionPlan,
    /// The decoding of the current attempt; new at every connect.
    decoder: Decoder,
    config: ConnectorConfig,
    output: Recipient<ConnectorOutput>,
    /// States, errors and counters to the collector, bounded.
    reports: Reports,
    /// Frames' instants and receive times, one clock read each.
    clock: FrameClock,
    span: Span,
    link: Link,
    actions: Vec<Action>,
    /// The socket of a finished upgrade, until the link attaches it.
    upgraded: Option<WsFramed>,
    sink: Option<Writer>,
    /// What waits to be written on the current attempt (see outbox.rs).
    outbox: Outbox,
    upgrade: Option<SpawnHandle>,
    stream: Option<SpawnHandle>,
    timers: [Option<SpawnHandle>; Timer::ALL.len()],
    reassembler: Reassembler,
    events: Vec<SourceEvent>,
    /// The wanted quotes of the message being handled.
    quotes: Vec<Quote>,
    /// The wanted quotes of the batch's frames so far, not yet sent.
    batch: Vec<Quote>,
    /// The gap the first of them closes, if any.
    batch_gap: Option<Duration>,
    /// Frames with quotes in `batch`: its weight in the in-flight count.
    batch_frames: usize,
    /// The replies the session asked for in the message being handled.
    replies: Vec<Outgoing>,
    in_flight: Arc<AtomicUsize>,
    counters: ConnectionCounters,
    /// The raw capture, if any (see record/raw.rs).
    tap: Option<Tap>,
}

impl Connector {
    /// A connector that will open `plan`'s connection with sessions of
    /// `exchange` and send to `output` once started.
    pub fn new(
        exchange: &'static dyn Exchange,
        plan: ConnectionPlan,
        config: ConnectorConfig,
        output: Recipient<ConnectorOutput>,
    ) -> Self {
        let id = ConnectionId::next();
        let span =
            tracing::info_span!("connection", %id, exchange = %plan.exchange, url = %plan.url);
        let link = Link::new(LinkConfig {
            url: plan.url.clone(),
            heartbeat: config
                .heartbeat
                .clone()
                .unwrap_or_else(|| plan.heartbeat.clone()),
            keepalive: exchange.keepalive(),
            first_data: config.timeouts.first_data,
            max_age: config.max_connection_age.or(plan.max_age),
            close_grace: CLOSE_GRACE,
            backoff: config.backoff.clone(),
        });
        let tap = (config.raw.clone()).map(|sink| Tap::new(sink, id, plan.exchange.clone()));
        Connector {
            id,
            reports: Reports::new(id, plan.exchange.clone(), output.clone()),
            reassembler: Reassembler::new(config.max_frame_size),
            decoder: Decoder::new(exchange),
            exchange,
            plan,
            config,
            output,
            clock: FrameClock::system(),
            span,
            link,
            actions: Vec::new(),
            upgraded: None,
            sink: None,
            outbox: Outbox::default(),
            upgrade: None,
            stream: None,
            timers: Default::default(),
            events: Vec::with_capacity(64),
            quotes: Vec::new(),
            batch: Vec::new(),
            batch_gap: None,
            batch_frames: 0,
            replies: Vec::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            counters: ConnectionCounters::default(),
            tap,
        }
    }

    /// Uses `clock` for the receive time of each frame (read for every
    /// frame; without it, the system clock is read once per frame and the
    /// wall-clock time derived, see `connector/clock.rs`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = FrameClock::injected(clock);
        self
    }

    /// This connection's id, as it appears on its quotes.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Feeds the link one input that happens now and performs what it answers.
    fn feed(&mut self, input: Input, ctx: &mut Context<Self>) {
        self.feed_at(Instant::now(), input, ctx);
    }

    /// Feeds the link one input that happened at `now`.
    fn feed_at(&mut self, now: Instant, input: Input, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        let mut actions = std::mem::take(&mut self.actions);
        self.link.handle(now, input, &mut actions);
        for action in actions.drain(..) {
            self.perform(action, ctx);
        }
        self.actions = actions;
        self.drain_tap(ctx);
    }

    fn perform(&mut self, action: Action, ctx: &mut Context<Self>) {
        if !matches!(
            action,
            Action::Forward { .. } | Action::Arm(..) | Action::Send(_)
        ) {
            // What the collector hears comes after the quotes before it.
            self.flush_quotes(ctx);
        }
        match action {
            Action::Connect(generation) => self.connect(generation, ctx),
            Action::Attach(generation) => self.attach(generation, ctx),
            Action::Subscribe => {
                if self.tap.is_some() {
                    let wanted = (self.plan.subscriptions.iter())
                        .map(|s| format!("{}:{}", s.symbol, s.kind))
                        .collect();
                    self.capture(RawEvent::Subscriptions(wanted));
                }
                self.capture(RawEvent::Subscribe(self.plan.subscribe.len()));
                // The opening messages first (Deribit: set_heartbeat).
                let plan = &self.plan;
                let messages: Vec<Outgoing> =
                    plan.open.iter().chain(&plan.subscribe).cloned().collect();
                for message in &messages {
                    self.send(message);
                }
            }
            Action::Send(message) => self.send(&message),
            Action::Close { code, reason } => {
                self.write(WsMessage::Close(code.map(|code| CloseReason {
                    code: CloseCode::from(code),
                    description: reason,
                })))
            }
            Action::Teardown => self.teardown(ctx),
            Action::Arm(generation, timer, after) => {
                let slot = timer.index();
                if let Some(old) = self.timers[slot].take() {
                    ctx.cancel_future(old);
                }
                self.timers[slot] = Some(ctx.run_later(after, move |act, ctx| {
                    act.timers[slot] = None;
                    act.feed(Input::Timer(generation, timer), ctx);
                }));
            }
            Action::Report(state) => {
                if let Some(event) = RawEvent::of_state(&state) {
                    self.capture(event);
                }
                self.reports.state(state);
            }
            Action::Forward { gap } => {
                if let Some(gap) = gap {
                    self.capture(RawEvent::Gap(gap));
                }
                self.stage_quotes(gap, ctx);
            }
            Action::Exit => {
                self.reports.flush(self.counters);
                self.stop_after_capture(ctx);
            }
        }
    }

    /// Starts the upgrade of attempt `generation`, on a future the link can
    /// abandon at any time (a stop, a timeout).
    fn connect(&mut self, generation: Generation, ctx: &mut Context<Self>) {
        let url = self.plan.url.clone();
        self.span = tracing::info_span!("connection", id = %self.id, exchange = %self.plan.exchange, url = %url, attempt = self.link.attempts(), generation);
        let _entered = self.span.clone().entered();
        info!("connecting");
        // A new connection, a new session: nothing of the last one survives.
        self.decoder = Decoder::new(self.exchange);
        // Frames that cannot carry a wanted quote may be skipped unparsed.
        self.decoder.want(&self.plan.subscriptions);
        self.reassembler.clear();
        let timeouts = self.config.timeouts;
        let max_frame_size = self.config.max_frame_size;
        let tls = self.config.tls.clone();
        let upgrade = async move {
            transport::check_url(&url)?;
            let tls = url
                .starts_with("wss:")
                .then(|| tls.unwrap_or_else(crate::tls::default_tls_client_config));
            let retry_after = RetryAfterSlot::default();
            let client = transport::client(&timeouts, tls, retry_after.clone())?;
            let request = client.ws(url.as_str()).max_frame_size(max_frame_size);
            match actix_rt::time::timeout(timeouts.handshake, request.connect()).await {
                Ok(Ok((_response, framed))) => Ok(framed),
                Ok(Err(error)) => Err(transport::map_ws_error(
                    &url,
                    error,
                    &timeouts,
                    retry_after.take(),
                )),
                Err(_elapsed) => Err(ConnectorError::HandshakeTimeout {
                    url,
                    after: timeouts.handshake,
                }),
            }
        };
        let finished = upgrade.into_actor(self).map(move |result, act, ctx| {
            act.upgrade = None;
            match result {
                Ok(framed) => {
                    act.upgraded = Some(framed);
                    act.feed(Input::Upgraded(generation), ctx);
                    // Not attached: the link has moved on; drop the socket.
                    act.upgraded = None;
                }
                Err(error) => act.feed(Input::UpgradeFailed(generation, error), ctx),
            }
        });
        self.upgrade = Some(ctx.spawn(finished));
    }

    /// Takes the upgraded socket into use: its stream ends at its first
    /// error, and every item and sink error carries `generation`.
    fn attach(&mut self, generation: Generation, ctx: &mut Context<Self>) {
        let Some(framed) = self.upgraded.take() else {
            return;
        };
        info!("connected");
        self.capture(RawEvent::Open(self.plan.url.clone()));
        // Every frame's size is checked from its header (see guard.rs).
        let max_frame_size = self.config.max_frame_size;
        let framed = framed.into_map_codec(|codec| GuardedCodec::new(codec, max_frame_size));
        let (sink, frames) = framed.split();
        let sink: TaggedSink = Box::pin(sink.sink_map_err(move |error| (generation, error)));
        self.outbox = Outbox::default();
        self.sink = Some(SinkWrite::new(self.outbox.sink(sink), ctx));
        let incoming = frames
            .scan(false, |failed, item| {
                let item = (!*failed).then_some(item);
                *failed |= matches!(item, Some(Err(_)));
                future::ready(item)
            })
            .map(move |item| match item {
                Ok(frame) => Incoming::Frame(generation, frame),
                Err(error) => Incoming::Failed(generation, error),
            })
            .chain(stream::once(future::ready(Incoming::Ended(generation))));
        let incoming = ReadBatches {
            inner: incoming,
            unflushed: 0,
        };
        self.stream = Some(ctx.add_stream(incoming));
    }

    /// Ends the current attempt: the pending upgrade, the stream, the sink
    /// (closed, so a Close frame written just before still goes out, but
    /// dropped after [`CLOSE_GRACE`] whatever it still holds: a peer that
    /// reads nothing must not keep the socket open) and every timer.
    fn teardown(&mut self, ctx: &mut Context<Self>) {
        let handles = [self.upgrade.take(), self.stream.take()];
        let timers = self.timers.iter_mut().map(Option::take);
        for handle in handles.into_iter().chain(timers).flatten() {
            ctx.cancel_future(handle);
        }
        if let Some(mut sink) = self.sink.take() {
            sink.close();
            let writer = sink.handle();
            ctx.run_later(CLOSE_GRACE, move |_, ctx| {
                ctx.cancel_future(writer);
            });
        }
        self.upgraded = None;
        self.reassembler.clear();
    }

    fn write(&mut self, message: WsMessage) {
        self.queue(Outbound::Message(message));
    }

    fn queue(&mut self, item: Outbound) {
        if let Some(sink) = self.sink.as_mut()
            && sink.write(item).is_ok()
        {
            self.outbox.queued(Instant::now());
        }
    }

    fn send(&mut self, message: &Outgoing) {
        let message = match message {
            Outgoing::Text(text) => {
                debug!(%text, "send");
                self.capture(RawEvent::Sent(text.clone()));
                WsMessage::Text(text.clone().into())
            }
            Outgoing::Ping(payload) => {
                debug!(len = payload.len(), "send ping frame");
                WsMessage::Ping(payload.clone().into())
            }
            other => {
                debug!(?other, "cannot send this kind of message");
                return;
            }
        };
        self.write(message);
    }
}

impl Actor for Connector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(COUNTERS_EVERY, |act, _| act.reports.counters(act.counters));
        // The plan was checked before any I/O (a subscription the exchange
        // refuses is a mistake no connection can mend).
        self.feed(Input::Start, ctx);
    }
}

impl StreamHandler<Incoming> for Connector {
    fn handle(&mut self, item: Incoming, ctx: &mut Context<Self>) {
        match item {
            Incoming::Frame(generation, frame) => {
                let _entered = self.span.clone().entered();
                self.on_frame(generation, frame, ctx);
            }
            Incoming::Failed(generation, error) => {
                let error = transport::map_stream_error(&error);
                self.feed(Input::StreamFailed(generation, error), ctx);
            }
            Incoming::Ended(generation) => self.feed(Input::StreamEnded(generation), ctx),
            Incoming::Flush => self.flush_quotes(ctx),
        }
    }

    /// The stream says its own end ([`Incoming::Ended`]); the default
    /// would stop the actor.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

/// The items of a connection's stream, and [`Incoming::Flush`] whenever
/// the socket has nothing more ready after some (the end of what one read
/// yielded), or after [`READ_BATCH`] items in a row.
struct ReadBatches<S> {
    inner: S,
    /// Items yielded since the last flush.
    unflushed: usize,
}

impl<S: futures_util::Stream<Item = Incoming> + Unpin> futures_util::Stream for ReadBatches<S> {
    type Item = Incoming;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Incoming>> {
        use std::task::Poll;
        if self.unflushed >= READ_BATCH {
            self.unflushed = 0;
            return Poll::Ready(Some(Incoming::Flush));
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => {
                self.unflushed += 1;
                Poll::Ready(Some(item))
            }
            // Nothing more now (the waker is registered) or ever: flush
            // what came first.
            Poll::Pending | Poll::Ready(None) if self.unflushed > 0 => {
                self.unflushed = 0;
                Poll::Ready(Some(Incoming::Flush))
            }
            other => other,
        }
    }
}

impl WriteHandler<(Generation, WsProtocolError)> for Connector {
    fn error(
        &mut self,
        (generation, error): (Generation, WsProtocolError),
        ctx: &mut Context<Self>,
    ) -> Running {
        let error = ConnectorError::Protocol(error.to_string());
        // The writer is done (a sink that failed must not be polled
        // again). The link hears it right after, not from inside the
        // writer's poll, which holds the writer's state: the teardown it
        // may cause closes the writer (a RefCell borrowed twice would
        // panic). The generation keeps a late verdict from counting
        // against a newer connection.
        ctx.run_later(Duration::ZERO, move |act, ctx| {
            act.feed(Input::StreamFailed(generation, error), ctx);
        });
        Running::Stop
    }

    /// The sink closed (our teardown, or the peer). The default would stop
    /// the actor; the link decides instead.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<StopConnector> for Connector {
    type Result = ();

    fn handle(&mut self, _: StopConnector, ctx: &mut Context<Self>) {
        self.capture(RawEvent::Stopping);
        self.feed(Input::Stop, ctx);
    }
}
