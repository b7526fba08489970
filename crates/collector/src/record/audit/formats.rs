//! The audit's readers, one per file format, chosen by the file name's
//! extension ([`reader_for`]): plain JSON Lines (`.jsonl`) and zstd JSON
//! Lines (`.jsonl.zst`, a sequence of independent frames). Each reads a
//! file — finished or `.partial` — with its own decoder (the `zstd`
//! crate's frame decoder, then line splitting; serde_json parses the lines
//! in the audit), streaming, in bounded memory, and says how many leading
//! bytes hold complete records: what a repair keeps.
//!
//! CSV and Parquet quote files have readers of their own
//! ([`columnar`](super::columnar)); any other file is reported as
//! unrecognised — a problem, never a silent "ok".

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

/// The largest compressed zstd frame read (a flush of the writers is
/// 256 KiB of records plus one record, at most a 16 MiB frame).
pub const MAX_ZSTD_FRAME: usize = 64 << 20;
/// The largest decoded zstd frame, and the longest line, accepted.
pub const MAX_DECODED: u64 = 256 << 20;

/// One record as a reader hands it over.
#[derive(Debug)]
pub enum Record<'a> {
    /// One complete line of a line format (without its newline).
    Line(&'a [u8]),
}

/// What reading a file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Complete records read.
    pub records: u64,
    /// The leading bytes of the file that hold whole, readable records.
    pub kept_bytes: u64,
    /// The bytes after them (a write cut by a crash, or damage).
    pub torn_bytes: u64,
    /// Why reading stopped before the end, if it did (damage inside the
    /// file, not only a torn end: a frame that does not decode, a line
    /// the caller refused).
    pub damage: Option<String>,
}

/// Reads one file format. See the module docs.
pub trait Reader: Sync {
    /// The format's name in reports (`JSON Lines`, …).
    fn name(&self) -> &'static str;

    /// Reads `path`, handing each complete record to `visit`, which
    /// answers `Err(why)` to refuse it (the record and what follows count
    /// as damage, not as kept).
    fn scan(
        &self,
        path: &Path,
        visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
    ) -> io::Result<Scan>;

    /// Writes the part of crashed `partial` worth keeping, as found by
    /// `scan`, into `out`: by default its first `kept_bytes` bytes, copied
    /// (complete lines, complete zstd frames are valid files as they are).
    fn keep(&self, partial: &Path, scan: &Scan, out: &mut File) -> io::Result<()> {
        let mut source = File::open(partial)?.take(scan.kept_bytes);
        let copied = io::copy(&mut source, out)?;
        if copied != scan.kept_bytes {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while being repaired",
            ));
        }
        out.flush()
    }
}

/// The reader of a file named `name` (a `.partial` suffix ignored), if
/// its format is known.
pub fn reader_for(name: &str) -> Option<&'static dyn Reader> {
    let name = name.strip_suffix(".partial").unwrap_or(name);
    use super::columnar::{CsvQuotes, ParquetQuotes};
    if name.ends_with(".jsonl.zst") {
        Some(&ZstdJsonLines)
    } else if name.ends_with(".jsonl") {
        Some(&JsonLines)
    } else if name.ends_with(".csv.zst") {
        Some(&CsvQuotes { compressed: true })
    } else if name.ends_with(".csv") {
        Some(&CsvQuotes { compressed: false })
    } else if name.ends_with(".parquet") {
        Some(&ParquetQuotes)
    } else {
        None
    }
}

/// Plain JSON Lines.
#[derive(Debug)]
pub struct JsonLines;

impl Reader for JsonLines {
    fn name(&self) -> &'static str {
        "JSON Lines"
    }

    fn scan(
        &self,
        path: &Path,
        visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
    ) -> io::Result<Scan> {
        let file = File::open(path)?;
        let total = file.metadata()?.len();
        let mut reader = BufReader::with_capacity(256 << 10, file);
        let mut scan = Scan::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut reader)
                .take(MAX_DECODED)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                if read as u64 >= MAX_DECODED {
                    scan.damage = Some(format!("a line longer than {MAX_DECODED} bytes"));
                }
                break;
            }
            if let Err(why) = visit(Record::Line(&line[..line.len() - 1])) {
                scan.damage = Some(format!("line {}: {why}", scan.records + 1));
                break;
            }
            scan.records += 1;
            scan.kept_bytes += read as u64;
        }
        scan.torn_bytes = total.saturating_sub(scan.kept_bytes);
        Ok(scan)
    }
}

/// JSON Lines in a sequence of independent zstd frames.
#[derive(Debug)]
pub struct ZstdJsonLines;

impl Reader for ZstdJsonLines {
    fn name(&self) -> &'static str {
        "zstd JSON Lines"
    }

    fn scan(
        &self,
        path: &Path,
        visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
    ) -> io::Result<Scan> {
        let mut file = File::open(path)?;
        let total = file.metadata()?.len();
        let mut scan = Scan::default();
        let mut buffer: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut at = 0; // start of the unread part of `buffer`
        let mut eof = false;
        let mut text = Vec::new();
        loop {
            let size = match zstd::zstd_safe::find_frame_compressed_size(&buffer[at..]) {
                Ok(size) if size <= buffer.len() - at => size,
                _ if eof => break,
                _ if buffer.len() - at > MAX_ZSTD_FRAME => {
                    scan.damage = Some(format!("a zstd frame larger than {MAX_ZSTD_FRAME} bytes"));
                    break;
                }
                _ => {
                    buffer.drain(..at);
                    at = 0;
                    eof = fill(&mut file, &mut buffer)? == 0;
                    continue;
                }
            };
            let frame = &buffer[at..at + size];
            text.clear();
            let decoded = zstd::stream::read::Decoder::new(frame)
                .and_then(|d| d.take(MAX_DECODED + 1).read_to_end(&mut text));
            if let Err(error) = decoded {
                scan.damage = Some(format!("a zstd frame does not decode: {error}"));
                break;
            }
            match visit_lines(&text, visit) {
                Ok(lines) => scan.records += lines,
                Err(why) => {
                    scan.damage = Some(why);
                    break;
                }
            }
            at += size;
            scan.kept_bytes += size as u64;
        }
        scan.torn_bytes = total.saturating_sub(scan.kept_bytes);
        Ok(scan)
    }
}

/// Reads up to 1 MiB more of `file` onto `buffer`; the bytes read.
fn fill(file: &mut File, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let before = buffer.len();
    Read::by_ref(file).take(1 << 20).read_to_end(buffer)?;
    Ok(buffer.len() - before)
}

/// Hands every line of a decoded frame to `visit`. A frame holds whole
/// lines (each flush does): one that does not end with a newline is
/// damage, and so is a refused line — the frame as a whole is not kept.
fn visit_lines(
    text: &[u8],
    visit: &mut dyn FnMut(Record<'_>) -> Result<(), String>,
) -> Result<u64, String> {
    if text.len() as u64 > MAX_DECODED {
        return Err(format!(
            "a zstd frame decodes to more than {MAX_DECODED} bytes"
        ));
    }
    if text.last().is_some_and(|&b| b != b'\n') {
        return Err("a zstd frame ends inside a line".to_owned());
    }
    let mut lines = 0;
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        visit(Record::Line(line)).map_err(|why| format!("line {}: {why}", lines + 1))?;
        lines += 1;
    }
    Ok(lines)
}
