//! [`HyperliquidSession`]: the client side of one Hyperliquid connection.
//!
//! Every data frame is whole (an asset context, the best bid and ask, a
//! batch of trades): there is no image to wait for and nothing to keep
//! between frames, so the session has no state.

use crate::errors::{ErrorText, classify};
use crate::wire::{
    self, HyperliquidAssetCtx, HyperliquidBbo, HyperliquidFrame, HyperliquidSubscriptionResponse,
    HyperliquidTrade,
};
use mercury_core::{
    Control, DecodeError, Emitter, Price, QuoteKind, Session, SkipReason, Symbol, Timestamp,
    WireFrame, excerpt,
};
use serde_json::value::RawValue;
use tracing::debug;

/// The largest frame decoded: `allMids` is about 20 KB, a padded image of
/// the simulator's fault about 1 MB.
const MAX_FRAME_LEN: usize = 4 << 20;

/// One Hyperliquid connection.
#[derive(Debug, Default)]
pub struct HyperliquidSession;

/// Reports a field that does not parse; the frame's other prices count.
fn invalid(channel: &str, field: &str, error: &dyn std::fmt::Display, out: &mut Emitter<'_>) {
    debug!(channel, field, %error, "a field that does not parse; the frame's others are kept");
    out.skipped(SkipReason::InvalidField, format!("{channel}.{field}"));
}

/// The price in `raw`, if any; a bad one is reported and skipped.
fn price(
    raw: Option<&RawValue>,
    channel: &str,
    field: &str,
    out: &mut Emitter<'_>,
) -> Option<Price> {
    match raw.map_or(Ok(None), |raw| Price::from_json_value(raw.get())) {
        Ok(price) => price,
        Err(error) => {
            invalid(channel, field, &error, out);
            None
        }
    }
}

/// The time in `raw` (milliseconds); a bad one is reported and skipped.
fn time(raw: Option<&RawValue>, channel: &str, out: &mut Emitter<'_>) -> Option<Timestamp> {
    let raw = raw?;
    mercury_core::wire::millis_from_json(raw.get())
        .inspect_err(|_| invalid(channel, "time", &excerpt(raw.get()), out))
        .unwrap_or(None)
}

fn data<'a>(frame: &HyperliquidFrame<'a>, channel: &str) -> Result<&'a RawValue, DecodeError> {
    frame
        .data
        .ok_or_else(|| DecodeError::Malformed(format!("{} without data", excerpt(channel))))
}

/// `activeAssetCtx`: mark, then the oracle price as index.
fn asset_ctx(data: &RawValue, channel: &str, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let ctx: HyperliquidAssetCtx =
        serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
    let mark = price(ctx.ctx.mark, channel, "markPx", out);
    let oracle = price(ctx.ctx.oracle, channel, "oraclePx", out);
    let symbol = Symbol::new(&ctx.coin);
    for (kind, price) in [(QuoteKind::Mark, mark), (QuoteKind::Index, oracle)] {
        if let Some(price) = price {
            out.quote(&symbol, kind, price, None);
        }
    }
    Ok(())
}

/// `bbo`: the bid, then the ask; an empty side (`null`) gives nothing.
fn bbo(data: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let bbo: HyperliquidBbo = serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
    let at = time(bbo.time, wire::BBO, out);
    let symbol = Symbol::new(&bbo.coin);
    let mut prices = Vec::with_capacity(2);
    let (bid, ask) = &bbo.bbo;
    for (level, kind) in [(bid, QuoteKind::Bid), (ask, QuoteKind::Ask)] {
        let raw = level.as_ref().and_then(|level| level.px);
        if let Some(price) = price(raw, wire::BBO, kind.as_str(), out) {
            prices.push((kind, price));
        }
    }
    for (kind, price) in prices {
        out.quote(&symbol, kind, price, at);
    }
    Ok(())
}

/// `trades`: one trade quote per element, in order.
fn trades(data: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let trades: Vec<HyperliquidTrade> =
        serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
    for trade in &trades {
        let at = time(trade.time, wire::TRADES, out);
        if let Some(price) = price(trade.px, wire::TRADES, "px", out) {
            out.quote(&Symbol::new(&trade.coin), QuoteKind::Trade, price, at);
        }
    }
    Ok(())
}

/// `subscriptionResponse`: the subscription echoed is the topic.
fn reply(data: &RawValue, out: &mut Emitter<'_>) -> Result<(), DecodeError> {
    let reply: HyperliquidSubscriptionResponse =
        serde_json::from_str(data.get()).map_err(DecodeError::malformed)?;
    let topic = reply
        .subscription
        .map_or_else(String::new, |s| s.get().to_owned());
    match reply.method.as_deref() {
        Some("unsubscribe") => out.control(Control::Unsubscribed { topic }),
        _ => out.control(Control::Subscribed { topic }),
    }
    Ok(())
}

/// `error`: its text, mapped to a typed error or a notice.
fn error(data: Option<&RawValue>, out: &mut Emitter<'_>) {
    let raw = data.map_or("", RawValue::get);
    let text: String = serde_json::from_str(raw).unwrap_or_else(|_| raw.to_owned());
    match classify(&text) {
        ErrorText::Notice => out.control(Control::Info(text)),
        ErrorText::Error(error) => out.exchange_error(error),
    }
}

impl Session for HyperliquidSession {
    fn decode(
        &mut self,
        frame: WireFrame<'_>,
        _received_at: Timestamp,
        out: &mut Emitter<'_>,
    ) -> Result<(), DecodeError> {
        let text = frame.text(MAX_FRAME_LEN)?;
        if text.trim() == wire::WELCOME {
            out.control(Control::Welcome { info: text.into() });
            return Ok(());
        }
        let frame: HyperliquidFrame = serde_json::from_str(text).map_err(DecodeError::malformed)?;
        let Some(channel) = frame.channel.as_deref() else {
            return Err(DecodeError::UnknownShape(excerpt(text)));
        };
        match channel {
            wire::ACTIVE_ASSET_CTX | wire::ACTIVE_SPOT_ASSET_CTX => {
                asset_ctx(data(&frame, channel)?, channel, out)
            }
            wire::BBO => bbo(data(&frame, channel)?, out),
            wire::TRADES => trades(data(&frame, channel)?, out),
            wire::SUBSCRIPTION_RESPONSE => reply(data(&frame, channel)?, out),
            wire::PONG => {
                out.control(Control::Pong);
                Ok(())
            }
            wire::ERROR => {
                error(frame.data, out);
                Ok(())
            }
            other => {
                out.skipped(SkipReason::Unhandled, other);
                Ok(())
            }
        }
    }
}
