//! Table frames in one pass.
//!
//! The general path parses a frame's envelope first, skipping `data` to
//! capture it as raw text, then parses the rows: every row is read twice,
//! and the envelope pass was more than half the cost of a typical
//! instrument update. Real table frames put `table` and `action` before
//! `data`, so an `update`, `insert` or `delete` of a handled table can
//! apply its rows straight from the frame. Anything else — a `partial`
//! (its `filter` must be known before its rows), an unhandled table, keys
//! in another order — captures `data` and takes the general path, so the
//! results are the same either way.
//!
//! One difference on bad input: rows before a malformed tail have been
//! applied to the table image when the error is found (their quotes are
//! discarded with the frame by the [`Emitter`], numbers and all).

use crate::rows::RowsSeed;
use crate::session::{BitmexSession, RowApplier};
use crate::tables::Table;
use crate::wire::{BitmexAction, BitmexFilter, BitmexTable};
use mercury_core::{DecodeError, Emitter, SkipReason};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Decodes a frame that starts with `{"table":`.
pub(crate) fn decode_table_frame(
    session: &mut BitmexSession,
    text: &str,
    out: &mut Emitter<'_>,
) -> Result<(), DecodeError> {
    let mut failure = None;
    let mut frame = serde_json::Deserializer::from_str(text);
    let pass = (&mut frame).deserialize_map(OnePass {
        session: &mut *session,
        out: &mut *out,
        failure: &mut failure,
    });
    let result = match (failure, pass) {
        (Some(failure), _) => Err(failure),
        (None, Err(error)) => Err(DecodeError::malformed(&error)),
        (None, Ok(pass)) => frame
            .end()
            .map_err(|e| DecodeError::malformed(&e))
            .map(|()| pass),
    };
    match result? {
        Pass::Applied => Ok(()),
        Pass::Deferred(table) => session.apply_table(table, out),
    }
}

/// What the one pass did.
enum Pass<'de> {
    /// The rows were applied.
    Applied,
    /// The frame, with `data` captured, for the general path.
    Deferred(BitmexTable<'de>),
}

struct OnePass<'a, 'e> {
    session: &'a mut BitmexSession,
    out: &'a mut Emitter<'e>,
    failure: &'a mut Option<DecodeError>,
}

/// A string that borrows from the frame when it can.
#[derive(serde::Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, field: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for OnePass<'_, '_> {
    type Value = Pass<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a BitMEX table frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pass<'de>, A::Error> {
        let mut table: Option<Cow<'de, str>> = None;
        let mut action: Option<Cow<'de, str>> = None;
        let mut filter: Option<BitmexFilter<'de>> = None;
        let mut data: Option<&'de RawValue> = None;
        let mut applied = false;
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match key.as_ref() {
                "table" => once(&mut table, map.next_value::<Text<'de>>()?.0, "table")?,
                "action" => once(&mut action, map.next_value::<Text<'de>>()?.0, "action")?,
                "filter" => once(&mut filter, map.next_value()?, "filter")?,
                "data" if applied || data.is_some() => {
                    return Err(de::Error::duplicate_field("data"));
                }
                "data" => {
                    let handled = table.as_deref().and_then(Table::from_wire);
                    let kind = action.as_deref().map(BitmexAction::parse);
                    let (
                        Some(handled),
                        Some(
                            kind @ (BitmexAction::Update
                            | BitmexAction::Insert
                            | BitmexAction::Delete),
                        ),
                    ) = (handled, kind)
                    else {
                        data = Some(map.next_value()?);
                        continue;
                    };
                    let mut apply = RowApplier {
                        session: &mut *self.session,
                        table: handled,
                        action: kind,
                        out: &mut *self.out,
                        dropped: 0,
                    };
                    map.next_value_seed(RowsSeed {
                        apply: &mut apply,
                        failure: &mut *self.failure,
                    })?;
                    let dropped = apply.dropped;
                    if dropped > 0 {
                        self.out
                            .skipped(SkipReason::BeforeSnapshot, handled.wire_name());
                    }
                    applied = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if applied {
            return Ok(Pass::Applied);
        }
        let table = table.ok_or_else(|| de::Error::missing_field("table"))?;
        let action = action
            .as_deref()
            .map_or(BitmexAction::Other, BitmexAction::parse);
        Ok(Pass::Deferred(BitmexTable {
            table,
            action,
            filter,
            data,
        }))
    }
}
