//! Which certificate authorities a connection trusts, and the rustls
//! client configuration built from them.
//!
//! By default a server is trusted if its certificate chains to one of
//!
//! - the Mozilla roots compiled in (`webpki-roots`), or
//! - the operating system's store, read by `rustls-native-certs`. Like
//!   OpenSSL, curl and Python, it honours `SSL_CERT_FILE` (a PEM file of
//!   one or more certificates) and `SSL_CERT_DIR` (`:`-separated
//!   directories of PEM files): when either is set, the certificates are
//!   read from there *instead of* the system's default locations.
//!
//! plus any CA files the user adds ([`load_ca_file`], `--ca-cert`). One
//! [`rustls::RootCertStore`] holds them all, which is why the native store
//! is read with `rustls-native-certs` rather than delegating to the
//! platform verifier.
//!
//! The rustls configuration uses the `ring` provider and offers ALPN
//! `http/1.1` only: a WebSocket upgrade needs HTTP/1.1.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Which certificate authorities to trust.
///
/// [`Default`]: the webpki roots and the system's store (see the module
/// documentation for `SSL_CERT_FILE` / `SSL_CERT_DIR`), no extra CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTrust {
    /// Trust the Mozilla roots compiled in (`webpki-roots`).
    pub webpki_roots: bool,
    /// Trust the operating system's store (or `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR` when set), loaded once per process.
    pub system_roots: bool,
    /// Also trust these certificate authorities (e.g. from [`load_ca_file`]).
    pub extra_cas: Vec<CertificateDer<'static>>,
}

impl Default for TlsTrust {
    fn default() -> Self {
        TlsTrust {
            webpki_roots: true,
            system_roots: true,
            extra_cas: Vec::new(),
        }
    }
}

impl TlsTrust {
    /// Trust exactly these certificate authorities and nothing else (e.g.
    /// the CA of a local simulator).
    pub fn only(cas: Vec<CertificateDer<'static>>) -> Self {
        TlsTrust {
            webpki_roots: false,
            system_roots: false,
            extra_cas: cas,
        }
    }

    /// The default roots plus `cas`.
    pub fn with_extra_cas(cas: Vec<CertificateDer<'static>>) -> Self {
        TlsTrust {
            extra_cas: cas,
            ..TlsTrust::default()
        }
    }
}

/// Why a CA file or a TLS configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("cannot read the CA file {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CA file is not PEM text.
    #[error("the CA file {} is not PEM ({detail})", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The CA file is PEM but holds no certificate (e.g. only a key).
    #[error("the CA file {} holds no certificate (no -----BEGIN CERTIFICATE----- block)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A certificate cannot be used as a trust anchor.
    #[error("the CA file {} holds a certificate that cannot be a trust anchor: {detail}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// The TLS library's message.
        detail: String,
    },
    /// A certificate given in [`TlsTrust::extra_cas`] cannot be a trust anchor.
    #[error("a CA certificate cannot be a trust anchor: {0}")]
    BadAnchor(String),
    /// The TLS library refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Config(String),
}

/// The certificates of a PEM file holding one or more of them (a CA
/// bundle). An unreadable file, a file that is not PEM, one without a
/// certificate, or one whose certificates cannot be trust anchors is an
/// error naming the file.
pub fn load_ca_file(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| TlsError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(TlsError::NotPem {
            path: path.to_path_buf(),
            detail: "binary; if it is DER, convert it with `openssl x509 -inform der`".into(),
        });
    }
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::NotPem {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        let is_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
        return Err(if is_pem {
            TlsError::NoCertificate {
                path: path.to_path_buf(),
            }
        } else {
            TlsError::NotPem {
                path: path.to_path_buf(),
                detail: "no -----BEGIN CERTIFICATE----- block".into(),
            }
        });
    }
    let mut check = RootCertStore::empty();
    for cert in &certs {
        check
            .add(cert.clone())
            .map_err(|e| TlsError::BadCertificate {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
    }
    Ok(certs)
}

/// A rustls client configuration trusting `trust`: the `ring` provider,
/// the safe default protocol versions, ALPN `http/1.1` only, no client
/// certificate.
pub fn tls_client_config(trust: &TlsTrust) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    if trust.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if trust.system_roots {
        let (added, ignored) = roots.add_parsable_certificates(system_roots().iter().cloned());
        tracing::debug!(added, ignored, "system trust roots");
    }
    for cert in &trust.extra_cas {
        roots
            .add(cert.clone())
            .map_err(|e| TlsError::BadAnchor(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The configuration of [`TlsTrust::default`], built once per process
/// (so the system's store is read once) and shared.
pub fn default_tls_client_config() -> Arc<rustls::ClientConfig> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            // Bad system roots are skipped (add_parsable_certificates) and
            // there are no extra CAs, so only rustls refusing the ring
            // provider's protocol versions could fail here, which it never
            // does (`the_config_offers_only_http_1_1` builds it).
            #[allow(clippy::expect_used)]
            tls_client_config(&TlsTrust::default())
                .expect("the default TLS configuration is always valid")
        })
        .clone()
}

/// The system's trust roots (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), read
/// once per process; failures to read some of them are logged.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let result = rustls_native_certs::load_native_certs();
        for error in &result.errors {
            tracing::warn!(%error, "cannot read some of the system's trust roots");
        }
        result.certs
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("mercury-tls-unit-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn the_config_offers_only_http_1_1() {
        let config = tls_client_config(&TlsTrust::only(Vec::new())).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert_eq!(
            default_tls_client_config().alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
        assert!(Arc::ptr_eq(
            &default_tls_client_config(),
            &default_tls_client_config()
        ));
    }

    #[test]
    fn ca_files_that_cannot_be_used_are_named() {
        let missing = std::env::temp_dir().join("mercury-no-such-ca.pem");
        let e = load_ca_file(&missing).unwrap_err();
        assert!(matches!(e, TlsError::Unreadable { .. }), "{e:?}");
        assert!(e.to_string().contains("mercury-no-such-ca.pem"), "{e}");

        let binary = temp_file("binary.der", &[0x30, 0x82, 0x01, 0x0a, 0xff, 0x00]);
        let e = load_ca_file(&binary).unwrap_err();
        assert!(matches!(e, TlsError::NotPem { .. }), "{e:?}");
        assert!(e.to_string().contains("binary.der"), "{e}");

        let key = temp_file(
            "key.pem",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        );
        let e = load_ca_file(&key).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");

        let junk = temp_file(
            "junk.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let e = load_ca_file(&junk).unwrap_err();
        assert!(matches!(e, TlsError::BadCertificate { .. }), "{e:?}");
        for path in [binary, key, junk] {
            let _ = std::fs::remove_file(path);
        }
    }
}
