//! The NATS sink: publishes a lossless tick stream to JetStream with acks,
//! a bounded in-flight window and retries, on a thread of its own.
//!
//! **Thread.** `async-nats` runs on its own current-thread tokio runtime
//! on its own thread, so a busy actix thread can never starve its pings.
//! The ticks arrive over the bounded channel of a lossless
//! [`OpenStream`](crate::OpenStream): when the sink stops reading, the
//! channel fills and the collector back-pressures the connectors.
//!
//! **Window.** At most [`NatsConfig::window`] publications wait for their
//! ack, in publication order; while the window is full (a slow or absent
//! server) no tick is read, and that time is counted in
//! [`NatsStats`]'s `backpressure_ns`. Acks are taken in order.
//!
//! **Retries.** When the oldest publication's ack fails or times out
//! (`ack_timeout`), the sink waits (`retry_base` doubling to `retry_cap`),
//! then sends every publication of the window again, in order, with the
//! **same** `Nats-Msg-Id`: what the server had already stored is answered
//! as a duplicate and stored once; what it had not is stored now. So every
//! quote is stored once (within the duplicates window), and in order per
//! subject while the connection holds. **Across a lost connection the
//! order may break:** publications written into the dying connection are
//! lost, while those the client had queued but not yet written go out on
//! the new connection as soon as it opens, before the retry resends the
//! lost ones; those few are then stored after later quotes (the kill test
//! sees it). Each payload's `seq` (the collector's gapless number) gives
//! the order back. A server away for longer than the duplicates window may
//! store a retried message twice if its first ack was lost: at-least-once.
//!
//! **End.** [`NatsPublisher::finish`] waits, bounded, for the stream to end
//! and every ack; what is left (in the window or still in the channel) is
//! [`NatsError::Unacknowledged`].

use super::connect::{Connected, connect};
use super::subject::{MsgIds, subject};
use super::{NatsConfig, NatsError, NatsStats};
use crate::messages::Tick;
use async_nats::HeaderMap;
use async_nats::jetstream::publish::PublishAck;
use bytes::Bytes;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The header that carries the payload's schema version.
pub const SCHEMA_HEADER: &str = "Mercury-Schema";
/// The payload's schema version: the JSON object of
/// [`Tick::write_json`](crate::messages::Tick::write_json), version 1.
pub const SCHEMA_VERSION: &str = "1";
/// How long the ticks still in the channel are read (to count them) after
/// the end's deadline.
const COUNT_REST_LIMIT: Duration = Duration::from_secs(2);

/// What a sink that ended well did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatsSummary {
    /// Quotes published.
    pub published: u64,
    /// Quotes the stream acknowledged.
    pub acknowledged: u64,
    /// Of those, acknowledged as duplicates.
    pub duplicates: u64,
}

type Outcome = Result<NatsSummary, NatsError>;

/// What the thread gets once connected: the ticks, the end signal, where
/// to answer.
struct Work {
    ticks: mpsc::Receiver<Tick>,
    finish: oneshot::Receiver<Duration>,
    done: oneshot::Sender<Outcome>,
}

/// A publisher connected to NATS with its stream ready, not yet fed.
pub struct NatsConnection {
    work: oneshot::Sender<Work>,
    stats: NatsStats,
}

/// A running NATS sink; see the module docs.
pub struct NatsPublisher {
    finish: Option<oneshot::Sender<Duration>>,
    done: oneshot::Receiver<Outcome>,
    stats: NatsStats,
}

impl NatsConnection {
    /// Starts the publisher's thread and connects (creating or checking the
    /// stream). Fatal start errors come back here; call before opening the
    /// tick stream, so a bad setting stops the run before any connection
    /// to an exchange. `stats` is updated from now on.
    pub async fn connect(
        config: NatsConfig,
        stats: NatsStats,
    ) -> Result<NatsConnection, NatsError> {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (work_tx, work_rx) = oneshot::channel();
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("nats-publisher".into())
            .spawn(move || run_thread(config, thread_stats, ready_tx, work_rx))
            .map_err(|e| NatsError::Thread(e.to_string()))?;
        match ready_rx.await {
            Ok(Ok(())) => Ok(NatsConnection {
                work: work_tx,
                stats,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(NatsError::Thread("ended while connecting".into())),
        }
    }

    /// Publishes every tick of `ticks` (see the module docs).
    pub fn publish(self, ticks: mpsc::Receiver<Tick>) -> NatsPublisher {
        let (finish_tx, finish_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let work = Work {
            ticks,
            finish: finish_rx,
            done: done_tx,
        };
        // A vanished thread answers through `done` being dropped.
        let _ = self.work.send(work);
        NatsPublisher {
            finish: Some(finish_tx),
            done: done_rx,
            stats: self.stats,
        }
    }
}

impl NatsPublisher {
    /// The sink's counters.
    pub fn stats(&self) -> NatsStats {
        self.stats.clone()
    }

    /// After the tick stream has been told to end: waits at most `limit`
    /// for its last tick to be published and every ack; what is not
    /// acknowledged by then is an error.
    pub async fn finish(mut self, limit: Duration) -> Outcome {
        if let Some(finish) = self.finish.take() {
            let _ = finish.send(limit);
        }
        let spare = limit + COUNT_REST_LIMIT + Duration::from_secs(10);
        match tokio::time::timeout(spare, &mut self.done).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(NatsError::Thread("ended without an answer".into())),
            Err(_) => Err(NatsError::Thread("did not end in time".into())),
        }
    }
}

/// The publisher's thread: its runtime, the connection, then the work.
fn run_thread(
    config: NatsConfig,
    stats: NatsStats,
    ready: oneshot::Sender<Result<(), NatsError>>,
    work: oneshot::Receiver<Work>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(NatsError::Thread(error.to_string())));
            return;
        }
    };
    runtime.block_on(async move {
        let connected = match connect(&config, &stats).await {
            Ok(connected) => connected,
            Err(error) => {
                stats.set_ended();
                let _ = ready.send(Err(error));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let Ok(work) = work.await else {
            stats.set_ended();
            return;
        };
        let Work {
            ticks,
            finish,
            done,
        } = work;
        // Every publication is acknowledged or counted by now: nothing to
        // flush; the client closes when dropped.
        let outcome = Window::new(config, stats.clone(), connected)
            .run(ticks, finish)
            .await;
        stats.set_ended();
        stats.set_connected(false);
        let _ = done.send(outcome);
    });
}

/// An ack on its way.
type AckFuture = Pin<Box<dyn Future<Output = Result<PublishAck, String>> + Send>>;

/// One publication of the window.
struct Pending {
    subject: String,
    id: String,
    payload: Bytes,
    ack: AckFuture,
}

/// The publishing loop's state.
struct Window {
    config: NatsConfig,
    stats: NatsStats,
    js: async_nats::jetstream::Context,
    ids: MsgIds,
    pending: VecDeque<Pending>,
    retry_delay: Duration,
    summary: NatsSummary,
}

impl Window {
    fn new(config: NatsConfig, stats: NatsStats, connected: Connected) -> Self {
        let retry_delay = config.retry_base;
        Window {
            pending: VecDeque::with_capacity(config.window),
            config,
            stats,
            js: connected.js,
            ids: MsgIds::new(),
            retry_delay,
            summary: NatsSummary {
                published: 0,
                acknowledged: 0,
                duplicates: 0,
            },
        }
    }

    /// Publishes until the ticks end and every ack is in, or the end's
    /// deadline passes.
    async fn run(
        mut self,
        mut ticks: mpsc::Receiver<Tick>,
        mut finish: oneshot::Receiver<Duration>,
    ) -> Outcome {
        let mut open = true;
        let mut finishing = false;
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut waited = Duration::ZERO;
        loop {
            if !open && self.pending.is_empty() {
                return Ok(self.summary);
            }
            let full = open && self.pending.len() >= self.config.window;
            let started = Instant::now();
            // Whether this turn kept ticks waiting: a full window, or a retry.
            let mut blocked = full;
            tokio::select! {
                biased;
                () = sleep_until(deadline) => {
                    return Err(self.unacknowledged(ticks, open, waited).await);
                }
                limit = &mut finish, if !finishing => {
                    finishing = true;
                    let limit = limit.unwrap_or(Duration::ZERO);
                    waited = limit;
                    deadline = Some(tokio::time::Instant::now() + limit);
                }
                ack = head(&mut self.pending) => {
                    match ack {
                        Ok(ack) => self.acknowledged(&ack),
                        Err(error) => {
                            blocked = true;
                            self.retry(&error, deadline).await;
                        }
                    }
                }
                tick = ticks.recv(), if open && !full => match tick {
                    Some(tick) => self.publish_new(&tick).await,
                    None => open = false,
                },
            }
            if blocked {
                let waited = started.elapsed().as_nanos();
                self.stats
                    .add_backpressure_ns(u64::try_from(waited).unwrap_or(u64::MAX));
            }
            self.stats.set_pending_acks(self.pending.len() as u64);
        }
    }

    /// The oldest publication was acknowledged.
    fn acknowledged(&mut self, ack: &PublishAck) {
        self.pending.pop_front();
        self.retry_delay = self.config.retry_base;
        self.summary.acknowledged += 1;
        if ack.duplicate {
            self.summary.duplicates += 1;
        }
        self.stats.add_acknowledged(ack.duplicate);
    }

    /// Publishes a new tick: its subject, id and payload, then sends it.
    async fn publish_new(&mut self, tick: &Tick) {
        let q = &tick.quote;
        let subject = subject(&self.config.prefix, &q.exchange, q.kind, &q.symbol);
        let id = self.ids.next(tick);
        let mut payload = Vec::with_capacity(192);
        if let Err(error) = tick.write_json(&mut payload) {
            // Writing into a Vec fails only if serde does; never expected.
            tracing::error!(%error, "a quote could not be written as JSON");
            self.stats.add_error();
        }
        let payload = Bytes::from(payload);
        let ack = self.send(&subject, &id, payload.clone()).await;
        self.pending.push_back(Pending {
            subject,
            id,
            payload,
            ack,
        });
        self.summary.published += 1;
        self.stats.add_published(1);
    }

    /// Sends one publication (bounded by `ack_timeout`) and returns its ack
    /// on its way, or a failed one.
    async fn send(&self, subject: &str, id: &str, payload: Bytes) -> AckFuture {
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        headers.insert(SCHEMA_HEADER, SCHEMA_VERSION);
        let limit = self.config.ack_timeout;
        let sending = self
            .js
            .publish_with_headers(subject.to_string(), headers, payload);
        match tokio::time::timeout(limit, sending).await {
            Ok(Ok(ack)) => Box::pin(async move {
                match tokio::time::timeout(limit + Duration::from_secs(1), ack).await {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(_) => Err("no ack in time".to_string()),
                }
            }),
            Ok(Err(error)) => failed(error.to_string()),
            Err(_) => failed("could not send in time".to_string()),
        }
    }

    /// The oldest publication failed: wait, then send the whole window
    /// again in order with the same ids (see the module docs). A send that
    /// fails leaves the rest for the next round.
    async fn retry(&mut self, error: &str, deadline: Option<tokio::time::Instant>) {
        self.stats.add_error();
        tracing::warn!(
            error = %mercury_core::excerpt(error),
            pending = self.pending.len(),
            delay = ?self.retry_delay,
            "a NATS publication was not acknowledged; sending the window again"
        );
        let wake = tokio::time::Instant::now() + self.retry_delay;
        tokio::time::sleep_until(deadline.map_or(wake, |d| d.min(wake))).await;
        self.retry_delay = (self.retry_delay * 2).min(self.config.retry_cap);
        let mut sent_ok = true;
        for index in 0..self.pending.len() {
            let Some(entry) = self.pending.get(index) else {
                break;
            };
            let ack = match sent_ok {
                true => {
                    self.stats.add_retry();
                    let (subject, id, payload) = (
                        entry.subject.clone(),
                        entry.id.clone(),
                        entry.payload.clone(),
                    );
                    self.send(&subject, &id, payload).await
                }
                false => failed("not sent again yet".to_string()),
            };
            let mut ack = ack;
            // A send that failed at once: the rest wait for the next round.
            if let Some(result) = ready_now(&mut ack) {
                sent_ok = result.is_ok();
                ack = Box::pin(std::future::ready(result));
            }
            if let Some(entry) = self.pending.get_mut(index) {
                entry.ack = ack;
            }
        }
    }

    /// The end's deadline passed: counts what was never acknowledged, the
    /// window and the ticks still coming.
    async fn unacknowledged(
        &mut self,
        mut ticks: mpsc::Receiver<Tick>,
        open: bool,
        waited: Duration,
    ) -> NatsError {
        let mut count = self.pending.len() as u64;
        if open {
            ticks.close();
            let counting = async {
                while ticks.recv().await.is_some() {
                    count += 1;
                }
            };
            let _ = tokio::time::timeout(COUNT_REST_LIMIT, counting).await;
        }
        NatsError::Unacknowledged {
            count,
            published: self.summary.published,
            acknowledged: self.summary.acknowledged,
            waited,
        }
    }
}

/// A publication that failed before it was sent.
fn failed(error: String) -> AckFuture {
    Box::pin(std::future::ready(Err(error)))
}

/// The result of `ack` if it is already known, without waiting.
fn ready_now(ack: &mut AckFuture) -> Option<Result<PublishAck, String>> {
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    match ack.as_mut().poll(&mut context) {
        std::task::Poll::Ready(result) => Some(result),
        std::task::Poll::Pending => None,
    }
}

/// The oldest publication's ack (never, with none).
async fn head(pending: &mut VecDeque<Pending>) -> Result<PublishAck, String> {
    match pending.front_mut() {
        Some(entry) => (&mut entry.ack).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
