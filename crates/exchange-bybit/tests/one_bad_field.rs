//! Regression (issue #14, item 7): one bad field dropped a good value —
//! a Bybit ticker with a valid mark price and `lastPrice:"garbage"` (or a
//! junk `ts`) failed whole. Now a field that does not parse costs only
//! itself. Property, on real frames: every field replaced by junk, the
//! ticker decodes to what it decodes to without that field, and a junk
//! requested field is counted as a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{Control, Decoder, SkipReason, SourceEvent, Timestamp, WireFrame};
use mercury_exchange_bybit::Bybit as EXCHANGE;
use mercury_testkit::ordered::{Ordered, with_data_field};

/// The key of a ticker: not a field of a value.
const KEYS: [&str; 1] = ["symbol"];
/// The fields the decoder reads for a value.
const REQUESTED: [&str; 5] = ["markPrice", "lastPrice", "bid1Price", "ask1Price", "ts"];

const JUNK: [&str; 5] = [r#""garbage""#, r#""yesterday""#, "{}", "[1]", "true"];

/// Quotes (symbol, kind, price, time) of `frames` decoded in order on one
/// session, and how many fields were skipped as invalid in the last.
fn decoded(frames: &[&str]) -> (Vec<String>, usize) {
    let mut source = Decoder::new(&EXCHANGE);
    let mut events = Vec::new();
    for frame in frames {
        events = source
            .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
            .unwrap_or_else(|e| panic!("{e}: {frame}"));
    }
    let quotes = events
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Quote(q) => Some(format!(
                "{} {:?} {} {:?}",
                q.symbol, q.kind, q.price, q.exchange_time
            )),
            _ => None,
        })
        .collect();
    let skipped = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SourceEvent::Control(Control::Skipped {
                    reason: SkipReason::InvalidField,
                    ..
                })
            )
        })
        .count();
    (quotes, skipped)
}

/// Every field of `fields` replaced by junk (through `mutate`) decodes to
/// what the frame decodes to without it; a requested one is counted.
fn check_every_field(
    before: &[&str],
    fields: &[String],
    mutate: impl Fn(&str, Option<&str>) -> String,
) -> usize {
    let mut checked = 0;
    for field in fields.iter().filter(|f| !KEYS.contains(&f.as_str())) {
        let without = mutate(field, None);
        let (expected, none) = decoded(&[before, &[without.as_str()]].concat());
        assert_eq!(none, 0, "{without}");
        for junk in JUNK {
            let mutated = mutate(field, Some(junk));
            let (quotes, skipped) = decoded(&[before, &[mutated.as_str()]].concat());
            assert_eq!(quotes, expected, "{field}={junk}");
            let wanted = REQUESTED.contains(&field.as_str());
            assert_eq!(skipped, usize::from(wanted), "{field}={junk}: {mutated}");
            checked += 1;
        }
    }
    checked
}

fn fixture(file: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_junk_field_costs_only_itself_in_real_tickers() {
    let mut checked = 0;
    for file in [
        "gocryptotrader_tickers_linear.jsonl",
        "bybitdocs_tickers_linear.jsonl",
    ] {
        let frames = fixture(file);
        let snapshot = frames
            .iter()
            .find(|f| f.contains(r#""type":"snapshot""#))
            .unwrap();
        for frame in frames
            .iter()
            .filter(|f| f.contains(r#""topic":"tickers."#))
            .take(2)
        {
            // A delta needs its snapshot first; a snapshot stands alone.
            let before: Vec<&str> = if frame == snapshot {
                vec![]
            } else {
                vec![snapshot]
            };
            let data = Ordered::parse(Ordered::parse(frame).get("data").unwrap().get());
            let fields: Vec<String> = data.0.iter().map(|(k, _)| k.clone()).collect();
            checked += check_every_field(&before, &fields, |f, v| with_data_field(frame, f, v));
            let envelope = Ordered::parse(frame);
            checked += check_every_field(&before, &["ts".to_string()], |f, v| envelope.with(f, v));
        }
    }
    assert!(checked > 50, "only {checked} mutations");
}
