//! Untrusted input for any session: nothing may panic, and a failed decode
//! appends nothing.

use mercury_core::{Control, Decoder, Exchange, SourceEvent, SplitMix64, WireFrame};

use crate::NOW;

/// Seeded mutations tried per real frame.
const MUTATIONS_PER_FRAME: usize = 64;
/// Truncation points tried per real frame (all of them for short frames).
const MAX_CUTS_PER_FRAME: usize = 512;
/// Frames mutated and cut (the first ones of the fixtures).
const FRAMES_TRIED: usize = 48;

/// What is inserted by mutations: JSON's structural characters and more.
const ALPHABET: &[u8] = b"{}[]\",:0123456789.-+eEtrufalsn \\\x00\xff";

/// Decodes `frame` into a buffer that already holds one event; an error
/// must leave that buffer as it was.
fn decode(source: &mut Decoder, frame: WireFrame<'_>) {
    let marker = SourceEvent::Control(Control::Pong);
    let mut out = vec![marker.clone()];
    if let Err(error) = source.decode(frame, NOW, &mut out) {
        assert_eq!(
            out,
            vec![marker],
            "{}: events appended despite {error}",
            source.exchange()
        );
    }
}

/// Runs every hostile case against a session primed with real frames.
pub(crate) fn check(exchange: &dyn Exchange, frames: &[&str]) {
    let mut source = Decoder::new(exchange);
    let source = &mut source;
    // Primed with the real frames first, so that mutations meet real state.
    for frame in frames {
        decode(source, WireFrame::Text(frame));
    }
    for fixed in [
        "",
        " \n\t",
        "null",
        "0",
        "\"text\"",
        "[]",
        "{}",
        "{\"a\":",
        "ping",
        "pong",
        "\u{1}garbage",
        "{\"data\":null}",
        "{\"data\":[null,1,\"x\",{}]}",
    ] {
        decode(source, WireFrame::Text(fixed));
    }
    decode(source, WireFrame::Binary(&[0xff, 0x00, 0x7b]));
    decode(source, WireFrame::Binary(&[]));
    let nested = "[".repeat(100_000);
    decode(source, WireFrame::Text(&nested));
    let huge = format!("{{\"x\":\"{}\"}}", "y".repeat(10 << 20));
    decode(source, WireFrame::Text(&huge));

    let mut rng = SplitMix64::new(0x0C0F_FEE5);
    for frame in frames.iter().take(FRAMES_TRIED) {
        let cuts: Vec<usize> = (1..frame.len())
            .filter(|&c| frame.is_char_boundary(c))
            .collect();
        let step = cuts.len().div_ceil(MAX_CUTS_PER_FRAME).max(1);
        for &cut in cuts.iter().step_by(step) {
            decode(source, WireFrame::Text(&frame[..cut]));
        }
        for _ in 0..MUTATIONS_PER_FRAME {
            let mutated = mutate(frame.as_bytes(), &mut rng);
            match std::str::from_utf8(&mutated) {
                Ok(text) => decode(source, WireFrame::Text(text)),
                Err(_) => decode(source, WireFrame::Binary(&mutated)),
            }
        }
    }
}

/// One to four random edits: replace, insert, delete or duplicate a span.
fn mutate(frame: &[u8], rng: &mut SplitMix64) -> Vec<u8> {
    let mut bytes = frame.to_vec();
    let edits = 1 + rng.next_u64() % 4;
    for _ in 0..edits {
        let len = bytes.len().max(1);
        let at = usize::try_from(rng.next_u64() % len as u64).unwrap_or(0);
        let pick = ALPHABET[usize::try_from(rng.next_u64() % ALPHABET.len() as u64).unwrap_or(0)];
        match rng.next_u64() % 4 {
            0 if at < bytes.len() => bytes[at] = pick,
            1 => bytes.insert(at.min(bytes.len()), pick),
            2 if at < bytes.len() => {
                let end =
                    (at + 1 + usize::try_from(rng.next_u64() % 16).unwrap_or(0)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let end =
                    (at + 1 + usize::try_from(rng.next_u64() % 32).unwrap_or(0)).min(bytes.len());
                let span = bytes.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
                bytes.splice(at..at, span);
            }
        }
    }
    bytes
}
