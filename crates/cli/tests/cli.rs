//! The `collector` binary run as a process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use std::process::{Command, Output};

fn collector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("collector runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_names_the_commands_and_examples() {
    let out = collector(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("exchanges"), "{help}");
    assert!(help.contains("Examples:"), "{help}");
    assert!(out.stderr.is_empty());
}

#[test]
fn exchanges_lists_the_registry() {
    let out = collector(&["exchanges"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("EXCHANGE"), "{stdout}");
    let bitmex = lines
        .iter()
        .find(|l| l.starts_with("bitmex"))
        .expect("a bitmex row");
    for part in [
        "BitMEX",
        "fair*,mark,last,bid,ask,trade",
        "wss://ws.bitmex.com/realtime",
        "wss://ws.testnet.bitmex.com/realtime",
    ] {
        assert!(bitmex.contains(part), "{part} missing from {bitmex}");
    }
    // The other exchanges, with each kind's routed URL (Binance's two paths).
    for (id, parts) in [
        (
            "binance",
            &[
                "mark*,bid,ask",
                "wss://fstream.binance.com/market/stream",
                "wss://fstream.binance.com/public/stream",
            ][..],
        ),
        (
            "bybit",
            &[
                "mark*,last,bid,ask",
                "wss://stream.bybit.com/v5/public/linear",
            ][..],
        ),
    ] {
        let row = lines
            .iter()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("a {id} row in {stdout}"));
        for part in parts {
            assert!(row.contains(part), "{part} missing from {row}");
        }
    }
    assert!(
        out.stderr.is_empty(),
        "no logs by default: {}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2_with_a_message_on_stderr() {
    for args in [&["frobnicate"][..], &[], &["exchanges", "--bogus"]] {
        let out = collector(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).contains("Usage"), "{args:?}");
    }
}

#[test]
fn no_target_is_a_usage_error_before_any_io() {
    for args in [
        &["fetch"][..],
        &["serve"],
        &["record", "--out", "/nonexistent/x"],
    ] {
        let out = collector(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: nothing to collect"), "{stderr}");
    }
}

#[test]
fn verbose_logs_go_to_stderr_only() {
    let out = collector(&["-vv", "exchanges"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("EXCHANGE"));
}

#[test]
fn version_is_printed() {
    let out = collector(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("collector 0."));
}
