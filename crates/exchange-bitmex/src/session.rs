//! [`BitmexSession`]: one connection of the BitMEX realtime protocol.

use crate::EXCHANGE_ID;
use crate::prescan::Prescan;
use crate::rows::RowsSeed;
use crate::tables::{Table, Tables};
use crate::wire::{
    BitmexAction, BitmexError, BitmexMessage, BitmexTable, field_of, price_of, time_of,
};
use mercury_core::{
    Control, DecodeError, Decoder, Emitter, ExchangeError, Price, QuoteKind, Session, SkipReason,
    Subscription, Timestamp, WireFrame, excerpt,
};
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use tracing::{debug, info};

/// The largest frame accepted by default: 16 MiB, well above the largest
/// real frame seen (a 709 KB `orderBookL2` partial).
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 << 20;
/// The most symbols a session remembers by default: the whole BitMEX
/// instrument table (indices and expired contracts included) is a few
/// hundred.
pub const DEFAULT_MAX_SYMBOLS: usize = 10_000;
/// What a session says when the server greets it a second time.
pub const SESSION_RESTARTED: &str = "the server restarted the session (a second welcome on the same connection): its table images were reset; the connection ends, and the next one subscribes afresh";

/// Settings of a [`BitmexSession`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmexConfig {
    /// Frames longer than this many bytes are rejected unread.
    pub max_frame_len: usize,
    /// The most symbols remembered, and the most filtered images kept per
    /// table; rows beyond it are reported but not remembered.
    pub max_symbols: usize,
}

impl Default for BitmexConfig {
    fn default() -> Self {
        BitmexConfig {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_symbols: DEFAULT_MAX_SYMBOLS,
        }
    }
}

/// The BitMEX realtime protocol for one connection, sans I/O.
///
/// Feed it every text frame; it keeps the table images, drops data that
/// arrives before a table's `partial`, and turns `fairPrice`, `markPrice`,
/// `lastPrice` (instrument), `bidPrice`/`askPrice` (quote) and `price`
/// (trade) into [`Quote`](mercury_core::Quote)s — only when a row carries the field, since
/// `update` rows carry only what changed.
///
/// ```
/// use mercury_core::{SourceEvent, Timestamp, WireFrame};
///
/// let mut source = mercury_exchange_bitmex::decoder();
/// let partial = r#"{"table":"instrument","action":"partial","filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","fairPrice":9277.2,"timestamp":"2020-01-29T11:31:20.000Z"}]}"#;
/// let events = source.decode_to_vec(WireFrame::Text(partial), Timestamp::UNIX_EPOCH).unwrap();
/// let SourceEvent::Quote(quote) = &events[0] else { panic!("a quote") };
/// assert_eq!(quote.price.to_string(), "9277.2");
/// ```
#[derive(Debug)]
pub struct BitmexSession {
    config: BitmexConfig,
    pub(crate) tables: Tables,
    welcomed: bool,
    /// Skips frames without a wanted field, once told what is wanted.
    prescan: Option<Prescan>,
}

impl Default for BitmexSession {
    fn default() -> Self {
        Self::with_config(BitmexConfig::default())
    }
}

/// A [`Decoder`] of one BitMEX connection with the default settings.
pub fn decoder() -> Decoder<BitmexSession> {
    decoder_with(BitmexConfig::default())
}

/// A [`Decoder`] of one BitMEX connection with the given settings.
pub fn decoder_with(config: BitmexConfig) -> Decoder<BitmexSession> {
    Decoder::with_session(EXCHANGE_ID, Box::new(BitmexSession::with_config(config)))
}

impl BitmexSession {
    /// A session with the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session with the given settings.
    pub fn with_config(config: BitmexConfig) -> Self {
        BitmexSession {
            tables: Tables::new(config.max_symbols),
            config,
            welcomed: false,
            prescan: None,
        }
    }

    /// The latest `kind` of `symbol` in the current table image, if any.
    pub fn latest(&self, symbol: &str, kind: QuoteKind) -> Option<Price> {
        self.tables.latest(symbol, kind)
    }

    /// How many symbols the session remembers (at most
    /// [`BitmexConfig::max_symbols`] beyond those filtered partials imaged).
    pub fn kept_symbols(&self) -> usize {
        self.tables.kept()
    }

    /// How many rows had a symbol past the bound, reported but not remembered.
    pub fn unkept_rows(&self) -> u64 {
        self.tables.unkept()
    }

    /// A welcome: the first opens the session; another one, or one after
    /// table data, means the server restarted it — every image is void.
    fn welcome(&mut self, info: String, out: &mut Emitter<'_>) {
        let restarted = self.welcomed || !self.tables.is_empty();
        self.welcomed = true;
        out.control(Control::Welcome { info });
        if restarted {
            info!("{SESSION_RESTARTED}");
            self.tables.clear();
            out.control(Control::SessionRestarted);
        }
    }

    fn decode_text(&mut self, text: &str, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
        if text.len() > self.config.max_frame_len {
            return Err(DecodeError::TooLarge {
                len: text.len(),
                max: self.config.max_frame_len,
            });
        }
        // Frames that cannot carry a wanted quote: not parsed (prescan.rs).
        if self.prescan.as_ref().is_some_and(|p| p.skips(text)) {
            return Ok(());
        }
        // The hot path: a table frame (`{"table":…` first) read in one pass.
        if text.starts_with(r#"{"table":"#) {
            return crate::stream::decode_table_frame(self, text, out);
        }
        match BitmexMessage::parse(text)? {
            BitmexMessage::Table(table) => return self.apply_table(table, out),
            BitmexMessage::Welcome(welcome) => self.welcome(welcome.info, out),
            BitmexMessage::Ack(ack) => match (ack.success, ack.subscribe, ack.unsubscribe) {
                (true, Some(topic), _) => out.control(Control::Subscribed { topic }),
                (true, None, Some(topic)) => out.control(Control::Unsubscribed { topic }),
                (true, None, None) => out.control(Control::Info("success".into())),
                (false, subscribe, unsubscribe) => out.exchange_error(ExchangeError {
                    status: None,
                    message: format!(
                        "request refused: {}",
                        subscribe.or(unsubscribe).unwrap_or_default()
                    ),
                    retryable: false,
                    retry_after: None,
                    request: None,
                }),
            },
            BitmexMessage::Error(error) => out.exchange_error(exchange_error(error)),
            BitmexMessage::Pong => out.control(Control::Pong),
            BitmexMessage::Info(info) => out.control(Control::Info(info)),
        }
        Ok(())
    }

    pub(crate) fn apply_table(
        &mut self,
        frame: BitmexTable<'_>,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let Some(table) = Table::from_wire(&frame.table) else {
            out.skipped(SkipReason::Unhandled, frame.table);
            return Ok(());
        };
        if frame.action == BitmexAction::Other {
            out.skipped(SkipReason::UnknownAction, frame.table);
            return Ok(());
        }
        if frame.action == BitmexAction::Partial {
            let symbol = frame.filter.as_ref().and_then(|f| f.symbol.as_deref());
            if !self.tables.image(table, symbol) {
                debug!(table = %frame.table, "a partial past the bound of images per table; dropped");
                out.skipped(SkipReason::OverLimit, frame.table);
                return Ok(());
            }
        }
        let Some(data) = frame.data else {
            return Ok(());
        };
        let mut apply = RowApplier {
            session: self,
            table,
            action: frame.action,
            out,
            dropped: 0,
        };
        let mut failure = None;
        let mut rows = serde_json::Deserializer::from_str(data.get());
        let result = RowsSeed {
            apply: &mut apply,
            failure: &mut failure,
        }
        .deserialize(&mut rows);
        if let Some(failure) = failure {
            return Err(failure);
        }
        result.map_err(|e| DecodeError::malformed(&e))?;
        if apply.dropped > 0 {
            out.skipped(SkipReason::BeforeSnapshot, frame.table);
        }
        Ok(())
    }
}

/// Applies the rows of one table frame to the image and emits their quotes.
pub(crate) struct RowApplier<'s, 'e> {
    pub(crate) session: &'s mut BitmexSession,
    pub(crate) table: Table,
    pub(crate) action: BitmexAction,
    pub(crate) out: &'s mut Emitter<'e>,
    pub(crate) dropped: usize,
}

impl RowApplier<'_, '_> {
    pub(crate) fn row<const N: usize>(
        &mut self,
        symbol: &str,
        timestamp: Option<&RawValue>,
        prices: [(QuoteKind, Option<&RawValue>); N],
    ) -> Result<(), DecodeError> {
        if !self.session.tables.is_imaged(self.table, symbol) {
            self.dropped += 1;
            return Ok(());
        }
        if self.action == BitmexAction::Delete {
            self.session.tables.delete(self.table, symbol);
            return Ok(());
        }
        // One bad field costs only itself: the row's other fields count.
        let mut parsed = [(QuoteKind::Fair, None); N];
        for (slot, (kind, raw)) in parsed.iter_mut().zip(prices) {
            *slot = (kind, self.field(symbol, field_of(kind), price_of(raw)));
        }
        if parsed.iter().all(|(_, price)| price.is_none()) {
            return Ok(());
        }
        let exchange_time = self.field(symbol, "timestamp", time_of(timestamp));
        let tables = &mut self.session.tables;
        let shared = tables.symbol(symbol);
        for (kind, price) in parsed {
            let Some(price) = price else { continue };
            tables.record(symbol, kind, price);
            self.out.quote(&shared, kind, price, exchange_time);
        }
        Ok(())
    }

    /// A field's value; if it does not parse, `None`, counted as an
    /// [`SkipReason::InvalidField`] and logged at debug.
    fn field<T>(
        &mut self,
        symbol: &str,
        field: &'static str,
        value: Result<Option<T>, DecodeError>,
    ) -> Option<T> {
        value.unwrap_or_else(|error| {
            let table = self.table.wire_name();
            debug!(table, symbol = %excerpt(symbol), field, %error, "a field that does not parse; the row's others are kept");
            self.out
                .skipped(SkipReason::InvalidField, format!("{table}.{field}"));
            None
        })
    }
}

fn exchange_error(error: BitmexError) -> ExchangeError {
    // 429 and server-side failures pass; bad requests and auth do not.
    let retryable = matches!(error.status, Some(429) | Some(500..=599));
    ExchangeError {
        status: error.status,
        message: error.error,
        retryable,
        retry_after: error.retry_after,
        request: error.request,
    }
}

impl Session for BitmexSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        _received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        match frame {
            WireFrame::Text(text) => self.decode_text(text, out),
            WireFrame::Binary(bytes) => Err(DecodeError::UnexpectedBinary { len: bytes.len() }),
        }
    }

    /// Updates and inserts without a wanted field are skipped unparsed
    /// (`prescan.rs`: exact, never a frame with a wanted quote).
    fn want(&mut self, wanted: &[Subscription]) {
        self.prescan = Prescan::for_wanted(wanted);
    }
}
