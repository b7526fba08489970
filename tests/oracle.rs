//! What each simulator sent, read back from its frame log by a plain JSON
//! walk (an oracle independent of the exchange crates' decoders): the
//! prices a client of each connection should report, in order, keyed by
//! connection number.

use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use mercury_testkit::bitmex::fairs_by_connection;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The default kind's prices of `symbol` that each connection of the
/// `exchange` simulator logging to `log` was sent: BitMEX fair prices,
/// Binance and Bybit mark prices.
pub fn sent(exchange: &str, symbol: &str, log: &Path) -> BTreeMap<u64, Vec<Price>> {
    match exchange {
        "bitmex" => fairs_by_connection(log).unwrap(),
        "binance" => sent_prices(log, |f| binance_mark(f, symbol)),
        "bybit" => sent_prices(log, |f| bybit_mark(f, symbol)),
        "krakenfutures" => sent_prices(log, |f| krakenfutures_mark(f, symbol)),
        other => panic!("no oracle for {other}"),
    }
}

/// The prices `price_of` finds in the frames each connection was sent.
pub fn sent_prices(
    log: &Path,
    price_of: impl Fn(&Value) -> Option<Price>,
) -> BTreeMap<u64, Vec<Price>> {
    sent_by_connection(&read_log(log).unwrap())
        .into_iter()
        .map(|(connection, frames)| {
            let prices = frames
                .iter()
                .filter_map(|f| serde_json::from_str::<Value>(f).ok())
                .filter_map(|f| price_of(&f))
                .collect();
            (connection, prices)
        })
        .collect()
}

/// A Binance `markPriceUpdate` of `symbol`'s mark price.
pub fn binance_mark(frame: &Value, symbol: &str) -> Option<Price> {
    (frame["data"]["e"] == "markPriceUpdate" && frame["data"]["s"] == symbol)
        .then(|| frame["data"]["p"].as_str()?.parse().ok())?
}

/// A Bybit `tickers.SYMBOL` frame's mark price, when it carries one.
pub fn bybit_mark(frame: &Value, symbol: &str) -> Option<Price> {
    (frame["topic"].as_str() == Some(&format!("tickers.{symbol}")))
        .then(|| frame["data"]["markPrice"].as_str()?.parse().ok())?
}

/// A Kraken Futures `ticker` of `symbol`'s mark price (a JSON number; the
/// simulator prints cents, which `f64`'s shortest form keeps exact).
pub fn krakenfutures_mark(frame: &Value, symbol: &str) -> Option<Price> {
    (frame["feed"] == "ticker" && frame["product_id"] == symbol && frame.get("event").is_none())
        .then(|| frame["markPrice"].as_number()?.to_string().parse().ok())?
}
