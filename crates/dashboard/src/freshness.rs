//! How fresh each subscription's data is: the time since its last quote.
//!
//! A connection can be up — `/health` `ok`, `mercury_connection_up` 1 —
//! while no quote has come for minutes: the server answers pings and sends
//! nothing else (issue #14, item 9). [`Freshness`] notes when each
//! subscription last had a quote, by the dashboard's clock (injected, so
//! tests move time), and calls a subscription *stale* when that is longer
//! ago than the staleness limit. A subscription that never had a quote is
//! aged from the dashboard's start. `/health` turns `degraded` and names the
//! stale ones, `/metrics` has `mercury_quote_age_seconds`, the page shows
//! each age.

use mercury_core::{Clock, Subscription, SystemClock, Timestamp};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The default staleness limit (`serve --stale-after`): BitMEX moves
/// `fairPrice` every ~5 s and Binance its mark price every second, so 30 s
/// without a quote is several missed updates, not a quiet market.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(30);
/// The most subscriptions followed when none are configured (they are then
/// learnt from the quotes): the hub's memory stays bounded whatever arrives.
pub const MAX_LEARNT: usize = 1024;

/// The clock the dashboard ages quotes by (the system's by default; tests
/// inject their own).
#[derive(Clone)]
pub struct DashboardClock(pub Arc<dyn Clock>);

impl Default for DashboardClock {
    fn default() -> Self {
        DashboardClock(Arc::new(SystemClock))
    }
}

impl fmt::Debug for DashboardClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DashboardClock")
    }
}

/// One subscription's freshness, as `/health`, `/metrics` and the `stats`
/// event show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteAge {
    /// `bitmex`.
    pub exchange: String,
    /// `XBTUSD`.
    pub symbol: String,
    /// `fair`.
    pub kind: &'static str,
    /// Milliseconds since its last quote (since the start if none came).
    pub age_ms: u64,
    /// Whether any quote came.
    pub quoted: bool,
    /// Whether `age_ms` is over the staleness limit.
    pub stale: bool,
}

impl QuoteAge {
    /// `bitmex:XBTUSD:fair`.
    pub fn name(&self) -> String {
        format!("{}:{}:{}", self.exchange, self.symbol, self.kind)
    }
}

/// The last quote time per subscription. See the module docs.
#[derive(Debug)]
pub struct Freshness {
    stale_after: Duration,
    clock: DashboardClock,
    started: Timestamp,
    /// Only these when configured; learnt from quotes otherwise.
    fixed: bool,
    last: Vec<(Subscription, Option<Timestamp>)>,
}

impl Freshness {
    /// Follows `subscriptions` (or, if empty, those quotes arrive for, up
    /// to [`MAX_LEARNT`]), stale after `stale_after`, by `clock`.
    pub fn new(
        subscriptions: &[Subscription],
        stale_after: Duration,
        clock: DashboardClock,
    ) -> Self {
        let started = clock.0.now();
        Freshness {
            stale_after,
            clock,
            started,
            fixed: !subscriptions.is_empty(),
            last: subscriptions.iter().map(|s| (s.clone(), None)).collect(),
        }
    }

    /// A quote for `exchange`/`symbol`/`kind` arrived now.
    pub fn quoted(&mut self, quote: &mercury_core::Quote) {
        let now = self.clock.0.now();
        if let Some((_, last)) = self.last.iter_mut().find(|(s, _)| s.matches(quote)) {
            *last = Some(now);
        } else if !self.fixed && self.last.len() < MAX_LEARNT {
            let subscription =
                Subscription::new(quote.exchange.clone(), quote.symbol.clone(), quote.kind);
            self.last.push((subscription, Some(now)));
        }
    }

    /// Every followed subscription's age, now.
    pub fn ages(&self) -> Vec<QuoteAge> {
        let now = self.clock.0.now();
        self.last
            .iter()
            .map(|(s, last)| {
                let age = now.saturating_since(last.unwrap_or(self.started));
                QuoteAge {
                    exchange: s.exchange.to_string(),
                    symbol: s.symbol.to_string(),
                    kind: s.kind.as_str(),
                    age_ms: u64::try_from(age.as_millis()).unwrap_or(u64::MAX),
                    quoted: last.is_some(),
                    stale: age > self.stale_after,
                }
            })
            .collect()
    }

    /// The staleness limit.
    pub fn stale_after(&self) -> Duration {
        self.stale_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercury_core::{ExchangeId, Quote, QuoteKind};
    use std::sync::Mutex;

    struct Manual(Mutex<Timestamp>);

    impl Clock for Manual {
        fn now(&self) -> Timestamp {
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    impl Manual {
        fn advance(&self, by: Duration) {
            let mut now = self.0.lock().unwrap();
            *now = now.saturating_add(by);
        }
    }

    fn quote(symbol: &str) -> Quote {
        Quote {
            exchange: ExchangeId::from_static("bitmex"),
            symbol: symbol.into(),
            kind: QuoteKind::Fair,
            price: "1".parse().unwrap(),
            exchange_time: None,
            received_at: Timestamp::UNIX_EPOCH,
            conn_seq: 1,
        }
    }

    #[test]
    fn a_subscription_goes_stale_after_the_limit_and_fresh_with_a_quote() {
        let clock = Arc::new(Manual(Mutex::new(Timestamp::UNIX_EPOCH)));
        let xbt = Subscription::new(ExchangeId::from_static("bitmex"), "XBTUSD", QuoteKind::Fair);
        let mut freshness = Freshness::new(
            &[xbt],
            Duration::from_secs(30),
            DashboardClock(clock.clone()),
        );
        clock.advance(Duration::from_secs(31));
        let ages = freshness.ages();
        assert_eq!(
            (ages[0].quoted, ages[0].stale, ages[0].age_ms),
            (false, true, 31_000)
        );
        freshness.quoted(&quote("XBTUSD"));
        freshness.quoted(&quote("ETHUSD")); // not followed: configured subscriptions only
        clock.advance(Duration::from_secs(10));
        let ages = freshness.ages();
        assert_eq!(ages.len(), 1);
        assert_eq!(
            (ages[0].quoted, ages[0].stale, ages[0].age_ms),
            (true, false, 10_000)
        );
        assert_eq!(ages[0].name(), "bitmex:XBTUSD:fair");
    }

    #[test]
    fn learnt_subscriptions_are_bounded() {
        let clock = DashboardClock::default();
        let mut freshness = Freshness::new(&[], DEFAULT_STALE_AFTER, clock);
        for i in 0..MAX_LEARNT + 10 {
            freshness.quoted(&quote(&format!("S{i}")));
        }
        assert_eq!(freshness.ages().len(), MAX_LEARNT);
    }
}
