//! BitMEX conversations for the mock server, built from real frames.
//!
//! The welcome and the XBTUSD instrument partial are real recorded frames
//! (see `SOURCES.md` beside the fixtures). No permissively licensed capture
//! has a run of XBTUSD `fairPrice` updates, so those updates are synthetic,
//! in the exact shape of the real ones (`symbol`, `timestamp` and only the
//! changed fields), and are named as such here.

use crate::{Step, bitmex_frames, number_texts};
use mercury_core::Price;
use mercury_simulator::{read_log, sent_by_connection};
use std::collections::BTreeMap;
use std::path::Path;

/// Synthetic fair prices in every number form the wire uses (integer,
/// decimal, exponent, trailing `.0`, binary noise), for scripted sessions.
pub const SAMPLE_FAIRS: [&str; 12] = [
    "43210.5",
    "43210",
    "1.814e-05",
    "28667.0",
    "43211.25",
    "1188212.1300000001",
    "43212",
    "43213.5",
    "43214",
    "43215.75",
    "43216",
    "43217",
];

/// The real welcome of the 2021-07-22 production session.
pub fn welcome() -> String {
    bitmex_frames("cryptofeed_2021-07-22_session.jsonl").swap_remove(0)
}

/// An ack in the shape of the real ones, for `topic`.
pub fn ack(topic: &str) -> String {
    format!(
        r#"{{"success":true,"subscribe":"{topic}","request":{{"op":"subscribe","args":["{topic}"]}}}}"#
    )
}

/// The real XBTUSD instrument partial captured by ccxt (fairPrice 9277.2).
pub fn instrument_partial() -> String {
    bitmex_frames("ccxt_instrument-XBTUSD_partial.jsonl").swap_remove(0)
}

/// A synthetic instrument update carrying `fairPrice` (and `markPrice`).
pub fn fair_update(symbol: &str, fair: &str, second: u32) -> String {
    format!(
        r#"{{"table":"instrument","action":"update","data":[{{"symbol":"{symbol}","fairPrice":{fair},"markPrice":{fair},"fairBasis":0.5,"timestamp":"2026-11-24T06:00:{:02}.000Z"}}]}}"#,
        second % 60
    )
}

/// A synthetic instrument update without `fairPrice` — the common case.
pub fn update_without_fair(symbol: &str, second: u32) -> String {
    format!(
        r#"{{"table":"instrument","action":"update","data":[{{"symbol":"{symbol}","impactBidPrice":9277,"impactMidPrice":9277.25,"impactAskPrice":9277.5,"volume":{second},"timestamp":"2026-11-24T06:00:{:02}.500Z"}}]}}"#,
        second % 60
    )
}

/// The opening of a session: welcome, wait for the subscribe request,
/// ack it, then the real partial.
pub fn opening() -> Vec<Step> {
    vec![
        Step::Send(welcome()),
        Step::AwaitText("instrument:XBTUSD".into()),
        Step::Send(ack("instrument:XBTUSD")),
        Step::Send(instrument_partial()),
    ]
}

/// A whole XBTUSD session: the opening, then for each of `fairs` one
/// update without `fairPrice` and one with it, `gap` apart.
pub fn fair_session(fairs: &[&str], gap: std::time::Duration) -> Vec<Step> {
    let mut steps = opening();
    for (i, fair) in fairs.iter().enumerate() {
        let second = i as u32;
        steps.push(Step::Send(update_without_fair("XBTUSD", second)));
        steps.push(Step::Pause(gap));
        steps.push(Step::Send(fair_update("XBTUSD", fair, second)));
    }
    steps
}

/// An oracle independent of the codec: the text of every `fairPrice`
/// number the script sends in an `instrument` frame once the XBTUSD
/// partial has gone out, in order.
pub fn fair_prices_sent(steps: &[Step]) -> Vec<String> {
    fair_prices_in(steps.iter().filter_map(|step| match step {
        Step::Send(text) | Step::SendFragmented(text, _) => Some(text.as_str()),
        _ => None,
    }))
}

/// The `fairPrice` number texts in `frames` (one connection's, in order)
/// that a client reports: those of instrument frames from the first
/// `partial` on.
pub fn fair_prices_in<'a>(frames: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut imaged = false;
    let mut prices = Vec::new();
    for text in frames {
        if !text.contains(r#""table":"instrument""#) {
            continue;
        }
        imaged |= text.contains(r#""action":"partial""#);
        if imaged {
            prices.extend(number_texts(text, "fairPrice"));
        }
    }
    prices
}

/// The oracle for runs against the simulator: from its frame log, the
/// fair prices a client of each connection should report, in order (see
/// [`fair_prices_in`]), keyed by connection number.
pub fn fairs_by_connection(log: &Path) -> std::io::Result<BTreeMap<u64, Vec<Price>>> {
    let entries = read_log(log)?;
    sent_by_connection(&entries)
        .into_iter()
        .map(|(connection, frames)| {
            let prices = fair_prices_in(frames)
                .iter()
                .map(|text| text.parse::<Price>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(std::io::Error::other)?;
            Ok((connection, prices))
        })
        .collect()
}

/// Where `after_gap` must be set in a fetch of the first `n` quotes of
/// `by_connection`: the index of the first quote of each later connection
/// that delivered any.
pub fn gap_indices(by_connection: &BTreeMap<u64, Vec<Price>>, n: usize) -> Vec<usize> {
    let mut gaps = Vec::new();
    let mut offset = 0;
    for fairs in by_connection.values() {
        if offset > 0 && offset < n && !fairs.is_empty() {
            gaps.push(offset);
        }
        offset += fairs.len();
    }
    gaps
}
