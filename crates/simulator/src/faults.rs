//! Faults the simulator can inject, each a setting, all combinable.

use std::time::Duration;

/// What goes wrong, and when. Frame counts are per connection and count
/// every frame the server sends (welcome, acks and partials included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Drop the TCP connection (no Close frame) after this many frames.
    pub drop_after: Option<u64>,
    /// Send a Close frame with this code after this many frames.
    pub close_after: Option<(u64, u16)>,
    /// After this many frames send nothing and answer nothing, not even pings.
    pub stall_after: Option<u64>,
    /// Send a frame of garbage (not JSON) before every Nth frame.
    pub garbage_every: Option<u64>,
    /// After this many frames send BitMEX's in-band rate-limit error
    /// (`{"status":429,…,"meta":{"retryAfter":S}}`) and close.
    pub rate_limit_after: Option<(u64, Duration)>,
    /// Refuse the first K upgrade requests with HTTP 429 and `Retry-After`.
    pub refuse_first: u32,
    /// The `Retry-After` of those refusals, in whole seconds
    /// (default [`REFUSAL_RETRY_AFTER`]).
    pub refusal_retry_after: Option<Duration>,
    /// Answer every upgrade request with HTTP 200 and a page, no WebSocket.
    pub http_200: bool,
    /// Pad every `partial` to more than 1 MB (an unknown field).
    pub big_partials: bool,
    /// Apply the per-connection faults above only to the first K
    /// connections (0: to all), so a client that reconnects recovers.
    pub faulty_connections: u32,
}

impl Faults {
    /// Whether connection number `connection` (1-based) suffers the faults.
    pub fn applies_to(&self, connection: u64) -> bool {
        self.faulty_connections == 0 || connection <= u64::from(self.faulty_connections)
    }

    /// The `Retry-After` sent with refused upgrades.
    pub fn refusal_retry_after(&self) -> Duration {
        self.refusal_retry_after.unwrap_or(REFUSAL_RETRY_AFTER)
    }
}

/// The Retry-After the simulator asks for on refused upgrades by default.
pub const REFUSAL_RETRY_AFTER: Duration = Duration::from_secs(1);
