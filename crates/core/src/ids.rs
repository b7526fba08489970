//! Identifiers: which exchange, which instrument.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The identifier of an exchange, e.g. `bitmex`: lower-case, as used on the
/// command line and in output. Cheap to clone: registered exchanges use a
/// `&'static str`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExchangeId(Cow<'static, str>);

impl ExchangeId {
    /// An identifier known at compile time (no allocation).
    pub const fn from_static(id: &'static str) -> Self {
        ExchangeId(Cow::Borrowed(id))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for ExchangeId {
    fn from(id: String) -> Self {
        ExchangeId(Cow::Owned(id))
    }
}

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An instrument symbol as the exchange spells it, e.g. `XBTUSD`.
///
/// Shared (`Arc<str>`): a source keeps one per instrument and every quote of
/// that instrument clones the pointer instead of the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Symbol(Arc<str>);

impl Symbol {
    /// A symbol from its text.
    pub fn new(symbol: &str) -> Self {
        Symbol(Arc::from(symbol))
    }

    /// The symbol as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Symbol {
    fn from(symbol: &str) -> Self {
        Symbol::new(symbol)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_by_text_whatever_their_storage() {
        assert_eq!(
            ExchangeId::from_static("bitmex"),
            ExchangeId::from("bitmex".to_string())
        );
        assert_eq!(Symbol::new("XBTUSD").as_str(), "XBTUSD");
        assert_eq!(Symbol::from("XBTUSD").to_string(), "XBTUSD");
    }
}
