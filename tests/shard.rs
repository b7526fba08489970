//! `--shard K/N` as processes: two `collector record --sim` runs given
//! the same target list, one with `--shard 1/2` on the command line and
//! one with `shard = "2/2"` in its `--config` file, record disjoint sets
//! of subscriptions whose union is the whole list; a shard that gets no
//! target is a usage error (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_tests::recorded::{files_under, record_for};
use mercury_tests::{Fetched, collector};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const TARGETS: [&str; 7] = [
    "bitmex:XBTUSD",
    "bitmex:ETHUSD",
    "bitmex:SOLUSD",
    "bybit:BTCUSDT",
    "binance:BTCUSDT",
    "binance:ETHUSDT",
    "okx:BTC-USDT-SWAP",
];

/// The `EXCHANGE:SYMBOL` of every quote file under `out`
/// (`out/EXCHANGE/SYMBOL/KIND/DAY/FILE`, the raw capture left aside).
fn recorded(out: &Path) -> BTreeSet<String> {
    files_under(out)
        .iter()
        .filter_map(|file| {
            let parts: Vec<String> = file
                .strip_prefix(out)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (parts.len() == 5 && parts[0] != "raw").then(|| format!("{}:{}", parts[0], parts[1]))
        })
        .collect()
}

#[test]
fn two_shards_record_disjoint_halves_whose_union_is_the_whole_list() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let config = dir.path().join("shard.toml");
    std::fs::write(&config, "shard = \"2/2\"\n").unwrap();
    let mut common: Vec<String> = TARGETS.map(str::to_owned).into();
    common.extend(["--sim", "--no-raw"].map(str::to_owned));
    let first = {
        let mut args = common.clone();
        args.extend(["--shard", "1/2"].map(str::to_owned));
        let out = one.clone();
        std::thread::spawn(move || record_for(&args, &out, Duration::from_secs(2)))
    };
    let mut args = common.clone();
    args.extend(["--config".to_owned(), config.display().to_string()]);
    let second = record_for(&args, &two, Duration::from_secs(2));
    let first = first.join().unwrap();
    for output in [&first, &second] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
    }
    let (a, b) = (recorded(&one), recorded(&two));
    assert!(
        !a.is_empty() && !b.is_empty(),
        "each shard records: {a:?} {b:?}"
    );
    assert!(a.is_disjoint(&b), "no target twice: {a:?} {b:?}");
    let union: BTreeSet<String> = a.union(&b).cloned().collect();
    let all: BTreeSet<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    assert_eq!(union, all);
}

#[test]
fn a_shard_with_no_target_is_a_usage_error() {
    // bitmex:XBTUSD (fair) hashes to shard 1 of 2 (pinned in mercury-core).
    let fetched = Fetched::run(
        collector().args([
            "fetch",
            "--sim",
            "bitmex:XBTUSD",
            "--shard",
            "2/2",
            "-n",
            "1",
        ]),
        Duration::from_secs(20),
    );
    let line = fetched.one_error_line(2);
    assert!(
        line.contains("--shard 2/2: none of the 1 targets"),
        "{line}"
    );
    let fetched = Fetched::run(
        collector().args(["fetch", "--sim", "bitmex:XBTUSD", "--shard", "3/2"]),
        Duration::from_secs(20),
    );
    assert_eq!(fetched.out.status.code(), Some(2));
    assert!(
        fetched.stderr().contains("K must be 1 to 2"),
        "{}",
        fetched.stderr()
    );
}
