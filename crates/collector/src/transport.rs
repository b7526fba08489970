//! Building the awc WebSocket client, and turning its errors into
//! [`ConnectorError`]s a user can act on.
//!
//! TLS is rustls as configured by [`crate::tls`] (the roots to trust, ALPN
//! `http/1.1` only: a server that negotiates `h2` cannot upgrade to a
//! WebSocket). The client must not call `ClientBuilder::max_http_version`:
//! awc then replaces our rustls connector with its own default, which with
//! only the `rustls-0_23` feature is "no TLS" ("SSL is not supported").

use crate::error::ConnectorError;
use crate::retry_after::{RememberRetryAfter, RetryAfterSlot};
use awc::error::{ConnectError, SendRequestError, WsClientError, WsProtocolError};
use std::sync::Arc;
use std::time::Duration;

/// The limits of each phase of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// The whole WebSocket upgrade, from the first byte to `101`.
    pub handshake: Duration,
    /// From sending the subscriptions to the first quote.
    pub first_data: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            // Longer than `connect`, so a stalled TCP/TLS connect is
            // reported as such, not as a slow upgrade.
            handshake: Duration::from_secs(15),
            first_data: Duration::from_secs(30),
        }
    }
}

/// An awc client for WebSocket connections with these limits, speaking
/// TLS with `tls` (`None`: plain `ws://` only). A refused upgrade leaves
/// its `Retry-After` in `retry_after`.
pub(crate) fn client(
    timeouts: &Timeouts,
    tls: Option<Arc<rustls::ClientConfig>>,
    retry_after: RetryAfterSlot,
) -> Result<awc::Client, ConnectorError> {
    let mut connector = awc::Connector::new();
    if let Some(tls) = tls {
        connector = connector.rustls_0_23(tls);
    }
    let connector = connector
        .timeout(timeouts.connect)
        .handshake_timeout(timeouts.connect);
    // No `.max_http_version(..)`: it would drop the TLS connector (#12).
    Ok(awc::Client::builder()
        .connector(connector)
        .timeout(timeouts.handshake)
        .wrap(RememberRetryAfter(retry_after))
        .finish())
}

/// Checks the scheme and host before any I/O.
pub(crate) fn check_url(url: &str) -> Result<(), ConnectorError> {
    let invalid = |detail: &str| ConnectorError::InvalidUrl {
        url: url.to_string(),
        detail: detail.to_string(),
    };
    let uri: awc::http::Uri = url
        .parse()
        .map_err(|e: awc::http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("ws" | "wss") => {}
        Some(other) => return Err(invalid(&format!("scheme {other:?} is not ws or wss"))),
        None => return Err(invalid("no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(())
}

/// A user-facing error for a failed upgrade; `retry_after` is what the
/// refusal's `Retry-After` header asked for, if anything.
pub(crate) fn map_ws_error(
    url: &str,
    error: WsClientError,
    timeouts: &Timeouts,
    retry_after: Option<Duration>,
) -> ConnectorError {
    let url = url.to_string();
    match error {
        WsClientError::InvalidResponseStatus(status) => ConnectorError::HandshakeRejected {
            url,
            status: status.as_u16(),
            retry_after,
        },
        WsClientError::SendRequest(SendRequestError::Connect(connect)) => match connect {
            ConnectError::Resolver(e) => ConnectorError::Dns {
                url,
                detail: e.to_string(),
            },
            ConnectError::NoRecords | ConnectError::Unresolved => ConnectorError::Dns {
                url,
                detail: connect.to_string(),
            },
            ConnectError::Timeout => ConnectorError::ConnectTimeout {
                url,
                after: timeouts.connect,
            },
            ConnectError::Io(e) => map_connect_io(url, &e),
            other => ConnectorError::Connect {
                url,
                detail: other.to_string(),
            },
        },
        WsClientError::SendRequest(SendRequestError::Url(e)) => ConnectorError::InvalidUrl {
            url,
            detail: e.to_string(),
        },
        WsClientError::SendRequest(SendRequestError::Timeout) => ConnectorError::HandshakeTimeout {
            url,
            after: timeouts.handshake,
        },
        other => ConnectorError::Handshake {
            url,
            detail: other.to_string(),
        },
    }
}

/// A failed TCP connect or TLS handshake: rustls' verdict in words, a
/// handshake cut off (retryable), or a plain connection failure.
fn map_connect_io(url: String, error: &std::io::Error) -> ConnectorError {
    use std::io::ErrorKind;
    if let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return crate::tls_errors::from_rustls(&url, &host_of(&url), tls);
    }
    let is_wss = url.starts_with("wss:");
    match error.kind() {
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::UnexpectedEof
        | ErrorKind::BrokenPipe
            if is_wss =>
        {
            ConnectorError::TlsInterrupted {
                url,
                detail: error.to_string(),
            }
        }
        ErrorKind::InvalidData if is_wss => ConnectorError::Tls {
            url,
            detail: error.to_string(),
        },
        _ => ConnectorError::Connect {
            url,
            detail: error.to_string(),
        },
    }
}

/// The host of `url` as a user wrote it (`localhost`, `127.0.0.1`).
/// What a failed read or write of an open WebSocket means: a connection
/// cut under us (EOF without close_notify under TLS, a reset, a broken
/// pipe) is a drop like a plain EOF; anything else broke the protocol.
pub(crate) fn map_stream_error(error: &WsProtocolError) -> ConnectorError {
    use std::io::ErrorKind;
    match error {
        WsProtocolError::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
            ) =>
        {
            ConnectorError::Disconnected
        }
        other => ConnectorError::Protocol(other.to_string()),
    }
}

fn host_of(url: &str) -> String {
    url.parse::<awc::http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_connection_is_a_drop_and_a_bad_frame_a_protocol_error() {
        use std::io::{Error, ErrorKind};
        let no_close_notify = Error::new(
            ErrorKind::UnexpectedEof,
            "peer closed connection without sending TLS close_notify",
        );
        for cut in [
            no_close_notify,
            Error::from(ErrorKind::ConnectionReset),
            Error::from(ErrorKind::BrokenPipe),
        ] {
            assert_eq!(
                map_stream_error(&WsProtocolError::Io(cut)),
                ConnectorError::Disconnected
            );
        }
        assert!(matches!(
            map_stream_error(&WsProtocolError::MaskedFrame),
            ConnectorError::Protocol(_)
        ));
    }

    #[test]
    fn urls_are_checked_before_any_io() {
        assert!(check_url("wss://ws.bitmex.com/realtime").is_ok());
        assert!(check_url("ws://127.0.0.1:9/realtime").is_ok());
        for bad in ["http://x/", "ftp://x/", "ws://", "not a url", "/realtime"] {
            assert!(
                matches!(check_url(bad), Err(ConnectorError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn awc_errors_become_errors_a_user_can_act_on() {
        let t = Timeouts::default();
        let url = "wss://nowhere.invalid/realtime";
        let connect = |e: ConnectError| WsClientError::SendRequest(SendRequestError::Connect(e));
        let dns = map_ws_error(
            url,
            connect(ConnectError::Resolver(Box::new(std::io::Error::other(
                "no such host",
            )))),
            &t,
            None,
        );
        assert!(
            matches!(&dns, ConnectorError::Dns { detail, .. } if detail == "no such host"),
            "{dns:?}"
        );
        assert!(dns.to_string().contains("check the URL and your DNS"));
        assert!(matches!(
            map_ws_error(url, connect(ConnectError::Unresolved), &t, None),
            ConnectorError::Dns { .. }
        ));
        assert_eq!(
            map_ws_error(url, connect(ConnectError::Timeout), &t, None),
            ConnectorError::ConnectTimeout {
                url: url.into(),
                after: t.connect
            }
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            map_ws_error(url, connect(ConnectError::Io(refused)), &t, None),
            ConnectorError::Connect { .. }
        ));
        // The shape awc gives a rejected certificate (seen against real
        // servers: tests/tls.rs): Io(InvalidData) around the rustls::Error.
        let bad_cert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let untrusted = map_ws_error(url, connect(ConnectError::Io(bad_cert)), &t, None);
        assert_eq!(
            untrusted,
            ConnectorError::UntrustedCertificate {
                url: url.into(),
                host: "nowhere.invalid".into(),
                reason: "unknown issuer".into()
            }
        );
        assert!(!untrusted.is_retryable());
        for kind in [
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::UnexpectedEof,
        ] {
            let cut = map_ws_error(
                url,
                connect(ConnectError::Io(std::io::Error::from(kind))),
                &t,
                None,
            );
            assert!(
                matches!(cut, ConnectorError::TlsInterrupted { .. }),
                "{cut:?}"
            );
            assert!(cut.is_retryable());
        }
        assert_eq!(
            map_ws_error(
                url,
                WsClientError::SendRequest(SendRequestError::Timeout),
                &t,
                None,
            ),
            ConnectorError::HandshakeTimeout {
                url: url.into(),
                after: t.handshake
            }
        );
        let status = awc::http::StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            map_ws_error(
                url,
                WsClientError::InvalidResponseStatus(status),
                &t,
                Some(Duration::from_secs(7))
            ),
            ConnectorError::HandshakeRejected {
                url: url.into(),
                status: 429,
                retry_after: Some(Duration::from_secs(7)),
            }
        );
    }
}
