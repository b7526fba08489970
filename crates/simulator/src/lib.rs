//! # mercury-simulator
//!
//! A WebSocket server on loopback that hosts any exchange's simulated
//! [`Venue`](mercury_core::Venue). The venue (from the exchange crate)
//! decides which frames to send when; this crate owns the sockets, the
//! timers, the [`Faults`] and the [`FrameLog`]. It powers
//! `collector sim` and `collector fetch … --sim`, and the fault tests.
//!
//! With [`SimulatorConfig::tls`] it serves `wss://`, with certificates
//! made on the spot by [`SimCertificates`] (a CA and a leaf for
//! `localhost`, `127.0.0.1` and `::1`).
#![deny(missing_docs)]

mod abort;
mod capture;
mod faults;
mod log;
mod server;
mod tls;

pub use capture::{CaptureFile, CaptureSource, MAX_PAUSE};
pub use faults::{Faults, MALFORMED_FRAME, REFUSAL_RETRY_AFTER};
pub use log::{FrameLog, LogEntry, LogEvent, read_log, sent_by_connection};
pub use server::{Simulator, SimulatorConfig, SimulatorError};
pub use tls::{SIM_TLS_NAMES, SimCertificateFiles, SimCertificates, fresh_tls_dir};
