//! The client's image of the BitMEX tables on one connection.
//!
//! BitMEX sends a `partial` (the full image) before any other frame of a
//! table; `update`/`insert`/`delete` frames that arrive before it must be
//! dropped, because they change an image the client does not have yet. The
//! image is per table and, for filtered subscriptions (`instrument:XBTUSD`),
//! per symbol. All of it is void on a new connection.
//!
//! Bounded whatever the server sends: a `partial` without a `filter`
//! images a whole table, and a server may then send rows for any number of
//! symbols never subscribed. At most `max_symbols` symbols are kept (those
//! a filtered `partial` imaged first, then the first others seen) and at
//! most `max_symbols` filtered images per table; rows of other symbols
//! still yield their quotes but are not remembered.

use mercury_core::{Price, QuoteKind, Symbol};
use std::collections::{HashMap, HashSet};

/// The tables mercury turns into quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `instrument`: fair, mark and last prices.
    Instrument,
    /// `quote`: best bid and ask.
    Quote,
    /// `trade`: one row per trade.
    Trade,
}

impl Table {
    /// The table of a wire name, if mercury handles it.
    pub fn from_wire(name: &str) -> Option<Table> {
        match name {
            "instrument" => Some(Table::Instrument),
            "quote" => Some(Table::Quote),
            "trade" => Some(Table::Trade),
            _ => None,
        }
    }

    /// The wire name, e.g. `instrument`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Table::Instrument => "instrument",
            Table::Quote => "quote",
            Table::Trade => "trade",
        }
    }

    /// The table that carries `kind`.
    pub const fn for_kind(kind: QuoteKind) -> Table {
        match kind {
            QuoteKind::Fair | QuoteKind::Mark | QuoteKind::Last | QuoteKind::Index => {
                Table::Instrument
            }
            QuoteKind::Bid | QuoteKind::Ask => Table::Quote,
            QuoteKind::Trade => Table::Trade,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Which part of a table has been imaged by a `partial`.
#[derive(Debug, Default)]
struct Image {
    /// A partial without a symbol filter (e.g. `trade:*`) images every symbol.
    whole_table: bool,
    symbols: HashSet<Box<str>>,
}

/// What is known of one symbol: its shared name and its latest prices.
#[derive(Debug)]
struct SymbolState {
    symbol: Symbol,
    latest: [Option<Price>; QuoteKind::ALL.len()],
}

/// All table images of one connection.
#[derive(Debug)]
pub(crate) struct Tables {
    images: [Image; 3],
    symbols: HashMap<Box<str>, SymbolState>,
    max_symbols: usize,
    /// Rows whose symbol was not remembered (the bound was reached).
    unkept: u64,
}

impl Tables {
    /// No image yet; at most `max_symbols` symbols kept.
    pub fn new(max_symbols: usize) -> Self {
        Tables {
            images: Default::default(),
            symbols: HashMap::new(),
            max_symbols,
            unkept: 0,
        }
    }

    /// Records a `partial` for `table`, covering `symbol` or, if `None`,
    /// every symbol. `false` if the table already has `max_symbols`
    /// filtered images and this one is not among them.
    pub fn image(&mut self, table: Table, symbol: Option<&str>) -> bool {
        let image = &mut self.images[table.index()];
        match symbol {
            None => image.whole_table = true,
            Some(symbol) if image.symbols.contains(symbol) => {}
            Some(_) if image.symbols.len() >= self.max_symbols => return false,
            Some(symbol) => {
                image.symbols.insert(symbol.into());
            }
        }
        true
    }

    /// Whether a filtered `partial` of some table imaged `symbol`.
    fn is_filtered(&self, symbol: &str) -> bool {
        self.images
            .iter()
            .any(|image| image.symbols.contains(symbol))
    }

    /// How many symbols are remembered.
    pub fn kept(&self) -> usize {
        self.symbols.len()
    }

    /// How many rows had a symbol that was not remembered.
    pub fn unkept(&self) -> u64 {
        self.unkept
    }

    /// Whether a `partial` covering `symbol` of `table` has arrived.
    pub fn is_imaged(&self, table: Table, symbol: &str) -> bool {
        let image = &self.images[table.index()];
        image.whole_table || image.symbols.contains(symbol)
    }

    /// The shared [`Symbol`] for `name`, allocated once per connection —
    /// or, past the bound and not imaged by a filtered partial, a symbol
    /// that is not remembered.
    pub fn symbol(&mut self, name: &str) -> Symbol {
        if let Some(state) = self.symbols.get(name) {
            return state.symbol.clone();
        }
        let symbol = Symbol::new(name);
        if self.symbols.len() >= self.max_symbols && !self.is_filtered(name) {
            if self.unkept == 0 {
                tracing::debug!(
                    max = self.max_symbols,
                    "a whole-table image reached its bound of symbols: more are reported, not remembered"
                );
            }
            self.unkept += 1;
            return symbol;
        }
        self.symbols.insert(
            name.into(),
            SymbolState {
                symbol: symbol.clone(),
                latest: Default::default(),
            },
        );
        symbol
    }

    /// Remembers `price` as the latest `kind` of `name`.
    pub fn record(&mut self, name: &str, kind: QuoteKind, price: Price) {
        if let Some(state) = self.symbols.get_mut(name) {
            state.latest[kind_index(kind)] = Some(price);
        }
    }

    /// The latest `kind` of `name` in the image, if any.
    pub fn latest(&self, name: &str, kind: QuoteKind) -> Option<Price> {
        self.symbols.get(name)?.latest[kind_index(kind)]
    }

    /// Forgets the prices `table` holds for `name` (a `delete` row).
    pub fn delete(&mut self, table: Table, name: &str) {
        if let Some(state) = self.symbols.get_mut(name) {
            for kind in QuoteKind::ALL {
                if Table::for_kind(kind) == table {
                    state.latest[kind_index(kind)] = None;
                }
            }
        }
    }

    /// Forgets every image (the server restarted the session).
    pub fn clear(&mut self) {
        *self = Tables::new(self.max_symbols);
    }

    /// Whether anything has been imaged.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
            && self
                .images
                .iter()
                .all(|image| !image.whole_table && image.symbols.is_empty())
    }
}

fn kind_index(kind: QuoteKind) -> usize {
    QuoteKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}
