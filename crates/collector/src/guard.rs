//! A frame's size is checked from its header, before a byte of it is
//! buffered.
//!
//! actix-http's WebSocket parser waits for a whole frame (reserving room
//! for it) *before* it compares the frame's length with its limit: a header
//! claiming 2^62 bytes makes it buffer whatever follows, gigabytes until
//! the heartbeat gives up (issue #14). [`GuardedCodec`] wraps the codec and
//! refuses such a frame as soon as its header is in, with the parser's own
//! "payload reached size limit" error; everything else is the codec's.

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{Codec, Frame, Message, ProtocolError};
use bytes::BytesMut;

/// The WebSocket codec with a size check on every frame header: a frame
/// whose header declares more than its limit is refused with
/// [`ProtocolError::Overflow`] before any of its payload is buffered.
/// Public for the fuzz target (`fuzz/fuzz_targets/frame_guard.rs`).
///
/// ```
/// use actix_codec::Decoder;
/// use actix_http::ws::{Codec, ProtocolError};
/// use bytes::BytesMut;
/// use mercury_collector::GuardedCodec;
///
/// let mut codec = GuardedCodec::new(Codec::new().client_mode(), 1024);
/// // A text frame whose header claims 2^62 bytes.
/// let mut header = BytesMut::from(&[0x81, 127, 0x40, 0, 0, 0, 0, 0, 0, 0][..]);
/// assert!(matches!(codec.decode(&mut header), Err(ProtocolError::Overflow)));
/// ```
pub struct GuardedCodec {
    inner: Codec,
    max_frame: u64,
}

impl GuardedCodec {
    /// `inner`, refusing frames whose payload exceeds `max_frame` bytes.
    pub fn new(inner: Codec, max_frame: usize) -> Self {
        GuardedCodec {
            inner,
            max_frame: max_frame as u64,
        }
    }
}

/// The longest WebSocket frame header: 2 bytes, an 8-byte extended
/// length and a 4-byte mask. A reader using [`GuardedCodec`] with a limit
/// of `max` never holds more than `MAX_HEADER_LEN + max` bytes of one
/// incomplete frame.
pub const MAX_HEADER_LEN: usize = 14;

/// The payload length a frame header at the start of `src` declares, once
/// the header's length bytes have arrived (`None` before). Pure: the
/// dashboard checks browsers' frames with it too.
pub fn declared_len(src: &[u8]) -> Option<u64> {
    let short = u64::from(*src.get(1)? & 0x7f);
    match short {
        126 => Some(u64::from(u16::from_be_bytes([*src.get(2)?, *src.get(3)?]))),
        127 => Some(u64::from_be_bytes(src.get(2..10)?.try_into().ok()?)),
        len => Some(len),
    }
}

impl Decoder for GuardedCodec {
    type Item = Frame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        if declared_len(src).is_some_and(|len| len > self.max_frame) {
            return Err(ProtocolError::Overflow);
        }
        self.inner.decode(src)
    }
}

impl Encoder<Message> for GuardedCodec {
    type Error = ProtocolError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        self.inner.encode(item, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u64) -> Vec<u8> {
        let mut out = vec![0x81];
        match len {
            0..=125 => out.push(len as u8),
            126..=0xffff => {
                out.push(126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out
    }

    /// Found by `fuzz/fuzz_targets/frame_guard.rs` with the check taken
    /// out: after an empty fragment, a binary frame claiming 2^56 + 2^24
    /// bytes made the parser reserve its whole limit (1 GiB here).
    #[test]
    fn a_huge_header_reserves_nothing_even_when_the_codec_has_no_limit() {
        let stream: &[u8] = &[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x82, 0x7f, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let inner = Codec::new().max_size(1 << 30).client_mode();
        let mut codec = GuardedCodec::new(inner, 256);
        let mut src = BytesMut::from(stream);
        let end = loop {
            match codec.decode(&mut src) {
                Ok(Some(_)) => continue,
                other => break other,
            }
        };
        assert!(matches!(end, Err(ProtocolError::Overflow)), "{end:?}");
        assert!(src.capacity() < 4096, "{} bytes reserved", src.capacity());
    }

    #[test]
    fn lengths_are_read_from_every_header_form() {
        for len in [0, 125, 126, 65_535, 65_536, 1 << 24, 1 << 62] {
            assert_eq!(declared_len(&header(len)), Some(len), "{len}");
        }
        // Not all of the header yet: no verdict.
        assert_eq!(declared_len(&[0x81]), None);
        assert_eq!(declared_len(&header(70_000)[..6]), None);
    }

    #[test]
    fn an_oversized_header_is_refused_before_its_payload_arrives() {
        let mut codec = GuardedCodec::new(Codec::new().max_size(1024).client_mode(), 1024);
        let mut src = BytesMut::from(&header(1 << 62)[..]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(ProtocolError::Overflow)
        ));
        // A frame within the limit still waits for its payload, then decodes.
        let mut src = BytesMut::from(&header(3)[..]);
        assert!(matches!(codec.decode(&mut src), Ok(None)));
        src.extend_from_slice(b"abc");
        assert!(matches!(codec.decode(&mut src), Ok(Some(Frame::Text(_)))));
    }
}
