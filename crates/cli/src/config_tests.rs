use super::*;
use crate::args::{Cli, Command};
use crate::recording::RecordSettings;
use clap::Parser;
use mercury_core::QuoteKind;

const EXAMPLE: &str = include_str!("../../../examples/record.toml");

fn names(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .map(|t| format!("{}:{}:{}", t.exchange.id(), t.symbol, t.kind))
        .collect()
}

fn record_args(line: &str) -> crate::args::RecordArgs {
    let words = std::iter::once("collector").chain(line.split_whitespace());
    match Cli::try_parse_from(words).unwrap().command {
        Command::Record(args) => args,
        _ => panic!("record"),
    }
}

fn error_of(text: &str) -> String {
    parse(text, "deploy.toml").unwrap_err().0
}

#[test]
fn the_example_file_parses_into_what_the_flags_would_give() {
    let config = parse(EXAMPLE, "examples/record.toml").unwrap();
    let targets: Vec<Target> = config.targets.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        names(&targets),
        [
            "bitmex:XBTUSD:fair",
            "bitmex:ETHUSD:fair",
            "bitmex:XBTUSD:bid",
            "binance:BTCUSDT:mark",
            "binance:ETHUSDT:mark",
            "bybit:BTCUSDT:mark",
        ]
    );
    assert!(config.targets[0].1.starts_with("examples/record.toml:"));
    let files = &config.files;
    assert_eq!(files.out.as_deref(), Some(Path::new("data")));
    assert_eq!(files.rotate, Some(Duration::from_secs(3600)));
    assert_eq!(files.rotate_size, Some(256 << 20));
    assert!(files.compress && !files.no_raw);
    assert_eq!(
        config.formats.as_deref(),
        Some(&["jsonl".to_owned(), "parquet".to_owned()][..])
    );
    assert!(!config.source.sim && !config.source.testnet);

    // The same through the flags: one path, the same values.
    let flags = record_args(
        "record bitmex:XBTUSD bitmex:ETHUSD --out data --rotate 1h --rotate-size 256M --compress",
    );
    let by_flags = merge(&flags.source, &flags.files, None, None).unwrap();
    let by_file = merge(
        &SourceArgs::default(),
        &FileArgs::default(),
        None,
        Some(config),
    )
    .unwrap();
    assert_eq!(names(&by_flags.targets), names(&by_file.targets[..2]));
    assert_eq!(
        RecordSettings::resolve(&by_flags.files, None).unwrap(),
        RecordSettings::resolve(&by_file.files, by_file.formats).unwrap()
    );
}

#[test]
fn a_bad_file_names_the_file_the_line_and_the_key() {
    let unknown = error_of("[record]\nout = \"d\"\nrotation = \"1h\"\n");
    assert!(
        unknown.starts_with("deploy.toml:3:1: ") && unknown.contains("rotation"),
        "{unknown}"
    );
    let exchange = error_of("[[target]]\nexchange = \"nasdaq\"\nsymbols = [\"AAPL\"]\n");
    assert!(
        exchange.starts_with("deploy.toml:3:") && exchange.contains("symbols: unknown exchange"),
        "{exchange}"
    );
    let kind =
        error_of("[[target]]\nexchange = \"binance\"\nsymbols = [\"BTCUSDT\"]\nkind = \"fair\"\n");
    assert!(
        kind.starts_with("deploy.toml:4:8: kind: ") && kind.contains("does not offer fair"),
        "{kind}"
    );
    let rotate = error_of("\n[record]\nrotate = \"1 hour\"\n");
    assert!(rotate.starts_with("deploy.toml:3:10: rotate: "), "{rotate}");
    let size = error_of("[record]\nrotate_size = \"1TiB\"\n");
    assert!(
        size.starts_with("deploy.toml:2:") && size.contains("rotate_size"),
        "{size}"
    );
    let format = error_of("[record]\nformats = [\"jsonl\", \"xlsx\"]\n");
    assert!(
        format.contains("formats: \"xlsx\" is not a format"),
        "{format}"
    );
    let twice = error_of("[record]\nformats = [\"csv\", \"csv\"]\n");
    assert!(twice.contains("given twice"), "{twice}");
    let syntax = error_of("[record\n");
    assert!(syntax.starts_with("deploy.toml:1:"), "{syntax}");
    let typed = error_of("[record]\ncompress = \"yes\"\n");
    assert!(typed.starts_with("deploy.toml:2:"), "{typed}");
    let hostile = error_of("[record]\n\"\u{1b}[31mevil\" = 1\n");
    assert!(!hostile.contains('\u{1b}'), "{hostile}");
    let missing = load(Path::new("/nonexistent/mercury.toml")).unwrap_err().0;
    assert!(
        missing.starts_with("--config /nonexistent/mercury.toml: "),
        "{missing}"
    );
}

#[test]
fn flags_win_targets_merge_and_duplicates_are_refused() {
    let file = "[connection]\nheartbeat = \"10s\"\n\
        [[target]]\nexchange = \"bitmex\"\nsymbols = [\"XBTUSD\"]\nurl = \"ws://file/realtime\"\n\
        [[target]]\nexchange = \"binance\"\nsymbols = [\"BTCUSDT\"]\nurl = \"ws://file/b\"\n\
        [record]\nout = \"from-file\"\nrotate = \"15m\"\nraw = false\n";
    let config = || Some(parse(file, "f.toml").unwrap());
    let flags = record_args("record binance:ETHUSDT --out cli --url binance=ws://cli/b");
    let merged = merge(&flags.source, &flags.files, None, config()).unwrap();
    assert_eq!(
        names(&merged.targets),
        [
            "binance:ETHUSDT:mark",
            "bitmex:XBTUSD:fair",
            "binance:BTCUSDT:mark"
        ]
    );
    assert_eq!(
        merged.source.url,
        ["binance=ws://cli/b", "bitmex=ws://file/realtime"]
    );
    assert_eq!(merged.heartbeat, Some(Duration::from_secs(10)));
    let settings = RecordSettings::resolve(&merged.files, None)
        .unwrap()
        .unwrap();
    assert_eq!(settings.out, Path::new("cli"), "the flag wins");
    assert_eq!(
        settings.rotation.period,
        Duration::from_secs(900),
        "the file fills in"
    );
    assert!(!settings.raw);

    let twice = record_args("record bitmex:XBTUSD --out d");
    let error = merge(&twice.source, &twice.files, None, config())
        .unwrap_err()
        .0;
    assert!(
        error.starts_with("f.toml:") && error.contains("bitmex:XBTUSD (fair) is given twice"),
        "{error}"
    );
    let other_kind = record_args("record bitmex:XBTUSD --kind bid --out d");
    let merged = merge(&other_kind.source, &other_kind.files, None, config()).unwrap();
    assert_eq!(merged.targets[0].kind, QuoteKind::Bid);

    let sim = record_args("record --sim --out d");
    let error = merge(&sim.source, &sim.files, None, config())
        .unwrap_err()
        .0;
    assert!(error.contains("a url excludes sim"), "{error}");
}

#[test]
fn no_target_and_options_without_a_directory_are_usage_errors() {
    let none = record_args("record --out d");
    let merged = merge(&none.source, &none.files, None, None).unwrap();
    let error = crate::wiring::SourceOptions::for_targets(
        &merged.source,
        merged.targets,
        Duration::from_secs(1),
        None,
        None,
    )
    .unwrap_err()
    .0;
    assert!(error.contains("nothing to collect"), "{error}");
    let serve = FileArgs {
        rotate: Some(Duration::from_secs(60)),
        ..FileArgs::default()
    };
    assert!(RecordSettings::resolve(&serve, None).is_err());
    assert_eq!(
        RecordSettings::resolve(&FileArgs::default(), None).unwrap(),
        None
    );
}

#[test]
fn shard_comes_from_the_file_unless_the_flag_gives_it() {
    let text = "shard = \"2/3\"\n[[target]]\nexchange = \"bitmex\"\nsymbols = [\"XBTUSD\"]\n";
    let config = parse(text, "deploy.toml").unwrap();
    assert_eq!(
        config.source.shard.map(|s| s.to_string()),
        Some("2/3".into())
    );
    let from_file = record_args("record --out d");
    let merged = merge(
        &from_file.source,
        &from_file.files,
        None,
        Some(config.clone()),
    )
    .unwrap();
    assert_eq!(
        merged.source.shard.map(|s| s.to_string()),
        Some("2/3".into())
    );
    let flag = record_args("record --out d --shard 1/3");
    let merged = merge(&flag.source, &flag.files, None, Some(config)).unwrap();
    assert_eq!(
        merged.source.shard.map(|s| s.to_string()),
        Some("1/3".into())
    );
    let error = error_of("shard = \"4/3\"\n");
    assert!(error.starts_with("deploy.toml:1:9: shard: "), "{error}");
    assert!(error.contains("K must be 1 to 3"), "{error}");
}
