//! `--config FILE` of `collector record` and `collector serve`: the
//! targets, connection options and recording settings of a deployment in
//! one TOML file (see `examples/record.toml`), for the dozens of
//! instruments a real one collects.
//!
//! ```toml
//! shard = "1/2"                # optional, before any table: --shard K/N
//!
//! [connection]                 # for every target; all optional
//! testnet = false              # or sim = true (tls, replay), ca_cert = ["ca.pem"]
//! heartbeat = "10s"
//!
//! [[target]]
//! exchange = "bitmex"
//! symbols = ["XBTUSD", "ETHUSD"]
//! kind = "fair"                # optional: the exchange's own kind
//! url = "wss://ws.bitmex.com/realtime"   # optional, per exchange
//!
//! [record]                     # all optional
//! out = "data"
//! formats = ["jsonl", "parquet"]
//! compress = true
//! rotate = "1h"
//! rotate_size = "256MiB"
//! raw = true
//!
//! [nats]                       # publish to JetStream; all optional
//! url = "nats://127.0.0.1:4222"
//! max_age = "24h"              # and max_bytes, duplicate_window, storage, replicas, …
//! ```
//!
//! The file only says what flags would: it becomes the same
//! [`SourceArgs`], [`Target`]s and [`FileArgs`] values, which then go
//! through the one path the flags take ([`merge`]). **Precedence:** a
//! flag given on the command line wins over the file (`--out`, `--rotate`,
//! `--rotate-size`, a `--url` for the same exchange, `--heartbeat`,
//! `--shard`);
//! switches add up (`--sim`, `--testnet`, `--compress`, `--no-raw` turn on
//! what the file leaves off, never off what it turns on); `--ca-cert`
//! files are added to the file's; `--kind` applies to the command line's
//! targets only. The targets of both are merged, and a target given twice
//! (same exchange, symbol and kind) is refused.
//!
//! Every mistake is a usage error (exit 2) naming the file, the line and
//! column, and the key: unknown keys are refused (`deny_unknown_fields`),
//! as are unknown exchanges, symbols an exchange cannot be asked for,
//! unoffered kinds, bad periods and sizes, and unknown formats.

use crate::UsageError;
use crate::args::{FileArgs, SourceArgs, parse_kind, parse_period, parse_size};
use crate::plan::{self, Target};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The formats the `formats` key may name.
pub const RECORD_FORMATS: [&str; 3] = ["jsonl", "csv", "parquet"];
/// The largest config file read: a deployment's file is a few kB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    shard: Option<Spanned<String>>,
    #[serde(default)]
    connection: ConnectionTable,
    #[serde(default, rename = "target")]
    targets: Vec<TargetTable>,
    #[serde(default)]
    record: RecordTable,
    nats: Option<crate::publishing::NatsTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionTable {
    #[serde(default)]
    sim: bool,
    #[serde(default)]
    tls: bool,
    #[serde(default)]
    replay: bool,
    #[serde(default)]
    testnet: bool,
    #[serde(default)]
    ca_cert: Vec<PathBuf>,
    heartbeat: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetTable {
    exchange: Spanned<String>,
    symbols: Spanned<Vec<String>>,
    kind: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordTable {
    out: Option<PathBuf>,
    formats: Option<Spanned<Vec<String>>>,
    compress: Option<bool>,
    rotate: Option<Spanned<String>>,
    rotate_size: Option<Spanned<String>>,
    raw: Option<bool>,
}

/// What a config file asks for, as the flags would say it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file's name, for messages.
    pub path: String,
    /// Its connection options (`targets` empty; URLs as `EXCHANGE=URL`).
    pub source: SourceArgs,
    /// Its targets, checked, each with where it was written (`FILE:LINE`).
    pub targets: Vec<(Target, String)>,
    /// `[connection] heartbeat`.
    pub heartbeat: Option<Duration>,
    /// Its `[record]` settings.
    pub files: FileArgs,
    /// `[record] formats`, checked against [`RECORD_FORMATS`].
    pub formats: Option<Vec<String>>,
    /// Its `[nats]` settings, checked.
    pub nats: Option<crate::publishing::NatsFile>,
}

/// The command line and the file together, by the precedence in the
/// module docs: what `SourceOptions::for_targets`
/// and [`RecordSettings`](crate::recording::RecordSettings) take.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Connection options.
    pub source: SourceArgs,
    /// Every target, once.
    pub targets: Vec<Target>,
    /// Heartbeat override.
    pub heartbeat: Option<Duration>,
    /// Recording settings.
    pub files: FileArgs,
    /// The formats asked for (`None`: the default).
    pub formats: Option<Vec<String>>,
}

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Config, UsageError> {
    let name = path.display().to_string();
    let read = std::fs::metadata(path).and_then(|meta| match meta.len() {
        n if n > MAX_CONFIG_BYTES => Err(std::io::Error::other(format!(
            "{n} bytes, more than a config file holds ({MAX_CONFIG_BYTES})"
        ))),
        _ => std::fs::read_to_string(path),
    });
    let text = read.map_err(|e| UsageError(format!("--config {name}: {e}")))?;
    parse(&text, &name)
}

/// Parses and checks a config file's `text`; `name` names it in errors.
pub fn parse(text: &str, name: &str) -> Result<Config, UsageError> {
    let at = |span: Option<Range<usize>>, message: &str| {
        let place = match span {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("{name}:{line}:{column}")
            }
            None => name.to_owned(),
        };
        UsageError(format!(
            "{place}: {}",
            mercury_core::excerpt(message.trim())
        ))
    };
    let file: ConfigFile = toml::from_str(text).map_err(|e| at(e.span(), e.message()))?;
    let line_of = |span: Range<usize>| {
        let line = text.get(..span.start).unwrap_or(text).matches('\n').count() + 1;
        format!("{name}:{line}")
    };
    let seconds = |value: &Spanned<String>, key: &str| {
        parse_period(value.get_ref()).map_err(|e| at(Some(value.span()), &format!("{key}: {e}")))
    };
    let mut config = Config {
        path: name.to_owned(),
        ..Config::default()
    };
    if let Some(shard) = &file.shard {
        config.source.shard = Some(
            crate::args::parse_shard(shard.get_ref())
                .map_err(|e| at(Some(shard.span()), &format!("shard: {e}")))?,
        );
    }
    let connection = &file.connection;
    config.source.sim = connection.sim;
    config.source.tls = connection.tls;
    config.source.replay = connection.replay;
    config.source.testnet = connection.testnet;
    config.source.ca_cert.clone_from(&connection.ca_cert);
    if let Some(heartbeat) = &connection.heartbeat {
        config.heartbeat = Some(seconds(heartbeat, "heartbeat")?);
    }
    for table in &file.targets {
        let kind = match &table.kind {
            Some(kind) => Some(
                parse_kind(kind.get_ref())
                    .map_err(|e| at(Some(kind.span()), &format!("kind: {e}")))?,
            ),
            None => None,
        };
        if table.symbols.get_ref().is_empty() {
            return Err(at(Some(table.symbols.span()), "symbols: the list is empty"));
        }
        for symbol in table.symbols.get_ref() {
            let word = format!("{}:{symbol}", table.exchange.get_ref());
            let target = plan::targets(&[word], kind).map_err(|e| match &table.kind {
                // An unoffered kind is the kind's fault, not the symbol's.
                Some(kind) if e.0.contains("does not offer") => {
                    at(Some(kind.span()), &format!("kind: {e}"))
                }
                _ => at(Some(table.symbols.span()), &format!("symbols: {e}")),
            })?;
            let place = line_of(table.symbols.span());
            config
                .targets
                .extend(target.into_iter().map(|t| (t, place.clone())));
        }
        if let Some(url) = &table.url {
            let id = table.exchange.get_ref().to_ascii_lowercase();
            let value = format!("{id}={}", url.get_ref());
            let known = config
                .source
                .url
                .iter()
                .find(|u| u.starts_with(&format!("{id}=")));
            match known {
                Some(same) if *same == value => {}
                Some(_) => {
                    return Err(at(
                        Some(url.span()),
                        &format!("url: another url for {id} is given above"),
                    ));
                }
                None => config.source.url.push(value),
            }
        }
    }
    let record = &file.record;
    config.files.out.clone_from(&record.out);
    config.files.compress = record.compress.unwrap_or(false);
    config.files.no_raw = record.raw.is_some_and(|raw| !raw);
    if let Some(rotate) = &record.rotate {
        config.files.rotate = Some(seconds(rotate, "rotate")?);
    }
    if let Some(size) = &record.rotate_size {
        let text = size.get_ref().trim_end_matches("iB");
        config.files.rotate_size = Some(
            parse_size(text).map_err(|e| at(Some(size.span()), &format!("rotate_size: {e}")))?,
        );
    }
    if let Some(formats) = &record.formats {
        let list = formats.get_ref();
        let bad = list.iter().find(|f| !RECORD_FORMATS.contains(&f.as_str()));
        let twice = list
            .iter()
            .enumerate()
            .find(|(i, f)| list[..*i].contains(f));
        let problem = match (list.is_empty(), bad, twice) {
            (true, _, _) => Some("the list is empty".to_owned()),
            (_, Some(bad), _) => Some(format!(
                "{bad:?} is not a format (one of {})",
                RECORD_FORMATS.join(", ")
            )),
            (_, _, Some((_, twice))) => Some(format!("{twice:?} is given twice")),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(at(Some(formats.span()), &format!("formats: {problem}")));
        }
        config.formats = Some(list.clone());
    }
    if let Some(nats) = &file.nats {
        config.nats = Some(nats.check(&at)?);
    }
    Ok(config)
}

/// The command line's `source`, `files` and `heartbeat` with `config`,
/// by the precedence in the module docs; checks what clap checks for
/// flags alone (`--url` with `--sim` or `--testnet`, `--tls` without
/// `--sim`, …) on the result.
pub fn merge(
    source: &SourceArgs,
    files: &FileArgs,
    heartbeat: Option<Duration>,
    config: Option<Config>,
) -> Result<Merged, UsageError> {
    let mut targets: Vec<(Target, String)> = match source.targets.is_empty() {
        true => Vec::new(),
        false => plan::targets(&source.targets, source.kind)?
            .into_iter()
            .map(|t| (t, "the command line".to_owned()))
            .collect(),
    };
    let Some(config) = config else {
        return Ok(Merged {
            source: source.clone(),
            targets: targets.into_iter().map(|(t, _)| t).collect(),
            heartbeat,
            files: files.clone(),
            formats: None,
        });
    };
    for (target, place) in config.targets {
        let same = |(t, _): &&(Target, String)| {
            t.exchange.id() == target.exchange.id()
                && t.symbol == target.symbol
                && t.kind == target.kind
        };
        if let Some((_, first)) = targets.iter().find(same) {
            return Err(UsageError(format!(
                "{place}: {}:{} ({}) is given twice (also on {first})",
                target.exchange.id(),
                target.symbol,
                target.kind
            )));
        }
        targets.push((target, place));
    }
    let mut merged = source.clone();
    merged.sim |= config.source.sim;
    merged.tls |= config.source.tls;
    merged.replay |= config.source.replay;
    merged.testnet |= config.source.testnet;
    merged.ca_cert.extend(config.source.ca_cert);
    merged.shard = source.shard.or(config.source.shard);
    let flag_names: Vec<&str> = source
        .url
        .iter()
        .filter_map(|u| u.split_once('=').map(|(id, _)| id))
        .collect();
    let single_flag_url = source.url.iter().any(|u| !u.contains('='));
    for url in config.source.url {
        let id = url.split('=').next().unwrap_or_default();
        if !single_flag_url && !flag_names.iter().any(|n| n.eq_ignore_ascii_case(id)) {
            merged.url.push(url);
        }
    }
    check_switches(&merged, &config.path)?;
    let files = FileArgs {
        out: files.out.clone().or(config.files.out),
        rotate: files.rotate.or(config.files.rotate),
        rotate_size: files.rotate_size.or(config.files.rotate_size),
        compress: files.compress || config.files.compress,
        no_raw: files.no_raw || config.files.no_raw,
        format: files.format.clone(),
        parquet_row_group: files.parquet_row_group,
    };
    Ok(Merged {
        source: merged,
        targets: targets.into_iter().map(|(t, _)| t).collect(),
        heartbeat: heartbeat.or(config.heartbeat),
        files,
        formats: config.formats,
    })
}

/// The conflicts clap refuses between flags, on flags and file together.
fn check_switches(source: &SourceArgs, path: &str) -> Result<(), UsageError> {
    let conflict = if source.sim && source.testnet {
        Some("sim and testnet exclude each other")
    } else if !source.url.is_empty() && (source.sim || source.testnet) {
        Some("a url excludes sim and testnet")
    } else if (source.tls || source.replay) && !source.sim {
        Some("tls and replay need sim")
    } else if !source.ca_cert.is_empty() && source.sim {
        Some("ca_cert excludes sim (the simulators' own CA is trusted)")
    } else {
        None
    };
    match conflict {
        Some(conflict) => Err(UsageError(format!(
            "{path} with the command line: {conflict}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
