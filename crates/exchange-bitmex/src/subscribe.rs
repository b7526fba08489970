//! Planning subscriptions: which topics to ask for, in which messages.
//!
//! A kind maps to a table (`fair`/`mark`/`last` → `instrument`, `bid`/`ask`
//! → `quote`, `trade` → `trade`) and a topic is `table:SYMBOL`. BitMEX takes
//! at most [`MAX_TOPICS_PER_REQUEST`] topics per request.

use crate::EXCHANGE_ID;
use crate::tables::Table;
use mercury_core::{Error, Outgoing, Subscription};
use serde::Serialize;

/// The most topics BitMEX accepts in one subscribe request.
pub const MAX_TOPICS_PER_REQUEST: usize = 20;
/// The longest symbol mercury will send (BitMEX symbols are far shorter).
const MAX_SYMBOL_LEN: usize = 32;

#[derive(Serialize)]
struct BitmexSubscribe<'a> {
    op: &'static str,
    args: &'a [String],
}

/// The topic for `subscription`, e.g. `instrument:XBTUSD`.
///
/// ```
/// use mercury_core::{ExchangeId, QuoteKind, Subscription};
/// use mercury_exchange_bitmex::topic;
/// let sub = Subscription::new(ExchangeId::from_static("bitmex"), "XBTUSD", QuoteKind::Bid);
/// assert_eq!(topic(&sub).unwrap(), "quote:XBTUSD");
/// ```
pub fn topic(subscription: &Subscription) -> Result<String, Error> {
    if subscription.exchange != EXCHANGE_ID {
        return Err(Error::InvalidSubscription(format!(
            "{subscription} is not a BitMEX subscription"
        )));
    }
    let symbol = subscription.symbol.as_str();
    let well_formed = !symbol.is_empty()
        && symbol.len() <= MAX_SYMBOL_LEN
        && symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !well_formed {
        return Err(Error::InvalidSubscription(format!(
            "{symbol:?} is not a BitMEX symbol (letters, digits, '.', '_' or '-', at most {MAX_SYMBOL_LEN})"
        )));
    }
    Ok(format!(
        "{}:{symbol}",
        Table::for_kind(subscription.kind).wire_name()
    ))
}

/// The subscribe requests for `subscriptions`: each topic once, in the order
/// first asked for, at most [`MAX_TOPICS_PER_REQUEST`] per request.
pub(crate) fn subscribe_messages(subscriptions: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
    let mut topics: Vec<String> = Vec::new();
    for subscription in subscriptions {
        let topic = topic(subscription)?;
        if !topics.contains(&topic) {
            topics.push(topic);
        }
    }
    topics
        .chunks(MAX_TOPICS_PER_REQUEST)
        .map(|args| {
            serde_json::to_string(&BitmexSubscribe {
                op: "subscribe",
                args,
            })
            .map(Outgoing::Text)
            .map_err(|e| Error::InvalidSubscription(e.to_string()))
        })
        .collect()
}
