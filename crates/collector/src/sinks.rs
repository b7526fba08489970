//! Where ticks go: the collector's sinks and their delivery rules.
//!
//! Every consumer of ticks is a [`Sink`] with a bounded queue and a
//! [`Delivery`] rule that says what happens when the queue is full:
//!
//! - **Lossless** — the tick waits in the sink's backlog, and the collector
//!   stops taking batches until the backlog has gone into the queue. Its
//!   mailbox fills, the connectors' in-flight bound is reached, they stop
//!   reading their sockets, and TCP tells the exchange to slow down: the
//!   back-pressure the connectors already apply towards the collector,
//!   carried one step further. Nothing is dropped; memory stays bounded by
//!   one batch per sink. Streams (`collector fetch`), [`Fetch`](crate::Fetch)
//!   and file writers are lossless.
//! - **Lossy** — the tick is dropped for that sink only, and counted
//!   ([`CollectorStats::consumer_drops`](crate::CollectorStats)). The
//!   collector never waits for it. Dashboards are lossy.

use crate::messages::Tick;
use actix::Recipient;
use actix::prelude::SendError;
use mercury_core::{Quote, Subscription};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// What a sink does when its queue is full. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Wait: the collector stops taking batches (back-pressure to TCP).
    Lossless,
    /// Drop the tick for this sink, and count it.
    Lossy,
}

/// Where a sink's ticks go.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// An actor's bounded mailbox.
    Actor(Recipient<Tick>),
    /// A bounded channel (a [`TickStream`](crate::TickStream)).
    Channel(mpsc::Sender<Tick>),
    /// The collector's own vector (a [`Fetch`](crate::Fetch)); never full.
    Collect,
}

/// The result of offering one tick.
enum Offered {
    Taken,
    Full(Tick),
    Closed,
}

impl Target {
    fn try_send(&self, tick: Tick, collected: &mut Vec<Tick>) -> Offered {
        match self {
            Target::Actor(recipient) => match recipient.try_send(tick) {
                Ok(()) => Offered::Taken,
                Err(SendError::Full(tick)) => Offered::Full(tick),
                Err(SendError::Closed(_)) => Offered::Closed,
            },
            Target::Channel(sender) => match sender.try_send(tick) {
                Ok(()) => Offered::Taken,
                Err(TrySendError::Full(tick)) => Offered::Full(tick),
                Err(TrySendError::Closed(_)) => Offered::Closed,
            },
            Target::Collect => {
                collected.push(tick);
                Offered::Taken
            }
        }
    }

    /// Delivers `ticks` in order, waiting for room; stops early if the
    /// receiver is gone.
    pub(crate) async fn send_all(self, ticks: Vec<Tick>) {
        for tick in ticks {
            let sent = match &self {
                Target::Actor(recipient) => recipient.send(tick).await.is_ok(),
                Target::Channel(sender) => sender.send(tick).await.is_ok(),
                Target::Collect => true,
            };
            if !sent {
                return;
            }
        }
    }
}

/// One consumer of ticks.
#[derive(Debug)]
pub(crate) struct Sink {
    /// Identifies the request that opened it (fetches and streams).
    pub id: u64,
    pub subscriptions: Vec<Subscription>,
    pub target: Target,
    pub delivery: Delivery,
    /// Ticks taken by the sink so far.
    pub taken: u64,
    /// Ticks a lossy sink lost.
    pub drops: u64,
    /// Ticks a lossless sink could not queue yet, in order.
    backlog: Vec<Tick>,
    /// What a [`Fetch`](crate::Fetch) has collected.
    pub collected: Vec<Tick>,
    /// The receiver went away.
    pub closed: bool,
}

impl Sink {
    /// A sink for `subscriptions` (empty: every tick).
    pub fn new(
        id: u64,
        subscriptions: Vec<Subscription>,
        target: Target,
        delivery: Delivery,
    ) -> Self {
        Sink {
            id,
            subscriptions,
            target,
            delivery,
            taken: 0,
            drops: 0,
            backlog: Vec::new(),
            collected: Vec::new(),
            closed: false,
        }
    }

    /// Whether this sink asked for `quote`.
    pub fn wants(&self, quote: &Quote) -> bool {
        !self.closed
            && (self.subscriptions.is_empty()
                || self.subscriptions.iter().any(|s| s.matches(quote)))
    }

    /// Offers a tick it wants: queued, kept in the backlog (lossless), or
    /// dropped and counted (lossy).
    pub fn offer(&mut self, tick: Tick) {
        self.taken += 1;
        if !self.backlog.is_empty() {
            self.backlog.push(tick);
            return;
        }
        match self.target.try_send(tick, &mut self.collected) {
            Offered::Taken => {}
            Offered::Full(tick) => match self.delivery {
                Delivery::Lossless => self.backlog.push(tick),
                Delivery::Lossy => self.drops += 1,
            },
            Offered::Closed => self.closed = true,
        }
    }

    /// The backlog to deliver (waiting) before the next batch, if any.
    pub fn take_backlog(&mut self) -> Option<(Target, Vec<Tick>)> {
        (!self.backlog.is_empty()).then(|| (self.target.clone(), std::mem::take(&mut self.backlog)))
    }
}
