//! A WebSocket server on raw sockets, for what no well-behaved server
//! library will send: masked server frames, reserved bits, unknown
//! opcodes, any byte wrong — or an upgrade that is never answered.
//!
//! It listens on `127.0.0.1:0`, plays a [`RawScript`] to every connection
//! on a thread of its own, and records when each connection was accepted
//! and when the client went away, so tests can check that a client never
//! holds two connections at once. Every read waits at most
//! [`READ_LIMIT`]; everything stops when the server is dropped.

use crate::Step;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest a connection waits for the client in one step.
pub const READ_LIMIT: Duration = Duration::from_secs(10);
/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// The most bytes of an upgrade request read.
const MAX_REQUEST: usize = 16 << 10;

/// One thing the raw server does, in order.
#[derive(Debug, Clone)]
pub enum RawStep {
    /// What the scriptable server does ([`Step`]); `SendFragmented` is
    /// sent whole.
    Play(Step),
    /// Write these bytes as they are.
    Bytes(Vec<u8>),
    /// Write this many zero bytes, 64 KiB at a time, as fast as the
    /// client takes them (stops when it goes away).
    Flood(u64),
    /// Write these bytes this many times, as fast as the client takes
    /// them (stops when it goes away): a flood of whole frames.
    Repeat(Vec<u8>, u64),
    /// Send ping frames with a payload of this many bytes (at most 125)
    /// as fast as the socket takes them, reading nothing, until the client
    /// goes away or the time is up; then drop the connection. A client
    /// that queues a pong per ping grows without bound (issue #14, item 2).
    PingFlood {
        /// Payload bytes per ping.
        payload: usize,
        /// The longest the flood lasts.
        limit: Duration,
    },
}

/// What the raw server does with every connection.
#[derive(Debug, Clone)]
pub struct RawScript {
    /// Answer the upgrade with 101 (otherwise read the request and say
    /// nothing, ever).
    pub answer_upgrade: bool,
    /// The steps after the upgrade. When they end, the server answers
    /// `ping` with `pong` and echoes a Close until the client leaves.
    pub steps: Vec<RawStep>,
}

impl RawScript {
    /// Upgrade, then play `steps`.
    pub fn new(steps: Vec<RawStep>) -> Self {
        RawScript {
            answer_upgrade: true,
            steps,
        }
    }

    /// Accept TCP, read the upgrade request, and never answer.
    pub fn silent_upgrade() -> Self {
        RawScript {
            answer_upgrade: false,
            steps: Vec::new(),
        }
    }
}

/// When one connection came and went, as the server saw it.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionRecord {
    /// When the TCP connection was accepted.
    pub accepted: Instant,
    /// When the client was gone (EOF or a reset), if it has gone.
    pub gone: Option<Instant>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    records: Mutex<Vec<ConnectionRecord>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The raw server. Stops (and joins its threads) when dropped.
pub struct RawServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl RawServer {
    /// Listens on 127.0.0.1:0 and plays `script` to every connection.
    pub fn start(script: RawScript) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("raw server cannot bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("raw server has no address: {e}"));
        if let Err(e) = listener.set_nonblocking(true) {
            panic!("raw server: {e}");
        }
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let (shared, script) = (shared.clone(), Arc::new(script));
            std::thread::spawn(move || accept_loop(&listener, &shared, &script))
        };
        RawServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `ws://127.0.0.1:<port>/realtime`.
    pub fn url(&self) -> String {
        format!("ws://{}/realtime", self.addr)
    }

    /// Every connection so far, in the order they were accepted.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.shared
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The most connections that were open at the same time.
    pub fn most_at_once(&self) -> usize {
        let records = self.connections();
        records
            .iter()
            .map(|r| {
                records
                    .iter()
                    .filter(|o| o.accepted <= r.accepted && o.gone.is_none_or(|g| g > r.accepted))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let threads = self
            .shared
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, script: &Arc<RawScript>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((socket, _)) => {
                let index = shared.records.lock().map_or(0, |mut records| {
                    records.push(ConnectionRecord {
                        accepted: Instant::now(),
                        gone: None,
                    });
                    records.len() - 1
                });
                let (shared2, script) = (shared.clone(), script.clone());
                let thread = std::thread::spawn(move || {
                    let mut connection = Connection {
                        socket,
                        shared: shared2,
                        buffer: Vec::new(),
                    };
                    connection.play(&script);
                    connection.mark_gone(index);
                });
                if let Ok(mut threads) = shared.threads.lock() {
                    threads.push(thread);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// What reading the client produced.
enum ClientRead {
    Frame { opcode: u8, payload: Vec<u8> },
    Gone,
    Quiet,
}

struct Connection {
    socket: TcpStream,
    shared: Arc<Shared>,
    buffer: Vec<u8>,
}

impl Connection {
    fn play(&mut self, script: &RawScript) {
        if self.socket.set_nonblocking(false).is_err()
            || self.socket.set_read_timeout(Some(POLL)).is_err()
        {
            return;
        }
        let Some(key) = self.read_upgrade_request() else {
            return;
        };
        if !script.answer_upgrade {
            return self.until_gone(false);
        }
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(&key)
        );
        if self.socket.write_all(answer.as_bytes()).is_err() {
            return;
        }
        for step in &script.steps {
            if !self.step(step) {
                return;
            }
        }
        self.until_gone(true);
    }

    /// Plays one step; false when the connection is over.
    fn step(&mut self, step: &RawStep) -> bool {
        match step {
            RawStep::Bytes(bytes) => self.socket.write_all(bytes).is_ok(),
            RawStep::Flood(total) => self.flood(*total),
            RawStep::Repeat(bytes, times) => (0..*times).all(|_| {
                !self.shared.stop.load(Ordering::SeqCst) && self.socket.write_all(bytes).is_ok()
            }),
            RawStep::PingFlood { payload, limit } => {
                self.ping_flood(*payload, *limit);
                false
            }
            RawStep::Play(Step::Send(text) | Step::SendFragmented(text, _)) => {
                self.socket.write_all(&frame(0x1, text.as_bytes())).is_ok()
            }
            RawStep::Play(Step::SendBinary(bytes)) => {
                self.socket.write_all(&frame(0x2, bytes)).is_ok()
            }
            RawStep::Play(Step::Ping(bytes)) => self.socket.write_all(&frame(0x9, bytes)).is_ok(),
            RawStep::Play(Step::Pause(duration)) => {
                std::thread::sleep(*duration);
                true
            }
            RawStep::Play(Step::AwaitText(needle)) => self.await_text(needle),
            RawStep::Play(Step::Close(code)) => {
                let _ = self.socket.write_all(&frame(0x8, &code.to_be_bytes()));
                self.until_gone(false);
                false
            }
            RawStep::Play(Step::Drop) => false,
            RawStep::Play(Step::Stall) => {
                self.until_gone(false);
                false
            }
        }
    }

    fn flood(&mut self, total: u64) -> bool {
        let chunk = [0u8; 64 << 10];
        let mut left = total;
        while left > 0 && !self.shared.stop.load(Ordering::SeqCst) {
            let n = left.min(chunk.len() as u64) as usize;
            if self.socket.write_all(&chunk[..n]).is_err() {
                return false;
            }
            left -= n as u64;
        }
        true
    }

    /// Writes pings until the client leaves or `limit` passes, never
    /// reading; a write blocked by a client that reads nothing either
    /// looks at the clock every [`POLL`].
    fn ping_flood(&mut self, payload: usize, limit: Duration) {
        let one = frame(0x9, &vec![b'p'; payload.min(125)]);
        let batch: Vec<u8> = one.repeat((64 << 10) / one.len());
        let deadline = Instant::now() + limit;
        if self.socket.set_write_timeout(Some(POLL)).is_err() {
            return;
        }
        let mut at = 0;
        while Instant::now() < deadline && !self.shared.stop.load(Ordering::SeqCst) {
            match self.socket.write(&batch[at..]) {
                Ok(0) => return,
                Ok(n) => at = (at + n) % batch.len(),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
    }

    fn await_text(&mut self, needle: &str) -> bool {
        let deadline = Instant::now() + READ_LIMIT;
        while Instant::now() < deadline {
            match self.read_frame() {
                ClientRead::Frame {
                    opcode: 0x1,
                    payload,
                } if String::from_utf8_lossy(&payload).contains(needle) => return true,
                ClientRead::Gone => return false,
                _ => {}
            }
        }
        false
    }

    /// Reads until the client leaves (or the server stops), answering
    /// `ping` and echoing a Close when `answer` is set.
    fn until_gone(&mut self, answer: bool) {
        let deadline = Instant::now() + READ_LIMIT * 6;
        while Instant::now() < deadline {
            match self.read_frame() {
                ClientRead::Gone => return,
                ClientRead::Frame {
                    opcode: 0x1,
                    payload,
                } if answer && payload == b"ping" => {
                    let _ = self.socket.write_all(&frame(0x1, b"pong"));
                }
                ClientRead::Frame {
                    opcode: 0x8,
                    payload,
                } if answer => {
                    let _ = self.socket.write_all(&frame(0x8, &payload));
                }
                _ => {}
            }
        }
    }

    fn mark_gone(&self, index: usize) {
        if let Ok(mut records) = self.shared.records.lock()
            && let Some(record) = records.get_mut(index)
        {
            record.gone = Some(Instant::now());
        }
    }

    /// Fills the buffer with at least `n` bytes; false when the client is
    /// gone or the server stops.
    fn fill(&mut self, n: usize) -> Option<bool> {
        let mut chunk = [0u8; 4096];
        while self.buffer.len() < n {
            if self.shared.stop.load(Ordering::SeqCst) {
                return None;
            }
            match self.socket.read(&mut chunk) {
                Ok(0) => return None,
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Some(false);
                }
                Err(_) => return None,
            }
        }
        Some(true)
    }

    fn read_upgrade_request(&mut self) -> Option<String> {
        let deadline = Instant::now() + READ_LIMIT;
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let request = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                self.buffer.drain(..end + 4);
                return request.lines().find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("sec-websocket-key")
                        .then(|| value.trim().to_string())
                });
            }
            if self.buffer.len() > MAX_REQUEST || Instant::now() > deadline {
                return None;
            }
            self.fill(self.buffer.len() + 1)?;
        }
    }

    /// One client frame (client frames are masked), or why there is none.
    fn read_frame(&mut self) -> ClientRead {
        let header = |buffer: &[u8]| -> Option<(usize, usize)> {
            let short = usize::from(buffer.get(1)? & 0x7f);
            let (len, at) = match short {
                126 => (
                    usize::from(u16::from_be_bytes([*buffer.get(2)?, *buffer.get(3)?])),
                    4,
                ),
                127 => {
                    let bytes: [u8; 8] = buffer.get(2..10)?.try_into().ok()?;
                    (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
                }
                n => (n, 2),
            };
            Some((at + 4, len))
        };
        loop {
            if let Some((start, len)) = header(&self.buffer) {
                if len > MAX_REQUEST {
                    return ClientRead::Gone;
                }
                if self.buffer.len() >= start + len {
                    let opcode = self.buffer[0] & 0x0f;
                    let mask: [u8; 4] = [0, 1, 2, 3].map(|i| self.buffer[start - 4 + i]);
                    let payload = self.buffer[start..start + len]
                        .iter()
                        .enumerate()
                        .map(|(i, b)| b ^ mask[i % 4])
                        .collect();
                    self.buffer.drain(..start + len);
                    return ClientRead::Frame { opcode, payload };
                }
            }
            match self.fill(self.buffer.len() + 1) {
                None => return ClientRead::Gone,
                Some(false) => return ClientRead::Quiet,
                Some(true) => {}
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn accept_key(key: &str) -> String {
    String::from_utf8_lossy(&actix_http::ws::hash_key(key.as_bytes())).into_owned()
}

/// A server frame: FIN, `opcode`, unmasked `payload`.
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_with(0x80 | opcode, false, payload)
}

/// A frame with this first byte (FIN, RSV bits, opcode) and, if `masked`,
/// the mask bit set (a server must never mask).
pub fn frame_with(first: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&[0, 0, 0, 0]);
    }
    out.extend_from_slice(payload);
    out
}

/// The header of a text frame that claims `len` bytes of payload.
pub fn text_header(len: u64) -> Vec<u8> {
    let mut out = vec![0x81, 127];
    out.extend_from_slice(&len.to_be_bytes());
    out
}

/// The malformed server frames actix-http's parser refuses without
/// consuming them, each with its name.
pub fn malformed_frames() -> Vec<(&'static str, Vec<u8>)> {
    let text = br#"{"table":"instrument","action":"update","data":[]}"#;
    vec![
        ("masked", frame_with(0x81, true, text)),
        ("rsv1", frame_with(0x80 | 0x40 | 0x1, false, text)),
        ("opcode 3", frame_with(0x80 | 0x3, false, text)),
    ]
}
