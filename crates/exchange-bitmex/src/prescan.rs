//! The pre-scan: table frames that cannot carry a wanted quote are
//! skipped before they are parsed.
//!
//! Most frames of a busy instrument feed change fields nobody asked for
//! (`lastPrice`, `volume`, …): parsing them is most of the decoder's work
//! and yields nothing wanted. Once the driver says what it keeps
//! ([`Session::want`](mercury_core::Session::want)), an `update` or
//! `insert` of a handled table is skipped unparsed when its text holds
//! none of the wanted fields' keys of that table (`"fairPrice"`, …; a
//! `memmem` search each).
//!
//! **Exact**: such a frame can yield no wanted quote, and skipping it
//! changes nothing the session keeps for the wanted kinds:
//! - only frames that begin exactly `{"table":"T","action":"update"` or
//!   `"insert"` with T a handled table are candidates; the one-pass decode
//!   applies their rows, which only ever add prices (a `partial` images a
//!   table, a `delete` forgets prices: never skipped);
//! - a row yields a quote of a kind only from the key that names it; a
//!   frame with no backslash has no escaped key, so that key is in the
//!   text as written, and its absence proves the quote absent. A frame
//!   with a backslash anywhere is parsed in full.
//!
//! What a skipped frame no longer yields: its unwanted quotes (the driver
//! drops those anyway), the session's latest price of unwanted kinds, the
//! count of its rows dropped before a partial, and, for a frame malformed
//! after its prefix, the decode error (a malformed frame with no wanted
//! key is skipped as if it were empty). The connector's counters and its
//! first-data check therefore count only frames that were parsed: a
//! connection whose updates carry only unwanted fields, after partials
//! without any price, now fails that check (`NoData`) as one carrying
//! nothing would. `tests/prescan.rs` checks the
//! exactness on every fixture frame and on mutated frames (proptest).

use crate::tables::Table;
use memchr::memmem::Finder;
use mercury_core::{QuoteKind, Subscription};

/// The frame prefixes that make a frame a candidate, per table.
const ACTIONS: [&str; 2] = [r#"","action":"update""#, r#"","action":"insert""#];

/// What the session may skip: per handled table, the keys of the wanted
/// kinds it carries.
#[derive(Debug)]
pub(crate) struct Prescan {
    /// Indexed by the table's index; an empty list: no kind of that table
    /// is wanted (its updates and inserts are all skipped).
    keys: [Vec<Finder<'static>>; 3],
}

impl Prescan {
    /// The pre-scan for a driver keeping `wanted`; `None` when it keeps
    /// everything (no subscriptions).
    pub fn for_wanted(wanted: &[Subscription]) -> Option<Prescan> {
        if wanted.is_empty() {
            return None;
        }
        let mut keys: [Vec<Finder<'static>>; 3] = Default::default();
        for kind in QuoteKind::ALL {
            if wanted.iter().any(|s| s.kind == kind) {
                let key = key_of(kind);
                keys[Table::for_kind(kind).index()].push(Finder::new(key.as_bytes()).into_owned());
            }
        }
        Some(Prescan { keys })
    }

    /// Whether `text` can be skipped unparsed (see the module docs).
    pub fn skips(&self, text: &str) -> bool {
        let Some(table) = candidate(text) else {
            return false;
        };
        let bytes = text.as_bytes();
        if memchr::memchr(b'\\', bytes).is_some() {
            return false;
        }
        !self.keys[table.index()]
            .iter()
            .any(|key| key.find(bytes).is_some())
    }
}

/// The table of a frame that begins `{"table":"T","action":"update"` or
/// `…"insert"` with T handled.
fn candidate(text: &str) -> Option<Table> {
    let rest = text.strip_prefix(r#"{"table":""#)?;
    let table = [Table::Instrument, Table::Quote, Table::Trade]
        .into_iter()
        .find(|t| rest.starts_with(t.wire_name()))?;
    let rest = &rest[table.wire_name().len()..];
    ACTIONS.iter().any(|a| rest.starts_with(a)).then_some(table)
}

/// The key, quotes included, of the field that carries `kind`.
fn key_of(kind: QuoteKind) -> String {
    format!("\"{}\"", crate::wire::field_of(kind))
}
