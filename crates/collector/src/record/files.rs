//! One file being written: `*.partial` while open, each flush one write
//! (an independent zstd frame when compressed), and at the end flushed,
//! fsynced and renamed to its finished name — never over an existing file.

use super::RecordError;
use mercury_core::Timestamp;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The zstd level of every compressed flush (zstd's own default).
const ZSTD_LEVEL: i32 = 3;
/// The suffix of a file being written.
pub const PARTIAL: &str = "partial";
/// How many `-N` suffixes are tried before giving up on a name.
const MAX_SUFFIX: u32 = 10_000;

/// When a file is finished and the next one begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// The length of a period (files are aligned on multiples of it since
    /// the Unix epoch, UTC: `1h` starts files on the hour).
    pub period: Duration,
    /// Finish a file once this many bytes of records (before compression)
    /// went into it; `None`: no size limit.
    pub max_bytes: Option<u64>,
}

impl Rotation {
    /// One file an hour, no size limit.
    pub const HOURLY: Rotation = Rotation {
        period: Duration::from_secs(3600),
        max_bytes: None,
    };

    /// The period `at` falls in, as `(start, end)` in Unix nanoseconds.
    pub fn period_of(&self, at: Timestamp) -> (i128, i128) {
        let length = (self.period.as_nanos() as i128).max(1);
        let start = at.unix_nanos().div_euclid(length) * length;
        (start, start + length)
    }
}

/// `YYYY-MM-DD` and `HHMMSS` of a period's start, UTC.
pub fn date_and_time(start: i128) -> (String, String) {
    let text = Timestamp::from_unix_nanos(start).to_string();
    match (text.get(0..10), text.get(11..19)) {
        (Some(date), Some(time)) if text.len() == 24 => (date.to_owned(), time.replace(':', "")),
        _ => ("out-of-range".to_owned(), start.to_string()),
    }
}

/// The directory of `quote`'s files for the period starting at `start`,
/// and the period's `HHMMSS`: `ROOT/<exchange>/<symbol>/<kind>/<YYYY-MM-DD>`.
pub fn quote_partition(root: &Path, quote: &mercury_core::Quote, start: i128) -> (PathBuf, String) {
    let (date, time) = date_and_time(start);
    let dir = root
        .join(path_component(quote.exchange.as_str()))
        .join(path_component(quote.symbol.as_str()))
        .join(quote.kind.as_str())
        .join(date);
    (dir, time)
}

/// `text` as one safe path component: ASCII letters, digits, `.`, `_`
/// and `-` stay, every other byte becomes `%XX`; `.`, `..` and the empty
/// string are escaped too. Symbols come from the network.
pub fn path_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-') {
            out.push(byte as char);
        } else if byte == b'.' && !text.bytes().all(|b| b == b'.') {
            out.push('.');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.is_empty() { "%".to_owned() } else { out }
}

/// A file being written. See the module docs.
#[derive(Debug)]
pub struct PartialFile {
    file: File,
    /// Where it is being written (`….partial`).
    partial: PathBuf,
    /// The finished name it will take (or its next free suffix).
    dir: PathBuf,
    stem: String,
    extension: String,
    compress: bool,
    buffer: Vec<u8>,
    /// Bytes of records written into it (before compression).
    pub bytes: u64,
    /// Records written into it.
    pub records: u64,
    /// Bytes written to disk so far (after compression).
    pub written: u64,
    /// The end of its period, in Unix nanoseconds.
    pub period_end: i128,
}

impl PartialFile {
    /// Creates `DIR/STEM[-N].EXTENSION.partial` with the first `N` for
    /// which neither it nor the finished name exists (so a restart never
    /// writes into an earlier file, finished or crashed).
    pub fn create(
        dir: &Path,
        stem: &str,
        extension: &str,
        compress: bool,
        period_end: i128,
    ) -> Result<Self, RecordError> {
        fs::create_dir_all(dir).map_err(|e| RecordError::io("create the directory", dir, e))?;
        for n in 0..MAX_SUFFIX {
            let stem = if n == 0 {
                stem.to_owned()
            } else {
                format!("{stem}-{n}")
            };
            let finished = dir.join(format!("{stem}.{extension}"));
            let partial = dir.join(format!("{stem}.{extension}.{PARTIAL}"));
            if finished.exists() {
                continue;
            }
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&partial)
            {
                Ok(file) => {
                    return Ok(PartialFile {
                        file,
                        partial,
                        dir: dir.to_owned(),
                        stem,
                        extension: extension.to_owned(),
                        compress,
                        buffer: Vec::with_capacity(64 << 10),
                        bytes: 0,
                        records: 0,
                        written: 0,
                        period_end,
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RecordError::io("create", &partial, e)),
            }
        }
        Err(RecordError::NoFreeName(dir.join(stem)))
    }

    /// Appends one record (its bytes, newline included) to the buffer.
    pub fn push(&mut self, record: &[u8]) {
        self.buffer.extend_from_slice(record);
        self.bytes += record.len() as u64;
        self.records += 1;
    }

    /// Bytes waiting for the next flush.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Writes what is buffered: one write, one zstd frame when compressed.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let result = if self.compress {
            zstd::bulk::compress(&self.buffer, ZSTD_LEVEL)
                .and_then(|frame| self.file.write_all(&frame).map(|()| frame.len()))
        } else {
            self.file
                .write_all(&self.buffer)
                .map(|()| self.buffer.len())
        };
        let written = result.map_err(|e| RecordError::io("write", &self.partial, e))?;
        self.written += written as u64;
        self.buffer.clear();
        Ok(())
    }

    /// [`finish`](Self::finish), and the bytes written to disk in all.
    pub fn finish_counted(mut self) -> Result<(PathBuf, u64), RecordError> {
        self.flush()?;
        let written = self.written;
        self.finish().map(|path| (path, written))
    }

    /// Flushes, fsyncs and renames the file to its finished name (the
    /// next free `-N` if another file took it meanwhile); returns it.
    pub fn finish(mut self) -> Result<PathBuf, RecordError> {
        self.flush()?;
        self.file
            .sync_all()
            .map_err(|e| RecordError::io("fsync", &self.partial, e))?;
        rename_to_free_name(&self.partial, &self.dir, &self.stem, &self.extension)
    }

    /// Where the file is being written (`….partial`).
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }
}

#[cfg(test)]
impl PartialFile {
    /// A file named `DIR/x.EXTENSION.partial` whose every write fails with
    /// "no space left on device" (it writes to `/dev/full`).
    pub(crate) fn on_a_full_disk(dir: &Path, extension: &str) -> PartialFile {
        let partial = dir.join(format!("x.{extension}.{PARTIAL}"));
        let _ = fs::write(&partial, b"");
        let file = OpenOptions::new().write(true).open("/dev/full");
        PartialFile {
            file: file.unwrap_or_else(|e| panic!("/dev/full: {e}")),
            partial,
            dir: dir.to_owned(),
            stem: "x".into(),
            extension: extension.into(),
            compress: false,
            buffer: Vec::new(),
            bytes: 0,
            records: 0,
            written: 0,
            period_end: i128::MAX,
        }
    }
}

/// Bytes written through `Write` are buffered like records (without
/// counting a record); `flush` is [`PartialFile::flush`]. For writers that
/// frame their own bytes (Parquet).
impl Write for PartialFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        self.bytes += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        PartialFile::flush(self).map_err(|e| match e {
            RecordError::Io { cause, .. } => cause,
            other => std::io::Error::other(other.to_string()),
        })
    }
}

/// Renames the (fsynced) file `partial` to `DIR/STEM.EXTENSION`, or the
/// first free `STEM-N.EXTENSION`, never replacing a file; fsyncs the
/// directory; returns the finished path.
pub(crate) fn rename_to_free_name(
    partial: &Path,
    dir: &Path,
    stem: &str,
    extension: &str,
) -> Result<PathBuf, RecordError> {
    for n in 0..MAX_SUFFIX {
        let stem = match n {
            0 => stem.to_owned(),
            n => format!("{stem}-{n}"),
        };
        let finished = dir.join(format!("{stem}.{extension}"));
        // A hard link never replaces an existing file, unlike rename.
        match fs::hard_link(partial, &finished) {
            Ok(()) => {
                fs::remove_file(partial).map_err(|e| RecordError::io("remove", partial, e))?;
                if let Ok(dir_file) = File::open(dir) {
                    // The rename itself survives a power cut.
                    dir_file
                        .sync_all()
                        .map_err(|e| RecordError::io("fsync", dir, e))?;
                }
                return Ok(finished);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RecordError::io("rename", partial, e)),
        }
    }
    Err(RecordError::NoFreeName(partial.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_safe() {
        assert_eq!(path_component("XBTUSD"), "XBTUSD");
        assert_eq!(path_component("BTC-PERP_1.5"), "BTC-PERP_1.5");
        assert_eq!(path_component("../etc"), "..%2Fetc");
        assert_eq!(path_component(".."), "%2E%2E");
        assert_eq!(path_component(""), "%");
        assert_eq!(path_component("a b\n"), "a%20b%0A");
    }

    #[test]
    fn periods_are_aligned() {
        let hourly = Rotation::HOURLY;
        let t = Timestamp::from_unix_nanos(3_600_000_000_000 * 5 + 42);
        assert_eq!(
            hourly.period_of(t),
            (3_600_000_000_000 * 5, 3_600_000_000_000 * 6)
        );
        let (date, time) = date_and_time(hourly.period_of(t).0);
        assert_eq!((date.as_str(), time.as_str()), ("1970-01-01", "050000"));
    }

    #[test]
    fn a_new_file_never_takes_an_existing_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.jsonl"), "finished\n").unwrap();
        fs::write(dir.path().join("x-1.jsonl.partial"), "crashed\n").unwrap();
        let mut file = PartialFile::create(dir.path(), "x", "jsonl", false, 0).unwrap();
        file.push(b"new\n");
        let path = file.finish().unwrap();
        assert_eq!(path, dir.path().join("x-2.jsonl"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("x.jsonl")).unwrap(),
            "finished\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("x-1.jsonl.partial")).unwrap(),
            "crashed\n"
        );
        assert!(!dir.path().join("x-2.jsonl.partial").exists());
    }

    #[test]
    fn a_failed_write_never_becomes_a_finished_file() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("x.jsonl.partial");
        fs::write(&partial, b"").unwrap();
        // Every write to /dev/full fails with "no space left on device".
        let file = OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut file = PartialFile {
            file,
            partial: partial.clone(),
            dir: dir.path().to_owned(),
            stem: "x".into(),
            extension: "jsonl".into(),
            compress: true,
            buffer: Vec::new(),
            bytes: 0,
            records: 0,
            written: 0,
            period_end: 0,
        };
        file.push(b"a record\n");
        let error = file.flush().unwrap_err().to_string();
        assert!(
            error.starts_with("cannot write ") && error.contains("x.jsonl.partial"),
            "{error}"
        );
        assert!(file.finish().is_err());
        assert!(partial.exists() && !dir.path().join("x.jsonl").exists());
    }
}
