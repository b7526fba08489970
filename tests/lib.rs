//! Cross-crate end-to-end tests of mercury live in this package, one file
//! per scenario (see `Cargo.toml`). This library holds only their helpers.
#![deny(missing_docs)]

use std::path::PathBuf;

/// The repository's copy of the real BitMEX frames.
pub fn bitmex_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/exchange-bitmex/tests/fixtures")
}
