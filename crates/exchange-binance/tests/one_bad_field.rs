//! Regression (issue #14, item 7): one bad field dropped a good value —
//! a Binance event with a valid mark price and a junk `E` (or a bookTicker
//! with a junk bid) failed whole. Now a field that does not parse costs
//! only itself. Property, on real frames: every field replaced by junk,
//! the event decodes to what it decodes to without that field, and a junk
//! requested field is counted as a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use mercury_core::{Control, Decoder, SkipReason, SourceEvent, Timestamp, WireFrame};
use mercury_exchange_binance::Binance as EXCHANGE;
use mercury_testkit::ordered::{Ordered, with_data_field};

/// The keys of an event (which event, which symbol): not fields of a value.
const KEYS: [&str; 3] = ["e", "s", "stream"];
/// The fields the decoder reads for a value.
const REQUESTED: [&str; 4] = ["p", "b", "a", "E"];

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
fn a_junk_field_costs_only_itself_in_real_events() {
    let mut checked = 0;
    for file in [
        "binance-docs_usdm_markprice.jsonl",
        "barter-rs_usdm_bookticker.jsonl",
        "crypto-msg-parser_usdm_markprice.jsonl",
        "crypto-msg-parser_usdm_bookticker.jsonl",
    ] {
        for frame in fixture(file).iter().take(2) {
            let object = Ordered::parse(frame);
            if object.get("data").is_some_and(|d| d.get().starts_with('{')) {
                let data = Ordered::parse(object.get("data").unwrap().get());
                let fields: Vec<String> = data.0.iter().map(|(k, _)| k.clone()).collect();
                checked += check_every_field(&[], &fields, |f, v| with_data_field(frame, f, v));
            } else if object.get("data").is_none() {
                let fields: Vec<String> = object.0.iter().map(|(k, _)| k.clone()).collect();
                checked += check_every_field(&[], &fields, |f, v| object.with(f, v));
            }
        }
    }
    assert!(checked > 50, "only {checked} mutations");
}

#[test]
fn the_issue_s_event() {
    let frame = r#"{"e":"markPriceUpdate","E":"yesterday","s":"BTCUSDT","p":"11794.15"}"#;
    let (quotes, skipped) = decoded(&[frame]);
    assert_eq!(quotes, ["BTCUSDT Mark 11794.15 None"]);
    assert_eq!(skipped, 1);
}
