//! The collector actor: one place where quotes from every connector meet,
//! get their global sequence number, and go to the sinks that asked for
//! them (see [`crate::sinks`] for the delivery rules).

use crate::error::{ConnectorError, FetchError, FetchFailed};
use crate::latency::HandOffClock;
use crate::links::LinkFeed;
use crate::messages::{
    CancelFetches, CollectorStats, ConnectionEvent, ConnectionId, ConnectionSnapshot,
    ConnectionState, ConnectorOutput, Fetch, GetStats, OpenStream, StreamEnd, Subscribe, Tick,
    TickStream, WatchConnections,
};
use crate::sinks::{Delivery, Sink, Target};
use actix::prelude::*;
use mercury_core::{Clock, ExchangeId, Quote};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

type FetchReply = oneshot::Sender<Result<Vec<Tick>, FetchFailed>>;

/// How a request (a fetch or a stream) answers when it ends.
enum Reply {
    Fetch(FetchReply),
    Stream(oneshot::Sender<StreamEnd>),
}

/// A sink that ends: after `wanted` ticks, a timeout, a failed connection
/// it depends on, or a cancellation.
struct Request {
    id: u64,
    wanted: Option<usize>,
    reply: Reply,
}

/// Merges the quotes of any number of connectors. See the crate docs for
/// the guarantees it keeps.
#[derive(Default)]
pub struct Collector {
    last_seq: u64,
    next_id: u64,
    sinks: Vec<Sink>,
    requests: Vec<Request>,
    connections: Vec<ConnectionSnapshot>,
    /// The last [`Tick::conn_seq`] given per connection (one entry per
    /// connector ever started).
    conn_seqs: HashMap<ConnectionId, u64>,
    /// Drops counted by lossy sinks that are gone.
    past_drops: u64,
    watchers: Vec<Recipient<ConnectionEvent>>,
    watcher_drops: u64,
    /// Coverage and gaps, for the ledger (lossless; see `links.rs`).
    pub(crate) links: LinkFeed,
    /// Feed and internal latency per (exchange, kind) (`latency.rs`).
    latency: crate::LatencyStats,
    /// Tells the hand-off time of each batch.
    clock: HandOffClock,
}

impl Collector {
    /// A collector with no connections and no sinks.
    pub fn new() -> Self {
        Self::default()
    }

    /// A collector that reads the hand-off time of each batch (its
    /// internal latency) from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Collector {
            clock: HandOffClock(clock),
            ..Self::default()
        }
    }

    fn snapshot(&mut self, connection: ConnectionId) -> Option<&mut ConnectionSnapshot> {
        self.connections
            .iter_mut()
            .find(|c| c.connection == connection)
    }

    fn on_quotes(
        &mut self,
        connection: ConnectionId,
        quotes: Vec<Quote>,
        gap: Option<Duration>,
        ctx: &mut Context<Self>,
    ) {
        if let Some(gap) = gap {
            tracing::info!(%connection, ?gap, "quotes resumed after a gap");
        }
        if let Some(first) = quotes.first() {
            let exchange = Some(&first.exchange);
            (self.links).on_quotes(connection, exchange, first.received_at, gap);
        }
        if let Some(snapshot) = self.snapshot(connection) {
            snapshot.quotes += quotes.len() as u64;
            snapshot.gaps += u64::from(gap.is_some());
            snapshot.last_quote_at = quotes.last().map(|q| q.received_at);
            // Quotes flow: whatever failed before is healed.
            snapshot.last_error = None;
            if matches!(snapshot.state, ConnectionState::Subscribing) {
                snapshot.state = ConnectionState::Streaming;
            }
        }
        // Internal latency ends here: one clock read for the batch.
        let handed_off = self.clock.0.now();
        let mut reached = Vec::new();
        let conn_seq = self.conn_seqs.entry(connection).or_default();
        let first_conn_seq = *conn_seq + 1;
        *conn_seq += quotes.len() as u64;
        for (i, quote) in quotes.into_iter().enumerate() {
            self.last_seq += 1;
            let tick = Tick {
                seq: self.last_seq,
                connection,
                conn_seq: first_conn_seq + i as u64,
                quote,
                after_gap: i == 0 && gap.is_some(),
            };
            let mut handed = false;
            for sink in self.sinks.iter_mut().filter(|s| s.wants(&tick.quote)) {
                handed = true;
                sink.offer(tick.clone());
                let wanted = self.requests.iter().find(|r| r.id == sink.id);
                if wanted.is_some_and(|r| r.wanted == Some(sink.taken as usize)) {
                    // Enough: it takes nothing more.
                    sink.closed = true;
                    reached.push(sink.id);
                }
            }
            if handed {
                self.latency.record(&tick.quote, handed_off);
            }
        }
        self.deliver_backlogs(ctx);
        self.deliver_link_backlog(ctx);
        for id in reached {
            self.finish(id, None);
        }
        self.drop_closed_sinks();
    }

    /// Lossless sinks whose queue was full: deliver their backlog before
    /// taking the next batch (the collector's mailbox waits meanwhile).
    fn deliver_backlogs(&mut self, ctx: &mut Context<Self>) {
        let work: Vec<(Target, Vec<Tick>)> = self
            .sinks
            .iter_mut()
            .filter_map(Sink::take_backlog)
            .collect();
        if work.is_empty() {
            return;
        }
        let deliver = async move {
            for (target, ticks) in work {
                target.send_all(ticks).await;
            }
        };
        ctx.wait(deliver.into_actor(self));
    }

    /// Link watchers whose channel was full: deliver before the next message.
    fn deliver_link_backlog(&mut self, ctx: &mut Context<Self>) {
        if let Some(deliver) = self.links.take_backlog() {
            ctx.wait(deliver.into_actor(self));
        }
    }

    /// Ends request `id`: with its ticks (`None`), or with `reason`.
    fn finish(&mut self, id: u64, reason: Option<FetchError>) {
        let Some(at) = self.requests.iter().position(|r| r.id == id) else {
            return;
        };
        let request = self.requests.swap_remove(at);
        let Some(at) = self.sinks.iter().position(|s| s.id == id) else {
            return;
        };
        let mut sink = self.sinks.swap_remove(at);
        match (request.reply, reason) {
            (Reply::Fetch(reply), None) => {
                let _ = reply.send(Ok(std::mem::take(&mut sink.collected)));
            }
            (Reply::Fetch(reply), Some(reason)) => {
                let received = std::mem::take(&mut sink.collected);
                let _ = reply.send(Err(FetchFailed { reason, received }));
            }
            (Reply::Stream(end), reason) => {
                let _ = end.send(match reason {
                    None => Ok(sink.taken),
                    Some(reason) => Err(reason),
                });
            }
        }
    }

    fn drop_closed_sinks(&mut self) {
        let requests = &self.requests;
        let mut dropped = 0;
        self.sinks.retain(|s| {
            let keep = !s.closed || requests.iter().any(|r| r.id == s.id);
            if !keep {
                dropped += s.drops;
            }
            keep
        });
        self.past_drops += dropped;
    }

    /// How far request `id` got: (received, wanted; 0 when unbounded).
    fn progress(&self, id: u64) -> (usize, usize) {
        let received = self
            .sinks
            .iter()
            .find(|s| s.id == id)
            .map_or(0, |s| s.taken as usize);
        let wanted = self
            .requests
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.wanted)
            .unwrap_or(0);
        (received, wanted)
    }

    /// The failure, current now, of a connection to an exchange that
    /// request `id` needs: one that has not streamed since it failed.
    fn current_error(&self, id: u64) -> Option<(ExchangeId, Box<ConnectorError>)> {
        let sink = self.sinks.iter().find(|s| s.id == id)?;
        self.connections
            .iter()
            .filter(|c| {
                sink.subscriptions.is_empty()
                    || sink.subscriptions.iter().any(|s| s.exchange == c.exchange)
            })
            .find_map(|c| {
                c.last_error
                    .clone()
                    .map(|error| (c.exchange.clone(), Box::new(error)))
            })
    }

    fn on_state(&mut self, connection: ConnectionId, exchange: ExchangeId, state: ConnectionState) {
        debug!(%connection, %exchange, %state, "connection state");
        if let ConnectionState::Failed(error) = &state {
            // A failed connector has given up: requests that need its
            // exchange cannot complete.
            let doomed: Vec<u64> = self
                .sinks
                .iter()
                .filter(|s| s.subscriptions.iter().any(|s| s.exchange == exchange))
                .map(|s| s.id)
                .collect();
            for id in doomed {
                let reason = FetchError::Connection {
                    error: error.clone(),
                };
                self.finish(id, Some(reason));
            }
        }
        self.tell_watchers(connection, &exchange, &state);
        let failure = match &state {
            ConnectionState::Reconnecting { error, .. } | ConnectionState::Failed(error) => {
                Some(error.clone())
            }
            _ => None,
        };
        let reconnecting = u64::from(matches!(state, ConnectionState::Reconnecting { .. }));
        match self.snapshot(connection) {
            Some(snapshot) => {
                if failure.is_some() || matches!(state, ConnectionState::Streaming) {
                    snapshot.last_error = failure;
                }
                snapshot.state = state;
                snapshot.reconnects += reconnecting;
            }
            None => self.connections.push(ConnectionSnapshot {
                connection,
                exchange,
                state,
                quotes: 0,
                frames: 0,
                exchange_errors: 0,
                reconnects: reconnecting,
                gaps: 0,
                last_quote_at: None,
                last_error: failure,
            }),
        }
    }

    fn tell_watchers(
        &mut self,
        connection: ConnectionId,
        exchange: &ExchangeId,
        state: &ConnectionState,
    ) {
        let mut drops = 0;
        self.watchers.retain(|watcher| {
            let event = ConnectionEvent {
                connection,
                exchange: exchange.clone(),
                state: state.clone(),
            };
            match watcher.try_send(event) {
                Ok(()) => true,
                Err(SendError::Full(_)) => {
                    drops += 1;
                    true
                }
                Err(SendError::Closed(_)) => false,
            }
        });
        self.watcher_drops += drops;
    }

    /// Opens a request's sink, and its timeout.
    fn open(
        &mut self,
        sink: Sink,
        wanted: Option<usize>,
        reply: Reply,
        timeout: Option<Duration>,
        ctx: &mut Context<Self>,
    ) {
        let id = sink.id;
        self.sinks.push(sink);
        self.requests.push(Request { id, wanted, reply });
        if let Some(waited) = timeout {
            ctx.run_later(waited, move |collector, _| {
                let (received, wanted) = collector.progress(id);
                let last_error = collector.current_error(id);
                let reason = FetchError::Timeout {
                    wanted,
                    received,
                    waited,
                    last_error,
                };
                collector.finish(id, Some(reason));
            });
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for Collector {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, ctx: &mut Context<Self>) {
        match output {
            ConnectorOutput::Quotes {
                connection,
                quotes,
                gap,
                ..
            } => self.on_quotes(connection, quotes, gap, ctx),
            ConnectorOutput::State {
                connection,
                exchange,
                state,
            } => {
                self.links.on_state(connection, &exchange, &state);
                self.deliver_link_backlog(ctx);
                self.on_state(connection, exchange, state);
            }
            ConnectorOutput::ExchangeError {
                connection, error, ..
            } => {
                debug!(%connection, status = ?error.status, message = %error.message, "exchange error");
                // What the server said is the connection's current trouble
                // (a 429, a restarted session) until quotes flow again.
                if let Some(snapshot) = self.snapshot(connection) {
                    snapshot.last_error = Some(ConnectorError::Exchange(error));
                }
            }
            ConnectorOutput::Counters {
                connection,
                counters,
                ..
            } => {
                if let Some(snapshot) = self.snapshot(connection) {
                    snapshot.frames = counters.frames;
                    snapshot.exchange_errors = counters.exchange_errors;
                }
            }
        }
    }
}

impl Handler<Fetch> for Collector {
    type Result = ResponseFuture<Result<Vec<Tick>, FetchFailed>>;

    fn handle(&mut self, fetch: Fetch, ctx: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        let wanted = fetch.n;
        if fetch.n == 0 {
            let _ = reply.send(Ok(Vec::new()));
        } else {
            let id = self.new_id();
            let sink = Sink::new(id, fetch.subscriptions, Target::Collect, Delivery::Lossless);
            let reply = Reply::Fetch(reply);
            self.open(sink, Some(fetch.n), reply, Some(fetch.timeout), ctx);
        }
        Box::pin(async move {
            answer.await.unwrap_or_else(|_| {
                Err(FetchFailed {
                    reason: FetchError::Cancelled {
                        wanted,
                        received: 0,
                    },
                    received: Vec::new(),
                })
            })
        })
    }
}

impl Handler<OpenStream> for Collector {
    type Result = MessageResult<OpenStream>;

    fn handle(&mut self, open: OpenStream, ctx: &mut Context<Self>) -> Self::Result {
        let (sender, ticks) = mpsc::channel(open.capacity.max(1));
        let (end_tx, end) = oneshot::channel();
        let id = self.new_id();
        let sink = Sink::new(
            id,
            open.subscriptions,
            Target::Channel(sender),
            Delivery::Lossless,
        );
        match open.n {
            Some(0) => {
                let _ = end_tx.send(Ok(0));
            }
            n => self.open(sink, n, Reply::Stream(end_tx), open.timeout, ctx),
        }
        MessageResult(TickStream { ticks, end })
    }
}

impl Handler<Subscribe> for Collector {
    type Result = ();

    fn handle(&mut self, subscribe: Subscribe, _: &mut Context<Self>) {
        let id = self.new_id();
        self.sinks.push(Sink::new(
            id,
            subscribe.subscriptions,
            Target::Actor(subscribe.recipient),
            subscribe.delivery,
        ));
    }
}

impl Handler<WatchConnections> for Collector {
    type Result = ();

    fn handle(&mut self, watch: WatchConnections, _: &mut Context<Self>) {
        self.watchers.push(watch.recipient);
    }
}

impl Handler<CancelFetches> for Collector {
    type Result = ();

    fn handle(&mut self, _: CancelFetches, _: &mut Context<Self>) {
        let ids: Vec<u64> = self.requests.iter().map(|r| r.id).collect();
        for id in ids {
            let (received, wanted) = self.progress(id);
            self.finish(id, Some(FetchError::Cancelled { wanted, received }));
        }
    }
}

impl Handler<GetStats> for Collector {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(CollectorStats {
            quotes: self.last_seq,
            consumer_drops: self.past_drops + self.sinks.iter().map(|s| s.drops).sum::<u64>(),
            watcher_drops: self.watcher_drops,
            connections: self.connections.clone(),
            fetches: self.requests.iter().map(|r| self.progress(r.id)).collect(),
            latency: self.latency.clone(),
        })
    }
}
