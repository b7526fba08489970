//! The exchanges this program knows: one list, in one place.
//!
//! Adding an exchange is one line here (plus its crate in `Cargo.toml`).

use mercury_core::Exchange;

/// Every registered exchange, in the order `collector exchanges` lists them.
pub static EXCHANGES: &[&dyn Exchange] = &[
    &mercury_exchange_bitmex::Bitmex,
    &mercury_exchange_binance::Binance,
    &mercury_exchange_bybit::Bybit,
    &mercury_exchange_deribit::Deribit,
    &mercury_exchange_okx::Okx,
    &mercury_exchange_hyperliquid::Hyperliquid,
    &mercury_exchange_krakenfutures::KrakenFutures,
];

/// The registered exchange called `id` (case-insensitive).
pub fn find(id: &str) -> Option<&'static dyn Exchange> {
    mercury_core::planning::find(EXCHANGES, id)
}

/// The identifiers of all registered exchanges, comma-separated.
pub fn known_ids() -> String {
    EXCHANGES
        .iter()
        .map(|e| e.id().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_lower_case_and_findable() {
        for (i, exchange) in EXCHANGES.iter().enumerate() {
            let id = exchange.id();
            assert_eq!(id.as_str(), id.as_str().to_ascii_lowercase());
            assert!(EXCHANGES[i + 1..].iter().all(|other| other.id() != id));
            assert_eq!(
                find(&id.as_str().to_ascii_uppercase()).map(|e| e.id()),
                Some(id)
            );
        }
        assert!(find("nasdaq").is_none());
        assert!(known_ids().contains("bitmex"));
    }
}
