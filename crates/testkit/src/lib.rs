//! # mercury-testkit
//!
//! Test support shared by mercury's crates: a scriptable WebSocket server
//! ([`MockServer`]) that listens on `127.0.0.1:0` and plays a [`Script`] to
//! every connection, and access to the real recorded BitMEX frames kept in
//! the repository ([`bitmex_fixture`]).
//!
//! [`tls`] holds TLS test servers (a certificate authority made on the
//! spot, leaves for any name, expired ones, an h2-only server, handshakes
//! that stall or are cut).
//!
//! The server runs on its own thread with its own actix system, so any test
//! — a plain `#[test]` driving the `collector` binary, or an
//! `#[actix_rt::test]` driving actors — can use it. It stops when dropped.
#![deny(missing_docs)]
// Test support: a missing fixture or a server that cannot bind must fail the test loudly.
#![allow(clippy::panic)]

pub mod bitmex;
mod fixtures;
pub mod junk;
pub mod nats;
pub mod ordered;
pub mod raw;
mod server;
pub mod tls;

pub use fixtures::{bitmex_fixture, bitmex_fixture_dir, bitmex_frames, number_texts};
pub use raw::{RawScript, RawServer, RawStep};
pub use server::{MockServer, Script, Step};

/// The resident set size of process `pid` in KiB (Linux), if readable.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
