//! Why the NATS sink could not start or did not deliver everything.
//!
//! Fatal at start (the run ends with one `error:` line, exit 1): a bad
//! configuration or URL, a server that cannot be reached or refuses our
//! credentials, a TLS failure, and a stream whose configuration would lose
//! data. Mid-run, a server that goes away is not an error: the client
//! reconnects, publications are retried with the same message id and the
//! sink applies back-pressure meanwhile. What is still unacknowledged when
//! the run ends is [`NatsError::Unacknowledged`].

use std::time::Duration;

/// A NATS sink failure; [`NatsError::is_retryable`] says which may pass.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// The settings cannot work (no URL, a bad prefix or stream name, …).
    #[error("NATS settings: {0}")]
    Config(String),
    /// A credentials or CA file could not be read.
    #[error("NATS credentials or CA file: {0}")]
    Credentials(String),
    /// The server refused our credentials.
    #[error("the NATS server refused our credentials: {0}")]
    Auth(String),
    /// The TLS handshake failed (e.g. the server's certificate is not
    /// trusted).
    #[error("TLS to the NATS server failed: {0}")]
    Tls(String),
    /// No server could be reached at start (refused, unknown host, bad
    /// URL, timed out).
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect {
        /// The URLs tried.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// JetStream is not enabled on the server, or did not answer.
    #[error("JetStream: {0}")]
    JetStream(String),
    /// The stream exists with settings that would lose our data.
    #[error("stream {stream} exists with settings that would lose data: {}; change or delete it, or name another stream", mismatches.join("; "))]
    StreamMismatch {
        /// The stream.
        stream: String,
        /// Each mismatch, in words.
        mismatches: Vec<String>,
    },
    /// The run ended with publications the stream never acknowledged.
    #[error(
        "{count} quotes were not acknowledged by NATS within {waited:?} of the end (published {published}, acknowledged {acknowledged})"
    )]
    Unacknowledged {
        /// How many.
        count: u64,
        /// Quotes published.
        published: u64,
        /// Quotes acknowledged.
        acknowledged: u64,
        /// How long the end waited for them.
        waited: Duration,
    },
    /// The publisher's thread could not start or vanished.
    #[error("the NATS publisher thread: {0}")]
    Thread(String),
}

impl NatsError {
    /// Whether trying again later may succeed: the server was unreachable
    /// or JetStream did not answer. Bad settings, refused credentials, TLS
    /// failures and stream mismatches need the user.
    pub fn is_retryable(&self) -> bool {
        matches!(self, NatsError::Connect { .. } | NatsError::JetStream(_))
    }
}
