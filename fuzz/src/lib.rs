//! What every fuzz target of mercury shares: feeding a sequence of frames
//! to one connection's [`Decoder`] and checking, after every frame, the
//! promises the decoders make to the collector.
//!
//! An input is a sequence of frames separated by `\n` (the fixtures are
//! JSON Lines, so a seed is a slice of a real session and the fuzzer can
//! build `partial` → `update` sequences). A frame that is not UTF-8 is fed
//! as a binary frame.
//!
//! The checks, frame by frame:
//! - no panic (libFuzzer reports one as a crash);
//! - a frame that fails appends nothing;
//! - `conn_seq` goes 1, 2, 3, … over the connection, no gap, no repeat;
//! - every quote is of the decoder's exchange, and its price prints as a
//!   decimal that parses back to the same value;
//! - exchange errors and the server's words in control messages
//!   (greeting, topics, info, what was skipped) are quoted short and
//!   escaped (`excerpt`), and so is a decode error's text (it reaches the
//!   log);
//! - the session's heap stays within [`state_bound`] of the bytes fed so
//!   far (no amplification: a few KiB of input cannot make it hold MiBs).

use mercury_core::{Decoder, EXCERPT_CHARS, Price, SourceEvent, Timestamp, WireFrame};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most characters a decode error's text may have: its fixed words and
/// one excerpt (or a 64-character price) at most.
pub const MAX_ERROR_CHARS: usize = EXCERPT_CHARS + 160;
/// The longest reply a session may ask to send (a heartbeat answer).
pub const MAX_REPLY_LEN: usize = 4096;

/// The system allocator, counting the bytes in use, so that a target can
/// see how much a session keeps between frames.
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is
// updated on the side.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

/// Bytes allocated through [`CountingAlloc`] and not yet freed (0 when the
/// target did not install it).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The most heap a session may hold after `fed` bytes of frames: 64 bytes
/// per byte received plus 64 KiB. A table image holds at most a copy of
/// each symbol and a few prices per row, far below this; a session that
/// keeps more amplifies what a server sends.
pub fn state_bound(fed: usize) -> usize {
    fed.saturating_mul(64).saturating_add(64 << 10)
}

/// The frames of one fuzz input.
pub fn frames(data: &[u8]) -> impl Iterator<Item = WireFrame<'_>> {
    data.split(|b| *b == b'\n')
        .map(|raw| match std::str::from_utf8(raw) {
            Ok(text) => WireFrame::Text(text),
            Err(_) => WireFrame::Binary(raw),
        })
}

/// Feeds `data`'s frames to `decoder` (fresh: `conn_seq` starts at 1) and
/// checks every promise listed in the crate's documentation. Panics on a
/// broken one, which libFuzzer reports as a crash.
pub fn check_session(mut decoder: Decoder, data: &[u8]) {
    let exchange = decoder.exchange().clone();
    let baseline = live_bytes();
    let mut next_seq = 1;
    let mut fed = 0;
    for (i, frame) in frames(data).enumerate() {
        fed += match frame {
            WireFrame::Text(t) => t.len(),
            WireFrame::Binary(b) => b.len(),
        } + 1;
        let at = Timestamp::from_unix_nanos(1_600_000_000_000_000_000 + i as i128 * 1_000_000);
        let mut out = vec![SourceEvent::Control(mercury_core::Control::Pong)];
        match decoder.decode(frame, at, &mut out) {
            Ok(()) => {}
            Err(error) => {
                assert_eq!(out.len(), 1, "a failing frame appended events");
                check_printable(&error.to_string(), MAX_ERROR_CHARS, "decode error");
            }
        }
        let replies = out[1..]
            .iter()
            .filter(|e| matches!(e, SourceEvent::Reply(_)))
            .count();
        assert!(
            replies <= mercury_core::MAX_REPLIES_PER_FRAME,
            "{replies} replies to one frame"
        );
        for event in &out[1..] {
            match event {
                SourceEvent::Quote(quote) => {
                    assert_eq!(quote.exchange, exchange, "a quote of another exchange");
                    assert_eq!(quote.conn_seq, next_seq, "conn_seq out of step");
                    assert_eq!(quote.received_at, at, "received_at is not the frame's");
                    next_seq += 1;
                    let printed = quote.price.to_string();
                    let reparsed: Price = printed
                        .parse()
                        .unwrap_or_else(|e| panic!("price {printed:?} does not parse back: {e}"));
                    assert_eq!(reparsed, quote.price, "price changed through its text");
                }
                SourceEvent::ExchangeError(error) => {
                    check_printable(&error.message, EXCERPT_CHARS + 1, "exchange error");
                    if let Some(request) = &error.request {
                        check_printable(request, EXCERPT_CHARS + 1, "exchange error request");
                    }
                }
                SourceEvent::Control(control) => check_control(&control),
                SourceEvent::Reply(reply) => {
                    if let Some(text) = reply.as_text() {
                        assert!(text.len() <= MAX_REPLY_LEN, "a reply of {} bytes", text.len());
                    }
                }
            }
        }
        drop(out);
        let held = live_bytes().saturating_sub(baseline);
        assert!(
            held <= state_bound(fed),
            "the session holds {held} bytes after {fed} bytes of frames"
        );
    }
}

/// Panics unless the server's words in `control` are printable and short.
pub fn check_control(control: &mercury_core::Control) {
    use mercury_core::Control;
    match control {
        Control::Welcome { info: text }
        | Control::Subscribed { topic: text }
        | Control::Unsubscribed { topic: text }
        | Control::Info(text)
        | Control::Skipped { what: text, .. } => {
            check_printable(text, EXCERPT_CHARS + 1, "control message text");
        }
        _ => {}
    }
}

/// Panics unless `text` has at most `max` characters and no control
/// character: what may reach a terminal or a log line.
pub fn check_printable(text: &str, max: usize, what: &str) {
    let chars = text.chars().count();
    assert!(
        chars <= max,
        "{what} of {chars} characters: {:?}…",
        text.chars().take(120).collect::<String>()
    );
    assert!(
        !text.chars().any(char::is_control),
        "{what} with a control character: {text:?}"
    );
}
