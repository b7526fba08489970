//! [`BitmexSource`]: the BitMEX realtime protocol as a [`QuoteSource`].

use crate::rows::RowsSeed;
use crate::subscribe;
use crate::tables::{Table, Tables};
use crate::wire::{
    BitmexAction, BitmexError, BitmexMessage, BitmexTable, malformed, price_of, time_of,
};
use crate::{ENDPOINTS, EXCHANGE_ID, KINDS};
use mercury_core::{
    Control, DecodeError, Endpoints, Error, ExchangeError, ExchangeId, HeartbeatPolicy, Outgoing,
    Price, Quote, QuoteKind, QuoteSource, SkipReason, SourceEvent, Subscription, Timestamp,
    WireFrame,
};
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use std::time::Duration;

/// The largest frame accepted by default: 16 MiB, well above the largest
/// real frame seen (a 709 KB `orderBookL2` partial).
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 << 20;
/// BitMEX's advice: send `ping` after this long without a message…
pub const HEARTBEAT_IDLE: Duration = Duration::from_secs(5);
/// …and consider the link dead if nothing answers within this long.
pub const PONG_DEADLINE: Duration = Duration::from_secs(5);

/// Settings of a [`BitmexSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmexConfig {
    /// Frames longer than this many bytes are rejected unread.
    pub max_frame_len: usize,
}

impl Default for BitmexConfig {
    fn default() -> Self {
        BitmexConfig {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

/// The BitMEX realtime protocol for one connection, sans I/O.
///
/// Feed it every text frame; it keeps the table images, drops data that
/// arrives before a table's `partial`, and turns `fairPrice`, `markPrice`,
/// `lastPrice` (instrument), `bidPrice`/`askPrice` (quote) and `price`
/// (trade) into [`Quote`]s — only when a row carries the field, since
/// `update` rows carry only what changed.
///
/// ```
/// use mercury_core::{QuoteSource, SourceEvent, Timestamp, WireFrame};
/// use mercury_exchange_bitmex::BitmexSource;
///
/// let mut source = BitmexSource::new();
/// let partial = r#"{"table":"instrument","action":"partial","filter":{"symbol":"XBTUSD"},"data":[{"symbol":"XBTUSD","fairPrice":9277.2,"timestamp":"2020-01-29T11:31:20.000Z"}]}"#;
/// let events = source.decode_to_vec(WireFrame::Text(partial), Timestamp::UNIX_EPOCH).unwrap();
/// let SourceEvent::Quote(quote) = &events[0] else { panic!("a quote") };
/// assert_eq!(quote.price.to_string(), "9277.2");
/// ```
#[derive(Debug, Default)]
pub struct BitmexSource {
    config: BitmexConfig,
    pub(crate) tables: Tables,
    pub(crate) conn_seq: u64,
}

impl BitmexSource {
    /// A source with the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A source with the given settings.
    pub fn with_config(config: BitmexConfig) -> Self {
        BitmexSource {
            config,
            ..Self::default()
        }
    }

    /// The latest `kind` of `symbol` in the current table image, if any.
    pub fn latest(&self, symbol: &str, kind: QuoteKind) -> Option<Price> {
        self.tables.latest(symbol, kind)
    }

    fn decode_text(
        &mut self,
        text: &str,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        if text.len() > self.config.max_frame_len {
            return Err(DecodeError::TooLarge {
                len: text.len(),
                max: self.config.max_frame_len,
            });
        }
        // The hot path: a table frame (`{"table":…` first) read in one pass.
        if text.starts_with(r#"{"table":"#) {
            return crate::stream::decode_table_frame(self, text, received_at, out);
        }
        let event = match BitmexMessage::parse(text)? {
            BitmexMessage::Table(table) => return self.apply_table(table, received_at, out),
            BitmexMessage::Welcome(welcome) => {
                // A welcome opens a connection: any image from before is void.
                self.tables.clear();
                SourceEvent::Control(Control::Welcome { info: welcome.info })
            }
            BitmexMessage::Ack(ack) => match (ack.success, ack.subscribe, ack.unsubscribe) {
                (true, Some(topic), _) => SourceEvent::Control(Control::Subscribed { topic }),
                (true, None, Some(topic)) => SourceEvent::Control(Control::Unsubscribed { topic }),
                (true, None, None) => SourceEvent::Control(Control::Info("success".into())),
                (false, subscribe, unsubscribe) => SourceEvent::ExchangeError(ExchangeError {
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
            BitmexMessage::Error(error) => SourceEvent::ExchangeError(exchange_error(error)),
            BitmexMessage::Pong => SourceEvent::Control(Control::Pong),
            BitmexMessage::Info(info) => SourceEvent::Control(Control::Info(info)),
        };
        out.push(event);
        Ok(())
    }

    pub(crate) fn apply_table(
        &mut self,
        frame: BitmexTable<'_>,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let skipped = |reason| {
            SourceEvent::Control(Control::Skipped {
                reason,
                table: frame.table.to_string(),
            })
        };
        let Some(table) = Table::from_wire(&frame.table) else {
            out.push(skipped(SkipReason::UnhandledTable));
            return Ok(());
        };
        if frame.action == BitmexAction::Other {
            out.push(skipped(SkipReason::UnknownAction));
            return Ok(());
        }
        if frame.action == BitmexAction::Partial {
            let symbol = frame.filter.as_ref().and_then(|f| f.symbol.as_deref());
            self.tables.image(table, symbol);
        }
        let Some(data) = frame.data else {
            return Ok(());
        };
        let mut apply = RowApplier {
            source: self,
            table,
            action: frame.action,
            received_at,
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
        result.map_err(|e| malformed(&e))?;
        if apply.dropped > 0 {
            out.push(skipped(SkipReason::BeforePartial));
        }
        Ok(())
    }
}

/// Applies the rows of one table frame to the image and emits their quotes.
pub(crate) struct RowApplier<'s> {
    pub(crate) source: &'s mut BitmexSource,
    pub(crate) table: Table,
    pub(crate) action: BitmexAction,
    pub(crate) received_at: Timestamp,
    pub(crate) out: &'s mut Vec<SourceEvent>,
    pub(crate) dropped: usize,
}

impl RowApplier<'_> {
    pub(crate) fn row<const N: usize>(
        &mut self,
        symbol: &str,
        timestamp: Option<&str>,
        prices: [(QuoteKind, Option<&RawValue>); N],
    ) -> Result<(), DecodeError> {
        let tables = &mut self.source.tables;
        if !tables.is_imaged(self.table, symbol) {
            self.dropped += 1;
            return Ok(());
        }
        if self.action == BitmexAction::Delete {
            tables.delete(self.table, symbol);
            return Ok(());
        }
        let mut parsed = [(QuoteKind::Fair, None); N];
        for (slot, (kind, raw)) in parsed.iter_mut().zip(prices) {
            *slot = (kind, price_of(raw)?);
        }
        if parsed.iter().all(|(_, price)| price.is_none()) {
            return Ok(());
        }
        let exchange_time = time_of(timestamp)?;
        let shared = tables.symbol(symbol);
        for (kind, price) in parsed {
            let Some(price) = price else { continue };
            tables.record(symbol, kind, price);
            self.source.conn_seq += 1;
            self.out.push(SourceEvent::Quote(Quote {
                exchange: EXCHANGE_ID,
                symbol: shared.clone(),
                kind,
                price,
                exchange_time,
                received_at: self.received_at,
                conn_seq: self.source.conn_seq,
            }));
        }
        Ok(())
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

impl QuoteSource for BitmexSource {
    fn exchange(&self) -> ExchangeId {
        EXCHANGE_ID
    }

    fn endpoints(&self) -> Endpoints {
        ENDPOINTS
    }

    fn kinds(&self) -> &'static [QuoteKind] {
        KINDS
    }

    fn subscribe_messages(&self, subscriptions: &[Subscription]) -> Result<Vec<Outgoing>, Error> {
        subscribe::subscribe_messages(subscriptions)
    }

    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        received_at: Timestamp,
        out: &mut Vec<SourceEvent>,
    ) -> Result<(), DecodeError> {
        let start = out.len();
        let result = match frame {
            WireFrame::Text(text) => self.decode_text(text, received_at, out),
            WireFrame::Binary(bytes) => Err(DecodeError::UnexpectedBinary { len: bytes.len() }),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn heartbeat(&self) -> HeartbeatPolicy {
        HeartbeatPolicy {
            idle: HEARTBEAT_IDLE,
            ping: Outgoing::Text("ping".into()),
            pong_deadline: PONG_DEADLINE,
        }
    }

    fn reset(&mut self) {
        self.tables.clear();
        self.conn_seq = 0;
    }
}
