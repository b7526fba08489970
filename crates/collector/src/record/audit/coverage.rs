//! Coverage per subscription, from the ledgers' events: the intervals
//! covered and every gap, per run (ledger file) and connection, summed per
//! subscription.

use super::lines::LedgerLine;
use serde::Serialize;
use std::collections::BTreeMap;

/// One gap of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// When quotes stopped (the failure, as the collector learnt it), ns.
    pub start_ns: i64,
    /// When quotes flowed again (the first quote marked `after_gap`), or
    /// the run stopped (`cause` then ends in `shutdown`); `None`: never
    /// (the run ended without saying, e.g. a crash, or gave up).
    pub end_ns: Option<i64>,
    /// Its length: by the connector's clock when quotes resumed, else
    /// `end_ns - start_ns`.
    pub duration_ns: Option<u64>,
    /// `reconnect` or `renew`, and how it ended: `resumed`, `shutdown`.
    pub cause: String,
    /// The failure's kind (`drop`, `rate_limit`, `stall`, …).
    pub error_kind: Option<String>,
    /// The failure in words (from the server: escape before printing).
    pub error: Option<String>,
    /// Further failures before quotes flowed again.
    pub retries: u32,
}

/// The coverage of one subscription over every run in the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The exchange.
    pub exchange: String,
    /// The symbol (`None`: a connection whose subscriptions were not told).
    pub symbol: Option<String>,
    /// The kind.
    pub kind: Option<String>,
    /// Runs (ledger files) that covered it.
    pub runs: u32,
    /// Time covered (quotes could flow), in ns.
    pub covered_ns: u128,
    /// Every gap, in order.
    pub gaps: Vec<Gap>,
    /// Connections whose ledger has no `end` (a crash, or a stop that
    /// did not wait for them): counted up to their last event.
    pub unended: u32,
    /// Connections that gave up (`end` with cause `failed`).
    pub failed: u32,
}

type Key = (String, Option<String>, Option<String>);

#[derive(Default)]
struct Link {
    covering_since: Option<i64>,
    open_gap: Option<usize>,
    last_at: i64,
    ended: bool,
}

/// Adds one ledger file's events (in file order) to `coverage`.
pub fn add_run(coverage: &mut BTreeMap<Key, Coverage>, events: &[LedgerLine]) {
    let mut links: BTreeMap<(u64, Key), Link> = BTreeMap::new();
    for event in events {
        let key: Key = (
            event.exchange.clone(),
            event.symbol.clone(),
            event.kind.clone(),
        );
        let entry = coverage.entry(key.clone()).or_insert_with(|| Coverage {
            exchange: key.0.clone(),
            symbol: key.1.clone(),
            kind: key.2.clone(),
            ..Coverage::default()
        });
        let link = links.entry((event.conn, key)).or_default();
        apply(entry, link, event);
    }
    let mut counted = std::collections::BTreeSet::new();
    for ((_, key), link) in links {
        let Some(entry) = coverage.get_mut(&key) else {
            continue;
        };
        if counted.insert(key.clone()) {
            entry.runs += 1;
        }
        if !link.ended {
            entry.unended += 1;
            if let Some(since) = link.covering_since {
                entry.covered_ns += span(since, link.last_at);
            }
        }
    }
}

fn apply(entry: &mut Coverage, link: &mut Link, event: &LedgerLine) {
    let at = event.at_ns;
    link.last_at = link.last_at.max(at);
    match event.event.as_str() {
        "covered" => link.covering_since = Some(at),
        "gap_start" => {
            if let Some(since) = link.covering_since.take() {
                entry.covered_ns += span(since, at);
            }
            entry.gaps.push(Gap {
                start_ns: at,
                end_ns: None,
                duration_ns: None,
                cause: event.cause.clone().unwrap_or_default(),
                error_kind: event.error_kind.clone(),
                error: event.error.clone(),
                retries: 0,
            });
            link.open_gap = Some(entry.gaps.len() - 1);
        }
        "retry" => {
            if let Some(gap) = link.open_gap.and_then(|i| entry.gaps.get_mut(i)) {
                gap.retries += 1;
            }
        }
        "gap_end" => {
            let resumed = event.cause.as_deref() != Some("shutdown");
            if let Some(gap) = link.open_gap.take().and_then(|i| entry.gaps.get_mut(i)) {
                gap.end_ns = Some(at);
                gap.duration_ns = event
                    .gap_ns
                    .filter(|_| resumed)
                    .or_else(|| u64::try_from(span(gap.start_ns, at)).ok());
                let how = if resumed { "resumed" } else { "shutdown" };
                gap.cause = format!("{}, {how}", gap.cause);
            }
            if resumed {
                link.covering_since = Some(at);
            }
        }
        "end" => {
            if let Some(since) = link.covering_since.take() {
                entry.covered_ns += span(since, at);
            }
            link.ended = true;
            if event.cause.as_deref() == Some("failed") {
                entry.failed += 1;
            }
        }
        _ => {}
    }
}

fn span(from: i64, to: i64) -> u128 {
    u128::try_from(i128::from(to) - i128::from(from)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, conn: u64, event: &str, cause: Option<&str>) -> LedgerLine {
        LedgerLine {
            at_ns: at,
            conn,
            exchange: "bitmex".into(),
            symbol: Some("XBTUSD".into()),
            kind: Some("fair".into()),
            event: event.into(),
            cause: cause.map(str::to_owned),
            error_kind: None,
            error: None,
            gap_ns: None,
        }
    }

    #[test]
    fn covered_time_leaves_the_gaps_out() {
        let mut coverage = BTreeMap::new();
        add_run(
            &mut coverage,
            &[
                event(100, 1, "covered", None),
                event(300, 1, "gap_start", Some("reconnect")),
                event(350, 1, "retry", Some("reconnect")),
                event(400, 1, "gap_end", Some("resumed")),
                event(1000, 1, "gap_start", Some("reconnect")),
                event(1100, 1, "gap_end", Some("shutdown")),
                event(1100, 1, "end", Some("shutdown")),
            ],
        );
        // A crashed run: covered up to its last event, counted as unended.
        add_run(
            &mut coverage,
            &[
                event(5000, 1, "covered", None),
                event(5500, 1, "retry", None),
            ],
        );
        let all: Vec<&Coverage> = coverage.values().collect();
        assert_eq!(all.len(), 1);
        let c = all[0];
        assert_eq!(c.covered_ns, 200 + 600 + 500);
        assert_eq!((c.runs, c.unended, c.failed), (2, 1, 0));
        assert_eq!(c.gaps.len(), 2);
        assert_eq!((c.gaps[0].end_ns, c.gaps[0].retries), (Some(400), 1));
        assert_eq!(c.gaps[0].cause, "reconnect, resumed");
        assert_eq!(c.gaps[1].cause, "reconnect, shutdown");
        assert_eq!(c.gaps[1].duration_ns, Some(100));
    }
}
