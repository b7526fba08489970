//! The real capture the simulated venue can replay instead of its
//! synthetic walk (`VenueConfig::replay`), embedded in the binary.
//!
//! The capture is the welcome and every `quote` and `trade` frame of a real
//! 2021 production session (see `replay/SOURCES.md`). A client gets what the
//! real server would have sent it: the recorded partial rows of the symbols
//! it subscribed to, then the recorded inserts, one frame per venue event
//! (re-timed by the venue's interval), each cut down to the rows of its
//! symbols, in the order recorded, starting again at the end. Rows are
//! passed on as the exact text recorded, so every number keeps its form.

use crate::tables::Table;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::OnceLock;

/// The embedded capture, JSON Lines.
const CAPTURE: &str = include_str!("../replay/2021-07-22_quote_trade.jsonl");

/// One recorded data frame, split into rows.
#[derive(Debug)]
struct RecordedFrame {
    table: Table,
    partial: bool,
    /// For partials: `"keys":…,"types":…,"foreignKeys":…,"attributes":…,`.
    metadata: String,
    /// `(symbol, the row's exact text)`.
    rows: Vec<(String, String)>,
}

/// The parsed capture.
#[derive(Debug)]
pub(crate) struct Recording {
    welcome: String,
    frames: Vec<RecordedFrame>,
}

#[derive(Deserialize)]
struct WireFrame<'a> {
    #[serde(borrow)]
    table: Option<Cow<'a, str>>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    keys: Option<&'a RawValue>,
    #[serde(borrow)]
    types: Option<&'a RawValue>,
    #[serde(borrow, rename = "foreignKeys")]
    foreign_keys: Option<&'a RawValue>,
    #[serde(borrow)]
    attributes: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireRow<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
}

impl Recording {
    /// The embedded capture, parsed once per process.
    pub(crate) fn embedded() -> &'static Recording {
        static RECORDING: OnceLock<Recording> = OnceLock::new();
        RECORDING.get_or_init(|| Recording::parse(CAPTURE))
    }

    /// Parses a capture; lines that are not table frames of `quote` or
    /// `trade` are left out, the first line is the welcome.
    fn parse(capture: &str) -> Recording {
        let mut lines = capture.lines().filter(|l| !l.trim().is_empty());
        let welcome = lines.next().unwrap_or_default().to_owned();
        let frames = lines.filter_map(Self::parse_frame).collect();
        Recording { welcome, frames }
    }

    fn parse_frame(line: &str) -> Option<RecordedFrame> {
        let frame: WireFrame = serde_json::from_str(line).ok()?;
        let table = Table::from_wire(frame.table.as_deref()?)?;
        let partial = frame.action.as_deref() == Some("partial");
        let mut metadata = String::new();
        for (name, value) in [
            ("keys", frame.keys),
            ("types", frame.types),
            ("foreignKeys", frame.foreign_keys),
            ("attributes", frame.attributes),
        ] {
            if let Some(value) = value {
                metadata.push_str(&format!(r#""{name}":{},"#, value.get()));
            }
        }
        let rows = frame
            .data
            .iter()
            .filter_map(|row| {
                let symbol = serde_json::from_str::<WireRow>(row.get()).ok()?.symbol;
                Some((symbol.into_owned(), row.get().to_owned()))
            })
            .collect();
        Some(RecordedFrame {
            table,
            partial,
            metadata,
            rows,
        })
    }

    /// The recorded welcome, as sent in 2021.
    pub(crate) fn welcome(&self) -> &str {
        &self.welcome
    }

    /// Every symbol of the capture, in order of first appearance.
    pub(crate) fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = Vec::new();
        for (symbol, _) in self.frames.iter().flat_map(|f| &f.rows) {
            if !symbols.contains(symbol) {
                symbols.push(symbol.clone());
            }
        }
        symbols
    }

    /// A partial of `table` with the recorded partial rows of `symbols` and
    /// `filter` (the inside of the filter object). `None` if the capture
    /// has no partial of `table`.
    pub(crate) fn partial(&self, table: Table, symbols: &[&str], filter: &str) -> Option<String> {
        let partials: Vec<&RecordedFrame> = self
            .frames
            .iter()
            .filter(|f| f.table == table && f.partial)
            .collect();
        let metadata = &partials.first()?.metadata;
        let rows: Vec<&str> = partials
            .iter()
            .flat_map(|f| &f.rows)
            .filter(|(symbol, _)| symbols.contains(&symbol.as_str()))
            .map(|(_, row)| row.as_str())
            .collect();
        Some(format!(
            r#"{{"table":"{}","action":"partial",{metadata}"filter":{{{filter}}},"data":[{}]}}"#,
            table.wire_name(),
            rows.join(",")
        ))
    }

    /// The next recorded non-partial frame from `*cursor` on (wrapping
    /// round once) that has rows `wanted(table, symbol)` accepts, cut down
    /// to those rows; advances the cursor past it.
    pub(crate) fn next_frame(
        &self,
        cursor: &mut usize,
        wanted: impl Fn(Table, &str) -> bool,
    ) -> Option<String> {
        let count = self.frames.len();
        for step in 0..count {
            let index = (*cursor + step) % count;
            let frame = &self.frames[index];
            if frame.partial {
                continue;
            }
            let rows: Vec<&str> = frame
                .rows
                .iter()
                .filter(|(symbol, _)| wanted(frame.table, symbol))
                .map(|(_, row)| row.as_str())
                .collect();
            if !rows.is_empty() {
                *cursor = index + 1;
                return Some(format!(
                    r#"{{"table":"{}","action":"insert","data":[{}]}}"#,
                    frame.table.wire_name(),
                    rows.join(",")
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_capture_is_whole() {
        let recording = Recording::embedded();
        assert!(
            recording
                .welcome()
                .contains("Welcome to the BitMEX Realtime API.")
        );
        assert_eq!(
            recording.frames.len(),
            110,
            "10 + 10 partials, 83 + 7 inserts"
        );
        assert_eq!(recording.frames.iter().filter(|f| f.partial).count(), 20);
        assert_eq!(recording.symbols().len(), 10);
        assert!(recording.symbols().contains(&"XBTUSD".to_string()));
    }

    #[test]
    fn rows_keep_their_recorded_text_and_wrap_round() {
        let recording = Recording::embedded();
        let mut cursor = 0;
        let wanted = |table: Table, symbol: &str| table == Table::Trade && symbol == "XBTUSD";
        let first = recording.next_frame(&mut cursor, wanted).unwrap();
        assert!(first.starts_with(r#"{"table":"trade","action":"insert","data":[{"#));
        let frame: WireFrame = serde_json::from_str(&first).unwrap();
        assert!(!frame.data.is_empty());
        for row in &frame.data {
            assert!(CAPTURE.contains(row.get()), "recorded text, unchanged");
            let symbol = serde_json::from_str::<WireRow>(row.get()).unwrap().symbol;
            assert_eq!(symbol, "XBTUSD");
        }
        let mut again = Vec::new();
        for _ in 0..20 {
            again.push(recording.next_frame(&mut cursor, wanted).unwrap());
        }
        assert!(again.contains(&first), "the capture starts again");
        assert_eq!(recording.next_frame(&mut cursor, |_, _| false), None);
    }
}
