//! The frame log: every frame the simulator sends, as JSON Lines, so a test
//! can compute the exact quotes a client should report.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The connection, numbered from 1 in order of arrival.
    pub connection: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: LogEvent,
}

/// What a log line records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum LogEvent {
    /// A text frame was sent.
    Sent {
        /// The frame.
        frame: String,
    },
    /// The upgrade was refused with this HTTP status.
    Refused {
        /// The status.
        status: u16,
    },
    /// The server closed with this code.
    Closed {
        /// The close code.
        code: u16,
    },
    /// The server dropped the TCP connection.
    Dropped,
    /// The server stalled.
    Stalled,
    /// The server wrote a malformed frame and dropped the TCP connection.
    Malformed,
}

/// Appends [`LogEntry`] lines to a file; flushed line by line.
#[derive(Debug)]
pub struct FrameLog(Mutex<BufWriter<File>>);

impl FrameLog {
    /// Creates (truncates) the log file.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(FrameLog(Mutex::new(BufWriter::new(File::create(path)?))))
    }

    /// Appends one entry. Logging failures are reported once in tracing and
    /// otherwise ignored: the log must never stop the simulator.
    pub fn write(&self, entry: &LogEntry) {
        if let Ok(mut file) = self.0.lock() {
            let written = serde_json::to_writer(&mut *file, entry)
                .map_err(std::io::Error::from)
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.flush());
            if let Err(error) = written {
                tracing::warn!(%error, "cannot write the simulator's frame log");
            }
        }
    }
}

/// Reads a log back (for tests and tools).
pub fn read_log(path: &Path) -> std::io::Result<Vec<LogEntry>> {
    std::fs::read_to_string(path)?
        .lines()
        .map(|line| serde_json::from_str(line).map_err(std::io::Error::from))
        .collect()
}

/// The text frames sent on each connection, in order, keyed by connection
/// number: what a client on that connection can have received.
pub fn sent_by_connection(entries: &[LogEntry]) -> BTreeMap<u64, Vec<&str>> {
    let mut sent: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for entry in entries {
        if let LogEvent::Sent { frame } = &entry.event {
            sent.entry(entry.connection).or_default().push(frame);
        }
    }
    sent
}
