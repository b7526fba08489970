//! What the NATS sink connects to and how it publishes: servers,
//! credentials, trust, subjects, the stream and its limits, the window and
//! the timeouts. Built by the CLI from flags, the environment and the
//! config file; every wait is here, so tests can shorten them.

use super::NatsError;
use crate::tls::TlsTrust;
use std::path::PathBuf;
use std::time::Duration;

/// The subject prefix when none is given: quotes go to `mercury.>`.
pub const DEFAULT_PREFIX: &str = "mercury";
/// The stream's name when none is given.
pub const DEFAULT_STREAM: &str = "MERCURY";

/// How the client proves who it is. Secrets come from the environment or
/// a file, never from the command line alone (see the CLI).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum NatsAuth {
    /// No credentials.
    #[default]
    None,
    /// A token (`auth_token` on the server).
    Token(String),
    /// A user and a password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// A `.creds` file (JWT and NKey seed, as `nsc` writes it).
    CredsFile(PathBuf),
    /// An NKey seed (`SU…`).
    NKey(String),
}

impl std::fmt::Debug for NatsAuth {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NatsAuth::None => write!(f, "None"),
            NatsAuth::Token(_) => write!(f, "Token(..)"),
            NatsAuth::UserPassword { user, .. } => write!(f, "UserPassword({user:?}, ..)"),
            NatsAuth::CredsFile(path) => write!(f, "CredsFile({})", path.display()),
            NatsAuth::NKey(_) => write!(f, "NKey(..)"),
        }
    }
}

/// Where the stream keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// On disk: survives a server restart (the default).
    File,
    /// In memory: lost when the server stops.
    Memory,
}

/// The stream the quotes go into, created with these settings if absent
/// and checked against them if present (see [`super::stream`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// The stream's name.
    pub name: String,
    /// Messages older than this are removed (`Duration::ZERO`: never).
    pub max_age: Duration,
    /// The stream holds at most this many bytes, the oldest removed first
    /// (`None`: no limit).
    pub max_bytes: Option<u64>,
    /// A message id seen within this window is stored once.
    pub duplicate_window: Duration,
    /// File or memory.
    pub storage: Storage,
    /// Copies kept in a cluster.
    pub replicas: usize,
}

impl Default for StreamSettings {
    /// `MERCURY`: a day of quotes, at most 1 GiB, a 2 minute duplicates
    /// window, on file, one replica.
    fn default() -> Self {
        StreamSettings {
            name: DEFAULT_STREAM.to_string(),
            max_age: Duration::from_secs(24 * 3600),
            max_bytes: Some(1 << 30),
            duplicate_window: Duration::from_secs(120),
            storage: Storage::File,
            replicas: 1,
        }
    }
}

/// Everything the NATS sink needs.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// Server URLs (`nats://host:4222`, `tls://…`); the client tries them
    /// in turn and reconnects to any.
    pub urls: Vec<String>,
    /// Credentials.
    pub auth: NatsAuth,
    /// Which certificate authorities a `tls://` server must chain to.
    pub trust: TlsTrust,
    /// Subjects start with this (one or more tokens).
    pub prefix: String,
    /// The stream.
    pub stream: StreamSettings,
    /// At most this many publications wait for their ack; when the window
    /// is full the sink takes no more quotes (back-pressure).
    pub window: usize,
    /// An ack not received within this is a failure, and the publication is
    /// sent again with the same id.
    pub ack_timeout: Duration,
    /// The connection (TCP, TLS, auth) must be up within this at start.
    pub connect_timeout: Duration,
    /// First retry delay after a failure; doubled up to `retry_cap`.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_cap: Duration,
}

impl NatsConfig {
    /// The defaults for `urls`: no credentials, the default trust, prefix
    /// `mercury`, the default stream, 512 publications in flight, 5 s ack
    /// timeout, 10 s to connect, retries after 100 ms doubling up to 2 s.
    pub fn new(urls: Vec<String>) -> Self {
        NatsConfig {
            urls,
            auth: NatsAuth::None,
            trust: TlsTrust::default(),
            prefix: DEFAULT_PREFIX.to_string(),
            stream: StreamSettings::default(),
            window: 512,
            ack_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            retry_base: Duration::from_millis(100),
            retry_cap: Duration::from_secs(2),
        }
    }

    /// Refuses what cannot work: no URL, a prefix that is not a literal
    /// subject (empty tokens, wildcards, whitespace), a stream name NATS
    /// refuses, a window of 0, a duplicates window longer than the maximum
    /// age.
    pub fn check(&self) -> Result<(), NatsError> {
        let bad = |what: String| Err(NatsError::Config(what));
        if self.urls.is_empty() {
            return bad("no server URL".into());
        }
        let token_ok = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'>' && b != b'.')
        };
        if !self.prefix.split('.').all(token_ok) {
            return bad(format!(
                "subject prefix {:?}: tokens must be non-empty, printable, without * or >",
                mercury_core::excerpt(&self.prefix)
            ));
        }
        let name = &self.stream.name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(format!(
                "stream name {:?}: use letters, digits, - and _",
                mercury_core::excerpt(name)
            ));
        }
        if self.window == 0 {
            return bad("the in-flight window must be at least 1".into());
        }
        if !self.stream.max_age.is_zero() && self.stream.duplicate_window > self.stream.max_age {
            return bad("the duplicates window must not exceed the stream's max age".into());
        }
        Ok(())
    }

    /// The subjects the stream must hold: `<prefix>.>`.
    pub fn stream_subject(&self) -> String {
        format!("{}.>", self.prefix)
    }
}
