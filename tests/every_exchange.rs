//! Every registered exchange, end to end, the same way: the real
//! `collector fetch` process against the real `collector sim EXCHANGE`
//! process, over `ws://` and over `wss://`, clean and with each fault a
//! connection meets in production — a dropped TCP connection, a server
//! that goes silent (caught by the heartbeat), and the venue's own in-band
//! rate limit (its wait honoured). A new registry line is covered here
//! without a new test; an exchange missing from [`SYMBOLS`] fails
//! [`every_registered_exchange_has_a_symbol_here`].
//!
//! Expected quotes come from the simulator's frame log, connection by
//! connection, decoded by a fresh session of the exchange per connection
//! (its codec is proven separately on real frames against independent
//! oracles by the conformance kit; what is tested here is the I/O path:
//! nothing lost, duplicated or reordered, `after_gap` on the first quote
//! after a reconnect, the waits).
//!
//! Regression (issue #13): the simulator sent BitMEX's 429 to every
//! client, which Binance and Bybit could not read, so they reconnected
//! after ~26 ms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_cli::registry::EXCHANGES;
use mercury_core::{Decoder, Exchange, Price, SourceEvent, Timestamp, WireFrame};
use mercury_simulator::{read_log, sent_by_connection};
use mercury_tests::recorded::assert_connection_by_connection;
use mercury_tests::{Fetched, SimProcess, collector, run_bounded};
use std::time::{Duration, Instant};

/// A symbol each exchange's simulator lists.
const SYMBOLS: &[(&str, &str)] = &[
    ("bitmex", "XBTUSD"),
    ("binance", "BTCUSDT"),
    ("bybit", "BTCUSDT"),
    ("deribit", "BTC-PERPETUAL"),
    ("okx", "BTC-USDT-SWAP"),
    ("hyperliquid", "BTC"),
    ("krakenfutures", "PF_XBTUSD"),
];

/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

/// The wait the rate-limit scenario asks for.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The transport a scenario runs over.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    Ws,
    Wss,
}

/// One exchange under test: the registry's entry and a symbol it lists.
struct Venue {
    exchange: &'static dyn Exchange,
    id: String,
    symbol: &'static str,
}

fn every_exchange() -> Vec<Venue> {
    EXCHANGES
        .iter()
        .map(|exchange| {
            let id = exchange.id().to_string();
            let symbol = SYMBOLS
                .iter()
                .find(|(name, _)| *name == id)
                .map(|(_, symbol)| *symbol)
                .unwrap_or_else(|| panic!("no symbol for {id} in SYMBOLS"));
            Venue {
                exchange: *exchange,
                id,
                symbol,
            }
        })
        .collect()
}

impl Venue {
    /// The simulator of this exchange with its default kind every 40 ms and
    /// `faults` on its first connection only.
    fn sim(&self, scenario: &str, scheme: Scheme, faults: &[&str]) -> SimProcess {
        let mut args = vec!["--fair-interval", "0.04"];
        if !faults.is_empty() {
            args.extend_from_slice(faults);
            args.extend_from_slice(&["--faulty-connections", "1"]);
        }
        let name = format!("every-{scenario}-{}-{scheme:?}", self.id);
        match scheme {
            Scheme::Ws => SimProcess::start_for(&self.id, &name, &args),
            Scheme::Wss => SimProcess::start_tls_for(&self.id, &name, &args),
        }
    }

    /// `collector fetch EXCHANGE SYMBOL -n N` against `sim`, JSON output, a
    /// heartbeat after 0.2 s of silence.
    fn fetch(&self, sim: &SimProcess, n: usize) -> Fetched {
        let mut command = collector();
        command
            .args(["fetch", &self.id, self.symbol, "-n", &n.to_string()])
            .args(["--url", sim.url(), "--format", "json"])
            .args(["--heartbeat", "0.2", "--timeout", "25"]);
        if let Some(ca) = sim.ca() {
            command.arg("--ca-cert").arg(ca);
        }
        Fetched::run(&mut command, LIMIT)
    }

    /// The default kind's prices of this symbol each connection of `sim`
    /// was sent, decoded by a fresh session per connection.
    fn sent(&self, sim: &mut SimProcess) -> Vec<Vec<Price>> {
        let log = read_log(sim.stop_and_log()).unwrap();
        let kind = self.exchange.default_kind();
        sent_by_connection(&log)
            .into_values()
            .map(|frames| {
                let mut decoder = Decoder::new(self.exchange);
                let mut prices = Vec::new();
                for frame in frames {
                    let at = Timestamp::UNIX_EPOCH;
                    let Ok(events) = decoder.decode_to_vec(WireFrame::Text(frame), at) else {
                        continue;
                    };
                    prices.extend(events.into_iter().filter_map(|event| match event {
                        SourceEvent::Quote(q)
                            if q.symbol.as_str() == self.symbol && q.kind == kind =>
                        {
                            Some(q.price)
                        }
                        _ => None,
                    }));
                }
                prices
            })
            .collect()
    }

    /// Runs a fetch of `n` quotes through `faults` over `scheme` and checks
    /// it printed exactly what the connections were sent, in order, flagged
    /// `after_gap` after each reconnect; returns how many quotes each
    /// connection delivered.
    fn fetch_through(
        &self,
        scenario: &str,
        scheme: Scheme,
        faults: &[&str],
        n: usize,
    ) -> Vec<usize> {
        let mut sim = self.sim(scenario, scheme, faults);
        let fetched = self.fetch(&sim, n);
        let what = format!("{} {scenario} over {scheme:?}", self.id);
        let stderr = fetched.stderr();
        assert_eq!(fetched.out.status.code(), Some(0), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        let got = fetched.prices();
        assert_eq!(got.len(), n, "{what}: {stderr}");
        let sent = self.sent(&mut sim);
        let used: Vec<Vec<Price>> = sent.iter().filter(|c| !c.is_empty()).cloned().collect();
        let starts = assert_connection_by_connection(&got, &used, &what);
        if sent.first().is_some_and(|first| !first.is_empty()) {
            assert_eq!(
                fetched.gaps(),
                starts[1..],
                "{what}: after_gap at each reconnect"
            );
        }
        let mut left = n;
        sent.iter()
            .map(|connection| {
                let delivered = connection.len().min(left);
                left -= delivered;
                delivered
            })
            .collect()
    }
}

fn for_each(scenario: impl Fn(&Venue, Scheme)) {
    for venue in every_exchange() {
        for scheme in [Scheme::Ws, Scheme::Wss] {
            scenario(&venue, scheme);
        }
    }
}

#[test]
fn every_registered_exchange_has_a_symbol_here() {
    assert_eq!(every_exchange().len(), EXCHANGES.len());
}

#[test]
fn every_exchange_fetches_from_its_simulator() {
    for_each(|venue, scheme| {
        let delivered = venue.fetch_through("clean", scheme, &[], 8);
        assert_eq!(delivered, [8], "{} over {scheme:?}", venue.id);
    });
}

/// Every exchange, over both schemes, through a connection that `fault`s
/// after 12 frames: one quote or more from it, the rest from a second.
fn every_exchange_resumes_after(scenario: &str, fault: &str) {
    for_each(|venue, scheme| {
        let delivered = venue.fetch_through(scenario, scheme, &[fault, "12"], 20);
        assert_eq!(delivered.len(), 2, "{} over {scheme:?}", venue.id);
        assert!(
            delivered[0] > 0,
            "{} over {scheme:?}: {delivered:?}",
            venue.id
        );
    });
}

#[test]
fn every_exchange_resumes_after_a_dropped_connection() {
    every_exchange_resumes_after("drop", "--drop-after");
}

#[test]
fn every_exchange_notices_a_silent_server_and_resumes() {
    every_exchange_resumes_after("stall", "--stall-after");
}

#[test]
fn every_exchange_waits_for_its_in_band_rate_limit() {
    for venue in every_exchange() {
        let wait = RETRY_AFTER.as_secs().to_string();
        let faults = ["--rate-limit-after", "3", "--retry-after", &wait];
        let started = Instant::now();
        let delivered = venue.fetch_through("rate-limit", Scheme::Ws, &faults, 3);
        let elapsed = started.elapsed();
        assert_eq!(delivered.len(), 2, "{}: {delivered:?}", venue.id);
        assert!(
            elapsed >= RETRY_AFTER && elapsed < Duration::from_secs(15),
            "{}: took {elapsed:?}",
            venue.id
        );
    }
}

/// `collector exchanges` lists every registered exchange with its kinds,
/// its default marked, and its production endpoint.
#[test]
fn collector_exchanges_lists_all_seven() {
    let out = run_bounded(collector().arg("exchanges"), LIMIT);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let ids: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut want: Vec<&str> = SYMBOLS.iter().map(|(id, _)| *id).collect();
    let mut got = ids.clone();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want, "{table}");
    for venue in every_exchange() {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(venue.id.as_str()))
            .unwrap();
        let default = format!("{}*", venue.exchange.default_kind());
        assert!(row.contains(&default), "{row}");
        assert!(row.contains(venue.exchange.endpoints().production), "{row}");
    }
}

/// The issue's own command, offline: five exchanges' mark prices merged
/// into one stream, numbered once.
#[test]
fn five_exchanges_mark_prices_merge_in_one_fetch() {
    let targets = [
        "bitmex:XBTUSD",
        "deribit:BTC-PERPETUAL",
        "okx:BTC-USDT-SWAP",
        "hyperliquid:BTC",
        "krakenfutures:PF_XBTUSD",
    ];
    let fetched = Fetched::run(
        collector()
            .arg("fetch")
            .args(targets)
            .args(["-n", "50", "--kind", "mark", "--sim", "--format", "json"]),
        LIMIT,
    );
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    let lines = fetched.lines();
    assert_eq!(lines.len(), 50);
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());
    assert!(lines.iter().all(|l| l["kind"] == "mark"));
    for target in targets {
        let (exchange, symbol) = target.split_once(':').unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l["exchange"] == exchange && l["symbol"] == symbol),
            "{target} is in the merged stream"
        );
    }
}
