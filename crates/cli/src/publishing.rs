//! Publishing to NATS JetStream, wired once for `collector record --nats`
//! and `collector serve --nats`: the flags, the credentials from the
//! environment or files, and the sink's start and end
//! (`mercury_collector::nats`).
//!
//! **Credentials** are never taken from the command line alone: a
//! `--nats-creds FILE` (JWT + NKey, as `nsc` writes it), a
//! `--nats-token-file FILE`, or the environment: `MERCURY_NATS_TOKEN`,
//! `MERCURY_NATS_USER` with `MERCURY_NATS_PASSWORD`, or
//! `MERCURY_NATS_NKEY` (a seed, `SU…`). At most one of them.
//!
//! **Order.** [`Publishing::start`] connects before any exchange is
//! (a refused credential, a TLS failure or a stream mismatch ends the run
//! at once with its `error:` line, exit 1), then opens a lossless stream
//! of the targets' quotes into the sink. At the end, after the connectors
//! have stopped (and the file writers have finished), [`Publishing::finish`]
//! ends the stream and waits, bounded, for every ack; what stays
//! unacknowledged is the run's `error:` line (exit 1).

use crate::UsageError;
use crate::args::{parse_period, parse_seconds, parse_size};
use actix::Addr;
use mercury_collector::nats::{
    NatsAuth, NatsConfig, NatsConnection, NatsPublisher, NatsStats, Storage,
};
use mercury_collector::{CancelFetches, Collector, OpenStream, StreamEnd, TlsTrust, load_ca_file};
use mercury_core::Subscription;
use serde::Deserialize;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::oneshot;
use toml::Spanned;

/// The environment variable holding a token.
pub const TOKEN_ENV: &str = "MERCURY_NATS_TOKEN";
/// The environment variable holding a user name (with [`PASSWORD_ENV`]).
pub const USER_ENV: &str = "MERCURY_NATS_USER";
/// The environment variable holding a password (with [`USER_ENV`]).
pub const PASSWORD_ENV: &str = "MERCURY_NATS_PASSWORD";
/// The environment variable holding an NKey seed.
pub const NKEY_ENV: &str = "MERCURY_NATS_NKEY";
/// The largest token file read: a token is a line.
const MAX_TOKEN_BYTES: u64 = 4096;
/// Ticks the stream into the sink holds before the collector waits.
const NATS_CAPACITY: usize = 4096;
/// How long the end waits for the last acks, unless told otherwise.
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

/// How to log in to NATS and whom to trust: the flags `record`, `serve`
/// and `consume` share (with the environment, read by [`NatsArgs::resolve`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NatsLogin {
    /// A NATS credentials file (JWT and NKey seed).
    #[arg(long, value_name = "FILE")]
    pub nats_creds: Option<PathBuf>,
    /// A file holding the NATS token (one line); or MERCURY_NATS_TOKEN,
    /// MERCURY_NATS_USER + MERCURY_NATS_PASSWORD, MERCURY_NATS_NKEY in the
    /// environment.
    #[arg(long, value_name = "FILE")]
    pub nats_token_file: Option<PathBuf>,
    /// Also trust this CA (PEM) for a tls:// NATS server; repeatable.
    #[arg(long, value_name = "FILE")]
    pub nats_ca_cert: Vec<PathBuf>,
}

/// Publishing to NATS JetStream (`record` and `serve`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NatsArgs {
    /// Also publish every quote to NATS JetStream at URL (nats://HOST:PORT,
    /// tls://HOST:PORT; several separated by commas). Subjects are
    /// PREFIX.EXCHANGE.KIND.SYMBOL; credentials come from --nats-creds,
    /// --nats-token-file or the environment (MERCURY_NATS_TOKEN,
    /// MERCURY_NATS_USER + MERCURY_NATS_PASSWORD, MERCURY_NATS_NKEY).
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// Credentials and trust.
    #[command(flatten)]
    pub login: NatsLogin,
    /// The subjects' first token(s) [default: mercury].
    #[arg(long, value_name = "PREFIX")]
    pub nats_prefix: Option<String>,
    /// The JetStream stream (created if absent, checked if present)
    /// [default: MERCURY].
    #[arg(long, value_name = "NAME")]
    pub nats_stream: Option<String>,
    /// Publications in flight, for tests.
    #[arg(long, hide = true)]
    pub nats_window: Option<usize>,
    /// The ack timeout in seconds, for tests.
    #[arg(long, hide = true, value_parser = parse_seconds)]
    pub nats_ack_timeout: Option<Duration>,
    /// How long the end waits for the last acks, in seconds [default: 30].
    #[arg(long, hide = true, value_parser = parse_seconds)]
    pub nats_drain: Option<Duration>,
}

/// The config file's `[nats]` table, as written (see
/// `examples/record.toml`). Flags win over it; `ca_cert` files add up.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsTable {
    url: Option<String>,
    creds: Option<PathBuf>,
    token_file: Option<PathBuf>,
    #[serde(default)]
    ca_cert: Vec<PathBuf>,
    prefix: Option<String>,
    stream: Option<String>,
    max_age: Option<Spanned<String>>,
    max_bytes: Option<Spanned<String>>,
    duplicate_window: Option<Spanned<String>>,
    storage: Option<Spanned<String>>,
    replicas: Option<Spanned<usize>>,
}

/// The `[nats]` table checked: what the flags would say, plus the
/// stream's limits (file only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsFile {
    /// `url`.
    pub url: Option<String>,
    /// `creds`.
    pub creds: Option<PathBuf>,
    /// `token_file`.
    pub token_file: Option<PathBuf>,
    /// `ca_cert`.
    pub ca_cert: Vec<PathBuf>,
    /// `prefix`.
    pub prefix: Option<String>,
    /// `stream`.
    pub stream: Option<String>,
    /// `max_age` ("0" or "0s": no limit).
    pub max_age: Option<Duration>,
    /// `max_bytes` ("0": no limit).
    pub max_bytes: Option<u64>,
    /// `duplicate_window`.
    pub duplicate_window: Option<Duration>,
    /// `storage`: "file" or "memory".
    pub storage: Option<Storage>,
    /// `replicas`.
    pub replicas: Option<usize>,
}

impl NatsTable {
    /// Checks the values; `at` places an error in the file.
    pub fn check(
        &self,
        at: &dyn Fn(Option<Range<usize>>, &str) -> UsageError,
    ) -> Result<NatsFile, UsageError> {
        let period = |value: &Option<Spanned<String>>, key: &str| match value {
            Some(value) if matches!(value.get_ref().as_str(), "0" | "0s") => {
                Ok(Some(Duration::ZERO))
            }
            Some(value) => parse_period(value.get_ref())
                .map(Some)
                .map_err(|e| at(Some(value.span()), &format!("{key}: {e}"))),
            None => Ok(None),
        };
        let max_bytes = match &self.max_bytes {
            Some(size) => Some(
                parse_size(size.get_ref().trim_end_matches("iB"))
                    .map_err(|e| at(Some(size.span()), &format!("max_bytes: {e}")))?,
            ),
            None => None,
        };
        let storage = match &self.storage {
            Some(name) => Some(match name.get_ref().as_str() {
                "file" => Storage::File,
                "memory" => Storage::Memory,
                _ => return Err(at(Some(name.span()), "storage: \"file\" or \"memory\"")),
            }),
            None => None,
        };
        if let Some(replicas) = &self.replicas
            && !(1..=5).contains(replicas.get_ref())
        {
            return Err(at(Some(replicas.span()), "replicas: 1 to 5"));
        }
        Ok(NatsFile {
            url: self.url.clone(),
            creds: self.creds.clone(),
            token_file: self.token_file.clone(),
            ca_cert: self.ca_cert.clone(),
            prefix: self.prefix.clone(),
            stream: self.stream.clone(),
            max_age: period(&self.max_age, "max_age")?,
            max_bytes,
            duplicate_window: period(&self.duplicate_window, "duplicate_window")?,
            storage,
            replicas: self.replicas.as_ref().map(|r| *r.get_ref()),
        })
    }
}

/// The sink's settings resolved, with the end's wait.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// The sink's configuration.
    pub config: NatsConfig,
    /// How long the end waits for the last acks.
    pub drain: Duration,
}

impl NatsArgs {
    /// The settings from the flags and the config file's `[nats]` (flags
    /// win; `ca_cert` files add up), or `None` without a URL in either;
    /// NATS options without one are refused.
    pub fn resolve(&self, file: Option<&NatsFile>) -> Result<Option<NatsSettings>, UsageError> {
        let empty = NatsFile::default();
        let file = file.unwrap_or(&empty);
        let merged = NatsArgs {
            nats: self.nats.clone().or_else(|| file.url.clone()),
            login: NatsLogin {
                nats_creds: self.login.nats_creds.clone().or_else(|| file.creds.clone()),
                nats_token_file: self
                    .login
                    .nats_token_file
                    .clone()
                    .or_else(|| file.token_file.clone()),
                nats_ca_cert: self
                    .login
                    .nats_ca_cert
                    .iter()
                    .chain(&file.ca_cert)
                    .cloned()
                    .collect(),
            },
            nats_prefix: self.nats_prefix.clone().or_else(|| file.prefix.clone()),
            nats_stream: self.nats_stream.clone().or_else(|| file.stream.clone()),
            ..self.clone()
        };
        let Some(mut settings) = merged.resolve_flags()? else {
            return Ok(None);
        };
        let stream = &mut settings.config.stream;
        if let Some(age) = file.max_age {
            stream.max_age = age;
        }
        if let Some(bytes) = file.max_bytes {
            stream.max_bytes = (bytes > 0).then_some(bytes);
        }
        if let Some(window) = file.duplicate_window {
            stream.duplicate_window = window;
        }
        if let Some(storage) = file.storage {
            stream.storage = storage;
        }
        if let Some(replicas) = file.replicas {
            stream.replicas = replicas;
        }
        settings
            .config
            .check()
            .map_err(|e| UsageError(e.to_string()))?;
        Ok(Some(settings))
    }

    /// The settings of the flags alone.
    fn resolve_flags(&self) -> Result<Option<NatsSettings>, UsageError> {
        let Some(urls) = &self.nats else {
            let given = self.login.nats_creds.is_some()
                || self.login.nats_token_file.is_some()
                || !self.login.nats_ca_cert.is_empty()
                || self.nats_prefix.is_some()
                || self.nats_stream.is_some();
            return match given {
                true => Err(UsageError("the --nats-… options need --nats URL".into())),
                false => Ok(None),
            };
        };
        let urls: Vec<String> = urls.split(',').map(|u| u.trim().to_string()).collect();
        let mut config = NatsConfig::new(urls);
        config.auth = self.auth(|name| std::env::var(name).ok())?;
        if !self.login.nats_ca_cert.is_empty() {
            let mut cas = Vec::new();
            for path in &self.login.nats_ca_cert {
                cas.extend(
                    load_ca_file(path).map_err(|e| UsageError(format!("--nats-ca-cert: {e}")))?,
                );
            }
            config.trust = TlsTrust::with_extra_cas(cas);
        }
        if let Some(prefix) = &self.nats_prefix {
            config.prefix.clone_from(prefix);
        }
        if let Some(stream) = &self.nats_stream {
            config.stream.name.clone_from(stream);
        }
        if let Some(window) = self.nats_window {
            config.window = window;
        }
        if let Some(timeout) = self.nats_ack_timeout {
            config.ack_timeout = timeout;
        }
        config.check().map_err(|e| UsageError(e.to_string()))?;
        Ok(Some(NatsSettings {
            config,
            drain: self.nats_drain.unwrap_or(DEFAULT_DRAIN),
        }))
    }

    /// The credentials from the files and `env`; two sources are refused.
    fn auth(&self, env: impl Fn(&str) -> Option<String>) -> Result<NatsAuth, UsageError> {
        let mut found = Vec::new();
        if let Some(path) = &self.login.nats_creds {
            found.push(("--nats-creds", NatsAuth::CredsFile(path.clone())));
        }
        if let Some(path) = &self.login.nats_token_file {
            let text = read_token_file(path)
                .map_err(|e| UsageError(format!("--nats-token-file {}: {e}", path.display())))?;
            found.push((
                "--nats-token-file",
                NatsAuth::Token(text.trim().to_string()),
            ));
        }
        if let Some(token) = env(TOKEN_ENV) {
            found.push((TOKEN_ENV, NatsAuth::Token(token)));
        }
        match (env(USER_ENV), env(PASSWORD_ENV)) {
            (Some(user), Some(password)) => {
                found.push((USER_ENV, NatsAuth::UserPassword { user, password }));
            }
            (None, None) => {}
            _ => {
                return Err(UsageError(format!(
                    "{USER_ENV} and {PASSWORD_ENV} go together"
                )));
            }
        }
        if let Some(seed) = env(NKEY_ENV) {
            found.push((NKEY_ENV, NatsAuth::NKey(seed)));
        }
        match found.len() {
            0 => Ok(NatsAuth::None),
            1 => Ok(found.remove(0).1),
            _ => {
                let names: Vec<&str> = found.iter().map(|(name, _)| *name).collect();
                Err(UsageError(format!(
                    "NATS credentials from {}: give one",
                    names.join(" and ")
                )))
            }
        }
    }
}

/// A running NATS sink; see the module docs.
pub struct Publishing {
    publisher: NatsPublisher,
    stream_end: oneshot::Receiver<StreamEnd>,
    drain: Duration,
}

impl Publishing {
    /// Connects (fatal errors here), then feeds the sink a lossless stream
    /// of `subscriptions`. Call before starting the connectors.
    pub async fn start(
        settings: &NatsSettings,
        subscriptions: Vec<Subscription>,
        collector: &Addr<Collector>,
    ) -> anyhow::Result<Publishing> {
        let connection = NatsConnection::connect(settings.config.clone(), NatsStats::new()).await?;
        let stream = collector
            .send(OpenStream {
                subscriptions,
                n: None,
                timeout: None,
                capacity: NATS_CAPACITY,
            })
            .await?;
        Ok(Publishing {
            publisher: connection.publish(stream.ticks),
            stream_end: stream.end,
            drain: settings.drain,
        })
    }

    /// The sink's counters, for the dashboard.
    pub fn stats(&self) -> NatsStats {
        self.publisher.stats()
    }

    /// Resolves when the stream ends by itself (a connection failed for
    /// good); never otherwise.
    pub async fn ended(&mut self) -> StreamEnd {
        match (&mut self.stream_end).await {
            Ok(end) => end,
            Err(_) => std::future::pending().await,
        }
    }

    /// After the connectors have stopped: ends the stream and waits for
    /// every ack (bounded); the run's error, if any.
    pub async fn finish(self, collector: &Addr<Collector>) -> anyhow::Result<()> {
        collector.do_send(CancelFetches);
        let stats = self.publisher.stats();
        let summary = self.publisher.finish(self.drain).await?;
        let seen = stats.snapshot();
        tracing::info!(
            published = summary.published,
            acknowledged = summary.acknowledged,
            duplicates = summary.duplicates,
            retries = seen.retries,
            errors = seen.errors,
            backpressure_ms = seen.backpressure_ns / 1_000_000,
            "NATS sink finished"
        );
        Ok(())
    }
}

#[cfg(test)]
#[path = "publishing_tests.rs"]
mod tests;

/// A token file's text, refused past [`MAX_TOKEN_BYTES`].
fn read_token_file(path: &std::path::Path) -> std::io::Result<String> {
    match std::fs::metadata(path)?.len() {
        n if n > MAX_TOKEN_BYTES => Err(std::io::Error::other("too large for a token")),
        _ => std::fs::read_to_string(path),
    }
}
