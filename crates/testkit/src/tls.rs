//! TLS servers that fail in one precise way, for testing what a client
//! says about it: a certificate authority made on the spot ([`TestPki`]),
//! leaves for any name (or expired), and a [`TlsServer`] on 127.0.0.1:0
//! that completes the handshake and hangs up, offers only `h2` by ALPN,
//! never answers the ClientHello, or cuts the connection during the
//! handshake. Blocking rustls on plain threads: no runtime needed.
#![allow(clippy::expect_used)] // test support: a server that cannot start must fail the test

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A certificate authority for one test, with its PEM written to a file.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_path: PathBuf,
}

/// A server certificate and its key.
#[derive(Debug)]
pub struct Leaf {
    /// The certificate, signed by the [`TestPki`]'s CA.
    pub cert: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestPki {
    /// A fresh CA; its PEM is written to `DIR/mercury-testpki-PID-NAME.pem`
    /// under the system's temporary directory.
    pub fn new(name: &str) -> TestPki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "mercury test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        let ca_path =
            std::env::temp_dir().join(format!("mercury-testpki-{}-{name}.pem", std::process::id()));
        std::fs::write(&ca_path, ca.pem()).expect("write the CA");
        TestPki { ca, ca_path }
    }

    /// The CA's PEM file.
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// The CA's certificate.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A leaf valid for `names` (DNS names or IP addresses), signed by the
    /// CA; `expired` makes it valid only during 2020.
    pub fn leaf(&self, names: &[&str], expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "mercury test server");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.ca).expect("leaf certificate");
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_path);
    }
}

/// What a [`TlsServer`] does with each connection.
#[derive(Debug)]
pub enum TlsBehaviour {
    /// Completes the TLS handshake with this leaf (or fails it as rustls
    /// decides, e.g. on an ALPN mismatch), offering `alpn` (empty: no
    /// ALPN), then hangs up.
    Handshake {
        /// The certificate presented.
        leaf: Leaf,
        /// The ALPN protocols the server accepts (e.g. only `h2`).
        alpn: Vec<Vec<u8>>,
    },
    /// Accepts TCP and never answers the ClientHello.
    Stall,
    /// Waits for the ClientHello and resets the connection (RST: closed
    /// with the hello unread).
    Reset,
    /// Reads the ClientHello and closes the connection (FIN).
    Eof,
}

/// A TLS (or would-be TLS) server on 127.0.0.1:0, on threads of its own,
/// until dropped.
pub struct TlsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TlsServer {
    /// Starts serving `behaviour` to every connection.
    pub fn start(behaviour: TlsBehaviour) -> TlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let config = match &behaviour {
            TlsBehaviour::Handshake { leaf, alpn } => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let mut config = rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("protocol versions")
                    .with_no_client_auth()
                    .with_single_cert(vec![leaf.cert.clone()], leaf.key.clone_key())
                    .expect("server certificate");
                config.alpn_protocols.clone_from(alpn);
                Some(Arc::new(config))
            }
            _ => None,
        };
        let kind = match behaviour {
            TlsBehaviour::Handshake { .. } => 0,
            TlsBehaviour::Stall => 1,
            TlsBehaviour::Reset => 2,
            TlsBehaviour::Eof => 3,
        };
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                let config = config.clone();
                let stopped = stopped.clone();
                std::thread::spawn(move || match (kind, config) {
                    (0, Some(config)) => handshake(tcp, config),
                    (1, _) => stall(tcp, &stopped),
                    (2, _) => reset(tcp),
                    _ => eof(tcp),
                });
            }
        });
        TlsServer { addr, stop }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `wss://localhost:PORT/realtime`.
    pub fn url(&self) -> String {
        format!("wss://localhost:{}/realtime", self.addr.port())
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn handshake(mut tcp: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut tls) = rustls::ServerConnection::new(config) else {
        return;
    };
    while tls.is_handshaking() {
        // On an error rustls sends its alert before returning it.
        if tls.complete_io(&mut tcp).is_err() {
            return;
        }
    }
    let _ = tls.complete_io(&mut tcp);
}

fn stall(tcp: TcpStream, stop: &AtomicBool) {
    for _ in 0..600 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(tcp);
}

fn reset(tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    // Closing a socket with unread data makes the kernel send a RST.
    let mut byte = [0u8; 1];
    let _ = tcp.peek(&mut byte);
    std::thread::sleep(Duration::from_millis(20));
    drop(tcp);
}

fn eof(mut tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let mut hello = [0u8; 4096];
    let _ = tcp.read(&mut hello);
    let _ = tcp.shutdown(std::net::Shutdown::Both);
}
