//! Helpers shared by the BitMEX integration tests.
#![allow(dead_code)]

use mercury_core::{Control, Quote, QuoteKind, SkipReason, SourceEvent, Timestamp, WireFrame};
use mercury_exchange_bitmex::decoder;

#[allow(unused_imports)] // each test crate uses a different part
pub use mercury_testkit::{
    bitmex_fixture_dir as fixtures_dir, bitmex_frames as frames, number_texts,
};

/// Decodes `frames` in order on one fresh source; panics on a decode error.
pub fn decode_session(frames: &[String]) -> Vec<Vec<SourceEvent>> {
    let mut source = decoder();
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
                reason: SkipReason::BeforeSnapshot,
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
        QuoteKind::Index => "indicativeSettlePrice",
    }
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
