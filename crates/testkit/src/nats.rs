//! A real `nats-server` with JetStream for tests: started on `127.0.0.1`
//! with a port chosen by the server (`-p -1`, read back from its ports
//! file), a store directory of its own, and stopped by its pid.
//!
//! Never a mock: the tests of the NATS sink and of `collector consume` run
//! against Debian's `nats-server` (installed by `.ci/run` where missing).
//! Where the binary is missing, [`NatsServer::available`] says so and a
//! test may skip, saying why — unless `MERCURY_REQUIRE_NATS=1` (set by
//! `.ci/run`), where it must fail.
//!
//! The server can be killed (`SIGKILL`), paused (`SIGSTOP`) and continued
//! (`SIGCONT`), and restarted on the same port and store, as the fault
//! tests need.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to write its ports file.
const START_LIMIT: Duration = Duration::from_secs(20);

/// Extra options for a server: authentication and TLS.
#[derive(Debug, Clone, Default)]
pub struct NatsOptions {
    /// Require this token (`--auth`).
    pub token: Option<String>,
    /// Require this user and password (`--user`, `--pass`).
    pub user_password: Option<(String, String)>,
    /// Serve TLS with this certificate and key (PEM files): `--tls`.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running `nats-server -js`, stopped (SIGKILL, by pid) when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
    dir: PathBuf,
    options: NatsOptions,
}

impl NatsServer {
    /// The server binary: `MERCURY_NATS_SERVER`, else `nats-server` on
    /// the `PATH`, else Debian's `/usr/sbin/nats-server`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("MERCURY_NATS_SERVER") {
            return Some(PathBuf::from(path));
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    }

    /// Whether a test can run: `Ok` with a server binary; `Err(why)`
    /// without one. Panics when `MERCURY_REQUIRE_NATS=1` and it is missing.
    pub fn available() -> Result<PathBuf, String> {
        match Self::binary() {
            Some(path) => Ok(path),
            None if std::env::var("MERCURY_REQUIRE_NATS").as_deref() == Ok("1") => {
                panic!("MERCURY_REQUIRE_NATS=1 but no nats-server was found")
            }
            None => {
                Err("no nats-server on this machine (apt-get install nats-server); skipping".into())
            }
        }
    }

    /// Starts a server with JetStream, its store under `dir/store`.
    pub fn start(dir: &Path) -> NatsServer {
        Self::start_with(dir, NatsOptions::default())
    }

    /// Starts a server with `options`.
    pub fn start_with(dir: &Path, options: NatsOptions) -> NatsServer {
        let mut server = NatsServer {
            child: None,
            port: 0,
            store: dir.join("store"),
            dir: dir.to_path_buf(),
            options,
        };
        server.launch(None);
        server
    }

    /// The client URL, `nats://127.0.0.1:PORT` (`tls://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.options.tls.is_some() {
            "tls"
        } else {
            "nats"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's log file.
    pub fn log(&self) -> PathBuf {
        self.dir.join("nats-server.log")
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts a killed server on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port;
        self.launch(Some(port));
    }

    /// Pauses the server (SIGSTOP): it keeps its sockets but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Continues a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid() {
            let status = Command::new("kill")
                .arg(signal)
                .arg(pid.to_string())
                .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "kill {signal} {pid} failed"
            );
        }
    }

    fn launch(&mut self, port: Option<u16>) {
        let binary = Self::binary().unwrap_or_else(|| panic!("no nats-server found"));
        let ports_dir = self.dir.join("ports");
        let _ = std::fs::remove_dir_all(&ports_dir);
        std::fs::create_dir_all(&ports_dir).unwrap_or_else(|e| panic!("ports dir: {e}"));
        let mut command = Command::new(binary);
        command
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(port.map_or("-1".to_string(), |p| p.to_string()))
            .arg("-sd")
            .arg(&self.store)
            .arg("--ports_file_dir")
            .arg(&ports_dir)
            .arg("-l")
            .arg(self.log());
        if let Some(token) = &self.options.token {
            command.args(["--auth", token]);
        }
        if let Some((user, password)) = &self.options.user_password {
            command.args(["--user", user, "--pass", password]);
        }
        if let Some((cert, key)) = &self.options.tls {
            command
                .arg("--tls")
                .arg("--tlscert")
                .arg(cert)
                .arg("--tlskey")
                .arg(key);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        let pid = child.id();
        self.child = Some(child);
        self.port = self.wait_for_port(&ports_dir, pid);
    }

    /// Reads the client port from the ports file the server writes once
    /// it listens (`{"nats":["nats://127.0.0.1:PORT"], …}`).
    fn wait_for_port(&mut self, ports_dir: &Path, pid: u32) -> u16 {
        let file = ports_dir.join(format!("nats-server_{pid}.ports"));
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if let Some(port) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| client_port(&text))
            {
                return port;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.log()).unwrap_or_default();
                panic!("nats-server exited ({status}) before listening:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("nats-server wrote no ports file within {START_LIMIT:?}");
    }
}

/// The client port in a ports file's JSON.
fn client_port(text: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let url = value.get("nats")?.as_array()?.first()?.as_str()?;
    url.rsplit(':').next()?.parse().ok()
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A paused server must be continued to die promptly on some kernels.
        self.resume();
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_a_ports_file() {
        let text = r#"{"nats":["nats://127.0.0.1:41234"],"monitoring":[]}"#;
        assert_eq!(client_port(text), Some(41234));
        assert_eq!(client_port("{}"), None);
    }

    #[test]
    fn a_real_server_starts_restarts_on_its_port_and_stops() {
        if let Err(why) = NatsServer::available() {
            eprintln!("{why}");
            return;
        }
        let dir = std::env::temp_dir().join(format!("mercury-nats-{}", std::process::id()));
        let mut server = NatsServer::start(&dir);
        let port = server.port();
        assert!(port > 0);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        server.restart();
        assert_eq!(server.port(), port);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        let pid = server.pid().unwrap_or_default();
        drop(server);
        assert!(!Path::new(&format!("/proc/{pid}")).exists() || is_zombie_or_gone(pid));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn is_zombie_or_gone(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| stat.contains(") Z "))
            .unwrap_or(true)
    }
}
