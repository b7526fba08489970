//! The collector's frame-size guard (`GuardedCodec`) read like a socket:
//! an arbitrary byte stream arrives in chunks, and after every chunk the
//! codec decodes what it can, as `Framed` does.
//!
//! Input: byte 0 chooses the side (bit 0: server side, masked frames) and
//! whether the inner codec has a limit of its own (bit 1: none to speak of,
//! so the guard alone bounds memory); byte 1 the chunk size (1–64); the
//! rest is the stream. Checks: no panic; a decoded frame's payload is
//! within the limit; while a frame is incomplete the buffer holds less
//! than one header plus the limit, and its capacity stays small (nothing
//! reserved for a length the header only claims); the stream ends at its
//! first error, as the connector's does.
#![no_main]

use actix_codec::Decoder;
use actix_http::ws::{Codec, Frame, Item};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mercury_collector::{GuardedCodec, MAX_HEADER_LEN};

/// The guard's limit: small, so the fuzzer meets it often.
const MAX_FRAME: usize = 256;
/// The most capacity the read buffer may reach: a header and a frame,
/// a chunk on top, and `BytesMut`'s doubling.
const MAX_CAPACITY: usize = 4 * (MAX_HEADER_LEN + MAX_FRAME + 64);

fn payload_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(b) | Frame::Binary(b) | Frame::Ping(b) | Frame::Pong(b) => b.len(),
        Frame::Continuation(
            Item::FirstText(b) | Item::FirstBinary(b) | Item::Continue(b) | Item::Last(b),
        ) => b.len(),
        Frame::Close(_) => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, chunk, stream @ ..] = data else {
        return;
    };
    let mut inner = Codec::new().max_size(if mode & 2 == 0 { MAX_FRAME } else { 1 << 30 });
    if mode & 1 == 0 {
        inner = inner.client_mode();
    }
    let mut codec = GuardedCodec::new(inner, MAX_FRAME);
    let chunk = 1 + usize::from(*chunk % 64);
    let mut buffer = BytesMut::new();
    'read: for piece in stream.chunks(chunk) {
        buffer.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buffer) {
                Ok(Some(frame)) => {
                    assert!(
                        payload_len(&frame) <= MAX_FRAME,
                        "a frame over the limit: {frame:?}"
                    );
                }
                Ok(None) => break,
                Err(_) => break 'read,
            }
        }
        assert!(
            buffer.len() < MAX_HEADER_LEN + MAX_FRAME,
            "{} bytes buffered for one incomplete frame",
            buffer.len()
        );
        assert!(
            buffer.capacity() <= MAX_CAPACITY,
            "capacity {}",
            buffer.capacity()
        );
    }
});
