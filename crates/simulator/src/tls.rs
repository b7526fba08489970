//! TLS for the simulator: a certificate authority made on the spot and a
//! leaf for `localhost`, `127.0.0.1` and `::1` signed by it, so a client
//! that trusts exactly that CA checks the chain, the name and SNI as it
//! would against a real exchange.

use crate::server::SimulatorError;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The names the leaf certificate is valid for.
pub const SIM_TLS_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A fresh CA and a server certificate signed by it, for the simulator.
pub struct SimCertificates {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_pem: String,
    key_pem: String,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for SimCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("SimCertificates")
            .field("ca_pem", &self.ca_pem)
            .finish_non_exhaustive()
    }
}

/// Where [`SimCertificates::write_to`] put the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCertificateFiles {
    /// The CA's certificate (PEM): what a client must trust.
    pub ca: PathBuf,
    /// The server's certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl SimCertificates {
    /// Makes a CA ("mercury simulator CA") and a leaf for
    /// [`SIM_TLS_NAMES`], both ECDSA P-256.
    pub fn generate() -> Result<SimCertificates, SimulatorError> {
        let tls = |e: rcgen::Error| SimulatorError::Tls(e.to_string());
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mercury simulator CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(tls)?)
            .map_err(tls)?;
        let names: Vec<String> = SIM_TLS_NAMES.iter().map(|n| (*n).to_string()).collect();
        let mut leaf_params = CertificateParams::new(names).map_err(tls)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "mercury simulator");
        let leaf_key = KeyPair::generate().map_err(tls)?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(tls)?;
        Ok(SimCertificates {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            leaf_der: leaf.der().clone(),
            leaf_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
            key_der: leaf_key.serialize_der(),
        })
    }

    /// The CA's certificate, for a client's trust store.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// The CA's certificate as PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls server configuration presenting the leaf (ring provider;
    /// actix-web adds ALPN `http/1.1`).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, SimulatorError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(vec![self.leaf_der.clone()], key)
            })
            .map_err(|e| SimulatorError::Tls(e.to_string()))?;
        Ok(Arc::new(config))
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir` (made if
    /// missing; the key readable by its owner only on Unix).
    pub fn write_to(&self, dir: &Path) -> Result<SimCertificateFiles, SimulatorError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SimulatorError::TlsFiles { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let files = SimCertificateFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.ca, &self.ca_pem).map_err(io(&files.ca))?;
        std::fs::write(&files.cert, &self.leaf_pem).map_err(io(&files.cert))?;
        write_private(&files.key, self.key_pem.as_bytes()).map_err(io(&files.key))?;
        Ok(files)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A fresh directory for the certificates under the system's temporary
/// directory: `mercury-sim-tls-PID-N`.
pub fn fresh_tls_dir() -> Result<PathBuf, SimulatorError> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let dir = base.join(format!("mercury-sim-tls-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(SimulatorError::TlsFiles { path: dir, source }),
        }
    }
    Err(SimulatorError::Tls(format!(
        "no free directory name under {}",
        base.display()
    )))
}
