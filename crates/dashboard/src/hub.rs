//! The [`Hub`] actor: between one collector and any number of browsers.
//!
//! It subscribes to every tick and every connection state change, turns
//! them into JSON events once, and offers each to every browser's bounded
//! queue without waiting: a browser that reads slowly loses events (counted
//! and shown to it), never slows the collector or the other browsers. Once
//! a second it asks the collector for its counters, for the `stats` event,
//! `/health` and `/metrics`; it notes when each subscription last had a
//! quote ([`Freshness`]).

use crate::events::{self, ConnectionStats, ConnectionView};
use crate::freshness::{DEFAULT_STALE_AFTER, DashboardClock, Freshness, QuoteAge};
use crate::sinks::{self, SinkView};
use actix::prelude::*;
use mercury_collector::record::SinkStats;
use mercury_collector::{
    Collector, CollectorStats, ConnectionEvent, GetStats, Subscribe, Tick, WatchConnections,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Events queued per browser before it starts losing them.
pub const CLIENT_QUEUE: usize = 1024;
/// The hub's own mailbox: ticks and state changes waiting to be fanned out.
const HUB_MAILBOX: usize = 8192;
/// How often the `stats` event goes out.
const STATS_EVERY: Duration = Duration::from_secs(1);

/// One event, serialized once for every browser.
pub type Event = Arc<str>;

struct Client {
    id: u64,
    queue: mpsc::Sender<Event>,
    drops: u64,
}

/// Fans collector events out to browsers. See the module docs.
pub struct Hub {
    collector: Addr<Collector>,
    targets: Vec<String>,
    clients: Vec<Client>,
    next_client: u64,
    connections: Vec<ConnectionView>,
    stats: Option<CollectorStats>,
    /// Messages counted at the last `stats`, when, and the rate then.
    last_rate: (u64, Instant, u64),
    freshness: Freshness,
    /// A recording run's file sinks, and the clock their lag is taken by.
    sinks: Vec<SinkStats>,
    clock: DashboardClock,
    /// The NATS sink, if any.
    nats: Option<mercury_collector::nats::NatsStats>,
}

impl Hub {
    /// A hub for `collector`, describing `targets` (`bitmex:XBTUSD`, …).
    pub fn new(collector: Addr<Collector>, targets: Vec<String>) -> Self {
        Hub {
            collector,
            targets,
            clients: Vec::new(),
            next_client: 1,
            connections: Vec::new(),
            stats: None,
            last_rate: (0, Instant::now(), 0),
            freshness: Freshness::new(&[], DEFAULT_STALE_AFTER, DashboardClock::default()),
            sinks: Vec::new(),
            clock: DashboardClock::default(),
            nats: None,
        }
    }

    /// The same hub, showing `sinks` (a recording run's file writers),
    /// their lag taken by `clock`.
    pub fn with_sinks(mut self, sinks: Vec<SinkStats>, clock: DashboardClock) -> Self {
        self.sinks = sinks;
        self.clock = clock;
        self
    }

    /// The same hub, showing the NATS sink's counters `nats`.
    pub fn with_nats(mut self, nats: Option<mercury_collector::nats::NatsStats>) -> Self {
        self.nats = nats;
        self
    }

    /// The sinks now, lagging past the staleness limit.
    fn sink_views(&self) -> Vec<SinkView> {
        sinks::views(
            &self.sinks,
            self.clock.0.now(),
            self.freshness.stale_after(),
        )
    }

    /// The same hub, ageing quotes with `freshness`.
    pub fn with_freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    fn broadcast(&mut self, event: &serde_json::Value) {
        let text: Event = Arc::from(event.to_string());
        for client in &mut self.clients {
            if client.queue.try_send(text.clone()).is_err() {
                client.drops += 1;
            }
        }
        self.clients.retain(|c| !c.queue.is_closed());
    }

    fn hello(&self) -> String {
        serde_json::json!({
            "type": "hello",
            "targets": self.targets,
            "connections": self.connections,
        })
        .to_string()
    }

    fn on_stats(&mut self, stats: CollectorStats) {
        let frames: u64 = stats.connections.iter().map(|c| c.frames).sum();
        let (last_frames, last_at, _) = self.last_rate;
        let millis = u64::try_from(last_at.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let rate = frames.saturating_sub(last_frames).saturating_mul(1000) / millis;
        self.last_rate = (frames, Instant::now(), rate);
        let connections: Vec<ConnectionStats> = stats
            .connections
            .iter()
            .map(ConnectionStats::from)
            .collect();
        let quotes = stats.quotes;
        let latency = crate::latency::views(&stats.latency);
        self.stats = Some(stats);
        let clients = self.clients.len();
        let freshness = self.freshness.ages();
        let stale_after_ms =
            u64::try_from(self.freshness.stale_after().as_millis()).unwrap_or(u64::MAX);
        let sinks = self.sink_views();
        let nats = crate::nats::view(self.nats.as_ref());
        for client in &mut self.clients {
            let event = serde_json::json!({
                "type": "stats",
                "quotes": quotes,
                "messages_per_s": rate,
                "connections": connections,
                "clients": clients,
                "drops": client.drops,
                "freshness": freshness,
                "stale_after_ms": stale_after_ms,
                "sinks": sinks,
                "nats": nats,
                "latency": latency,
            });
            if client.queue.try_send(Arc::from(event.to_string())).is_err() {
                client.drops += 1;
            }
        }
    }
}

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(HUB_MAILBOX);
        self.collector.do_send(Subscribe {
            subscriptions: Vec::new(),
            recipient: ctx.address().recipient(),
            delivery: mercury_collector::Delivery::Lossy,
        });
        self.collector.do_send(WatchConnections {
            recipient: ctx.address().recipient(),
        });
        ctx.run_interval(STATS_EVERY, |hub, ctx| {
            hub.collector
                .send(GetStats)
                .into_actor(hub)
                .map(|stats, hub, _| {
                    if let Ok(stats) = stats {
                        hub.on_stats(stats);
                    }
                })
                .wait(ctx);
        });
    }
}

impl Handler<Tick> for Hub {
    type Result = ();

    fn handle(&mut self, tick: Tick, _: &mut Context<Self>) {
        self.freshness.quoted(&tick.quote);
        self.broadcast(&events::quote(&tick));
    }
}

impl Handler<ConnectionEvent> for Hub {
    type Result = ();

    fn handle(&mut self, event: ConnectionEvent, _: &mut Context<Self>) {
        let view = ConnectionView::new(
            event.connection.to_string(),
            event.exchange.to_string(),
            &event.state,
        );
        let mut json = serde_json::to_value(&view).unwrap_or_default();
        json["type"] = "state".into();
        match self
            .connections
            .iter_mut()
            .find(|c| c.connection == view.connection)
        {
            Some(known) => *known = view,
            None => self.connections.push(view),
        }
        self.broadcast(&json);
    }
}

/// A browser joins: its queue, and the `hello` snapshot to send it first.
pub struct Join(pub mpsc::Sender<Event>);

impl Message for Join {
    type Result = (u64, String);
}

impl Handler<Join> for Hub {
    type Result = MessageResult<Join>;

    fn handle(&mut self, Join(queue): Join, _: &mut Context<Self>) -> Self::Result {
        let id = self.next_client;
        self.next_client += 1;
        self.clients.push(Client {
            id,
            queue,
            drops: 0,
        });
        MessageResult((id, self.hello()))
    }
}

/// A browser left.
pub struct Leave(pub u64);

impl Message for Leave {
    type Result = ();
}

impl Handler<Leave> for Hub {
    type Result = ();

    fn handle(&mut self, Leave(id): Leave, _: &mut Context<Self>) {
        self.clients.retain(|c| c.id != id);
    }
}

/// What `/health` and `/metrics` read: the latest counters, the latest
/// state of each connection, and the browsers' queues.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The collector's counters (none before the first second).
    pub stats: Option<CollectorStats>,
    /// Each connection's latest state.
    pub connections: Vec<ConnectionView>,
    /// Browsers connected.
    pub clients: usize,
    /// Events dropped for slow browsers, all together.
    pub client_drops: u64,
    /// Each followed subscription's time since its last quote.
    pub quote_ages: Vec<QuoteAge>,
    /// When a subscription counts as stale.
    pub stale_after: Duration,
    /// The file sinks of a recording run (none otherwise).
    pub sinks: Vec<SinkView>,
    /// The NATS sink, if any.
    pub nats: Option<crate::nats::NatsView>,
}

/// Ask the hub for a [`Snapshot`].
pub struct GetSnapshot;

impl Message for GetSnapshot {
    type Result = Snapshot;
}

impl Handler<GetSnapshot> for Hub {
    type Result = MessageResult<GetSnapshot>;

    fn handle(&mut self, _: GetSnapshot, _: &mut Context<Self>) -> Self::Result {
        MessageResult(Snapshot {
            stats: self.stats.clone(),
            connections: self.connections.clone(),
            clients: self.clients.len(),
            client_drops: self.clients.iter().map(|c| c.drops).sum(),
            quote_ages: self.freshness.ages(),
            stale_after: self.freshness.stale_after(),
            sinks: self.sink_views(),
            nats: crate::nats::view(self.nats.as_ref()),
        })
    }
}
