//! The fault suite: the real `collector fetch` process against the real
//! `collector sim` process, one injected fault per test (and one with
//! several). The expected quotes are computed from the simulator's frame
//! log, connection by connection: exact values, exact order, nothing lost
//! or duplicated on a connection that stayed up, nothing from before a
//! partial, and `after_gap` on the first quote of each later connection.
//! Fatal faults end in exit 1 with one `error:` line, no panic, in bounded
//! time.
//!
//! Every scenario runs twice, over `ws://` and over `wss://` (the
//! simulator's TLS, trusted with `--ca-cert`): production traffic is TLS,
//! and a TCP cut under rustls fails differently from a plain one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_testkit::bitmex::{fairs_by_connection, gap_indices};
use mercury_tests::{Fetched, SimProcess, collector, run_bounded};
use std::time::Duration;

/// Fair prices every 40 ms (a data frame every 10 ms).
const FAIR_EVERY: &str = "0.04";
/// Every run ends well within this, or the test fails.
const LIMIT: Duration = Duration::from_secs(40);

/// `collector fetch bitmex SYMBOL -n N` against `sim`, JSON output, a short
/// heartbeat so a stall is noticed in 0.4 s.
fn fetch(sim: &SimProcess, symbol: &str, n: usize, extra: &[&str]) -> Fetched {
    let n = n.to_string();
    let mut command = collector();
    command
        .args(["fetch", "bitmex", symbol, "-n", &n, "--url", sim.url()])
        .args(["--format", "json", "--heartbeat", "0.2"])
        .args(extra);
    if let Some(ca) = sim.ca() {
        command.arg("--ca-cert").arg(ca);
    }
    if !extra.contains(&"--timeout") {
        command.args(["--timeout", "20"]);
    }
    Fetched::run(&mut command, LIMIT)
}

/// The transport a scenario runs over.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    Ws,
    Wss,
}

impl Scheme {
    /// The BitMEX simulator with `args`, over this scheme; `name` keeps
    /// its frame log apart from the other scheme's run of the scenario.
    fn start(self, name: &str, args: &[&str]) -> SimProcess {
        match self {
            Scheme::Ws => SimProcess::start(&format!("{name}-ws"), args),
            Scheme::Wss => SimProcess::start_tls(&format!("{name}-wss"), args),
        }
    }

    /// The simulator with fair prices every 40 ms and `faults`.
    fn sim(self, name: &str, faults: &[&str]) -> SimProcess {
        let mut args = vec!["--fair-interval", FAIR_EVERY];
        args.extend_from_slice(faults);
        self.start(name, &args)
    }
}

/// Each scenario, as a test over `ws://` (module `ws`) and over `wss://`
/// (module `wss`).
macro_rules! over_ws_and_wss {
    ($($scenario:ident),* $(,)?) => {
        mod ws {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Scheme::Ws)
            })*
        }
        mod wss {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Scheme::Wss)
            })*
        }
    };
}

over_ws_and_wss!(
    a_dropped_tcp_connection_is_resumed,
    a_close_frame_is_answered_and_resumed,
    a_stall_is_caught_by_the_heartbeat_and_resumed,
    a_malformed_frame_ends_the_connection_and_is_resumed,
    garbage_frames_are_skipped_without_a_reconnect,
    the_in_band_429_is_honoured_then_resumed,
    refused_upgrades_wait_their_retry_after,
    one_megabyte_partials_are_read_whole,
    slow_fair_updates_are_waited_for,
    faults_combined_still_account_for_every_quote,
    http_200_is_fatal_and_says_so,
    an_unknown_symbol_is_fatal_and_not_retried,
    a_field_that_never_comes_ends_in_the_timeout_saying_what_arrived,
    it_gives_up_after_max_attempts_printing_what_arrived,
    the_gap_is_logged_with_its_duration_under_v,
);

/// Exit 0, nothing on stderr, and the stdout the log predicts. Returns how
/// many connections delivered quotes.
fn assert_every_quote_accounted_for(sim: &mut SimProcess, fetched: &Fetched, n: usize) -> usize {
    assert_eq!(fetched.out.status.code(), Some(0), "{}", fetched.stderr());
    assert!(fetched.out.stderr.is_empty(), "{}", fetched.stderr());
    let by_connection = fairs_by_connection(sim.stop_and_log()).unwrap();
    let expected: Vec<Price> = by_connection.values().flatten().copied().take(n).collect();
    assert_eq!(fetched.prices(), expected);
    assert_eq!(fetched.gaps(), gap_indices(&by_connection, n));
    let seqs: Vec<u64> = fetched
        .lines()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>());
    by_connection.values().filter(|f| !f.is_empty()).count()
}

fn a_dropped_tcp_connection_is_resumed(scheme: Scheme) {
    let mut sim = scheme.sim("drop", &["--drop-after", "8", "--faulty-connections", "1"]);
    let fetched = fetch(&sim, "XBTUSD", 6, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 6), 2);
}

fn a_close_frame_is_answered_and_resumed(scheme: Scheme) {
    let mut sim = scheme.sim(
        "close",
        &[
            "--close-after",
            "8",
            "--close-code",
            "1011",
            "--faulty-connections",
            "1",
        ],
    );
    let fetched = fetch(&sim, "XBTUSD", 6, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 6), 2);
}

fn a_stall_is_caught_by_the_heartbeat_and_resumed(scheme: Scheme) {
    let mut sim = scheme.sim(
        "stall",
        &["--stall-after", "8", "--faulty-connections", "1"],
    );
    let fetched = fetch(&sim, "XBTUSD", 6, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 6), 2);
}

/// The simulator's malformed frame (reserved opcode 3, written raw, then
/// the TCP cut) costs one connection, and nothing sent before it is lost.
fn a_malformed_frame_ends_the_connection_and_is_resumed(scheme: Scheme) {
    let mut sim = scheme.sim(
        "malformed",
        &["--malformed-after", "8", "--faulty-connections", "1"],
    );
    let fetched = fetch(&sim, "XBTUSD", 6, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 6), 2);
    let log = std::fs::read_to_string(sim.stop_and_log()).unwrap();
    assert_eq!(log.matches("\"malformed\"").count(), 1, "{log}");
}

fn garbage_frames_are_skipped_without_a_reconnect(scheme: Scheme) {
    let mut sim = scheme.sim("garbage", &["--garbage-every", "2"]);
    let fetched = fetch(&sim, "XBTUSD", 8, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 8), 1);
}

fn the_in_band_429_is_honoured_then_resumed(scheme: Scheme) {
    let mut sim = scheme.sim(
        "rate-limit",
        &[
            "--rate-limit-after",
            "8",
            "--retry-after",
            "1",
            "--faulty-connections",
            "1",
        ],
    );
    let fetched = fetch(&sim, "XBTUSD", 6, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 6), 2);
    assert!(
        fetched.elapsed >= Duration::from_secs(1),
        "{:?}",
        fetched.elapsed
    );
}

fn refused_upgrades_wait_their_retry_after(scheme: Scheme) {
    let mut sim = scheme.sim("refuse", &["--refuse-first", "2", "--retry-after", "1"]);
    let fetched = fetch(&sim, "XBTUSD", 4, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 4), 1);
    assert!(
        fetched.elapsed >= Duration::from_secs(2),
        "{:?}",
        fetched.elapsed
    );
}

fn one_megabyte_partials_are_read_whole(scheme: Scheme) {
    let mut sim = scheme.sim("big", &["--big-partials"]);
    let fetched = fetch(&sim, "XBTUSD", 5, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 5), 1);
}

fn slow_fair_updates_are_waited_for(scheme: Scheme) {
    let mut sim = scheme.start("slow", &["--fair-interval", "0.5"]);
    let fetched = fetch(&sim, "XBTUSD", 3, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 3), 1);
    assert!(
        fetched.elapsed >= Duration::from_secs(1),
        "{:?}",
        fetched.elapsed
    );
}

fn faults_combined_still_account_for_every_quote(scheme: Scheme) {
    let mut sim = scheme.sim(
        "combined",
        &[
            "--drop-after",
            "9",
            "--garbage-every",
            "3",
            "--big-partials",
            "--faulty-connections",
            "2",
        ],
    );
    let fetched = fetch(&sim, "XBTUSD", 8, &[]);
    assert_eq!(assert_every_quote_accounted_for(&mut sim, &fetched, 8), 3);
}

fn http_200_is_fatal_and_says_so(scheme: Scheme) {
    let sim = scheme.sim("http-200", &["--http-200"]);
    let fetched = fetch(&sim, "XBTUSD", 3, &[]);
    let error = fetched.one_error_line(1);
    assert!(error.contains("HTTP 200"), "{error}");
    assert!(fetched.out.stdout.is_empty());
    assert!(
        fetched.elapsed < Duration::from_secs(10),
        "{:?}",
        fetched.elapsed
    );
}

fn an_unknown_symbol_is_fatal_and_not_retried(scheme: Scheme) {
    let mut sim = scheme.sim("unknown-symbol", &[]);
    let fetched = fetch(&sim, "NOPE", 3, &[]);
    let error = fetched.one_error_line(1);
    assert!(error.contains("Unknown symbol: NOPE"), "{error}");
    assert_eq!(
        fairs_by_connection(sim.stop_and_log()).unwrap().len(),
        1,
        "one connection only"
    );
}

fn a_field_that_never_comes_ends_in_the_timeout_saying_what_arrived(scheme: Scheme) {
    let mut sim = scheme.start("never", &["--fair-interval", "60"]);
    let fetched = fetch(&sim, "XBTUSD", 3, &["--timeout", "2"]);
    let error = fetched.one_error_line(1);
    assert!(
        error.contains("timed out after 2s: 1 of 3 fair quotes for XBTUSD arrived"),
        "{error}"
    );
    // The partial's price arrived and is printed.
    let by_connection = fairs_by_connection(sim.stop_and_log()).unwrap();
    assert_eq!(fetched.prices(), by_connection[&1][..1]);
}

fn it_gives_up_after_max_attempts_printing_what_arrived(scheme: Scheme) {
    let mut sim = scheme.sim("give-up", &["--drop-after", "8"]);
    let fetched = fetch(&sim, "XBTUSD", 100, &["--max-attempts", "2"]);
    let error = fetched.one_error_line(1);
    assert!(
        error.contains("gave up after 2 reconnect attempts"),
        "{error}"
    );
    let by_connection = fairs_by_connection(sim.stop_and_log()).unwrap();
    assert_eq!(by_connection.len(), 3, "the first connection and two more");
    let expected: Vec<Price> = by_connection.values().flatten().copied().collect();
    assert_eq!(fetched.prices(), expected);
    assert_eq!(fetched.gaps(), gap_indices(&by_connection, expected.len()));
}

fn the_gap_is_logged_with_its_duration_under_v(scheme: Scheme) {
    let sim = scheme.sim(
        "gap-log",
        &["--drop-after", "8", "--faulty-connections", "1"],
    );
    let n = "4".to_string();
    let mut command = collector();
    command.args([
        "-v",
        "fetch",
        "bitmex",
        "XBTUSD",
        "-n",
        &n,
        "--url",
        sim.url(),
    ]);
    command.args(["--format", "csv", "--heartbeat", "0.2", "--timeout", "20"]);
    if let Some(ca) = sim.ca() {
        command.arg("--ca-cert").arg(ca);
    }
    let out = run_bounded(&mut command, LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let gap_line = stderr
        .lines()
        .find(|l| l.contains("quotes resumed after a gap"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(gap_line.contains("gap="), "{gap_line}");
    assert!(stderr.contains("reconnecting"), "{stderr}");
}
