//! rustls' verdicts on a handshake, as [`ConnectorError`]s a user can act on.
//!
//! awc reports a failed TLS handshake as `ConnectError::Io` holding a
//! `std::io::Error` of kind `InvalidData` whose inner error is the
//! `rustls::Error` (tokio-rustls wraps it so); a reset or EOF during the
//! handshake is a plain `ConnectionReset` / `UnexpectedEof`.

use crate::error::ConnectorError;
use rustls::pki_types::UnixTime;
use rustls::{AlertDescription, CertificateError, PeerMisbehaved};

/// The user-facing error for a handshake rustls rejected while talking to
/// `host` (of `url`).
pub(crate) fn from_rustls(url: &str, host: &str, error: &rustls::Error) -> ConnectorError {
    let (url, host) = (url.to_string(), host.to_string());
    let untrusted = |reason: &str| ConnectorError::UntrustedCertificate {
        url: url.clone(),
        host: host.clone(),
        reason: reason.to_string(),
    };
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => untrusted("unknown issuer"),
            CertificateError::BadSignature => untrusted("bad signature"),
            CertificateError::Revoked => untrusted("revoked"),
            CertificateError::NotValidForName => ConnectorError::CertificateNameMismatch {
                url,
                host,
                valid_for: Vec::new(),
            },
            CertificateError::NotValidForNameContext { presented, .. } => {
                ConnectorError::CertificateNameMismatch {
                    url,
                    host,
                    valid_for: presented.iter().map(|name| plain_name(name)).collect(),
                }
            }
            CertificateError::Expired => ConnectorError::CertificateExpired {
                url,
                host,
                expired_on: None,
            },
            CertificateError::ExpiredContext { time, not_after } => {
                ConnectorError::CertificateExpired {
                    url,
                    host,
                    expired_on: Some(expired_on(*time, *not_after)),
                }
            }
            other => ConnectorError::Tls {
                url,
                detail: format!("the certificate of {host} was rejected: {other}"),
            },
        },
        rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)
        | rustls::Error::NoApplicationProtocol
        | rustls::Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            ConnectorError::NoHttp11 { url, host }
        }
        other => ConnectorError::Tls {
            url,
            detail: other.to_string(),
        },
    }
}

/// A name as rustls presents it (`DnsName("example.com")`,
/// `IpAddress(127.0.0.1)`), as a user writes it.
fn plain_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_string()
}

/// `expired on 2026-11-01, 31 days ago`.
fn expired_on(now: UnixTime, not_after: UnixTime) -> String {
    let ago_days = now.as_secs().saturating_sub(not_after.as_secs()) / 86_400;
    let ago = match ago_days {
        0 => "less than a day ago".to_string(),
        1 => "1 day ago".to_string(),
        n => format!("{n} days ago"),
    };
    format!("expired on {}, {ago}", date(not_after.as_secs()))
}

/// The UTC date of a Unix time, `YYYY-MM-DD`.
fn date(unix_secs: u64) -> String {
    let time = mercury_core::Timestamp::from_unix_nanos(i128::from(unix_secs) * 1_000_000_000);
    let mut text = time.to_string();
    text.truncate(10);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use std::time::Duration;

    const URL: &str = "wss://localhost:1/realtime";

    fn map(error: rustls::Error) -> ConnectorError {
        from_rustls(URL, "localhost", &error)
    }

    #[test]
    fn certificate_verdicts_read_as_sentences() {
        let e = map(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert_eq!(
            e.to_string(),
            "the certificate of localhost is not trusted (unknown issuer); pass --ca-cert FILE if you use a private CA"
        );
        let e = map(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("localhost").unwrap(),
                presented: vec![
                    "DnsName(\"example.invalid\")".into(),
                    "IpAddress(192.0.2.1)".into(),
                ],
            },
        ));
        assert_eq!(
            e.to_string(),
            "the certificate of localhost is not valid for that name; it is valid only for example.invalid, 192.0.2.1"
        );
        let e = map(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName,
        ));
        assert_eq!(
            e.to_string(),
            "the certificate of localhost is not valid for that name; the TLS library did not say which names it is valid for"
        );
        let day = 86_400;
        let e = map(rustls::Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(Duration::from_secs(20_000 * day + 5)),
                not_after: UnixTime::since_unix_epoch(Duration::from_secs(19_990 * day)),
            },
        ));
        assert_eq!(
            e.to_string(),
            "the certificate of localhost has expired (expired on 2024-09-24, 10 days ago); the server must renew it (or this machine's clock is wrong)"
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn no_http_1_1_by_alpn_is_its_own_error() {
        for error in [
            rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol),
            rustls::Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol),
        ] {
            let e = map(error);
            assert!(matches!(e, ConnectorError::NoHttp11 { .. }), "{e:?}");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn other_alerts_are_plain_tls_errors_not_retried() {
        let e = map(rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure,
        ));
        assert!(matches!(e, ConnectorError::Tls { .. }), "{e:?}");
        assert!(!e.is_retryable());
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_767_225_599), "2025-12-31");
    }
}
