//! Publishing quotes to NATS JetStream, for running many collectors into
//! one distributed stream (`docs/scaling.md`).
//!
//! [`stats`] holds the sink's counters, read by the dashboard and
//! `/metrics`.

pub mod stats;

pub use stats::{NatsSnapshot, NatsStats};

// `collector consume`: reading quotes back from the stream.
pub mod consume;
