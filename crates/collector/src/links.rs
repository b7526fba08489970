//! Link events: when each connection's subscriptions were covered, when a
//! gap opened (and why), when it closed, and how the connection ended —
//! what the coverage ledger ([`crate::record::ledger`]) is written from.
//!
//! ## Where they come from, and why the path is lossless
//!
//! The collector makes them from what it already receives, in order, from
//! each connector through its one FIFO mailbox:
//!
//! - the first quotes of a connection: [`LinkChange::Covered`] (at the
//!   first quote's `received_at`);
//! - `ConnectionState::Reconnecting`: [`LinkChange::GapStart`] with the
//!   failure's kind and text (a further failure before quotes flow again
//!   is a [`LinkChange::Retry`] of the same gap);
//! - the first batch after a gap (`gap: Some(..)`): [`LinkChange::GapEnd`]
//!   at its first quote's `received_at`, the same quote that is marked
//!   `after_gap`; a gap no failure opened (a renewal at the exchange's age
//!   limit) gets its `GapStart` then, with cause `renew`;
//! - `ConnectionState::Stopped`: an open gap ends with cause `shutdown`,
//!   then [`LinkChange::End`]; `ConnectionState::Failed`: `End` with the
//!   failure.
//!
//! Which subscriptions a connection carries is told to the collector once,
//! before its connector starts ([`PlanConnection`], sent ahead of any of
//! the connector's messages into the same mailbox).
//!
//! Watchers ([`WatchLinks`]) get the events through a bounded channel,
//! **losslessly**: when it is full the events wait in the watcher's
//! backlog, in order, and the collector takes no other message until the
//! backlog is queued — the back-pressure of a `Lossless` sink (the
//! connectors stop reading, TCP slows the exchange). Unlike
//! [`WatchConnections`](crate::WatchConnections) (dashboards), nothing is
//! ever dropped while the watcher lives. Link events are few: a handful
//! per connection attempt, and attempts are paced by the backoff.

use crate::error::ConnectorError;
use crate::messages::{ConnectionId, ConnectionState};
use actix::Message;
use mercury_core::{Clock, ExchangeId, Subscription, SystemClock, Timestamp, excerpt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// One change of a connection's coverage. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    /// When it happened (a quote's `received_at`, or the collector's clock
    /// when it learnt of a state change).
    pub at: Timestamp,
    /// The connection.
    pub connection: ConnectionId,
    /// Its exchange.
    pub exchange: ExchangeId,
    /// The subscriptions it carries (empty: not told, see [`PlanConnection`]).
    pub subscriptions: Arc<[Subscription]>,
    /// What changed.
    pub change: LinkChange,
}

/// What changed. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkChange {
    /// Quotes flow on the connection for the first time.
    Covered,
    /// The link failed and will be retried: quotes may be missed from now.
    GapStart(Failure),
    /// It failed again before quotes flowed again (the same gap).
    Retry(Failure),
    /// The gap ended.
    GapEnd {
        /// How long it lasted, by the connector's clock (from the failure
        /// to the first quote after it), or to the shutdown.
        gap: Duration,
        /// `false`: quotes flow again; `true`: the run stopped first.
        by_shutdown: bool,
    },
    /// The connection ended: stopped on request (`None`) or given up.
    End(Option<Failure>),
}

/// Why a link failed: a short kind and the error's text (escaped and
/// shortened, it quotes the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `drop`, `close`, `rate_limit`, `server_error`, `stall`, `no_data`,
    /// `connect`, `protocol`, `session_restarted`, `renew`, `fatal`.
    pub kind: &'static str,
    /// What happened, in words.
    pub error: String,
}

impl Failure {
    /// The kind and text of `error`.
    pub fn of(error: &ConnectorError) -> Failure {
        Failure {
            kind: failure_kind(error),
            error: excerpt(&error.to_string()),
        }
    }

    fn renewal() -> Failure {
        Failure {
            kind: "renew",
            error: "the connection was renewed (the exchange's age limit)".to_owned(),
        }
    }
}

/// A short name for what kind of failure `error` is.
pub fn failure_kind(error: &ConnectorError) -> &'static str {
    use ConnectorError as E;
    match error {
        E::Disconnected => "drop",
        E::Closed { .. } => "close",
        E::HeartbeatTimeout { .. } | E::PeerNotReading { .. } => "stall",
        E::NoData { .. } => "no_data",
        E::SessionRestarted => "session_restarted",
        E::Protocol(_) => "protocol",
        E::Exchange(e) if e.status == Some(429) || e.retry_after.is_some() => "rate_limit",
        E::Exchange(_) => "server_error",
        E::HandshakeRejected { status: 429, .. } => "rate_limit",
        E::HandshakeRejected { .. } => "refused",
        E::GaveUp { last, .. } => failure_kind(last),
        e if e.is_retryable() => "connect",
        _ => "fatal",
    }
}

/// Tell the collector which subscriptions `connection` carries; send it
/// before starting the connector, so that it precedes the connector's
/// messages in the collector's mailbox.
#[derive(Debug, Clone)]
pub struct PlanConnection {
    /// The connection (the connector's [`id`](crate::Connector::id)).
    pub connection: ConnectionId,
    /// Its exchange.
    pub exchange: ExchangeId,
    /// What it serves (its plan's subscriptions).
    pub subscriptions: Vec<Subscription>,
}

impl Message for PlanConnection {
    type Result = ();
}

/// Send every [`LinkEvent`] from now on to `sender`, losslessly (see the
/// module docs). Until [`UnwatchLinks`] or the receiver is dropped.
#[derive(Debug, Clone)]
pub struct WatchLinks {
    /// Where the events go.
    pub sender: mpsc::Sender<LinkEvent>,
}

impl Message for WatchLinks {
    type Result = ();
}

/// Stop sending link events: each watcher's channel closes once what it
/// was sent is delivered (a writer then finishes).
#[derive(Debug, Clone, Copy)]
pub struct UnwatchLinks;

impl Message for UnwatchLinks {
    type Result = ();
}

/// One connection as the link feed follows it.
#[derive(Debug)]
struct Followed {
    connection: ConnectionId,
    exchange: ExchangeId,
    subscriptions: Arc<[Subscription]>,
    covered: bool,
    gap_since: Option<Timestamp>,
    ended: bool,
}

/// A watcher and the events waiting for room in its channel.
#[derive(Debug)]
struct Watcher {
    sender: mpsc::Sender<LinkEvent>,
    backlog: Vec<LinkEvent>,
}

/// The collector's side of link events. See the module docs.
pub(crate) struct LinkFeed {
    clock: Arc<dyn Clock>,
    followed: Vec<Followed>,
    watchers: Vec<Watcher>,
}

impl Default for LinkFeed {
    fn default() -> Self {
        LinkFeed {
            clock: Arc::new(SystemClock),
            followed: Vec::new(),
            watchers: Vec::new(),
        }
    }
}

impl LinkFeed {
    pub(crate) fn plan(&mut self, plan: PlanConnection) {
        let subscriptions: Arc<[Subscription]> = plan.subscriptions.into();
        match self.find(plan.connection) {
            Some(at) => self.followed[at].subscriptions = subscriptions,
            None => self.followed.push(Followed {
                connection: plan.connection,
                exchange: plan.exchange,
                subscriptions,
                covered: false,
                gap_since: None,
                ended: false,
            }),
        }
    }

    pub(crate) fn watch(&mut self, sender: mpsc::Sender<LinkEvent>) {
        self.watchers.push(Watcher {
            sender,
            backlog: Vec::new(),
        });
    }

    pub(crate) fn unwatch(&mut self) {
        self.watchers.clear();
    }

    /// A batch of quotes arrived: coverage starts, or a gap ends.
    pub(crate) fn on_quotes(
        &mut self,
        connection: ConnectionId,
        exchange: Option<&ExchangeId>,
        first_at: Timestamp,
        gap: Option<Duration>,
    ) {
        let Some(at) = self.follow(connection, exchange) else {
            return;
        };
        let link = &mut self.followed[at];
        let mut changes = Vec::new();
        if !link.covered {
            link.covered = true;
            changes.push((first_at, LinkChange::Covered));
        }
        if let Some(gap) = gap {
            if link.gap_since.is_none() {
                let since =
                    Timestamp::from_unix_nanos(first_at.unix_nanos() - gap.as_nanos() as i128);
                changes.push((since, LinkChange::GapStart(Failure::renewal())));
            }
            link.gap_since = None;
            let change = LinkChange::GapEnd {
                gap,
                by_shutdown: false,
            };
            changes.push((first_at, change));
        }
        self.emit(at, changes);
    }

    /// A connection changed state: a gap opens, or the connection ends.
    pub(crate) fn on_state(
        &mut self,
        connection: ConnectionId,
        exchange: &ExchangeId,
        state: &ConnectionState,
    ) {
        let Some(at) = self.follow(connection, Some(exchange)) else {
            return;
        };
        let now = self.clock.now();
        let link = &mut self.followed[at];
        let mut changes = Vec::new();
        match state {
            ConnectionState::Reconnecting { error, .. } => {
                let failure = Failure::of(error);
                match link.gap_since {
                    Some(_) => changes.push((now, LinkChange::Retry(failure))),
                    None => {
                        link.gap_since = Some(now);
                        changes.push((now, LinkChange::GapStart(failure)));
                    }
                }
            }
            ConnectionState::Stopped if !link.ended => {
                link.ended = true;
                if let Some(since) = link.gap_since.take() {
                    let gap = now.saturating_since(since);
                    let by_shutdown = true;
                    changes.push((now, LinkChange::GapEnd { gap, by_shutdown }));
                }
                changes.push((now, LinkChange::End(None)));
            }
            ConnectionState::Failed(error) if !link.ended => {
                link.ended = true;
                changes.push((now, LinkChange::End(Some(Failure::of(error)))));
            }
            _ => {}
        }
        self.emit(at, changes);
    }

    /// The backlogs to deliver before the collector takes another message.
    pub(crate) fn take_backlog(&mut self) -> Option<impl Future<Output = ()> + 'static + use<>> {
        let work: Vec<(mpsc::Sender<LinkEvent>, Vec<LinkEvent>)> = self
            .watchers
            .iter_mut()
            .filter(|w| !w.backlog.is_empty())
            .map(|w| (w.sender.clone(), std::mem::take(&mut w.backlog)))
            .collect();
        if work.is_empty() {
            return None;
        }
        Some(async move {
            for (sender, events) in work {
                for event in events {
                    if sender.send(event).await.is_err() {
                        break;
                    }
                }
            }
        })
    }

    fn find(&self, connection: ConnectionId) -> Option<usize> {
        self.followed
            .iter()
            .position(|f| f.connection == connection)
    }

    /// The index of `connection`, followed from now on if it was not.
    fn follow(&mut self, connection: ConnectionId, exchange: Option<&ExchangeId>) -> Option<usize> {
        if let Some(at) = self.find(connection) {
            return Some(at);
        }
        // Not planned (a program that does not tell): followed without
        // subscriptions, once its exchange is known.
        self.followed.push(Followed {
            connection,
            exchange: exchange?.clone(),
            subscriptions: Arc::from(Vec::new()),
            covered: false,
            gap_since: None,
            ended: false,
        });
        Some(self.followed.len() - 1)
    }

    fn emit(&mut self, at: usize, changes: Vec<(Timestamp, LinkChange)>) {
        if self.watchers.is_empty() {
            return;
        }
        let link = &self.followed[at];
        for (when, change) in changes {
            let event = LinkEvent {
                at: when,
                connection: link.connection,
                exchange: link.exchange.clone(),
                subscriptions: link.subscriptions.clone(),
                change,
            };
            self.watchers.retain_mut(|watcher| {
                if !watcher.backlog.is_empty() {
                    watcher.backlog.push(event.clone());
                    return true;
                }
                match watcher.sender.try_send(event.clone()) {
                    Ok(()) => true,
                    Err(TrySendError::Full(event)) => {
                        watcher.backlog.push(event);
                        true
                    }
                    Err(TrySendError::Closed(_)) => false,
                }
            });
        }
    }
}

// The collector's side of the feed: the handlers of its messages.

impl actix::Handler<PlanConnection> for crate::Collector {
    type Result = ();

    fn handle(&mut self, plan: PlanConnection, _: &mut actix::Context<Self>) {
        self.links.plan(plan);
    }
}

impl actix::Handler<WatchLinks> for crate::Collector {
    type Result = ();

    fn handle(&mut self, watch: WatchLinks, _: &mut actix::Context<Self>) {
        self.links.watch(watch.sender);
    }
}

impl actix::Handler<UnwatchLinks> for crate::Collector {
    type Result = ();

    fn handle(&mut self, _: UnwatchLinks, _: &mut actix::Context<Self>) {
        self.links.unwatch();
    }
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;
