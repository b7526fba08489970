//! Serving a raw capture of one's own (`collector sim EXCHANGE
//! --replay-file RAWFILE`): any session `collector record` captured
//! becomes a test.
//!
//! Each client that connects gets, after its first message (its
//! subscribe), the `recv` frames of one recorded connection — the first
//! `conn` of the file, or [`CaptureSource::conn`] — from that connection's
//! first attempt (up to its first `reconnect`, `close`, `stopping`, …), in
//! order, at their recorded pace divided by [`CaptureSource::speed`]
//! (each pause at most [`MAX_PAUSE`]), or back to back without a speed.
//! Then it goes quiet (the client's own timeouts decide). Every client
//! reads the file afresh, streamed: memory does not grow with the file.
//!
//! The file is zstd (`.zst`, before any `.partial`) or plain JSON Lines;
//! lines are parsed by [`mercury_core::raw_line`]. A line that is not a
//! record is skipped; a torn tail (a crash) ends the capture early. The
//! frames the venue of the exchange would send for a fault (a 429, a
//! padded image) still come from that venue.

use mercury_core::raw_line::{RawLine, RawLineEvent};
use mercury_core::{Timestamp, Venue, VenueFault};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::time::Duration;
use tracing::warn;

/// The longest pause between two frames.
pub const MAX_PAUSE: Duration = Duration::from_secs(10);
/// The longest line read (a record of a 16 MiB frame, escaped).
const MAX_LINE: u64 = 128 << 20;
/// How often a client that has not subscribed yet is looked at.
const POLL: Duration = Duration::from_millis(10);
/// The wait once the capture is exhausted.
const QUIET: Duration = Duration::from_secs(3600);

/// Where a raw capture comes from.
#[derive(Debug, Clone)]
pub enum CaptureFile {
    /// A file (`collector sim EXCHANGE --replay-file RAWFILE`).
    Path(PathBuf),
    /// A capture embedded in the binary: an exchange's
    /// [`embedded_capture`](mercury_core::Exchange::embedded_capture)
    /// (`collector sim EXCHANGE --replay`), plain JSON Lines.
    Embedded(&'static str),
}

impl std::fmt::Display for CaptureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureFile::Path(path) => write!(f, "{}", path.display()),
            CaptureFile::Embedded(_) => f.write_str("the embedded capture"),
        }
    }
}

/// Which capture to serve, and how.
#[derive(Debug, Clone)]
pub struct CaptureSource {
    /// The raw capture.
    pub file: CaptureFile,
    /// The recorded connection to serve (`None`: the file's first).
    pub conn: Option<u64>,
    /// `Some(n)`: the recorded pace, n times faster; `None`: back to back.
    pub speed: Option<u32>,
}

impl CaptureSource {
    /// Opens the file, to check it can be read before serving.
    pub fn check(&self) -> std::io::Result<()> {
        self.open().map(drop)
    }

    fn open(&self) -> std::io::Result<Box<dyn BufRead + Send>> {
        let path = match &self.file {
            CaptureFile::Path(path) => path,
            CaptureFile::Embedded(text) => return Ok(Box::new(text.as_bytes())),
        };
        let file = std::fs::File::open(path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = name.strip_suffix(".partial").unwrap_or(name);
        let source: Box<dyn Read + Send> = match name.ends_with(".zst") {
            true => Box::new(zstd::stream::read::Decoder::new(file)?),
            false => Box::new(file),
        };
        Ok(Box::new(BufReader::with_capacity(256 << 10, source)))
    }
}

/// A venue that plays a capture to one client. See the module docs.
pub(crate) struct CaptureVenue {
    lines: Option<Box<dyn BufRead + Send>>,
    line: Vec<u8>,
    /// The exchange's own venue, for its fault frames.
    inner: Box<dyn Venue>,
    exchange: String,
    conn: Option<u64>,
    speed: Option<u32>,
    subscribed: bool,
    /// The next frame to send and its recorded time.
    next: Option<(i64, String)>,
    last_at: Option<i64>,
}

impl CaptureVenue {
    pub(crate) fn new(
        source: &CaptureSource,
        exchange: &str,
        inner: Box<dyn Venue>,
    ) -> std::io::Result<Self> {
        let mut venue = CaptureVenue {
            lines: Some(source.open()?),
            line: Vec::with_capacity(4096),
            inner,
            exchange: exchange.to_owned(),
            conn: source.conn,
            speed: source.speed,
            subscribed: false,
            next: None,
            last_at: None,
        };
        venue.advance();
        Ok(venue)
    }

    /// Reads on to the chosen connection's next frame (`self.next`), or
    /// to the end of its first attempt.
    fn advance(&mut self) {
        while let Some(lines) = self.lines.as_mut() {
            self.line.clear();
            let read = lines.take(MAX_LINE).read_until(b'\n', &mut self.line);
            if !matches!(read, Ok(n) if n > 0) || self.line.last() != Some(&b'\n') {
                if let Err(error) = read {
                    warn!(%error, "the capture ends in a torn write");
                }
                self.lines = None;
                return;
            }
            let Ok(record) = serde_json::from_slice::<RawLine>(&self.line) else {
                continue;
            };
            if record.exchange != self.exchange || self.conn.is_some_and(|c| c != record.conn) {
                continue;
            }
            match (record.event(), record.text) {
                (RawLineEvent::Recv, Some(text)) => {
                    self.conn = Some(record.conn);
                    self.next = Some((record.at_ns, text.into_owned()));
                    return;
                }
                (
                    RawLineEvent::Connecting
                    | RawLineEvent::Reconnect
                    | RawLineEvent::Close
                    | RawLineEvent::Stopping
                    | RawLineEvent::Failed
                    | RawLineEvent::Stopped,
                    _,
                ) if self.last_at.is_some() => {
                    // The first attempt is over.
                    self.lines = None;
                }
                _ => {}
            }
        }
    }
}

impl Venue for CaptureVenue {
    fn fault_frame(&self, fault: VenueFault<'_>) -> Option<String> {
        self.inner.fault_frame(fault)
    }

    fn on_connect(&mut self, _query: Option<&str>, _now: Timestamp, _out: &mut Vec<String>) {}

    fn on_text(&mut self, _text: &str, _now: Timestamp, _out: &mut Vec<String>) {
        self.subscribed = true;
    }

    fn next_event_in(&self) -> Duration {
        // Never zero before the subscribe: the server would take the venue
        // for a firehose and spin.
        match (&self.next, self.last_at, self.speed) {
            _ if !self.subscribed => POLL,
            (None, _, _) => QUIET,
            (Some((at, _)), Some(last), Some(speed)) => {
                let nanos = u64::try_from(at.saturating_sub(last)).unwrap_or(0);
                (Duration::from_nanos(nanos) / speed.max(1)).min(MAX_PAUSE)
            }
            (Some(_), _, _) => Duration::ZERO,
        }
    }

    fn on_event(&mut self, _now: Timestamp, out: &mut Vec<String>) {
        if !self.subscribed {
            return;
        }
        if let Some((at, frame)) = self.next.take() {
            self.last_at = Some(at);
            out.push(frame);
            self.advance();
        }
    }
}
