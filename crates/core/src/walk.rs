//! The price walk the simulated venues share: a mark price that moves at
//! each headline, a last price near it every other event, a bid just
//! below it at every event — integers in the venue's own tick (cents,
//! tenths), from a seeded [`SplitMix64`], so a seed gives the same prices
//! every run and the frame logs can be checked against them.

use crate::SplitMix64;

/// One simulated instrument's prices, in the venue's tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkedPrices {
    /// The mark price.
    pub mark: i64,
    /// The last traded price.
    pub last: i64,
    /// The best bid.
    pub bid: i64,
}

/// A venue's walk: the floors and the bid's distance below the mark.
/// The step sizes (mark ±50, last ±20 around the mark, bid ±5) are the
/// same for every venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceWalk {
    /// The lowest mark and last price.
    pub floor: i64,
    /// How far below the mark the bid sits before its jitter.
    pub bid_below_mark: i64,
    /// The lowest bid.
    pub bid_floor: i64,
}

/// Which prices move at one event of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkStep {
    /// The mark moves (a headline: every `updates_per_headline` events).
    pub mark: bool,
    /// The last price moves (every other event).
    pub last: bool,
}

impl WalkStep {
    /// The step of event number `event` (counted from 1).
    pub fn of(event: u64, updates_per_headline: u32) -> Self {
        WalkStep {
            mark: event.is_multiple_of(u64::from(updates_per_headline)),
            last: event.is_multiple_of(2),
        }
    }
}

impl PriceWalk {
    /// An instrument starting at `mark`: last at the mark, bid below it.
    pub fn start(&self, mark: i64) -> WalkedPrices {
        WalkedPrices {
            mark,
            last: mark,
            bid: mark - self.bid_below_mark,
        }
    }

    /// Moves `prices` by one `step`, drawing from `rng` in a fixed order
    /// (mark, last, bid), so a venue's prices depend only on its seed.
    pub fn advance(&self, step: WalkStep, rng: &mut SplitMix64, prices: &mut WalkedPrices) {
        if step.mark {
            prices.mark = (prices.mark + rng.step(50)).max(self.floor);
        }
        if step.last {
            prices.last = (prices.mark + rng.step(20)).max(self.floor);
        }
        prices.bid = (prices.mark - self.bid_below_mark + rng.step(5)).max(self.bid_floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALK: PriceWalk = PriceWalk {
        floor: 100,
        bid_below_mark: 5,
        bid_floor: 1,
    };

    #[test]
    fn steps_follow_the_event_count() {
        assert_eq!(
            WalkStep::of(4, 4),
            WalkStep {
                mark: true,
                last: true
            }
        );
        assert_eq!(
            WalkStep::of(3, 4),
            WalkStep {
                mark: false,
                last: false
            }
        );
        assert_eq!(
            WalkStep::of(2, 4),
            WalkStep {
                mark: false,
                last: true
            }
        );
    }

    #[test]
    fn prices_stay_within_their_steps_and_floors_and_repeat_with_the_seed() {
        let walk_from = |seed| {
            let mut rng = SplitMix64::new(seed);
            let mut prices = WALK.start(120);
            (1..=2_000)
                .map(|event| {
                    let before = prices;
                    WALK.advance(WalkStep::of(event, 4), &mut rng, &mut prices);
                    assert!((prices.mark - before.mark).abs() <= 50 && prices.mark >= 100);
                    assert!(prices.last >= 100 && prices.bid >= 1);
                    assert!((prices.bid - (prices.mark - 5)).abs() <= 5 || prices.bid == 1);
                    prices
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(walk_from(7), walk_from(7));
        assert_ne!(walk_from(7), walk_from(8));
        assert!(
            walk_from(7).iter().any(|p| p.mark == 100),
            "the floor is reached"
        );
    }
}
