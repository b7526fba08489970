//! Splitting a target list across N collector processes (`--shard K/N`),
//! so that a deployment too big for one process or one machine runs as N
//! processes given the **same** list (`docs/scaling.md`).
//!
//! The rule: a subscription belongs to shard
//! `1 + FNV-1a-64("EXCHANGE\nSYMBOL\nKIND") mod N`, where EXCHANGE is the
//! exchange's id (`bitmex`), SYMBOL the symbol as the exchange spells it
//! and KIND the quote kind's name (`fair`). It depends on the subscription
//! alone, not on the list's order nor on the other targets: adding or
//! removing a target never moves another one (changing N does). FNV-1a is
//! fixed by its specification, so every version of mercury on every
//! machine assigns alike.
//!
//! ```
//! use mercury_core::{ExchangeId, QuoteKind, Shard, Subscription};
//! let shard: Shard = "1/3".parse().unwrap();
//! let xbt = Subscription::new(ExchangeId::from_static("bitmex"), "XBTUSD", QuoteKind::Fair);
//! assert_eq!(Shard::of(&xbt, 3), 1);
//! assert!(shard.owns(&xbt));
//! ```

use crate::{Error, Subscription};
use std::fmt;
use std::str::FromStr;

/// The FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// The FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// The most shards a list may be split into: far more processes than any
/// deployment runs, small enough that a typo (`1/10000`) is caught.
pub const MAX_SHARDS: u32 = 1024;

/// One shard of N: `K/N`, K in `1..=N`, N in `1..=`[`MAX_SHARDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count` (both counted from 1), or why not.
    pub fn new(index: u32, count: u32) -> Result<Self, Error> {
        if count == 0 || count > MAX_SHARDS {
            return Err(Error::Target(format!(
                "shard {index}/{count}: the number of shards must be 1 to {MAX_SHARDS}"
            )));
        }
        if index == 0 || index > count {
            return Err(Error::Target(format!(
                "shard {index}/{count}: K must be 1 to {count} in K/N"
            )));
        }
        Ok(Shard { index, count })
    }

    /// K, counted from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// N.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The shard (1..=`count`) `subscription` belongs to when the list is
    /// split into `count` shards (`count` 0 is taken as 1).
    pub fn of(subscription: &Subscription, count: u32) -> u32 {
        let count = u64::from(count.max(1));
        let hash = fnv1a(&[
            subscription.exchange.as_str().as_bytes(),
            b"\n",
            subscription.symbol.as_str().as_bytes(),
            b"\n",
            subscription.kind.as_str().as_bytes(),
        ]);
        // hash % count < count <= u32::MAX: the conversion cannot fail.
        u32::try_from(hash % count).map_or(1, |rest| rest + 1)
    }

    /// Whether `subscription` is this shard's.
    pub fn owns(self, subscription: &Subscription) -> bool {
        Shard::of(subscription, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `K/N`, e.g. `2/4`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || Error::Target(format!("shard {text:?}: expected K/N, e.g. 1/2"));
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n)
    }
}

/// FNV-1a, 64 bits, over the concatenation of `parts`.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash = FNV_OFFSET;
    for byte in parts.iter().flat_map(|part| part.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{ExchangeId, QuoteKind};

    fn sub(exchange: &'static str, symbol: &str, kind: QuoteKind) -> Subscription {
        Subscription::new(ExchangeId::from_static(exchange), symbol, kind)
    }

    fn list() -> Vec<Subscription> {
        let mut list = Vec::new();
        for symbol in ["XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD"] {
            list.push(sub("bitmex", symbol, QuoteKind::Fair));
            list.push(sub("bitmex", symbol, QuoteKind::Mark));
        }
        for symbol in ["BTCUSDT", "ETHUSDT", "BNBUSDT"] {
            list.push(sub("binance", symbol, QuoteKind::Mark));
        }
        list.push(sub("okx", "BTC-USDT-SWAP", QuoteKind::Mark));
        list.push(sub("hyperliquid", "BTC", QuoteKind::Mark));
        list
    }

    #[test]
    fn fnv1a_matches_its_published_test_vectors() {
        assert_eq!(fnv1a(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"foo"]), 0xdcb2_7518_fed9_d577);
        assert_eq!(fnv1a(&[b"fo", b"o"]), fnv1a(&[b"foo"]));
    }

    #[test]
    fn every_target_is_in_exactly_one_shard() {
        let list = list();
        for n in 1..=8 {
            for target in &list {
                let owners: Vec<u32> = (1..=n)
                    .filter(|&k| Shard::new(k, n).unwrap().owns(target))
                    .collect();
                assert_eq!(owners.len(), 1, "{target} with N={n}: {owners:?}");
                assert_eq!(owners[0], Shard::of(target, n));
            }
        }
    }

    #[test]
    fn the_assignment_ignores_the_list_order_and_the_other_targets() {
        let list = list();
        let assigned = |targets: &[Subscription]| -> Vec<(String, u32)> {
            let mut pairs: Vec<(String, u32)> = targets
                .iter()
                .map(|t| (t.to_string(), Shard::of(t, 3)))
                .collect();
            pairs.sort();
            pairs
        };
        let mut reversed = list.clone();
        reversed.reverse();
        assert_eq!(assigned(&list), assigned(&reversed));
        // One target more moves no other.
        let mut longer = list.clone();
        longer.push(sub("deribit", "BTC-PERPETUAL", QuoteKind::Mark));
        let before = assigned(&list);
        let after = assigned(&longer);
        assert!(before.iter().all(|pair| after.contains(pair)));
    }

    #[test]
    fn known_assignments_are_pinned() {
        // Computed apart from this code (FNV-1a of "bitmex\nXBTUSD\nfair"
        // etc., in Python): a change here moves every deployment's targets,
        // so it must be deliberate.
        let pinned = [
            (sub("bitmex", "XBTUSD", QuoteKind::Fair), [1, 1, 3]),
            (sub("binance", "BTCUSDT", QuoteKind::Mark), [2, 1, 4]),
            (sub("okx", "BTC-USDT-SWAP", QuoteKind::Mark), [1, 1, 1]),
        ];
        for (target, shards) in pinned {
            let got = [2, 3, 4].map(|n| Shard::of(&target, n));
            assert_eq!(got, shards, "{target}");
        }
    }

    #[test]
    fn k_of_n_parses_and_refuses_what_is_not() {
        let shard: Shard = " 2/4 ".parse().unwrap();
        assert_eq!(
            (shard.index(), shard.count(), shard.to_string()),
            (2, 4, "2/4".into())
        );
        for bad in ["0/2", "3/2", "1/0", "2", "a/b", "1/2/3", "-1/2", "1/2000"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
