//! # mercury-collector
//!
//! The I/O side of mercury. This crate will own every socket and timer:
//! one awc WebSocket connector actor per connection, driving any
//! `Box<dyn mercury_core::QuoteSource>`, and the collector actor that merges
//! their quotes with ordering guarantees. Exchange crates never do I/O;
//! everything that waits lives here (see `ARCHITECTURE.md`).
//!
//! The actors land with the fetch issue; until then the crate is empty.
#![deny(missing_docs)]
