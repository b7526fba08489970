//! A browser's frames are measured from their headers, on the raw byte
//! stream, before actix-ws buffers them.
//!
//! actix-http's WebSocket parser waits for a whole frame before it compares
//! its length with the limit, and actix-ws appends every byte it reads to
//! one buffer first: a header claiming 2^62 bytes made `/ws` buffer
//! whatever followed (one client took `serve` from 13 to 526 MB; issue #14,
//! item 1). [`GuardedPayload`] walks the frames as the bytes pass — header,
//! then payload skipped by count — and ends the stream with an error at the
//! first header that declares more than the limit. The length is read by
//! the collector's own check ([`mercury_collector::declared_len`]).

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The longest frame header: 2 bytes, 8 of length, 4 of mask.
const MAX_HEADER: usize = 14;

/// Where the scan is in the frame sequence.
#[derive(Debug, Clone, Copy)]
enum Scan {
    /// Collecting a header: its bytes so far.
    Header([u8; MAX_HEADER], usize),
    /// Skipping this many payload bytes.
    Payload(u64),
    /// A header said too much: nothing more is passed on.
    Refused,
}

/// Follows frame boundaries in a byte stream, refusing oversized frames.
#[derive(Debug)]
pub(crate) struct FrameScanner {
    max_frame: u64,
    scan: Scan,
}

/// A frame header declared more than the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Oversized(pub u64);

impl FrameScanner {
    /// A scanner refusing frames of more than `max_frame` payload bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameScanner {
            max_frame: max_frame as u64,
            scan: Scan::Header([0; MAX_HEADER], 0),
        }
    }

    /// Takes the next bytes of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Oversized> {
        while !bytes.is_empty() {
            match &mut self.scan {
                Scan::Refused => return Err(Oversized(u64::MAX)),
                Scan::Payload(left) => {
                    let skip = (*left).min(bytes.len() as u64);
                    *left -= skip;
                    // `skip` ≤ bytes.len(), so it fits in a usize.
                    bytes = bytes
                        .get(usize::try_from(skip).unwrap_or(0)..)
                        .unwrap_or_default();
                    if *left == 0 {
                        self.scan = Scan::Header([0; MAX_HEADER], 0);
                    }
                }
                Scan::Header(header, have) => {
                    let (Some((&byte, rest)), Some(slot)) =
                        (bytes.split_first(), header.get_mut(*have))
                    else {
                        break;
                    };
                    bytes = rest;
                    *slot = byte;
                    *have += 1;
                    let header = &header[..*have];
                    let Some(len) = mercury_collector::declared_len(header) else {
                        continue;
                    };
                    if len > self.max_frame {
                        self.scan = Scan::Refused;
                        return Err(Oversized(len));
                    }
                    if *have == header_len(header) {
                        self.scan = if len == 0 {
                            Scan::Header([0; MAX_HEADER], 0)
                        } else {
                            Scan::Payload(len)
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

/// The whole length of a header whose length bytes are in `header`.
fn header_len(header: &[u8]) -> usize {
    let second = header.get(1).copied().unwrap_or(0);
    let extended = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    2 + extended + mask
}

/// A request payload whose WebSocket frames are checked by a
/// [`FrameScanner`] as they pass; it ends with
/// [`PayloadError::Overflow`] at the first oversized header.
pub(crate) struct GuardedPayload<S> {
    inner: S,
    scanner: FrameScanner,
}

impl<S> GuardedPayload<S> {
    /// `inner`, refusing frames of more than `max_frame` bytes.
    pub fn new(inner: S, max_frame: usize) -> Self {
        GuardedPayload {
            inner,
            scanner: FrameScanner::new(max_frame),
        }
    }
}

impl<S> Stream for GuardedPayload<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if matches!(this.scanner.scan, Scan::Refused) {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => match this.scanner.feed(&bytes) {
                Ok(()) => Poll::Ready(Some(Ok(bytes))),
                Err(Oversized(len)) => {
                    tracing::debug!(len, "browser frame over the limit: connection closed");
                    Poll::Ready(Some(Err(PayloadError::Overflow)))
                }
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Vec<u8> {
        let mut out = vec![0x81];
        match len {
            0..=125 => out.push(0x80 | len as u8),
            126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[9, 9, 9, 9]);
        out.extend(std::iter::repeat_n(b'x', len));
        out
    }

    #[test]
    fn frames_within_the_limit_pass_in_any_split() {
        let stream: Vec<u8> = [0, 5, 125, 126, 4096, 300]
            .into_iter()
            .flat_map(frame)
            .collect();
        for chunk in [1, 2, 3, 7, 13, 64, 4096, stream.len()] {
            let mut scanner = FrameScanner::new(4096);
            for piece in stream.chunks(chunk) {
                assert_eq!(scanner.feed(piece), Ok(()), "chunks of {chunk}");
            }
            assert!(
                matches!(scanner.scan, Scan::Header(_, 0)),
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn an_oversized_header_is_refused_once_its_length_is_in() {
        let mut stream = frame(10);
        stream.extend_from_slice(&[0x81, 0x80 | 127]);
        stream.extend_from_slice(&(1u64 << 62).to_be_bytes());
        let mut scanner = FrameScanner::new(4096);
        let result = stream.iter().try_for_each(|b| scanner.feed(&[*b]));
        assert_eq!(result, Err(Oversized(1 << 62)));
        assert!(scanner.feed(b"more").is_err(), "and stays refused");
        let mut scanner = FrameScanner::new(4096);
        assert_eq!(scanner.feed(&frame(4097)[..4]), Err(Oversized(4097)));
    }
}
