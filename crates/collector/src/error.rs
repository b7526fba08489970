//! The errors of `mercury-collector`, with what each means for a retry.

use crate::messages::Tick;
use crate::retry_after::MAX_RETRY_AFTER;
use mercury_core::{ExchangeError, ExchangeId};
use std::time::Duration;
use thiserror::Error;

/// Why a connection ended or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// The URL cannot be used (bad scheme, no host).
    #[error("invalid URL {url:?}: {detail}; use ws://HOST[:PORT]/PATH or wss://…")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The host name could not be resolved.
    #[error("cannot resolve the host of {url}: {detail}; check the URL and your DNS")]
    Dns {
        /// The URL given.
        url: String,
        /// The resolver's message.
        detail: String,
    },
    /// TCP connection failed (refused, unreachable).
    #[error("cannot connect to {url}: {detail}; is the server running and reachable?")]
    Connect {
        /// The URL given.
        url: String,
        /// The operating system's message.
        detail: String,
    },
    /// The TLS handshake failed for a reason without a variant of its own.
    #[error("TLS with {url} failed: {detail}")]
    Tls {
        /// The URL given.
        url: String,
        /// The TLS library's message.
        detail: String,
    },
    /// The server's certificate does not chain to a trusted certificate
    /// authority (or its chain is broken: bad signature, revoked, …).
    #[error(
        "the certificate of {host} is not trusted ({reason}); pass --ca-cert FILE if you use a private CA"
    )]
    UntrustedCertificate {
        /// The URL given.
        url: String,
        /// The host name or address we asked for.
        host: String,
        /// Why, in words (e.g. `unknown issuer`).
        reason: String,
    },
    /// The server's certificate is valid, but not for the name we asked for.
    #[error(
        "the certificate of {host} is not valid for that name; {}",
        valid_for_hint(valid_for)
    )]
    CertificateNameMismatch {
        /// The URL given.
        url: String,
        /// The host name or address we asked for.
        host: String,
        /// The names the certificate is valid for, if the TLS library said.
        valid_for: Vec<String>,
    },
    /// The server's certificate has expired.
    #[error("the certificate of {host} has expired{}; the server must renew it (or this machine's clock is wrong)", expired_on.as_ref().map_or(String::new(), |d| format!(" ({d})")))]
    CertificateExpired {
        /// The URL given.
        url: String,
        /// The host name or address we asked for.
        host: String,
        /// When it expired, in words, if the TLS library said.
        expired_on: Option<String>,
    },
    /// The server does not offer HTTP/1.1 by ALPN (e.g. HTTP/2 only), so it
    /// cannot upgrade the connection to a WebSocket.
    #[error(
        "{host} does not offer HTTP/1.1 over TLS (ALPN; it may speak HTTP/2 only), so no WebSocket upgrade is possible; check the URL"
    )]
    NoHttp11 {
        /// The URL given.
        url: String,
        /// The host name or address we asked for.
        host: String,
    },
    /// The connection was reset or closed during the TLS handshake.
    #[error("the connection to {url} was cut during the TLS handshake: {detail}")]
    TlsInterrupted {
        /// The URL given.
        url: String,
        /// The operating system's message.
        detail: String,
    },
    /// The TCP connection and TLS handshake were not done in time.
    #[error("connecting to {url} timed out after {after:?} (TCP connect and TLS handshake)")]
    ConnectTimeout {
        /// The URL given.
        url: String,
        /// The configured limit.
        after: Duration,
    },
    /// The WebSocket upgrade did not complete in time.
    #[error("the WebSocket handshake with {url} timed out after {after:?}")]
    HandshakeTimeout {
        /// The URL given.
        url: String,
        /// The configured limit.
        after: Duration,
    },
    /// The server answered the upgrade with a status other than 101.
    #[error("{url} refused the WebSocket upgrade with HTTP {status} (expected 101 Switching Protocols){}{}", hint_for_status(*status), retry_after.map_or(String::new(), |d| format!(" (Retry-After: {d:?})")))]
    HandshakeRejected {
        /// The URL given.
        url: String,
        /// The HTTP status of the answer.
        status: u16,
        /// The wait its `Retry-After` header asked for (HTTP 429, 503).
        retry_after: Option<Duration>,
    },
    /// The upgrade failed for another reason (bad headers, protocol error).
    #[error("the WebSocket handshake with {url} failed: {detail}")]
    Handshake {
        /// The URL given.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// Connected and subscribed, but no quote arrived in time.
    #[error(
        "no quote arrived within {after:?} of subscribing ({frames} frames received, {skipped} undecodable)"
    )]
    NoData {
        /// The configured limit.
        after: Duration,
        /// Frames received meanwhile.
        frames: u64,
        /// Of those, frames that could not be decoded.
        skipped: u64,
    },
    /// The link went silent and did not answer the heartbeat ping.
    #[error(
        "the connection went silent for {silent_for:?} and did not answer a ping: the link is dead"
    )]
    HeartbeatTimeout {
        /// How long nothing arrived.
        silent_for: Duration,
    },
    /// The peer left what we must send (a pong, a heartbeat ping) unread
    /// for too long, or too much of it: the link is dead.
    #[error(
        "the server read nothing we sent for {stalled_for:?} ({queued} messages waiting): the link is dead"
    )]
    PeerNotReading {
        /// How long our queue made no progress.
        stalled_for: Duration,
        /// Messages waiting to be written.
        queued: usize,
    },
    /// The server closed the WebSocket.
    #[error("the server closed the connection (code {}{})", code.map_or("none".to_string(), |c| c.to_string()), reason.as_ref().map_or(String::new(), |r| format!(": {r}")))]
    Closed {
        /// The close code, if the server sent one.
        code: Option<u16>,
        /// The close reason text, if any.
        reason: Option<String>,
    },
    /// The server restarted the session on an open connection (see
    /// [`Control::SessionRestarted`](mercury_core::Control)): retried, as a
    /// new connection subscribes afresh.
    #[error("the server restarted the session (a second welcome on an open connection)")]
    SessionRestarted,
    /// The TCP connection ended without a WebSocket close.
    #[error("the connection dropped without a close frame")]
    Disconnected,
    /// The peer broke the WebSocket protocol (e.g. a frame over the size limit).
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The exchange reported an error that ends the session.
    #[error("the exchange reported an error{}: {}", .0.status.map_or(String::new(), |s| format!(" (status {s})")), .0.message)]
    Exchange(ExchangeError),
    /// Reconnecting failed this many times in a row.
    #[error("gave up after {attempts} reconnect attempts; the last error: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<ConnectorError>,
    },
}

fn valid_for_hint(names: &[String]) -> String {
    match names {
        [] => "the TLS library did not say which names it is valid for".to_string(),
        [one] => format!("it is valid only for {one}"),
        many => format!("it is valid only for {}", many.join(", ")),
    }
}

fn hint_for_status(status: u16) -> &'static str {
    match status {
        200 => "; the URL is not a WebSocket endpoint",
        401 | 403 => "; access denied",
        404 => "; check the path of the URL",
        429 => "; rate limited, wait before retrying",
        500..=599 => "; the server is in trouble, try again later",
        _ => "",
    }
}

impl ConnectorError {
    /// The wait the server asked for, if any: the in-band error's
    /// `retryAfter` or the refused upgrade's `Retry-After` header, at most
    /// [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        let asked = match self {
            ConnectorError::Exchange(exchange) => exchange.retry_after,
            ConnectorError::HandshakeRejected { retry_after, .. } => *retry_after,
            _ => None,
        };
        asked.map(|wait| wait.min(MAX_RETRY_AFTER))
    }

    /// Whether connecting again (after a backoff) can help.
    ///
    /// Not retried: a bad URL, bad subscriptions, a refusal other than 429
    /// or 5xx, a fatal exchange error, and every TLS verdict — an untrusted,
    /// expired or misnamed certificate, no HTTP/1.1 by ALPN, any other TLS
    /// alert — since the same server gives the same answer again.
    /// Retried: everything on the way (refused or cut connections, a reset
    /// or EOF during the TLS handshake, timeouts including a TLS handshake
    /// that stalls, a dropped or silent link, 429 and 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectorError::InvalidUrl { .. }
            | ConnectorError::Tls { .. }
            | ConnectorError::UntrustedCertificate { .. }
            | ConnectorError::CertificateNameMismatch { .. }
            | ConnectorError::CertificateExpired { .. }
            | ConnectorError::NoHttp11 { .. }
            | ConnectorError::GaveUp { .. } => false,
            ConnectorError::HandshakeRejected { status, .. } => {
                *status == 429 || (500..=599).contains(status)
            }
            ConnectorError::Exchange(error) => error.retryable,
            _ => true,
        }
    }
}

/// Why a fetch ended without its N quotes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Not enough quotes arrived before the deadline.
    #[error("timed out after {waited:?}: {received} of {wanted} quotes arrived{}", last_error.as_ref().map_or(String::new(), |(exchange, e)| format!(" (the connection to {exchange} is failing: {e})")))]
    Timeout {
        /// Quotes asked for.
        wanted: usize,
        /// Quotes that arrived.
        received: usize,
        /// The deadline.
        waited: Duration,
        /// A failure that is current — of a connection the fetch depends
        /// on, that has not streamed since — with its exchange, if any.
        last_error: Option<(ExchangeId, Box<ConnectorError>)>,
    },
    /// A connection the fetch depends on failed for good.
    #[error("{error}")]
    Connection {
        /// What failed.
        error: ConnectorError,
    },
    /// The fetch was cancelled (e.g. Ctrl-C).
    #[error("cancelled with {received} of {wanted} quotes")]
    Cancelled {
        /// Quotes asked for.
        wanted: usize,
        /// Quotes that arrived.
        received: usize,
    },
}

/// A failed fetch: why, and the quotes that did arrive, in order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct FetchFailed {
    /// Why the fetch failed.
    pub reason: FetchError,
    /// What arrived before it failed.
    pub received: Vec<Tick>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_follows_the_cause() {
        let url = || "ws://x".to_string();
        assert!(ConnectorError::Disconnected.is_retryable());
        assert!(
            ConnectorError::HeartbeatTimeout {
                silent_for: Duration::from_secs(10)
            }
            .is_retryable()
        );
        assert!(
            ConnectorError::HandshakeRejected {
                url: url(),
                status: 429,
                retry_after: None,
            }
            .is_retryable()
        );
        assert!(
            ConnectorError::HandshakeRejected {
                url: url(),
                status: 503,
                retry_after: None,
            }
            .is_retryable()
        );
        assert!(
            !ConnectorError::HandshakeRejected {
                url: url(),
                status: 200,
                retry_after: None,
            }
            .is_retryable()
        );
        assert!(
            !ConnectorError::InvalidUrl {
                url: url(),
                detail: "x".into()
            }
            .is_retryable()
        );
        let fatal = ExchangeError {
            status: Some(400),
            message: "Unknown symbol".into(),
            retryable: false,
            retry_after: None,
            request: None,
        };
        assert!(!ConnectorError::Exchange(fatal.clone()).is_retryable());
        assert_eq!(
            ConnectorError::Exchange(fatal).to_string(),
            "the exchange reported an error (status 400): Unknown symbol"
        );
    }

    #[test]
    fn messages_say_what_to_try() {
        let e = ConnectorError::HandshakeRejected {
            url: "ws://h/".into(),
            status: 200,
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "ws://h/ refused the WebSocket upgrade with HTTP 200 (expected 101 Switching Protocols); the URL is not a WebSocket endpoint"
        );
        let e = FetchError::Timeout {
            wanted: 10,
            received: 3,
            waited: Duration::from_secs(5),
            last_error: None,
        };
        assert_eq!(e.to_string(), "timed out after 5s: 3 of 10 quotes arrived");
        let e = ConnectorError::Closed {
            code: Some(1001),
            reason: None,
        };
        assert_eq!(
            e.to_string(),
            "the server closed the connection (code 1001)"
        );
    }
}
