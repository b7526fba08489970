//! Publishing quotes to NATS JetStream, for running many collectors into
//! one distributed stream (`docs/scaling.md`).
//!
//! - [`config`]: servers, credentials, trust, subjects, the stream's limits,
//!   the window and the timeouts ([`NatsConfig`]);
//! - [`subject`]: subject names and message ids (the escape rule, and how
//!   two collectors give one update the same id);
//! - [`stream`]: the stream created if absent, checked if present;
//! - [`publisher`]: the sink itself, on its own thread and runtime, with
//!   acks, a bounded window, retries and back-pressure;
//! - [`error`]: what fails, and what is retried;
//! - [`stats`]: the sink's counters, read by the dashboard and `/metrics`.

pub mod config;
mod connect;
pub mod error;
pub mod publisher;
pub mod stats;
pub mod stream;
pub mod subject;

pub use config::{NatsAuth, NatsConfig, Storage, StreamSettings};
pub use error::NatsError;
pub use publisher::{NatsConnection, NatsPublisher, NatsSummary};
pub use stats::{NatsSnapshot, NatsStats};

// `collector consume`: reading quotes back from the stream.
pub mod consume;
