//! The new writers against the former ones (`serde_json` and `write!`),
//! byte for byte, over real fixture quotes and hostile ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::messages::ConnectionId;
use mercury_core::{Decoder, ExchangeId, Quote, QuoteKind, SourceEvent, SplitMix64, WireFrame};
use serde::Serialize;
use serde::ser::Serializer;
use std::fmt::Display;
use std::io::Write;

/// The former JSON line: `serde_json` of this row (the code before #18).
#[derive(Serialize)]
struct LegacyRow<'a> {
    seq: u64,
    exchange: &'a str,
    symbol: &'a str,
    kind: &'static str,
    #[serde(serialize_with = "as_text")]
    price: &'a Price,
    #[serde(serialize_with = "option_as_text")]
    exchange_time: Option<Timestamp>,
    #[serde(serialize_with = "as_text")]
    received_at: &'a Timestamp,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    after_gap: bool,
}

fn as_text<S: Serializer, T: Display>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn option_as_text<S: Serializer, T: Display>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

fn legacy_json(tick: &Tick) -> Vec<u8> {
    let q = &tick.quote;
    let row = LegacyRow {
        seq: tick.seq,
        exchange: q.exchange.as_str(),
        symbol: q.symbol.as_str(),
        kind: q.kind.as_str(),
        price: &q.price,
        exchange_time: q.exchange_time,
        received_at: &q.received_at,
        after_gap: tick.after_gap,
    };
    serde_json::to_vec(&row).unwrap()
}

/// The former `record` CSV row.
fn legacy_record_csv(tick: &Tick) -> Vec<u8> {
    use crate::record::csv::csv_field;
    let (q, mut out) = (&tick.quote, Vec::new());
    write!(
        out,
        "{},{},{},{},{},{},{},",
        tick.seq,
        tick.connection.0,
        tick.conn_seq,
        csv_field(q.exchange.as_str()),
        csv_field(q.symbol.as_str()),
        q.kind.as_str(),
        q.price
    )
    .unwrap();
    if let Some(time) = q.exchange_time {
        write_rfc3339_nanos(&mut out, time).unwrap();
    }
    out.write_all(b",").unwrap();
    write_rfc3339_nanos(&mut out, q.received_at).unwrap();
    writeln!(out, ",{}", tick.after_gap).unwrap();
    out
}

/// The former `fetch --format csv` row.
fn legacy_fetch_csv(tick: &Tick) -> Vec<u8> {
    let (q, mut out) = (&tick.quote, Vec::new());
    let symbol = crate::record::csv::csv_field(q.symbol.as_str());
    write!(
        out,
        "{},{},{},{},{},",
        tick.seq,
        q.exchange,
        symbol,
        q.kind.as_str(),
        q.price
    )
    .unwrap();
    if let Some(time) = q.exchange_time {
        write!(out, "{time}").unwrap();
    }
    writeln!(out, ",{}", q.received_at).unwrap();
    out
}

/// Writes `ticks` with one [`QuoteText`] (its caches carried from tick to
/// tick, as in a stream) and checks every line against the former code.
fn check_all(ticks: &[Tick]) {
    let mut text = QuoteText::new();
    let mut out = Vec::new();
    for tick in ticks {
        out.clear();
        text.json(&mut out, tick).unwrap();
        assert_eq!(lossy(&out), lossy(&legacy_json(tick)), "json of {tick:?}");
        out.clear();
        text.record_csv(&mut out, tick);
        assert_eq!(lossy(&out), lossy(&legacy_record_csv(tick)), "{tick:?}");
        out.clear();
        text.fetch_csv(&mut out, tick);
        assert_eq!(lossy(&out), lossy(&legacy_fetch_csv(tick)), "{tick:?}");
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tick(seq: u64, quote: Quote, after_gap: bool) -> Tick {
    Tick {
        seq,
        connection: ConnectionId(seq % 7),
        conn_seq: seq / 3,
        quote,
        after_gap,
    }
}

fn quote(symbol: &str, price: &str, exchange_time: Option<i128>, received: i128) -> Quote {
    Quote {
        exchange: ExchangeId::from_static("bitmex"),
        symbol: symbol.into(),
        kind: QuoteKind::Fair,
        price: price.parse().unwrap(),
        exchange_time: exchange_time.map(Timestamp::from_unix_nanos),
        received_at: Timestamp::from_unix_nanos(received),
        conn_seq: 1,
    }
}

/// Every quote of every BitMEX fixture file, received at times that move
/// on by a random step (several quotes per second, seconds skipped).
fn fixture_quotes() -> Vec<Quote> {
    let dir = mercury_testkit::bitmex_fixture_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    names.sort();
    let mut quotes = Vec::new();
    let mut rng = SplitMix64::new(18);
    let mut received = 1_764_000_005_013_402_117i128;
    for name in names {
        let mut decoder = Decoder::new(&mercury_exchange_bitmex::Bitmex);
        for frame in mercury_testkit::bitmex_frames(&name) {
            received += (rng.next_u64() % 700_000_000) as i128;
            let at = Timestamp::from_unix_nanos(received);
            let Ok(events) = decoder.decode_to_vec(WireFrame::Text(&frame), at) else {
                continue;
            };
            quotes.extend(events.into_iter().filter_map(|event| match event {
                SourceEvent::Quote(quote) => Some(quote),
                _ => None,
            }));
        }
    }
    quotes
}

#[test]
fn every_fixture_quote_is_written_as_before() {
    let quotes = fixture_quotes();
    assert!(quotes.len() > 1_000, "{} quotes", quotes.len());
    assert!(quotes.iter().any(|q| q.exchange_time.is_some()));
    let ticks: Vec<Tick> = (1..)
        .zip(quotes)
        .map(|(seq, quote)| tick(seq, quote, seq % 5 == 0))
        .collect();
    check_all(&ticks);
}

#[test]
fn hostile_symbols_and_prices_are_written_as_before() {
    let symbols = [
        "XBTUSD",
        "a\"b",
        "back\\slash",
        "new\nline",
        "\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
        "a,b",
        "\"\"",
        "ünïcödé-€-𝄞",
        "",
        "</script>",
        "\u{2028}\u{2029}",
    ];
    let prices = [
        "43210.5",
        "1.814e-05",
        "0.0000000000000000001",
        "1234567890123456789",
        "123456789012345678.9",
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "0.0000000000000000000000000001",
        "28667.0",
        "1225",
        "-0.5",
        "0",
        "-0",
        "0.000",
        "-0.000",
        "0e-50",
        "1e+3",
        "1.1e-8",
        "1188212.1300000001",
    ];
    let mut ticks = Vec::new();
    for (i, symbol) in symbols.iter().enumerate() {
        for (j, price) in prices.iter().enumerate() {
            let seq = (i * prices.len() + j) as u64;
            let exchange_time = (j % 3 != 0).then_some(1_764_000_000_000_000_000 + seq as i128);
            let received = 1_764_000_005_013_402_117 + (seq as i128) * 333_333_333;
            ticks.push(tick(
                seq,
                quote(symbol, price, exchange_time, received),
                j % 2 == 0,
            ));
        }
    }
    check_all(&ticks);
}

#[test]
fn random_prices_and_times_are_written_as_before() {
    let mut rng = SplitMix64::new(18);
    let last = 253_402_300_799_999_999_999i128;
    let edges = [
        i128::MIN,
        -1_000_000_000_000_000_000_000,
        -1,
        0,
        1,
        999_999_999,
        1_000_000_000,
        last,
        last + 1,
        i128::MAX,
    ];
    let mut ticks = Vec::new();
    for i in 0..20_000u64 {
        // Up to 28 digits (a Decimal's mantissa holds 96 bits), any scale.
        let digits = 1 + rng.next_u64() % 28;
        let mantissa: String = (0..digits)
            .map(|_| char::from(b'0' + (rng.next_u64() % 10) as u8))
            .collect();
        let mantissa = mantissa.trim_start_matches('0');
        let mantissa = if mantissa.is_empty() { "0" } else { mantissa };
        let exponent = rng.next_u64() % 30;
        let sign = if rng.next_u64().is_multiple_of(4) {
            "-"
        } else {
            ""
        };
        let price = format!("{sign}{mantissa}e-{exponent}");
        if price.parse::<Price>().is_err() {
            continue;
        }
        let time = |rng: &mut SplitMix64| match rng.next_u64() % 8 {
            0 => edges[(rng.next_u64() % edges.len() as u64) as usize],
            // Close together: several quotes in one second.
            1..=5 => 1_764_000_000_000_000_000 + (i as i128) * 50_000_000,
            _ => (rng.next_u64() as i128 * 13_763) % last,
        };
        let exchange_time = (!rng.next_u64().is_multiple_of(3)).then(|| time(&mut rng));
        let received = time(&mut rng);
        ticks.push(tick(
            i,
            quote("XBTUSD", &price, exchange_time, received),
            false,
        ));
    }
    assert!(ticks.len() > 15_000);
    check_all(&ticks);
}

#[test]
fn write_json_and_write_csv_keep_their_documented_shape() {
    let t = tick(
        1,
        quote(
            "XBTUSD",
            "9277.2",
            Some(1_580_297_497_114_000_000),
            1_764_150_700_626_000_000,
        ),
        false,
    );
    let mut out = Vec::new();
    t.write_json(&mut out).unwrap();
    assert_eq!(
        lossy(&out),
        r#"{"seq":1,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"9277.2","exchange_time":"2020-01-29T11:31:37.114Z","received_at":"2025-11-26T09:51:40.626Z"}"#
    );
}
