//! One bad field must cost only itself (issue #14, item 7): the property
//! checks every exchange crate runs on its real frames, each field replaced
//! by [`JUNK`] in turn.

use mercury_core::{Control, Decoder, Exchange, SkipReason, SourceEvent, Timestamp, WireFrame};

/// What a field is replaced by: text where a number or time belongs, an
/// object, an array, a boolean.
pub const JUNK: [&str; 5] = [r#""garbage""#, r#""yesterday""#, "{}", "[1]", "true"];

/// The quotes of `events` as `symbol kind price time` lines, and how many
/// fields were skipped as invalid.
pub fn quotes_and_invalid_fields(events: &[SourceEvent]) -> (Vec<String>, usize) {
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

/// The property for one exchange: which fields are keys (not values) and
/// which the decoder reads.
pub struct FieldJunk {
    /// The exchange whose sessions decode the frames.
    pub exchange: &'static dyn Exchange,
    /// Fields that say what a value belongs to (event, symbol): not checked.
    pub keys: &'static [&'static str],
    /// Fields the decoder reads for a value: junk there is one skip.
    pub requested: &'static [&'static str],
}

impl FieldJunk {
    /// [`quotes_and_invalid_fields`] of the last of `frames`, decoded in
    /// order on one session.
    pub fn decoded(&self, frames: &[&str]) -> (Vec<String>, usize) {
        let mut source = Decoder::new(self.exchange);
        let mut events = Vec::new();
        for frame in frames {
            events = source
                .decode_to_vec(WireFrame::Text(frame), Timestamp::UNIX_EPOCH)
                .unwrap_or_else(|e| panic!("{e}: {frame}"));
        }
        quotes_and_invalid_fields(&events)
    }

    /// Every field of `fields` replaced by junk (through `mutate`, which
    /// removes the field when given `None`), after the frames `before`,
    /// decodes to what the frame decodes to without it; a requested one is
    /// counted once. Returns how many mutations were checked.
    pub fn check_every_field(
        &self,
        before: &[&str],
        fields: &[String],
        mutate: impl Fn(&str, Option<&str>) -> String,
    ) -> usize {
        let mut checked = 0;
        for field in fields.iter().filter(|f| !self.keys.contains(&f.as_str())) {
            let without = mutate(field, None);
            let (expected, none) = self.decoded(&[before, &[without.as_str()]].concat());
            assert_eq!(none, 0, "{without}");
            for junk in JUNK {
                let mutated = mutate(field, Some(junk));
                let (quotes, skipped) = self.decoded(&[before, &[mutated.as_str()]].concat());
                assert_eq!(quotes, expected, "{field}={junk}");
                let wanted = self.requested.contains(&field.as_str());
                assert_eq!(skipped, usize::from(wanted), "{field}={junk}: {mutated}");
                checked += 1;
            }
        }
        checked
    }
}

/// The non-empty lines of `dir/tests/fixtures/file` (`dir`: a crate's
/// `CARGO_MANIFEST_DIR`).
pub fn fixture_lines(dir: &str, file: &str) -> Vec<String> {
    let path = format!("{dir}/tests/fixtures/{file}");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}
