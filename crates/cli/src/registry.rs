//! The exchanges this program knows: one list, in one place.
//!
//! Adding an exchange is one line here (plus its crate in `Cargo.toml`).

use mercury_core::ExchangeDescriptor;

/// Every registered exchange, in the order `collector exchanges` lists them.
pub const EXCHANGES: &[ExchangeDescriptor] = &[
    mercury_exchange_bitmex::DESCRIPTOR,
    mercury_exchange_binance::DESCRIPTOR,
    mercury_exchange_bybit::DESCRIPTOR,
];

/// The registered exchange called `id` (case-insensitive).
pub fn find(id: &str) -> Option<&'static ExchangeDescriptor> {
    EXCHANGES
        .iter()
        .find(|e| e.id.as_str().eq_ignore_ascii_case(id))
}

/// The identifiers of all registered exchanges, comma-separated.
pub fn known_ids() -> String {
    EXCHANGES
        .iter()
        .map(|e| e.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_lower_case_and_findable() {
        for (i, exchange) in EXCHANGES.iter().enumerate() {
            let id = exchange.id.as_str();
            assert_eq!(id, id.to_ascii_lowercase());
            assert!(
                EXCHANGES[i + 1..]
                    .iter()
                    .all(|other| other.id != exchange.id)
            );
            assert_eq!(
                find(&id.to_ascii_uppercase()).map(|e| &e.id),
                Some(&exchange.id)
            );
        }
        assert!(find("nasdaq").is_none());
        assert!(known_ids().contains("bitmex"));
    }
}
