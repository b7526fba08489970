//! # mercury-collector
//!
//! The I/O side of mercury: every socket and timer lives here.
//!
//! - [`Connector`]: one actix actor per planned WebSocket connection
//!   ([`ConnectionPlan`](mercury_core::ConnectionPlan)), with a fresh
//!   session of its `&'static dyn Exchange` per attempt (awc, rustls trusting the webpki roots, the
//!   system's store and any extra CA — see [`TlsTrust`] —, ALPN
//!   `http/1.1`). Timeouts on connect, handshake and first data;
//!   continuation frames reassembled; server pings answered (coalesced,
//!   and a peer that reads none of it is a dead link); Close echoed;
//!   the plan's heartbeat policy enforced; undecodable frames counted and
//!   skipped.
//! - [`Collector`]: one actor where the quotes of all connectors meet.
//!
//! ## The collector's guarantees
//!
//! 1. **Per-connection order.** Quotes from one connection come out in
//!    exactly the order of the frames, and of the rows within a frame, they
//!    came from. (A connector sends one message per frame, from one actor,
//!    into the collector's single FIFO mailbox, and the collector handles
//!    messages one at a time.)
//! 2. **Global sequence.** Every quote gets a [`Tick::seq`], strictly
//!    increasing in arrival order at the collector: 1, 2, 3, … with no gaps
//!    and no duplicates.
//! 3. **Only what was asked for.** A [`Fetch`] or [`Subscribe`] receives
//!    only quotes matching its subscriptions.
//!
//! Memory is bounded: a connector stops reading its socket when more than
//! [`ConnectorConfig::max_in_flight`] frames' quotes wait for the collector, and
//! every sink has a bounded queue with a [`Delivery`] rule: a full
//! `Lossless` sink (a stream, a fetch, a file) makes the collector wait —
//! back-pressure that reaches TCP — and a full `Lossy` one (a dashboard)
//! loses the tick, counted.
//!
//! ## Fetching in a few lines
//!
//! ```no_run
//! use actix::Actor;
//! use mercury_collector::{Collector, Connector, ConnectorConfig, Fetch};
//! use mercury_core::{Exchange, QuoteKind, Subscription};
//! use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID, ENDPOINTS};
//! use std::time::Duration;
//!
//! # fn main() {
//! actix_rt::System::new().block_on(async {
//!     let subs = vec![Subscription::new(EXCHANGE_ID, "XBTUSD", QuoteKind::Fair)];
//!     let collector = Collector::new().start();
//!     let fetch = collector.send(Fetch { subscriptions: subs.clone(), n: 10, timeout: Duration::from_secs(120) });
//!     for plan in Bitmex.plan(ENDPOINTS.production, &subs).unwrap() {
//!         Connector::new(&Bitmex, plan, ConnectorConfig::new(), collector.clone().recipient()).start();
//!     }
//!     for tick in fetch.await.unwrap().unwrap() {
//!         println!("{} {}", tick.seq, tick.quote.price);
//!     }
//! });
//! # }
//! ```
#![deny(missing_docs)]

mod backoff;
mod collector;
mod connector;
mod connector_config;
mod error;
mod frames;
mod guard;
mod heartbeat;
pub mod latency;
mod link;
pub mod links;
mod messages;
pub mod nats;
mod outbox;
pub mod quote_text;
pub mod record;
pub mod replay;
mod reports;
mod retry_after;
mod sinks;
mod tick_json;
mod tls;
mod tls_errors;
mod transport;

pub use backoff::{Backoff, Schedule, os_seed};
pub use collector::Collector;
pub use connector::{
    ConnectionCounters, Connector, ConnectorConfig, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_WRITE_STALL, READ_BATCH, StopConnector,
};
pub use error::{ConnectorError, FetchError, FetchFailed};
pub use guard::{GuardedCodec, MAX_HEADER_LEN, declared_len};
pub use latency::{LatencyHistogram, LatencySeries, LatencyStats};
pub use links::{LinkChange, LinkEvent, PlanConnection, UnwatchLinks, WatchLinks};
pub use messages::{
    CancelFetches, CollectorStats, ConnectionEvent, ConnectionId, ConnectionSnapshot,
    ConnectionState, ConnectorOutput, Fetch, GetStats, InFlight, OpenStream, StreamEnd, Subscribe,
    Tick, TickStream, WatchConnections,
};
pub use retry_after::MAX_RETRY_AFTER;
pub use sinks::Delivery;
pub use tls::{TlsError, TlsTrust, default_tls_client_config, load_ca_file, tls_client_config};
pub use transport::Timeouts;
