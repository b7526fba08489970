//! Reading one raw capture file as a stream of records, in file order,
//! with bounded memory: zstd (`.zst`, a sequence of frames) or plain
//! JSON Lines, finished or `.partial`.
//!
//! What a crash leaves is read as far as it goes: a torn zstd frame, or a
//! last line without its newline, ends the file with a warning
//! ([`FileReport::torn`]), not an error. A line that does not parse, or
//! longer than [`MAX_LINE`], is skipped and counted.

use mercury_core::excerpt;
use mercury_core::raw_line::{RawLine, RawLineEvent};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::warn;

/// The longest line read: a record of the largest frame the connector
/// accepts (16 MiB), every byte escaped, and then some.
pub const MAX_LINE: usize = 128 << 20;
/// Bytes read from the file at a time.
const READ_BUFFER: usize = 256 << 10;

/// One record, owned, as the replay needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// When it happened (ns since the epoch, UTC).
    pub at_ns: i64,
    /// The recorded connection.
    pub conn: u64,
    /// The exchange's id (shared by the records of a file while it does
    /// not change).
    pub exchange: Arc<str>,
    /// What happened.
    pub event: RawLineEvent,
    /// A `recv`'s message.
    pub payload: Payload,
    /// A `subscriptions` record's entries (`SYMBOL:kind`).
    pub subscriptions: Vec<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Payload {
    /// Not a `recv`.
    #[default]
    None,
    /// A text message.
    Text(String),
    /// A binary message, still base64 as recorded.
    Base64(String),
}

/// What reading a file found besides its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Records read.
    pub records: u64,
    /// Lines skipped: not a record, or too long.
    pub bad_lines: u64,
    /// The file ended in a torn write (a crash): why.
    pub torn: Option<String>,
}

/// One file's records, in order.
pub struct RawFileReader {
    lines: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    report: FileReport,
    ended: bool,
    /// The last exchange id read, shared by the records that repeat it.
    exchange: Arc<str>,
}

impl std::fmt::Debug for RawFileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawFileReader")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// How reading one line ended.
enum LineEnd {
    Line,
    TooLong,
    /// The end of the file, after a last line without its newline (torn).
    Torn,
    End,
}

impl RawFileReader {
    /// Opens `path`: zstd if its name has `.zst` (before any `.partial`).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = name.strip_suffix(".partial").unwrap_or(name);
        let source: Box<dyn Read + Send> = match name.ends_with(".zst") {
            true => Box::new(zstd::stream::read::Decoder::new(file)?),
            false => Box::new(file),
        };
        Ok(RawFileReader {
            lines: Box::new(BufReader::with_capacity(READ_BUFFER, source)),
            line: Vec::with_capacity(4096),
            report: FileReport {
                path: path.to_owned(),
                ..FileReport::default()
            },
            ended: false,
            exchange: Arc::from(""),
        })
    }

    /// The next record, or `None` at the end (or a torn tail).
    pub fn next_record(&mut self) -> Option<ReplayRecord> {
        while !self.ended {
            match self.read_line() {
                Ok(LineEnd::Line) => match parse(&self.line, &mut self.exchange) {
                    Some(record) => {
                        self.report.records += 1;
                        return Some(record);
                    }
                    None => self.bad_line(),
                },
                Ok(LineEnd::TooLong) => self.bad_line(),
                Ok(LineEnd::Torn) => self.torn(format!(
                    "a last line of {} bytes without its newline",
                    self.line.len()
                )),
                Ok(LineEnd::End) => self.ended = true,
                Err(error) => self.torn(error.to_string()),
            }
        }
        None
    }

    /// What was found so far (all of it once [`next_record`](Self::next_record) answered `None`).
    pub fn report(&self) -> &FileReport {
        &self.report
    }

    fn bad_line(&mut self) {
        self.report.bad_lines += 1;
        if self.report.bad_lines <= 3 {
            let text = String::from_utf8_lossy(&self.line);
            warn!(file = %self.report.path.display(), line = %excerpt(&text), "skipping a line that is not a raw record");
        }
    }

    fn torn(&mut self, why: String) {
        warn!(file = %self.report.path.display(), %why, "the file ends in a torn write (a crash?); what came before is replayed");
        self.report.torn = Some(why);
        self.ended = true;
    }

    /// Reads one line (without its newline) into `self.line`, keeping at
    /// most [`MAX_LINE`] bytes of it.
    fn read_line(&mut self) -> io::Result<LineEnd> {
        self.line.clear();
        let mut too_long = false;
        loop {
            let buffer = self.lines.fill_buf()?;
            if buffer.is_empty() {
                return Ok(match (self.line.is_empty() && !too_long, too_long) {
                    (true, _) => LineEnd::End,
                    _ => LineEnd::Torn,
                });
            }
            let (part, found) = match buffer.iter().position(|&b| b == b'\n') {
                Some(at) => (&buffer[..at], Some(at)),
                None => (buffer, None),
            };
            if !too_long && self.line.len() + part.len() <= MAX_LINE {
                self.line.extend_from_slice(part);
            } else {
                too_long = true;
                self.line.clear();
            }
            let used = found.map_or(part.len(), |at| at + 1);
            self.lines.consume(used);
            if found.is_some() {
                return Ok(if too_long {
                    LineEnd::TooLong
                } else {
                    LineEnd::Line
                });
            }
        }
    }
}

/// One line as a record, if it is one; `exchange` is the last id read
/// (reused when the same, else replaced).
pub(crate) fn parse(line: &[u8], exchange: &mut Arc<str>) -> Option<ReplayRecord> {
    let line: RawLine = serde_json::from_slice(line).ok()?;
    let event = line.event();
    let payload = match (event, line.text, line.bin) {
        (RawLineEvent::Recv, Some(text), _) => Payload::Text(text.into_owned()),
        (RawLineEvent::Recv, None, Some(bin)) => Payload::Base64(bin.into_owned()),
        (RawLineEvent::Recv, None, None) => return None,
        _ => Payload::None,
    };
    if **exchange != *line.exchange {
        *exchange = Arc::from(line.exchange.as_ref());
    }
    Some(ReplayRecord {
        at_ns: line.at_ns,
        conn: line.conn,
        exchange: exchange.clone(),
        event,
        payload,
        subscriptions: line.subscriptions.unwrap_or_default(),
    })
}
