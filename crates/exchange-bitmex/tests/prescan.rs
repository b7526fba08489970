//! The pre-scan is exact: a session told what is wanted
//! ([`Decoder::want`]) yields exactly the wanted quotes a session that
//! parses every frame yields — on every real fixture frame, on the
//! simulator's firehose frames, and on mutated frames (proptest) — while
//! it does skip frames (the checks cannot pass by skipping nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod common;

use common::*;
use mercury_core::{Decoder, QuoteKind, SourceEvent, Subscription, Timestamp, WireFrame};
use mercury_exchange_bitmex::{EXCHANGE_ID, decoder};
use proptest::prelude::*;

/// What a quote is, without its per-connection number (a skipped frame's
/// unwanted quotes take no numbers).
type Seen = (String, QuoteKind, String, Option<Timestamp>);

fn subscriptions(kinds: &[QuoteKind]) -> Vec<Subscription> {
    kinds
        .iter()
        .map(|&kind| Subscription::new(EXCHANGE_ID, "XBTUSD", kind))
        .collect()
}

/// The quotes of `kinds` the frames yield, in order, with or without the
/// pre-scan; and how many frames yielded no event at all.
fn wanted_quotes(frames: &[&str], kinds: &[QuoteKind], prescan: bool) -> (Vec<Seen>, usize) {
    let mut source: Decoder<_> = decoder();
    if prescan {
        source.want(&subscriptions(kinds));
    }
    let mut seen = Vec::new();
    let mut silent = 0;
    for frame in frames {
        let mut events = Vec::new();
        let _ = source.decode(WireFrame::Text(frame), Timestamp::UNIX_EPOCH, &mut events);
        silent += usize::from(events.is_empty());
        for event in events {
            if let SourceEvent::Quote(q) = event
                && kinds.contains(&q.kind)
            {
                seen.push((
                    q.symbol.to_string(),
                    q.kind,
                    q.price.to_string(),
                    q.exchange_time,
                ));
            }
        }
    }
    (seen, silent)
}

/// The sets of wanted kinds tried: each kind alone, a pair, all.
fn wanted_sets() -> Vec<Vec<QuoteKind>> {
    let mut sets: Vec<Vec<QuoteKind>> = QuoteKind::ALL.iter().map(|&k| vec![k]).collect();
    sets.push(vec![QuoteKind::Fair, QuoteKind::Mark]);
    sets.push(vec![QuoteKind::Bid, QuoteKind::Trade]);
    sets.push(QuoteKind::ALL.to_vec());
    sets
}

/// Asserts the pre-scan changes no wanted quote of `frames`; returns how
/// many more frames it silenced (skipped) than the full decode.
fn assert_exact(what: &str, frames: &[&str]) -> usize {
    let mut skipped = 0;
    for kinds in wanted_sets() {
        let (full, full_silent) = wanted_quotes(frames, &kinds, false);
        let (scanned, scanned_silent) = wanted_quotes(frames, &kinds, true);
        assert_eq!(full, scanned, "{what}, wanting {kinds:?}");
        skipped += scanned_silent.saturating_sub(full_silent);
    }
    skipped
}

/// The simulator's firehose frames for XBTUSD (`venue.rs`'s shapes): the
/// partial, then updates with and without the fair price, quote and
/// trade inserts.
fn firehose_frames() -> Vec<String> {
    let t = "2026-12-02T10:00:00.000Z";
    vec![
        format!(
            r#"{{"table":"instrument","action":"partial","keys":["symbol"],"types":{{"symbol":"symbol","lastPrice":"float","fairPrice":"float"}},"filter":{{"symbol":"XBTUSD"}},"data":[{{"symbol":"XBTUSD","state":"Open","typ":"FFWCSX","lastPrice":100010,"fairPrice":100000,"markPrice":100000,"indicativeSettlePrice":100000,"volume":10,"timestamp":"{t}"}}]}}"#
        ),
        format!(
            r#"{{"table":"quote","action":"partial","keys":["symbol"],"filter":{{"symbol":"XBTUSD"}},"data":[{{"timestamp":"{t}","symbol":"XBTUSD","bidSize":100,"bidPrice":99990,"askPrice":100040,"askSize":200}}]}}"#
        ),
        format!(
            r#"{{"table":"trade","action":"partial","keys":[],"filter":{{"symbol":"XBTUSD"}},"data":[]}}"#
        ),
        format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","lastPrice":100020.5,"volume":20,"impactBidPrice":99995,"timestamp":"{t}"}}]}}"#
        ),
        format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","fairPrice":100001.5,"markPrice":100001.5,"indicativeSettlePrice":100001.5,"timestamp":"{t}"}}]}}"#
        ),
        format!(
            r#"{{"table":"quote","action":"insert","data":[{{"timestamp":"{t}","symbol":"XBTUSD","bidSize":100,"bidPrice":99991,"askPrice":100041,"askSize":200}}]}}"#
        ),
        format!(
            r#"{{"table":"trade","action":"insert","data":[{{"timestamp":"{t}","symbol":"XBTUSD","side":"Buy","size":10,"price":100020.5}}]}}"#
        ),
        format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","lastPrice":100030,"volume":30,"impactBidPrice":99996,"timestamp":"{t}"}}]}}"#
        ),
        format!(r#"{{"table":"instrument","action":"delete","data":[{{"symbol":"XBTUSD"}}]}}"#),
        format!(
            r#"{{"table":"instrument","action":"update","data":[{{"symbol":"XBTUSD","fairPrice":100002,"timestamp":"{t}"}}]}}"#
        ),
    ]
}

#[test]
fn every_fixture_frame_yields_the_same_wanted_quotes() {
    let mut skipped = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".jsonl") {
            continue;
        }
        let frames = frames(&name);
        let frames: Vec<&str> = frames.iter().map(String::as_str).collect();
        skipped += assert_exact(&name, &frames);
        files += 1;
    }
    assert_eq!(files, 18, "every fixture file");
    assert!(skipped > 100, "the pre-scan skipped only {skipped} frames");
}

#[test]
fn the_firehose_yields_the_same_wanted_quotes() {
    let frames = firehose_frames();
    let frames: Vec<&str> = frames.iter().map(String::as_str).collect();
    assert!(assert_exact("firehose", &frames) > 0);
    // Wanting the fair price, the updates without it are skipped.
    let (_, full_silent) = wanted_quotes(&frames, &[QuoteKind::Fair], false);
    let (fair, silent) = wanted_quotes(&frames, &[QuoteKind::Fair], true);
    assert_eq!(
        silent - full_silent,
        4,
        "two instrument updates, a quote, a trade"
    );
    let prices: Vec<&str> = fair.iter().map(|q| q.2.as_str()).collect();
    assert_eq!(prices, ["100000", "100001.5", "100002"]);
}

#[test]
fn an_escaped_key_is_parsed_not_skipped() {
    // `fair\u0050rice` is `fairPrice` to a JSON parser.
    let frames = firehose_frames();
    let escaped = r#"{"table":"instrument","action":"update","data":[{"symbol":"XBTUSD","fair\u0050rice":100003}]}"#;
    let frames = [frames[0].as_str(), escaped];
    let (fair, _) = wanted_quotes(&frames, &[QuoteKind::Fair], true);
    assert_eq!(fair.len(), 2, "{fair:?}");
    assert_exact("escaped key", &frames);
}

/// Pieces that change what a frame means to the pre-scan or the parser.
const PIECES: &[&str] = &[
    r#""fairPrice":1.5,"#,
    r#""markPrice":2,"#,
    r#""lastPrice":3,"#,
    r#""bidPrice":4,"askPrice":5,"#,
    r#""price":6,"#,
    r#""indicativeSettlePrice":7,"#,
    r#"\u0050"#,
    r#"\""#,
    r#""action":"partial","#,
    r#""action":"delete","#,
    r#""table":"quote","#,
    r#""symbol":"XBTUSD","#,
    "fairPrice",
    "\"",
    ",",
    "{",
    "}",
    "[",
    "]",
    " ",
    "\\",
];

fn mutate(frame: &str, edits: &[(prop::sample::Index, u8, prop::sample::Index)]) -> String {
    let mut text = frame.to_owned();
    for (at, op, piece) in edits {
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let i = *at.get(&boundaries);
        match op {
            0 => text.insert_str(i, piece.get::<&str>(PIECES)),
            1 => {
                let end = boundaries.iter().copied().find(|&j| j > i).unwrap_or(i);
                text.replace_range(i..end, "");
            }
            _ => {
                let end = boundaries
                    .iter()
                    .copied()
                    .filter(|&j| j > i)
                    .nth(8)
                    .unwrap_or(text.len());
                text.replace_range(i..end, "");
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Firehose and fixture frames with keys inserted, escapes, actions
    /// and tables changed, characters deleted, after partials that image
    /// every table: the wanted quotes are the same with and without the
    /// pre-scan.
    #[test]
    fn mutated_frames_yield_the_same_wanted_quotes(
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
        edits in proptest::collection::vec(
            proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<prop::sample::Index>()), 1..5),
            1..4),
    ) {
        let base = firehose_frames();
        let mut pool = base[3..].to_vec();
        pool.extend(frames("cryptofeed_2021-07-22_session.jsonl").into_iter().filter(|f| f.len() < 2000).take(40));
        let mut sequence: Vec<String> = base[..3].to_vec();
        for (pick, edits) in picks.iter().zip(&edits) {
            sequence.push(mutate(pick.get::<String>(&pool), edits));
        }
        let sequence: Vec<&str> = sequence.iter().map(String::as_str).collect();
        for kinds in wanted_sets() {
            let (full, _) = wanted_quotes(&sequence, &kinds, false);
            let (scanned, _) = wanted_quotes(&sequence, &kinds, true);
            prop_assert_eq!(full, scanned, "wanting {:?} in {:?}", kinds, sequence);
        }
    }
}
