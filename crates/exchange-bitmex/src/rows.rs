//! Applying the rows of a table frame's `data` array, read from any serde
//! deserializer: the captured raw text of `data`, or the frame itself in
//! one pass (see [`crate::stream`]). Rows are walked in order without
//! being collected.

use crate::session::RowApplier;
use crate::tables::Table;
use crate::wire::{BitmexInstrumentRow, BitmexQuoteRow, BitmexTradeRow};
use mercury_core::{DecodeError, QuoteKind};
use serde::de::{Deserialize, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Applies each row of a `data` array to `apply`. A row the applier rejects
/// stops the walk; its error is left in `failure` (the deserializer's own
/// error then only says "row rejected").
pub(crate) struct RowsSeed<'a, 's, 'e> {
    pub(crate) apply: &'a mut RowApplier<'s, 'e>,
    pub(crate) failure: &'a mut Option<DecodeError>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, rows: D) -> Result<(), D::Error> {
        let RowsSeed { apply, failure } = self;
        match apply.table {
            Table::Instrument => {
                rows.deserialize_seq(EachRow::new(failure, |row: BitmexInstrumentRow<'de>| {
                    let prices = [
                        (QuoteKind::Fair, row.fair_price),
                        (QuoteKind::Mark, row.mark_price),
                        (QuoteKind::Last, row.last_price),
                        (QuoteKind::Index, row.indicative_settle_price),
                    ];
                    apply.row(&row.symbol, row.timestamp, prices)
                }))
            }
            Table::Quote => {
                rows.deserialize_seq(EachRow::new(failure, |row: BitmexQuoteRow<'de>| {
                    let prices = [
                        (QuoteKind::Bid, row.bid_price),
                        (QuoteKind::Ask, row.ask_price),
                    ];
                    apply.row(&row.symbol, row.timestamp, prices)
                }))
            }
            Table::Trade => {
                rows.deserialize_seq(EachRow::new(failure, |row: BitmexTradeRow<'de>| {
                    apply.row(&row.symbol, row.timestamp, [(QuoteKind::Trade, row.price)])
                }))
            }
        }
    }
}

/// Calls `f` on each element of a sequence, in order.
struct EachRow<'a, T, F> {
    f: F,
    failure: &'a mut Option<DecodeError>,
    row: PhantomData<fn() -> T>,
}

impl<'a, T, F> EachRow<'a, T, F> {
    fn new(failure: &'a mut Option<DecodeError>, f: F) -> Self {
        EachRow {
            f,
            failure,
            row: PhantomData,
        }
    }
}

impl<'de, T, F> Visitor<'de> for EachRow<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), DecodeError>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<T>()? {
            if let Err(failure) = (self.f)(row) {
                *self.failure = Some(failure);
                return Err(serde::de::Error::custom("row rejected"));
            }
        }
        Ok(())
    }
}
