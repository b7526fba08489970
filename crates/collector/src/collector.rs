//! The collector actor: one place where quotes from every connector meet,
//! get their global sequence number, and go to whoever asked for them.

use crate::error::{FetchError, FetchFailed};
use crate::messages::{
    CancelFetches, CollectorStats, ConnectionEvent, ConnectionId, ConnectionSnapshot,
    ConnectionState, ConnectorOutput, Fetch, GetStats, Subscribe, Tick, WatchConnections,
};
use actix::{Actor, AsyncContext, Context, Handler, Recipient, ResponseFuture};
use mercury_core::{Quote, Subscription};
use tokio::sync::oneshot;
use tracing::debug;

type FetchReply = oneshot::Sender<Result<Vec<Tick>, FetchFailed>>;

struct PendingFetch {
    id: u64,
    subscriptions: Vec<Subscription>,
    n: usize,
    received: Vec<Tick>,
    reply: Option<FetchReply>,
}

struct Consumer {
    subscriptions: Vec<Subscription>,
    recipient: Recipient<Tick>,
}

/// Merges the quotes of any number of connectors. See the crate docs for
/// the guarantees it keeps.
#[derive(Default)]
pub struct Collector {
    last_seq: u64,
    next_fetch: u64,
    fetches: Vec<PendingFetch>,
    consumers: Vec<Consumer>,
    connections: Vec<ConnectionSnapshot>,
    consumer_drops: u64,
    watchers: Vec<Recipient<ConnectionEvent>>,
    watcher_drops: u64,
    last_error: Option<Box<crate::error::ConnectorError>>,
}

impl Collector {
    /// A collector with no connections, fetches or consumers.
    pub fn new() -> Self {
        Self::default()
    }

    fn on_quotes(
        &mut self,
        connection: ConnectionId,
        quotes: Vec<Quote>,
        gap: Option<std::time::Duration>,
    ) {
        if let Some(gap) = gap {
            tracing::info!(%connection, ?gap, "quotes resumed after a gap");
        }
        if let Some(snapshot) = self
            .connections
            .iter_mut()
            .find(|c| c.connection == connection)
        {
            snapshot.quotes += quotes.len() as u64;
            snapshot.gaps += u64::from(gap.is_some());
            snapshot.last_quote_at = quotes.last().map(|q| q.received_at);
            if matches!(snapshot.state, ConnectionState::Subscribing) {
                snapshot.state = ConnectionState::Streaming;
            }
        }
        for (i, quote) in quotes.into_iter().enumerate() {
            self.last_seq += 1;
            let tick = Tick {
                seq: self.last_seq,
                connection,
                quote,
                after_gap: i == 0 && gap.is_some(),
            };
            self.deliver(&tick);
        }
        self.fetches.retain(|f| f.reply.is_some());
    }

    fn deliver(&mut self, tick: &Tick) {
        for fetch in &mut self.fetches {
            if fetch.reply.is_some() && wants(&fetch.subscriptions, &tick.quote) {
                fetch.received.push(tick.clone());
                if fetch.received.len() == fetch.n {
                    let received = std::mem::take(&mut fetch.received);
                    if let Some(reply) = fetch.reply.take() {
                        let _ = reply.send(Ok(received));
                    }
                }
            }
        }
        let mut drops = 0;
        self.consumers.retain(|consumer| {
            if !wants(&consumer.subscriptions, &tick.quote) {
                return true;
            }
            match consumer.recipient.try_send(tick.clone()) {
                Ok(()) => true,
                Err(actix::prelude::SendError::Full(_)) => {
                    drops += 1;
                    true
                }
                Err(actix::prelude::SendError::Closed(_)) => false,
            }
        });
        self.consumer_drops += drops;
    }

    fn on_state(
        &mut self,
        connection: ConnectionId,
        exchange: mercury_core::ExchangeId,
        state: ConnectionState,
    ) {
        debug!(%connection, %exchange, %state, "connection state");
        if let ConnectionState::Reconnecting { error, .. } | ConnectionState::Failed(error) = &state
        {
            self.last_error = Some(Box::new(error.clone()));
        }
        if let ConnectionState::Failed(error) = &state {
            // A failed connector has given up: fetches that need its
            // exchange cannot complete.
            for fetch in &mut self.fetches {
                if fetch.subscriptions.iter().any(|s| s.exchange == exchange) {
                    fail(
                        fetch,
                        FetchError::Connection {
                            error: error.clone(),
                        },
                    );
                }
            }
            self.fetches.retain(|f| f.reply.is_some());
        }
        let mut drops = 0;
        self.watchers.retain(|watcher| {
            let event = ConnectionEvent {
                connection,
                exchange: exchange.clone(),
                state: state.clone(),
            };
            match watcher.try_send(event) {
                Ok(()) => true,
                Err(actix::prelude::SendError::Full(_)) => {
                    drops += 1;
                    true
                }
                Err(actix::prelude::SendError::Closed(_)) => false,
            }
        });
        self.watcher_drops += drops;
        let reconnecting = u64::from(matches!(state, ConnectionState::Reconnecting { .. }));
        match self
            .connections
            .iter_mut()
            .find(|c| c.connection == connection)
        {
            Some(snapshot) => {
                snapshot.state = state;
                snapshot.reconnects += reconnecting;
            }
            None => self.connections.push(ConnectionSnapshot {
                connection,
                exchange,
                state,
                quotes: 0,
                frames: 0,
                reconnects: reconnecting,
                gaps: 0,
                last_quote_at: None,
            }),
        }
    }
}

/// Whether a request for `subscriptions` wants `quote` (empty: everything).
fn wants(subscriptions: &[Subscription], quote: &Quote) -> bool {
    subscriptions.is_empty() || subscriptions.iter().any(|s| s.matches(quote))
}

fn fail(fetch: &mut PendingFetch, reason: FetchError) {
    if let Some(reply) = fetch.reply.take() {
        let received = std::mem::take(&mut fetch.received);
        let _ = reply.send(Err(FetchFailed { reason, received }));
    }
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<ConnectorOutput> for Collector {
    type Result = ();

    fn handle(&mut self, output: ConnectorOutput, _: &mut Context<Self>) {
        match output {
            ConnectorOutput::Quotes {
                connection,
                quotes,
                gap,
                ..
            } => self.on_quotes(connection, quotes, gap),
            ConnectorOutput::State {
                connection,
                exchange,
                state,
            } => self.on_state(connection, exchange, state),
            ConnectorOutput::ExchangeError { connection, error } => {
                debug!(%connection, status = ?error.status, message = %error.message, "exchange error");
            }
            ConnectorOutput::Counters {
                connection,
                counters,
            } => {
                if let Some(snapshot) = self
                    .connections
                    .iter_mut()
                    .find(|c| c.connection == connection)
                {
                    snapshot.frames = counters.frames;
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
            self.next_fetch += 1;
            let id = self.next_fetch;
            self.fetches.push(PendingFetch {
                id,
                subscriptions: fetch.subscriptions,
                n: fetch.n,
                received: Vec::with_capacity(fetch.n.min(4096)),
                reply: Some(reply),
            });
            let waited = fetch.timeout;
            ctx.run_later(fetch.timeout, move |collector, _| {
                let last_error = collector.last_error.clone();
                for pending in collector.fetches.iter_mut().filter(|f| f.id == id) {
                    let received = pending.received.len();
                    let last_error = last_error.clone();
                    fail(
                        pending,
                        FetchError::Timeout {
                            wanted,
                            received,
                            waited,
                            last_error,
                        },
                    );
                }
                collector.fetches.retain(|f| f.reply.is_some());
            });
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

impl Handler<Subscribe> for Collector {
    type Result = ();

    fn handle(&mut self, subscribe: Subscribe, _: &mut Context<Self>) {
        self.consumers.push(Consumer {
            subscriptions: subscribe.subscriptions,
            recipient: subscribe.recipient,
        });
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
        for fetch in &mut self.fetches {
            let (wanted, received) = (fetch.n, fetch.received.len());
            fail(fetch, FetchError::Cancelled { wanted, received });
        }
        self.fetches.clear();
    }
}

impl Handler<GetStats> for Collector {
    type Result = actix::MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(CollectorStats {
            quotes: self.last_seq,
            consumer_drops: self.consumer_drops,
            watcher_drops: self.watcher_drops,
            connections: self.connections.clone(),
            fetches: self
                .fetches
                .iter()
                .map(|f| (f.received.len(), f.n))
                .collect(),
        })
    }
}
