//! `collector record --config FILE` as a process: the targets, URLs and
//! `[record]` settings come from the TOML file, a flag overrides the file,
//! and the files hold what the simulators' frame logs say was sent; a bad
//! file is one `error:` line naming the file, line and key (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::Price;
use mercury_tests::oracle::sent;
use mercury_tests::recorded::{
    assert_connection_by_connection, files_under, no_partial_left, prices, quotes,
};
use mercury_tests::{Fetched, SimProcess, collector, run_bounded};
use std::time::Duration;

#[test]
fn record_takes_its_targets_and_settings_from_the_config_file() {
    let mut bitmex = SimProcess::start_for("bitmex", "config-bitmex", &["--fair-interval", "0.05"]);
    let mut binance = SimProcess::start_for("binance", "config-binance", &[]);
    let dir = tempfile::tempdir().unwrap();
    let (from_file, from_flag) = (dir.path().join("from-file"), dir.path().join("from-flag"));
    let config = dir.path().join("deploy.toml");
    let text = format!(
        "[[target]]\nexchange = \"bitmex\"\nsymbols = [\"XBTUSD\"]\nurl = \"{}\"\n\n\
         [[target]]\nexchange = \"binance\"\nsymbols = [\"BTCUSDT\"]\nkind = \"mark\"\nurl = \"{}\"\n\n\
         [record]\nout = \"{}\"\nformats = [\"jsonl\"]\ncompress = true\nraw = false\nrotate = \"1h\"\n",
        bitmex.url(),
        binance.url(),
        from_file.display()
    );
    std::fs::write(&config, text).unwrap();
    let mut command = collector();
    command
        .args(["record", "--duration", "3", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&from_flag);
    let output = run_bounded(&mut command, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!from_file.exists(), "--out wins over [record] out");
    no_partial_left(&from_flag);
    assert!(!from_flag.join("raw").exists(), "raw = false");
    for (exchange, symbol, kind, sim) in [
        ("bitmex", "XBTUSD", "fair", &mut bitmex),
        ("binance", "BTCUSDT", "mark", &mut binance),
    ] {
        let partition = format!("{exchange}/{symbol}/{kind}");
        let files = files_under(&from_flag.join(&partition));
        assert!(
            !files.is_empty()
                && files
                    .iter()
                    .all(|f| f.to_string_lossy().ends_with(".jsonl.zst")),
            "compress = true: {files:?}"
        );
        let log = sim.stop_and_log().to_owned();
        let sent: Vec<Vec<Price>> = sent(exchange, symbol, &log)
            .into_values()
            .filter(|p| !p.is_empty())
            .collect();
        let lines = quotes(&from_flag, &partition);
        assert!(!lines.is_empty(), "{exchange}");
        assert_connection_by_connection(&prices(&lines), &sent, exchange);
    }
}

#[test]
fn a_bad_config_file_is_one_line_naming_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deploy.toml");
    std::fs::write(
        &config,
        "[[target]]\nexchange = \"bitmex\"\nsymbols = [\"XBTUSD\"]\n\n[record]\nout = \"d\"\nrotation = \"1h\"\n",
    )
    .unwrap();
    let mut command = collector();
    command.args(["record", "--config"]).arg(&config);
    let fetched = Fetched::run(&mut command, Duration::from_secs(30));
    let line = fetched.one_error_line(2);
    let place = format!("error: {}:7:1: unknown field `rotation`", config.display());
    assert!(line.starts_with(&place), "{line}");
    assert!(!dir.path().join("d").exists(), "nothing was started");
}
