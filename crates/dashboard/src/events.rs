//! The JSON events the dashboard streams on `/ws`, one object per message:
//!
//! - `{"type":"hello","targets":[…],"connections":[…]}` first, a snapshot;
//! - `{"type":"state","connection":"conn-1","exchange":"bitmex","state":"reconnecting","attempt":1,"delay_ms":250,"reason":"…"}`;
//! - `{"type":"quote","seq":1,"exchange":…,"symbol":…,"kind":…,"price":"43210.5","exchange_time":…,"received_at":…,"after_gap":false}`;
//! - `{"type":"stats","quotes":…,"messages_per_s":…,"connections":[…],"drops":…,"latency":[…]}` every second
//!   (`latency`: [`LatencyView`](crate::latency::LatencyView)s).
//!
//! Prices are strings holding the exact decimal, as in `collector fetch`.

use mercury_collector::{ConnectionSnapshot, ConnectionState, Tick};
use serde::Serialize;

/// The longest reason shown: our own words around a server's (whose part
/// is already an excerpt of at most 200 characters).
pub const MAX_REASON_CHARS: usize = 600;

/// An error as the page shows it: control characters escaped, at most
/// [`MAX_REASON_CHARS`] characters, whatever any layer let through.
fn reason(error: &impl std::fmt::Display) -> String {
    mercury_core::excerpt_chars(&error.to_string(), MAX_REASON_CHARS)
}

/// One connection as the page shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionView {
    /// `conn-1`.
    pub connection: String,
    /// `bitmex`.
    pub exchange: String,
    /// `connecting`, `subscribing`, `streaming`, `reconnecting`, `failed`, `stopped`.
    pub state: &'static str,
    /// The reconnect attempt under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The wait before it, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Why it is reconnecting or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The URL it connects to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ConnectionView {
    /// The view of a state.
    pub fn new(connection: String, exchange: String, state: &ConnectionState) -> Self {
        let mut view = ConnectionView {
            connection,
            exchange,
            state: "connecting",
            attempt: None,
            delay_ms: None,
            reason: None,
            url: None,
        };
        match state {
            ConnectionState::Connecting { url } => view.url = Some(mercury_core::excerpt(url)),
            ConnectionState::Subscribing => view.state = "subscribing",
            ConnectionState::Streaming => view.state = "streaming",
            ConnectionState::Reconnecting {
                attempt,
                delay,
                error,
            } => {
                view.state = "reconnecting";
                view.attempt = Some(*attempt);
                view.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
                view.reason = Some(reason(error));
            }
            ConnectionState::Failed(error) => {
                view.state = "failed";
                view.reason = Some(reason(error));
            }
            ConnectionState::Stopped => view.state = "stopped",
            _ => view.state = "unknown",
        }
        view
    }
}

/// A connection's counters in the `stats` event.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionStats {
    /// `conn-1`.
    pub connection: String,
    /// `bitmex`.
    pub exchange: String,
    /// Its state.
    pub state: &'static str,
    /// WebSocket messages received.
    pub messages: u64,
    /// Quotes received.
    pub quotes: u64,
    /// Reconnects so far.
    pub reconnects: u64,
    /// Quotes after a gap.
    pub gaps: u64,
    /// When its latest quote arrived (RFC 3339).
    pub last_quote_at: Option<String>,
}

impl From<&ConnectionSnapshot> for ConnectionStats {
    fn from(s: &ConnectionSnapshot) -> Self {
        ConnectionStats {
            connection: s.connection.to_string(),
            exchange: s.exchange.to_string(),
            state: ConnectionView::new(String::new(), String::new(), &s.state).state,
            messages: s.frames,
            quotes: s.quotes,
            reconnects: s.reconnects,
            gaps: s.gaps,
            last_quote_at: s.last_quote_at.map(|t| t.to_string()),
        }
    }
}

/// The `quote` event of a tick.
pub fn quote(tick: &Tick) -> serde_json::Value {
    let q = &tick.quote;
    serde_json::json!({
        "type": "quote",
        "seq": tick.seq,
        "connection": tick.connection.to_string(),
        "exchange": q.exchange.to_string(),
        "symbol": q.symbol.to_string(),
        "kind": q.kind.as_str(),
        "price": q.price.to_string(),
        "exchange_time": q.exchange_time.map(|t| t.to_string()),
        "received_at": q.received_at.to_string(),
        "after_gap": tick.after_gap,
    })
}
