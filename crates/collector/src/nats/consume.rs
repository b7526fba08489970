//! Reading quotes back from a JetStream stream: the I/O of
//! `collector consume`, a reference consumer (`docs/scaling.md`).
//!
//! A [`QuoteConsumer`] connects (with the publishing sink's
//! [`NatsConfig`]: URLs, credentials, trust), finds the stream (it never creates one: a missing stream is an
//! error, [`ConsumeError::NoStream`]) and pulls from a consumer on it:
//! a **durable** one (`durable`, resumed where the last run acknowledged)
//! or an **ephemeral** one that starts at the stream's first message and
//! is forgotten by the server shortly after the run.
//!
//! Memory and back-pressure: each [`QuoteConsumer::next_batch`] pulls at
//! most `max` messages (the caller bounds it, at most [`MAX_BATCH`]), and
//! the next pull is asked for only when the caller comes back, so a slow
//! reader slows the pull and nothing queues beyond one batch. A batch is
//! acknowledged by its caller **after** it has written it
//! ([`Batch::ack`]); what was pulled and not written can be handed back
//! for redelivery at once ([`Batch::release`]), so a durable consumer
//! stopped mid-batch loses nothing and repeats nothing it acknowledged.
//!
//! A payload that is not a quote record (the JSON object `collector fetch
//! --format json` prints) is skipped with one excerpted warning (the
//! first [`LOGGED_SKIPS`]; then one line per thousand), counted
//! ([`QuoteConsumer::skipped`]) and terminated at the server (never
//! redelivered), never a panic.

use super::{NatsConfig, NatsError};
use crate::messages::{ConnectionId, Tick};
use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use mercury_core::{ExchangeId, Price, Quote, QuoteKind, Symbol, Timestamp};
use serde::Deserialize;
use std::time::Duration;

/// The stream `collector consume` reads unless told otherwise.
pub const DEFAULT_STREAM: &str = "MERCURY";
/// The most messages one pull asks for.
pub const MAX_BATCH: usize = 256;
/// The largest payload taken for a quote record: one is ~200 bytes.
pub const MAX_RECORD_BYTES: usize = 4096;
/// How long connecting (TCP, TLS, handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Skipped payloads logged one by one; past these, one line per thousand.
pub const LOGGED_SKIPS: u64 = 100;
/// How long the last acknowledgements may take to reach the server.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one pull waits for messages before it is asked again (so an
/// idle stream costs one request per this, and a stop is seen as soon).
pub const PULL_WAIT: Duration = Duration::from_secs(1);
/// How much longer than [`PULL_WAIT`] a pull is waited for when the server
/// does not end it (it went away): then the pull is over anyway.
pub const PULL_GRACE: Duration = Duration::from_secs(2);

/// What to read and how.
#[derive(Debug, Clone)]
pub struct ConsumeConfig {
    /// Where the server is and how to log in: the publishing sink's
    /// [`NatsConfig`] (URLs, credentials, trust, timeouts); its stream
    /// settings are not used (the stream is never created here).
    pub access: NatsConfig,
    /// The stream's name.
    pub stream: String,
    /// Only subjects matching this filter (`mercury.bitmex.>`).
    pub subject: Option<String>,
    /// A durable consumer's name: resume where it stopped.
    pub durable: Option<String>,
}

/// Why consuming failed: none of them is retried by `collector consume`
/// (a user must change something), except [`ConsumeError::Pull`] and
/// [`ConsumeError::Unacknowledged`], which are transient (the server went
/// away).
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// The server could not be reached or refused us (bad URL, refused
    /// connection, refused credentials, TLS failure).
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect {
        /// The URL (as given).
        url: String,
        /// Why, excerpted.
        reason: String,
    },
    /// A credentials or CA file could not be read or used.
    #[error("NATS credentials or CA file: {0}")]
    Credentials(String),
    /// The stream does not exist.
    #[error(
        "no stream {stream} on the NATS server: publish into it first (collector record --nats URL), or name another with --stream"
    )]
    NoStream {
        /// Its name.
        stream: String,
    },
    /// JetStream refused a request (not enabled, consumer config clash).
    #[error("JetStream refused {what}: {reason}")]
    JetStream {
        /// What was asked.
        what: &'static str,
        /// Why, excerpted.
        reason: String,
    },
    /// A pull failed.
    #[error("pulling from the stream failed: {0}")]
    Pull(String),
    /// The last acknowledgements could not be sent before exiting (the
    /// server is away): a durable consumer will get those quotes again.
    #[error(
        "the NATS server is away: the last acknowledgements were not sent ({0}); a durable consumer will print those quotes again"
    )]
    Unacknowledged(String),
}

impl ConsumeError {
    /// Whether trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConsumeError::Pull(_) | ConsumeError::Unacknowledged(_)
        )
    }
}

/// One quote record as published (`Tick::write_json`).
#[derive(Deserialize)]
struct Record<'a> {
    seq: u64,
    #[serde(borrow)]
    exchange: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    symbol: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    price: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    exchange_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    received_at: std::borrow::Cow<'a, str>,
    #[serde(default)]
    after_gap: bool,
}

/// The tick a quote record's payload stands for, or why it is not one.
pub fn decode_record(payload: &[u8]) -> Result<Tick, String> {
    if payload.len() > MAX_RECORD_BYTES {
        return Err(format!("{} bytes, more than a quote record", payload.len()));
    }
    let record: Record = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let parse = |what: &str, text: &str| format!("bad {what} {:?}", mercury_core::excerpt(text));
    let kind: QuoteKind = record
        .kind
        .parse()
        .map_err(|_| parse("kind", &record.kind))?;
    let price: Price = record
        .price
        .parse()
        .map_err(|_| parse("price", &record.price))?;
    let exchange_time = match &record.exchange_time {
        Some(text) => Some(
            text.parse::<Timestamp>()
                .map_err(|_| parse("exchange_time", text))?,
        ),
        None => None,
    };
    let received_at: Timestamp = record
        .received_at
        .parse()
        .map_err(|_| parse("received_at", &record.received_at))?;
    if record.exchange.is_empty() || record.symbol.is_empty() {
        return Err("empty exchange or symbol".into());
    }
    Ok(Tick {
        seq: record.seq,
        connection: ConnectionId(0),
        conn_seq: record.seq,
        quote: Quote {
            exchange: ExchangeId::from(record.exchange.into_owned()),
            symbol: Symbol::new(&record.symbol),
            kind,
            price,
            exchange_time,
            received_at,
            conn_seq: record.seq,
        },
        after_gap: record.after_gap,
    })
}

/// A pull consumer on the stream; see the module docs.
pub struct QuoteConsumer {
    client: async_nats::Client,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    skipped: u64,
}

/// Quotes pulled together, to acknowledge once written.
pub struct Batch {
    /// The quotes, in stream order, with their messages.
    entries: Vec<(Tick, jetstream::Message)>,
}

impl Batch {
    /// The quotes, in stream order.
    pub fn ticks(&self) -> impl Iterator<Item = &Tick> {
        self.entries.iter().map(|(tick, _)| tick)
    }

    /// How many quotes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Acknowledges the first `written` quotes (they are on the output)
    /// and hands the rest back for immediate redelivery.
    pub async fn ack(self, written: usize) -> Result<(), ConsumeError> {
        for (i, (_, message)) in self.entries.into_iter().enumerate() {
            let kind = if i < written {
                AckKind::Ack
            } else {
                AckKind::Nak(None)
            };
            message
                .ack_with(kind)
                .await
                .map_err(|e| ConsumeError::Pull(mercury_core::excerpt(&e.to_string())))?;
        }
        Ok(())
    }

    /// Hands every quote back for immediate redelivery.
    pub async fn release(self) -> Result<(), ConsumeError> {
        self.ack(0).await
    }
}

impl QuoteConsumer {
    /// Connects and opens the consumer; every failure is a
    /// [`ConsumeError`] naming what to fix.
    pub async fn open(config: &ConsumeConfig) -> Result<QuoteConsumer, ConsumeError> {
        let client = connect(&config.access).await?;
        let context = jetstream::new(client.clone());
        let stream = context.get_stream(&config.stream).await.map_err(|e| {
            let text = e.to_string();
            if text.contains("not found") {
                ConsumeError::NoStream {
                    stream: config.stream.clone(),
                }
            } else {
                ConsumeError::JetStream {
                    what: "the stream's info",
                    reason: mercury_core::excerpt(&text),
                }
            }
        })?;
        let consumer_config = pull::Config {
            durable_name: config.durable.clone(),
            filter_subject: config.subject.clone().unwrap_or_default(),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        };
        let consumer = match &config.durable {
            Some(name) => stream.get_or_create_consumer(name, consumer_config).await,
            None => stream.create_consumer(consumer_config).await,
        }
        .map_err(|e| ConsumeError::JetStream {
            what: "the consumer",
            reason: mercury_core::excerpt(&e.to_string()),
        })?;
        // An existing durable keeps its own filter: reading it with another
        // would silently read what it was made for.
        let has = &consumer.cached_info().config.filter_subject;
        let wants = config.subject.clone().unwrap_or_default();
        if let Some(name) = &config.durable
            && *has != wants
        {
            return Err(ConsumeError::JetStream {
                what: "the consumer",
                reason: format!(
                    "durable {} reads {:?}, not {:?}: use another --durable name, or its own --subject",
                    mercury_core::excerpt(name),
                    mercury_core::excerpt(has),
                    mercury_core::excerpt(&wants)
                ),
            });
        }
        Ok(QuoteConsumer {
            client,
            consumer,
            skipped: 0,
        })
    }

    /// Payloads skipped as not quote records so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Pulls up to `max` (at most [`MAX_BATCH`]) quotes, waiting at most
    /// [`PULL_WAIT`] (plus [`PULL_GRACE`] when the server is silent); an
    /// empty batch when none came.
    pub async fn next_batch(&mut self, max: usize) -> Result<Batch, ConsumeError> {
        let max = max.clamp(1, MAX_BATCH);
        // What the stream holds now, up to `max`, without waiting; if
        // nothing, wait (at most PULL_WAIT) for the next one: a quote is
        // printed as soon as it is stored, never held back to fill a batch.
        let available = self.pull(max, false).await?;
        if !available.entries.is_empty() {
            return Ok(available);
        }
        self.pull(1, true).await
    }

    /// One pull of at most `max` messages; `wait`: until one arrives or
    /// [`PULL_WAIT`] passes, else only what is there now.
    async fn pull(&mut self, max: usize, wait: bool) -> Result<Batch, ConsumeError> {
        // The server ends the pull after PULL_WAIT; if it is gone and says
        // nothing, this deadline does (the client reconnects meanwhile: the
        // next pull may find it back).
        let deadline = tokio::time::Instant::now() + PULL_WAIT + PULL_GRACE;
        let request = async {
            match wait {
                true => {
                    self.consumer
                        .batch()
                        .max_messages(max)
                        .expires(PULL_WAIT)
                        .messages()
                        .await
                }
                false => self.consumer.fetch().max_messages(max).messages().await,
            }
        };
        let mut messages = match tokio::time::timeout_at(deadline, request).await {
            Ok(messages) => {
                messages.map_err(|e| ConsumeError::Pull(mercury_core::excerpt(&e.to_string())))?
            }
            Err(_) => {
                tracing::warn!("the NATS server did not take a pull request in time; trying again");
                return Ok(Batch {
                    entries: Vec::new(),
                });
            }
        };
        let mut entries = Vec::with_capacity(max);
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, messages.next()).await {
            let message =
                message.map_err(|e| ConsumeError::Pull(mercury_core::excerpt(&e.to_string())))?;
            match decode_record(&message.payload) {
                Ok(tick) => entries.push((tick, message)),
                Err(reason) => {
                    self.skipped += 1;
                    log_skip(self.skipped, &message, &reason);
                    // Never redelivered: it will not become a quote.
                    let _ = message.ack_with(AckKind::Term).await;
                }
            }
        }
        Ok(Batch { entries })
    }

    /// Sends what is buffered (the acknowledgements) to the server and
    /// waits for it, at most [`FLUSH_TIMEOUT`]: call before exiting.
    pub async fn close(self) -> Result<(), ConsumeError> {
        match tokio::time::timeout(FLUSH_TIMEOUT, self.client.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ConsumeError::Unacknowledged(mercury_core::excerpt(
                &e.to_string(),
            ))),
            Err(_) => Err(ConsumeError::Unacknowledged(format!(
                "no answer within {FLUSH_TIMEOUT:?}"
            ))),
        }
    }
}

/// Logs the `skipped`th payload that is not a quote record: the first
/// [`LOGGED_SKIPS`] one by one, then one line per thousand, so a stream of
/// junk cannot flood the log.
fn log_skip(skipped: u64, message: &async_nats::Message, reason: &str) {
    if skipped <= LOGGED_SKIPS {
        tracing::warn!(
            subject = %mercury_core::excerpt(message.subject.as_str()),
            payload = %mercury_core::excerpt(&String::from_utf8_lossy(&message.payload)),
            "skipped a message that is not a quote record: {reason}"
        );
    } else if skipped.is_multiple_of(1000) {
        tracing::warn!("skipped {skipped} messages that are not quote records so far");
    }
}

/// A client connected with `access`'s options; a failed first connect is
/// an error (not retried: a wrong URL or credential will not fix itself).
async fn connect(access: &NatsConfig) -> Result<async_nats::Client, ConsumeError> {
    let mut access = access.clone();
    access.connect_timeout = CONNECT_TIMEOUT;
    super::connect::client(&access, &super::NatsStats::new())
        .await
        .map_err(|error| match error {
            NatsError::Credentials(reason) => ConsumeError::Credentials(reason),
            other => ConsumeError::Connect {
                url: mercury_core::excerpt(&access.urls.join(",")),
                reason: other.to_string(),
            },
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_quote_record_decodes_to_the_tick_it_was_written_from() {
        let line = br#"{"seq":7,"exchange":"bitmex","symbol":"XBTUSD","kind":"fair","price":"43210.50","exchange_time":"2026-11-24T06:00:05.000Z","received_at":"2026-11-24T06:00:05.013Z","after_gap":true}"#;
        let tick = decode_record(line).unwrap();
        let mut again = Vec::new();
        tick.write_json(&mut again).unwrap();
        assert_eq!(String::from_utf8(again).unwrap().as_bytes(), line);
        let no_time = br#"{"seq":1,"exchange":"okx","symbol":"BTC-USDT-SWAP","kind":"mark","price":"1","exchange_time":null,"received_at":"2026-11-24T06:00:05.013Z"}"#;
        let tick = decode_record(no_time).unwrap();
        assert!(tick.quote.exchange_time.is_none() && !tick.after_gap);
    }

    #[test]
    fn what_is_not_a_quote_record_is_refused_with_a_reason() {
        let good = r#"{"seq":1,"exchange":"okx","symbol":"S","kind":"mark","price":"1","exchange_time":null,"received_at":"2026-11-24T06:00:05.013Z"}"#;
        for (bad, why) in [
            ("hello".to_owned(), "expected"),
            (good.replace("\"1\"", "\"1.2.3\""), "bad price"),
            (good.replace("mark", "kind9"), "bad kind"),
            (
                good.replace("2026-11-24T06", "yesterday"),
                "bad received_at",
            ),
            (good.replace("\"okx\"", "\"\""), "empty exchange"),
            (good.replace("\"seq\":1,", ""), "missing field"),
            (" ".repeat(MAX_RECORD_BYTES + 1), "bytes"),
        ] {
            let error = decode_record(bad.as_bytes()).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
