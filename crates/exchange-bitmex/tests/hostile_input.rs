//! Untrusted input: whatever the network sends, decoding returns a typed
//! error or a skip, never a panic, and appends nothing on error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::*;
use mercury_core::Decoder;
use mercury_core::{
    Control, DecodeError, QuoteKind, SkipReason, SourceEvent, Timestamp, WireFrame,
};
use mercury_exchange_bitmex::{BitmexConfig, BitmexSession, decoder, decoder_with};
use proptest::prelude::*;

fn decode(
    source: &mut Decoder<BitmexSession>,
    frame: WireFrame<'_>,
) -> Result<Vec<SourceEvent>, DecodeError> {
    // Start from a non-empty buffer: on error, nothing may be appended.
    let mut out = vec![SourceEvent::Control(mercury_core::Control::Pong)];
    let result = source.decode(frame, Timestamp::UNIX_EPOCH, &mut out);
    match result {
        Ok(()) => Ok(out.split_off(1)),
        Err(e) => {
            assert_eq!(out.len(), 1, "events appended despite {e}");
            Err(e)
        }
    }
}

fn text_error(frame: &str) -> DecodeError {
    decode(&mut decoder(), WireFrame::Text(frame)).expect_err(frame)
}

#[test]
fn empty_and_blank_frames() {
    assert_eq!(text_error(""), DecodeError::Empty);
    assert_eq!(text_error(" \n\t"), DecodeError::Empty);
}

#[test]
fn binary_frames_are_rejected() {
    let err = decode(&mut decoder(), WireFrame::Binary(&[0xff, 0x00, 0x7b])).unwrap_err();
    assert_eq!(err, DecodeError::UnexpectedBinary { len: 3 });
}

#[test]
fn every_truncation_of_a_real_frame_is_an_error() {
    let frame = &frames("ccxt_instrument-XBTUSD_partial.jsonl")[0];
    for cut in (1..frame.len()).filter(|c| frame.is_char_boundary(*c)) {
        let err = text_error(&frame[..cut]);
        assert!(
            matches!(err, DecodeError::Malformed(_)),
            "cut {cut}: {err:?}"
        );
    }
}

#[test]
fn wrong_types_are_malformed_or_a_skipped_field() {
    let partial = r#"{"table":"instrument","action":"partial","data":[]}"#;
    let mut source = decoder();
    decode(&mut source, WireFrame::Text(partial)).unwrap();
    // A frame that is not a table, or a row without its key, fails whole.
    let malformed = [
        r#"{"table":"instrument","action":"update","data":[{"symbol":5,"fairPrice":1}]}"#,
        r#"{"table":"instrument","action":"update","data":[{"fairPrice":1}]}"#,
        r#"{"table":"instrument","action":"update","data":{"symbol":"XBTUSD"}}"#,
        r#"{"table":7}"#,
        r#"{"success":"yes"}"#,
    ];
    for frame in malformed {
        let err = decode(&mut source, WireFrame::Text(frame)).expect_err(frame);
        assert!(matches!(err, DecodeError::Malformed(_)), "{frame}: {err:?}");
    }
    // A bad field costs only itself: skipped, named, and nothing else lost.
    let bad_fields = [
        (r#""fairPrice":true"#, "instrument.fairPrice"),
        (r#""fairPrice":"NaN""#, "instrument.fairPrice"),
        (r#""fairPrice":[1]"#, "instrument.fairPrice"),
        (r#""fairPrice":{}"#, "instrument.fairPrice"),
    ];
    for (field, what) in bad_fields {
        let frame = format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD",{field},"markPrice":2}}]}}"#
        );
        let events = decode(&mut source, WireFrame::Text(&frame)).unwrap();
        assert_eq!(invalid_fields(&events), [what], "{frame}");
        let kept: Vec<_> = quotes(&events).iter().map(|q| (q.kind, q.price)).collect();
        assert_eq!(kept, [(QuoteKind::Mark, "2".parse().unwrap())], "{frame}");
    }
    // A bad time: the price is kept, without an exchange time.
    let noon = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":1,"timestamp":"noon"}]}"#;
    let events = decode(&mut source, WireFrame::Text(noon)).unwrap();
    assert_eq!(invalid_fields(&events), ["instrument.timestamp"]);
    assert_eq!(quotes(&events)[0].exchange_time, None);
    // A bad row later in a frame no longer discards the good one before it.
    let mixed = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fairPrice":1},{"symbol":"XBTUSD","fairPrice":false}]}"#;
    let events = decode(&mut source, WireFrame::Text(mixed)).unwrap();
    assert_eq!(quotes(&events).len(), 1);
}

/// What the `InvalidField` skips among `events` name.
fn invalid_fields(events: &[SourceEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Control(Control::Skipped {
                reason: SkipReason::InvalidField,
                what,
            }) => Some(what.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn valid_json_of_no_known_shape() {
    for frame in [
        r#"{}"#,
        r#"{"hello":1}"#,
        "[1,2]",
        "42",
        r#""ping""#,
        "null",
    ] {
        assert!(
            matches!(text_error(frame), DecodeError::UnknownShape(_)),
            "{frame}"
        );
    }
    for frame in ["pong!", "{", "}", "ping pong", "\u{0}"] {
        assert!(
            matches!(text_error(frame), DecodeError::Malformed(_)),
            "{frame}"
        );
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // Valid JSON of no known shape (serde skips it without recursing).
        assert!(matches!(text_error(&nested), DecodeError::UnknownShape(_)));
        let in_unknown_field = format!(
            r#"{{"info":"x","z":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(decode(&mut decoder(), WireFrame::Text(&in_unknown_field)).is_ok());
        let in_data = format!(
            r#"{{"table":"instrument","action":"partial","data":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(matches!(text_error(&in_data), DecodeError::Malformed(_)));
    }
}

#[test]
fn ten_megabyte_frames() {
    // A 10 MB frame within the default 16 MiB limit is read, and its junk
    // reported with a short message (no 10 MB error strings).
    let junk = format!(
        r#"{{"table":"instrument","action":"partial","data":[{{"symbol":"{}"}}"#,
        "X".repeat(10 << 20)
    );
    match text_error(&junk) {
        DecodeError::Malformed(message) => assert!(message.len() < 500, "{} bytes", message.len()),
        other => panic!("{other:?}"),
    }
    // A valid 10 MB frame of an unhandled table is skipped.
    let big = format!(
        r#"{{"table":"orderBookL2","action":"partial","data":[{{"symbol":"{}"}}]}}"#,
        "X".repeat(10 << 20)
    );
    assert!(decode(&mut decoder(), WireFrame::Text(&big)).is_ok());
    // Beyond the configured limit, it is rejected unread.
    let mut small = decoder_with(BitmexConfig {
        max_frame_len: 1 << 20,
        ..BitmexConfig::default()
    });
    assert_eq!(
        decode(&mut small, WireFrame::Text(&big)).unwrap_err(),
        DecodeError::TooLarge {
            len: big.len(),
            max: 1 << 20
        }
    );
}

fn real_frames() -> Vec<String> {
    let mut all = frames("joliveros_instrument.jsonl");
    all.extend(frames("ccxt_instrument-XBTUSD_partial.jsonl"));
    all.extend(frames("crypto-msg-parser_quote.jsonl"));
    all.extend(frames("crypto-msg-parser_trade.jsonl"));
    all.extend(frames("official-nodejs_trade-XBTUSD_session.jsonl"));
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = decode(&mut decoder(), WireFrame::Text(&text));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&mut decoder(), WireFrame::Binary(&bytes));
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = decode(&mut decoder(), WireFrame::Text(text));
        }
    }

    /// Real frames with characters replaced, deleted or inserted, fed to a
    /// source that has seen partials, so mutations reach the row decoder.
    #[test]
    fn mutated_real_frames_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[0-9a-z\"{}\\[\\],:.eE+-]"), 1..6),
    ) {
        let frames = real_frames();
        let mut chars: Vec<char> = pick.get(&frames).chars().collect();
        for (at, op, with) in edits {
            if chars.is_empty() { break; }
            let i = at.index(chars.len());
            let c = with.chars().next().unwrap_or('x');
            match op {
                0 => chars[i] = c,
                1 => { chars.remove(i); }
                _ => chars.insert(i, c),
            }
        }
        let mutated: String = chars.into_iter().collect();
        let mut source = decoder();
        for table in ["instrument", "quote", "trade"] {
            let partial = format!(r#"{{"table":"{table}","action":"partial","data":[]}}"#);
            decode(&mut source, WireFrame::Text(&partial)).unwrap();
        }
        let _ = decode(&mut source, WireFrame::Text(&mutated));
    }
}
