//! Faults the simulator can inject, each a setting, all combinable.

use std::time::Duration;

/// What goes wrong, and when. Frame counts are per connection and count
/// every frame the server sends (welcome, acks and partials included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Drop the TCP connection (no Close frame) after this many frames.
    pub drop_after: Option<u64>,
    /// Send a Close frame with this code after this many frames.
    pub close_after: Option<(u64, u16)>,
    /// After this many frames send nothing and answer nothing, not even pings.
    pub stall_after: Option<u64>,
    /// After this many frames write a malformed WebSocket frame (reserved
    /// opcode 3, see [`MALFORMED_FRAME`]) straight onto the wire and cut the
    /// TCP connection.
    pub malformed_after: Option<u64>,
    /// Send a frame of garbage (not JSON) before every Nth frame.
    pub garbage_every: Option<u64>,
    /// After this many frames send the exchange's in-band rate-limit error
    /// asking for this wait ([`VenueFault::RateLimit`](mercury_core::VenueFault),
    /// e.g. BitMEX `{"status":429,…,"meta":{"retryAfter":S}}`) and close.
    pub rate_limit_after: Option<(u64, Duration)>,
    /// Refuse the first K upgrade requests with HTTP 429 and `Retry-After`.
    pub refuse_first: u32,
    /// The `Retry-After` of those refusals, in whole seconds
    /// (default [`REFUSAL_RETRY_AFTER`]).
    pub refusal_retry_after: Option<Duration>,
    /// Answer every upgrade request with HTTP 200 and a page, no WebSocket.
    pub http_200: bool,
    /// Pad every image frame (a BitMEX `partial`, a Bybit `snapshot`, every
    /// Binance event) to more than 1 MB with a field the client does not
    /// know ([`VenueFault::Padded`](mercury_core::VenueFault)).
    pub big_partials: bool,
    /// Apply the per-connection faults above only to the first K
    /// connections (0: to all), so a client that reconnects recovers.
    pub faulty_connections: u32,
    /// Of the connection-ending faults set above (drop, close, rate limit,
    /// stall, malformed frame), give each connection only one, in turn: connection 1 the
    /// first set, connection 2 the next, and so on (for soak tests).
    pub rotate: bool,
}

impl Faults {
    /// Whether connection number `connection` (1-based) suffers the faults.
    pub fn applies_to(&self, connection: u64) -> bool {
        self.faulty_connections == 0 || connection <= u64::from(self.faulty_connections)
    }

    /// The faults connection number `connection` (1-based) suffers once
    /// upgraded: none past `faulty_connections`, one ending in turn with
    /// `rotate`.
    pub fn for_connection(&self, connection: u64) -> Faults {
        if !self.applies_to(connection) {
            return Faults::default();
        }
        let mut faults = *self;
        if self.rotate {
            let set = [
                self.drop_after.is_some(),
                self.close_after.is_some(),
                self.rate_limit_after.is_some(),
                self.stall_after.is_some(),
                self.malformed_after.is_some(),
            ];
            let kinds: Vec<usize> = (0..set.len()).filter(|&k| set[k]).collect();
            if !kinds.is_empty() {
                // The index is below kinds.len(), which fits in a usize.
                let turn = ((connection.saturating_sub(1)) % kinds.len() as u64) as usize;
                let keep = kinds[turn];
                if keep != 0 {
                    faults.drop_after = None;
                }
                if keep != 1 {
                    faults.close_after = None;
                }
                if keep != 2 {
                    faults.rate_limit_after = None;
                }
                if keep != 3 {
                    faults.stall_after = None;
                }
                if keep != 4 {
                    faults.malformed_after = None;
                }
            }
        }
        faults
    }

    /// The `Retry-After` sent with refused upgrades.
    pub fn refusal_retry_after(&self) -> Duration {
        self.refusal_retry_after.unwrap_or(REFUSAL_RETRY_AFTER)
    }
}

/// The bytes of [`Faults::malformed_after`]: a final (FIN) frame with the
/// reserved opcode 3 and no payload, which RFC 6455 §5.2 says a client must
/// fail the connection on.
pub const MALFORMED_FRAME: [u8; 2] = [0x83, 0x00];

/// The Retry-After the simulator asks for on refused upgrades by default.
pub const REFUSAL_RETRY_AFTER: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_gives_each_connection_one_ending_in_turn() {
        let faults = Faults {
            drop_after: Some(10),
            stall_after: Some(20),
            garbage_every: Some(3),
            rotate: true,
            ..Faults::default()
        };
        let five = Faults {
            malformed_after: Some(30),
            close_after: Some((5, 1011)),
            ..faults
        };
        let turns: Vec<_> = (1..=4).map(|c| five.for_connection(c)).collect();
        assert_eq!(turns[1].close_after, Some((5, 1011)));
        assert_eq!(turns[3].malformed_after, Some(30));
        assert_eq!(
            (turns[3].drop_after, turns[0].malformed_after),
            (None, None)
        );
        let first = faults.for_connection(1);
        assert_eq!((first.drop_after, first.stall_after), (Some(10), None));
        let second = faults.for_connection(2);
        assert_eq!((second.drop_after, second.stall_after), (None, Some(20)));
        assert_eq!(faults.for_connection(3).drop_after, Some(10));
        assert_eq!(second.garbage_every, Some(3), "other faults stay");
        let limited = Faults {
            faulty_connections: 1,
            ..faults
        };
        assert_eq!(limited.for_connection(2), Faults::default());
    }
}
