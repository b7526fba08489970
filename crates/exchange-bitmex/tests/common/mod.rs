//! Helpers shared by the BitMEX integration tests.
#![allow(dead_code)]

use mercury_core::{
    Control, Quote, QuoteKind, QuoteSource, SkipReason, SourceEvent, Timestamp, WireFrame,
};
use mercury_exchange_bitmex::BitmexSource;
use std::path::PathBuf;

/// The folder of real frames copied from the shared material.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The frames of one fixture file, one per line.
pub fn frames(file: &str) -> Vec<String> {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Decodes `frames` in order on one fresh source; panics on a decode error.
pub fn decode_session(frames: &[String]) -> Vec<Vec<SourceEvent>> {
    let mut source = BitmexSource::new();
    frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            source
                .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
                .unwrap_or_else(|e| {
                    panic!(
                        "frame {i} failed to decode: {e}\n{}",
                        &frame[..frame.len().min(300)]
                    )
                })
        })
        .collect()
}

/// The quotes among `events`.
pub fn quotes(events: &[SourceEvent]) -> Vec<&Quote> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some(q),
            _ => None,
        })
        .collect()
}

/// Whether `events` says rows were dropped for arriving before a partial.
pub fn dropped_before_partial(events: &[SourceEvent]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            SourceEvent::Control(Control::Skipped {
                reason: SkipReason::BeforePartial,
                ..
            })
        )
    })
}

/// The wire field that carries `kind`.
pub fn field_of(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Fair => "fairPrice",
        QuoteKind::Mark => "markPrice",
        QuoteKind::Last => "lastPrice",
        QuoteKind::Bid => "bidPrice",
        QuoteKind::Ask => "askPrice",
        QuoteKind::Trade => "price",
    }
}

/// An oracle independent of the decoder: the text of every JSON *number*
/// that follows the key `"field":` in `frame`, in order. (Metadata such as
/// `"types":{"fairPrice":"float"}` holds strings, so it is not counted.)
pub fn number_texts(frame: &str, field: &str) -> Vec<String> {
    let key = format!("\"{field}\":");
    let mut found = Vec::new();
    let mut rest = frame;
    while let Some(at) = rest.find(&key) {
        rest = &rest[at + key.len()..];
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
            .collect();
        if !token.is_empty() {
            found.push(token);
        }
    }
    found
}

/// The lines of an `expected/` answer file.
pub fn expected(file: &str) -> Vec<String> {
    let path = fixtures_dir().join("expected").join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}
