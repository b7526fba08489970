//! The connector actor: one WebSocket connection driving one
//! [`QuoteSource`], forwarding its quotes to the collector.
//!
//! Lifecycle: `started` → connect (TCP/TLS and upgrade, each with its
//! timeout) → send the source's subscribe messages → read frames until the
//! link fails, the server closes, or [`StopConnector`] arrives. Every frame
//! goes to [`QuoteSource::decode`]; a frame that fails to decode is counted,
//! logged at debug and skipped. The connect step is one method so that a
//! reconnect loop can call it again.

use crate::backoff::Schedule;

mod lifecycle;
pub use crate::connector_config::{
    ConnectionCounters, ConnectorConfig, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_IN_FLIGHT,
};
use crate::error::ConnectorError;
use crate::frames::{Assembled, Reassembler};
use crate::heartbeat::{Beat, Heartbeat};
use crate::messages::{ConnectionId, ConnectionState, ConnectorOutput, InFlight};
use crate::retry_after::RetryAfterSlot;
use crate::transport;
use actix::io::{SinkWrite, WriteHandler};
use actix::prelude::*;
use awc::error::WsProtocolError;
use awc::ws::{CloseCode, CloseReason, Frame, Message as WsMessage};
use futures_util::stream::{SplitSink, StreamExt};
use mercury_core::{Clock, Control, Outgoing, QuoteSource, SourceEvent, SystemClock, WireFrame};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tracing::{Span, debug, info};

type WsFramed = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;
type WsSink = SplitSink<WsFramed, WsMessage>;

/// Renew a connection this fraction (1/100) of its maximum age early.
const RENEW_MARGIN_DIVISOR: u32 = 100;
/// How often changed counters are reported to the collector.
const COUNTERS_EVERY: Duration = Duration::from_secs(1);
/// How long to wait for the server to answer our Close before leaving.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Ask a connector to close its connection politely and stop.
#[derive(Debug, Clone, Copy)]
pub struct StopConnector;

impl Message for StopConnector {
    type Result = ();
}

/// One WebSocket connection driving one [`QuoteSource`]. See the module docs.
pub struct Connector {
    id: ConnectionId,
    source: Box<dyn QuoteSource>,
    config: ConnectorConfig,
    output: Recipient<ConnectorOutput>,
    clock: Arc<dyn Clock>,
    span: Span,
    sink: Option<SinkWrite<WsMessage, WsSink>>,
    reassembler: Reassembler,
    heartbeat: Option<Heartbeat>,
    events: Vec<SourceEvent>,
    in_flight: Arc<AtomicUsize>,
    counters: ConnectionCounters,
    last_exchange_error: Option<mercury_core::ExchangeError>,
    closed_by_server: Option<ConnectorError>,
    schedule: Schedule,
    /// Handles of the live connection's stream and timers, cancelled on teardown.
    handles: Vec<SpawnHandle>,
    live: bool,
    /// The live connection has forwarded a quote.
    streaming: bool,
    ever_connected: bool,
    connected_at: Option<Instant>,
    gap_since: Option<Instant>,
    stopping: bool,
    done: bool,
}

impl Connector {
    /// A connector that will feed `source` and send to `output` once started.
    pub fn new(
        source: Box<dyn QuoteSource>,
        config: ConnectorConfig,
        output: Recipient<ConnectorOutput>,
    ) -> Self {
        let id = ConnectionId::next();
        let schedule = Schedule::new(config.backoff.clone());
        let span = tracing::info_span!("connection", %id, exchange = %source.exchange(), url = %config.url);
        Connector {
            id,
            reassembler: Reassembler::new(config.max_frame_size),
            source,
            config,
            output,
            clock: Arc::new(SystemClock),
            span,
            sink: None,
            heartbeat: None,
            events: Vec::with_capacity(64),
            in_flight: Arc::new(AtomicUsize::new(0)),
            counters: ConnectionCounters::default(),
            last_exchange_error: None,
            closed_by_server: None,
            schedule,
            handles: Vec::new(),
            live: false,
            streaming: false,
            ever_connected: false,
            connected_at: None,
            gap_since: None,
            stopping: false,
            done: false,
        }
    }

    /// Uses `clock` for the receive time of each frame.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// This connection's id, as it appears on its quotes.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    fn report(&self, state: ConnectionState) {
        self.output.do_send(ConnectorOutput::State {
            connection: self.id,
            exchange: self.source.exchange(),
            state,
        });
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        let url = self.config.url.clone();
        let attempt = self.schedule.attempts();
        self.span = tracing::info_span!("connection", id = %self.id, exchange = %self.source.exchange(), url = %url, attempt);
        let _entered = self.span.clone().entered();
        info!("connecting");
        self.report(ConnectionState::Connecting { url: url.clone() });
        self.source.reset();
        self.reassembler.clear();
        self.counters.decoded = 0;
        self.last_exchange_error = None;
        self.closed_by_server = None;
        let timeouts = self.config.timeouts;
        let retry_after = RetryAfterSlot::default();
        let client = match transport::check_url(&url)
            .and_then(|()| transport::client(&timeouts, retry_after.clone()))
        {
            Ok(client) => client,
            Err(error) => return self.connection_failed(error, ctx),
        };
        let request = client
            .ws(url.as_str())
            .max_frame_size(self.config.max_frame_size);
        let upgrade = async move {
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
        ctx.wait(
            upgrade
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(framed) => act.on_connected(framed, ctx),
                    Err(error) => act.connection_failed(error, ctx),
                }),
        );
    }

    fn on_connected(&mut self, framed: WsFramed, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        info!("connected");
        let (sink, stream) = framed.split();
        self.sink = Some(SinkWrite::new(sink, ctx));
        self.handles.push(ctx.add_stream(stream));
        self.live = true;
        self.ever_connected = true;
        self.connected_at = Some(Instant::now());
        let messages = match self.source.subscribe_messages(&self.config.subscriptions) {
            Ok(messages) => messages,
            Err(error) => {
                return self.connection_failed(ConnectorError::Subscribe(error.to_string()), ctx);
            }
        };
        for message in &messages {
            self.send(message);
        }
        self.report(ConnectionState::Subscribing);

        let policy = self
            .config
            .heartbeat
            .clone()
            .unwrap_or_else(|| self.source.heartbeat());
        let heartbeat = Heartbeat::new(policy, Instant::now());
        self.handles
            .push(ctx.run_interval(heartbeat.check_every(), |act, ctx| act.check_heartbeat(ctx)));
        self.heartbeat = Some(heartbeat);

        let max_age = self
            .config
            .max_connection_age
            .or_else(|| self.source.max_connection_age());
        if let Some(age) = max_age {
            // A little before the exchange's limit, so it never cuts us off.
            let renew_after = age.saturating_sub(age / RENEW_MARGIN_DIVISOR);
            self.handles
                .push(ctx.run_later(renew_after, |act, ctx| act.renew(ctx)));
        }

        let first_data = self.config.timeouts.first_data;
        let (frames_before, skipped_before) = (self.counters.frames, self.counters.skipped);
        self.handles
            .push(ctx.run_later(first_data, move |act, ctx| {
                if act.counters.decoded == 0 {
                    let frames = act.counters.frames - frames_before;
                    let skipped = act.counters.skipped - skipped_before;
                    act.connection_failed(
                        ConnectorError::NoData {
                            after: first_data,
                            frames,
                            skipped,
                        },
                        ctx,
                    );
                }
            }));
    }

    fn send(&mut self, message: &Outgoing) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        let message = match message {
            Outgoing::Text(text) => {
                debug!(%text, "send");
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
        let _ = sink.write(message);
    }

    fn check_heartbeat(&mut self, ctx: &mut Context<Self>) {
        let Some(heartbeat) = self.heartbeat.as_mut() else {
            return;
        };
        match heartbeat.check(Instant::now()) {
            Beat::Quiet => {}
            Beat::SendPing => {
                let ping = heartbeat.policy().ping.clone();
                debug!("idle: sending heartbeat ping");
                self.send(&ping);
            }
            Beat::Dead { silent_for } => {
                self.connection_failed(ConnectorError::HeartbeatTimeout { silent_for }, ctx)
            }
        }
    }

    fn on_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if let Some(heartbeat) = self.heartbeat.as_mut() {
            heartbeat.on_frame(Instant::now());
        }
        let message = match frame {
            Frame::Text(bytes) => Assembled::Text(bytes),
            Frame::Binary(bytes) => Assembled::Binary(bytes),
            Frame::Continuation(item) => match self.reassembler.push(item) {
                Ok(Some(message)) => message,
                Ok(None) => return,
                Err(error) => return self.connection_failed(error, ctx),
            },
            Frame::Ping(bytes) => {
                if let Some(sink) = self.sink.as_mut() {
                    let _ = sink.write(WsMessage::Pong(bytes));
                }
                return;
            }
            Frame::Pong(_) => return,
            Frame::Close(reason) => return self.on_close(reason, ctx),
        };
        self.on_message(message, ctx);
    }

    fn on_message(&mut self, message: Assembled, ctx: &mut Context<Self>) {
        self.counters.frames += 1;
        let received_at = self.clock.now();
        let decoded = match &message {
            Assembled::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    self.source
                        .decode(WireFrame::Text(text), received_at, &mut self.events)
                }
                Err(_) => Err(mercury_core::DecodeError::Malformed(
                    "text frame is not UTF-8".into(),
                )),
            },
            Assembled::Binary(bytes) => {
                self.source
                    .decode(WireFrame::Binary(bytes), received_at, &mut self.events)
            }
        };
        if let Err(error) = decoded {
            self.counters.skipped += 1;
            debug!(%error, skipped = self.counters.skipped, "skipping a frame that does not decode");
            return;
        }
        self.forward_events(ctx);
    }

    fn forward_events(&mut self, ctx: &mut Context<Self>) {
        let mut quotes = Vec::new();
        let mut fatal = None;
        // Only quotes some subscription asks for travel to the collector.
        let subscriptions = &self.config.subscriptions;
        let wanted = |q: &mercury_core::Quote| {
            subscriptions.is_empty() || subscriptions.iter().any(|s| s.matches(q))
        };
        for event in self.events.drain(..) {
            match event {
                SourceEvent::Quote(quote) => {
                    self.counters.decoded += 1;
                    if wanted(&quote) {
                        quotes.push(quote);
                    }
                }
                SourceEvent::Control(Control::Subscribed { topic }) => debug!(%topic, "subscribed"),
                SourceEvent::Control(Control::Skipped { reason, table }) => {
                    debug!(?reason, %table, "frame skipped by the source")
                }
                SourceEvent::Control(control) => debug!(?control, "control"),
                SourceEvent::ExchangeError(error) => {
                    info!(status = ?error.status, message = %error.message, "exchange error");
                    self.output.do_send(ConnectorOutput::ExchangeError {
                        connection: self.id,
                        error: error.clone(),
                    });
                    if error.retryable {
                        self.last_exchange_error = Some(error);
                    } else {
                        fatal.get_or_insert(error);
                    }
                }
            }
        }
        if !quotes.is_empty() {
            if !self.streaming {
                self.streaming = true;
                self.report(ConnectionState::Streaming);
            }
            self.counters.quotes += quotes.len() as u64;
            self.forward_quotes(quotes, ctx);
        }
        if let Some(error) = fatal {
            self.connection_failed(ConnectorError::Exchange(error), ctx);
        }
    }

    /// Sends without waiting while few batches are in flight; past the
    /// bound, waits until the collector has handled this one, which stops
    /// this actor from reading its socket meanwhile (backpressure).
    fn forward_quotes(&mut self, quotes: Vec<mercury_core::Quote>, ctx: &mut Context<Self>) {
        let gap = self.gap_since.take().map(|since| since.elapsed());
        if let Some(gap) = gap {
            info!(?gap, "quotes flow again after a gap");
        }
        let message = ConnectorOutput::Quotes {
            connection: self.id,
            quotes,
            gap,
            in_flight: InFlight::new(&self.in_flight),
        };
        if self.in_flight.load(Ordering::Acquire) <= self.config.max_in_flight {
            self.output.do_send(message);
        } else {
            ctx.wait(self.output.send(message).into_actor(self).map(|_, _, _| ()));
        }
    }

    fn on_close(&mut self, reason: Option<CloseReason>, ctx: &mut Context<Self>) {
        let code = reason.as_ref().map(|r| u16::from(r.code));
        let text = reason.as_ref().and_then(|r| r.description.clone());
        info!(?code, reason = ?text, "server closed the connection");
        if let Some(sink) = self.sink.as_mut() {
            let _ = sink.write(WsMessage::Close(reason));
        }
        if self.stopping {
            return self.finish(ctx);
        }
        self.closed_by_server = Some(ConnectorError::Closed { code, reason: text });
        // The server has spoken: no heartbeat verdict on a closing link.
        self.heartbeat = None;
        // Wait for the peer to end the TCP stream after our echo, but not forever.
        self.handles
            .push(ctx.run_later(CLOSE_GRACE, |act, ctx| act.connection_ended(ctx)));
    }

    fn finish(&mut self, ctx: &mut Context<Self>) {
        if self.done {
            return;
        }
        self.teardown(ctx);
        self.done = true;
        self.report(ConnectionState::Stopped);
        ctx.stop();
    }
}

impl Actor for Connector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let mut reported = ConnectionCounters::default();
        ctx.run_interval(COUNTERS_EVERY, move |act, _| {
            if act.counters != reported {
                reported = act.counters;
                act.output.do_send(ConnectorOutput::Counters {
                    connection: act.id,
                    counters: reported,
                });
            }
        });
        self.connect(ctx);
    }
}

impl StreamHandler<Result<Frame, WsProtocolError>> for Connector {
    fn handle(&mut self, item: Result<Frame, WsProtocolError>, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        match item {
            Ok(frame) => self.on_frame(frame, ctx),
            Err(error) => self.connection_failed(ConnectorError::Protocol(error.to_string()), ctx),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        let _entered = self.span.clone().entered();
        self.connection_ended(ctx);
    }
}

impl WriteHandler<WsProtocolError> for Connector {
    fn error(&mut self, error: WsProtocolError, ctx: &mut Context<Self>) -> Running {
        self.connection_failed(ConnectorError::Protocol(error.to_string()), ctx);
        Running::Continue
    }

    /// The sink closed (our teardown, or the peer). The default would stop
    /// the actor; the read side and the reconnect logic decide instead.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<StopConnector> for Connector {
    type Result = ();

    fn handle(&mut self, _: StopConnector, ctx: &mut Context<Self>) {
        self.stopping = true;
        match self.sink.as_mut() {
            Some(sink) => {
                let _ = sink.write(WsMessage::Close(Some(CloseReason::from(CloseCode::Normal))));
                ctx.run_later(CLOSE_GRACE, |act, ctx| act.finish(ctx));
            }
            None => self.finish(ctx),
        }
    }
}
