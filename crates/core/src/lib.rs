//! # mercury-core
//!
//! The vocabulary every part of mercury speaks, and nothing else: exchange
//! and symbol identifiers, exact [`Price`]s, [`Quote`]s, [`Subscription`]s,
//! and the two contracts each exchange crate implements: [`Exchange`] (what
//! is known without a connection) and [`Session`] (one connection).
//!
//! This crate does **no I/O** and knows nothing of actix, sockets or timers.
//! A `Session` is a sans-I/O protocol state machine: the caller hands it
//! text frames and the time they arrived, and it emits [`SourceEvent`]s.
//! That is what lets exchange crates be tested on recorded frames alone, and
//! lets other programs reuse mercury's codecs without its runtime.
//!
//! ```
//! use mercury_core::{Price, QuoteKind};
//! // Prices are exact decimals: every wire form of a number keeps its value.
//! let a: Price = "0.00001814".parse().unwrap();
//! let b: Price = "1.814e-05".parse().unwrap();
//! assert_eq!(a, b);
//! assert_eq!("fair".parse::<QuoteKind>().unwrap(), QuoteKind::Fair);
//! ```
#![deny(missing_docs)]

mod error;
mod exchange;
mod ids;
pub mod planning;
mod price;
mod quote;
pub mod raw_line;
mod rng;
mod session;
pub mod shard;
mod source;
mod text;
mod timestamp;
mod venue;
mod walk;
pub mod wire;

pub use error::{DecodeError, Error};
pub use exchange::{ConnectionPlan, Exchange, ExchangeInfo, IpLimits, SubscribeLimits, SymbolRule};
pub use ids::{ExchangeId, Symbol};
pub use price::Price;
pub use quote::{Quote, QuoteKind, Subscription};
pub use rng::SplitMix64;
pub use session::{Decoder, Emitter, Session};
pub use shard::Shard;
pub use source::{
    Control, Endpoints, ExchangeError, HeartbeatPolicy, MAX_REPLIES_PER_FRAME, MAX_RETRY_AFTER,
    Outgoing, SkipReason, SourceEvent, WireFrame,
};
pub use text::{EXCERPT_CHARS, excerpt, excerpt_chars};
pub use timestamp::{Clock, SystemClock, Timestamp};
pub use venue::{Venue, VenueConfig, VenueFault, pad_object};
pub use walk::{PriceWalk, WalkStep, WalkedPrices};
