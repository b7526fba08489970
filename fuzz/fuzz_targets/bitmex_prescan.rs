//! The BitMEX pre-scan is exact: a session told what is wanted
//! (`Decoder::want`, which lets it skip frames unparsed) yields exactly
//! the wanted quotes — symbol, kind, price, exchange time, in order — of a
//! session that parses every frame, on any sequence of frames
//! (`\n`-separated). The first byte picks the wanted kinds (a bit each;
//! none set: all).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mercury_core::{Decoder, QuoteKind, SourceEvent, Subscription, Timestamp, WireFrame};
use mercury_exchange_bitmex::{Bitmex, EXCHANGE_ID};

type Seen = (String, QuoteKind, String, Option<Timestamp>);

fn wanted(frames: &[&[u8]], kinds: &[QuoteKind], prescan: bool) -> Vec<Seen> {
    let mut source = Decoder::new(&Bitmex);
    if prescan {
        let subscriptions: Vec<Subscription> = kinds
            .iter()
            .map(|&kind| Subscription::new(EXCHANGE_ID, "XBTUSD", kind))
            .collect();
        source.want(&subscriptions);
    }
    let mut seen = Vec::new();
    for frame in frames {
        let frame = match std::str::from_utf8(frame) {
            Ok(text) => WireFrame::Text(text),
            Err(_) => WireFrame::Binary(frame),
        };
        let mut events = Vec::new();
        let _ = source.decode(frame, Timestamp::UNIX_EPOCH, &mut events);
        for event in events {
            if let SourceEvent::Quote(q) = event
                && kinds.contains(&q.kind)
            {
                seen.push((q.symbol.to_string(), q.kind, q.price.to_string(), q.exchange_time));
            }
        }
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some(&mask) = data.first() else {
        return;
    };
    let mut kinds: Vec<QuoteKind> = QuoteKind::ALL
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1 << bit) != 0)
        .map(|(_, &kind)| kind)
        .collect();
    if kinds.is_empty() {
        kinds = QuoteKind::ALL.to_vec();
    }
    let frames: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    assert_eq!(
        wanted(&frames, &kinds, false),
        wanted(&frames, &kinds, true),
        "the pre-scan changed the wanted quotes ({kinds:?})"
    );
});
