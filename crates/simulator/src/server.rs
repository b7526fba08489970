//! The WebSocket server: one task per connection, driven by the venue.

use crate::abort::{AbortableBody, LastBytes};
use crate::capture::{CaptureSource, CaptureVenue};
use crate::faults::{Faults, MALFORMED_FRAME};
use crate::log::{FrameLog, LogEntry, LogEvent};
use actix_web::body::BoxBody;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use futures_util::StreamExt;
use mercury_core::{Clock, Exchange, SystemClock, Venue, VenueConfig, VenueFault};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

use tokio::time::Instant;

/// The largest client message the simulator reads.
const MAX_CLIENT_FRAME: usize = 1 << 20;
/// Size of the padding that makes an image frame "big".
const BIG_PARTIAL_PADDING: usize = 1 << 20;
/// How long a drop waits for the frames already sent to reach the socket.
const DROP_FLUSH: std::time::Duration = std::time::Duration::from_millis(20);
/// In firehose mode, events made per turn before yielding to the runtime.
const FIREHOSE_BATCH: u32 = 64;

/// Where the simulator listens and how it behaves.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// How the venue makes its data.
    pub venue: VenueConfig,
    /// What goes wrong.
    pub faults: Faults,
    /// Where to write the frame log, if anywhere.
    pub log: Option<PathBuf>,
    /// Serve `wss://` with this configuration (e.g.
    /// [`SimCertificates::server_config`](crate::SimCertificates::server_config));
    /// `None` serves plain `ws://`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl SimulatorConfig {
    /// Healthy defaults on 127.0.0.1 with a free port.
    pub fn loopback() -> Self {
        SimulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            venue: VenueConfig::default(),
            faults: Faults::default(),
            log: None,
            tls: None,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The frame log could not be created.
    #[error("cannot create the frame log {path}: {source}")]
    Log {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificates could not be made or configured.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The exchange has no simulated venue.
    #[error("{0} has no simulator")]
    NoVenue(&'static str),
    /// The capture file could not be read.
    #[error("cannot read the capture {path}: {source}")]
    Capture {
        /// The file.
        path: crate::CaptureFile,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate files could not be written.
    #[error("cannot write {}: {source}", path.display())]
    TlsFiles {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

struct Shared {
    venue: VenueConfig,
    /// Serve this capture instead of the venue's data (see capture.rs).
    capture: Option<CaptureSource>,
    exchange: &'static dyn Exchange,
    faults: Faults,
    log: Option<FrameLog>,
    connections: AtomicU64,
}

/// A running simulator. Serves until [`stop`](Self::stop) or the end of the
/// actix system it was started on.
pub struct Simulator {
    exchange: &'static dyn Exchange,
    addr: SocketAddr,
    tls: bool,
    handle: actix_web::dev::ServerHandle,
}

impl Simulator {
    /// Binds and starts serving `exchange`'s venue on the current actix
    /// system (call it inside one); returns once the socket listens.
    pub fn start(
        config: SimulatorConfig,
        exchange: &'static dyn Exchange,
    ) -> Result<Simulator, SimulatorError> {
        Simulator::start_with(config, exchange, None)
    }

    /// Like [`start`](Self::start), serving a raw capture of
    /// `exchange`'s frames to each client (see [`CaptureSource`]).
    pub fn start_capture(
        config: SimulatorConfig,
        exchange: &'static dyn Exchange,
        capture: CaptureSource,
    ) -> Result<Simulator, SimulatorError> {
        capture.check().map_err(|source| SimulatorError::Capture {
            path: capture.file.clone(),
            source,
        })?;
        Simulator::start_with(config, exchange, Some(capture))
    }

    fn start_with(
        config: SimulatorConfig,
        exchange: &'static dyn Exchange,
        capture: Option<CaptureSource>,
    ) -> Result<Simulator, SimulatorError> {
        if exchange.new_venue(&config.venue).is_none() {
            return Err(SimulatorError::NoVenue(exchange.name()));
        }
        let log = match &config.log {
            Some(path) => Some(
                FrameLog::create(path).map_err(|source| SimulatorError::Log {
                    path: path.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared {
            venue: config.venue,
            capture,
            exchange,
            faults: config.faults,
            log,
            connections: AtomicU64::new(0),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(shared.clone()))
                .default_service(web::to(serve))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1);
        let tls = config.tls.is_some();
        let server = match config.tls {
            Some(tls) => server.bind_rustls_0_23(config.listen, (*tls).clone()),
            None => server.bind(config.listen),
        }
        .map_err(|source| SimulatorError::Bind {
            addr: config.listen,
            source,
        })?;
        let addr = server.addrs().first().copied().unwrap_or(config.listen);
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        tracing::info!(%addr, tls, "simulator listening");
        Ok(Simulator {
            exchange,
            addr,
            tls,
            handle,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it serves `wss://`.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Where to reach it: `ws://ADDR`, or with TLS `wss://localhost:PORT`
    /// (a name, so that clients check SNI and the name as with a real
    /// exchange) when it listens on IPv4 loopback or every address, else
    /// `wss://ADDR`.
    pub fn origin(&self) -> String {
        if !self.tls {
            return format!("ws://{}", self.addr);
        }
        let ip = self.addr.ip();
        if ip.is_ipv4() && (ip.is_loopback() || ip.is_unspecified()) {
            format!("wss://localhost:{}", self.addr.port())
        } else {
            format!("wss://{}", self.addr)
        }
    }

    /// Where a client reaches it as if it were the exchange:
    /// [`origin`](Self::origin) with the path of the exchange's production
    /// endpoint (BitMEX: `/realtime`; Binance: none, the plan routes).
    pub fn url(&self) -> String {
        mercury_core::planning::rebase(self.exchange.endpoints().production, &self.origin())
    }

    /// Stops accepting and closes connections.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn serve(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, actix_web::Error> {
    let shared = shared.into_inner();
    let connection = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let faults = &shared.faults;
    let refuse = |status: actix_web::http::StatusCode| {
        log(
            &shared,
            connection,
            LogEvent::Refused {
                status: status.as_u16(),
            },
        );
        HttpResponse::build(status)
    };
    if connection <= u64::from(faults.refuse_first) {
        return Ok(refuse(actix_web::http::StatusCode::TOO_MANY_REQUESTS)
            .insert_header((
                "Retry-After",
                faults.refusal_retry_after().as_secs().to_string(),
            ))
            .body("Rate limit exceeded"));
    }
    if faults.http_200 {
        return Ok(refuse(actix_web::http::StatusCode::OK)
            .body("<html><body>not a WebSocket</body></html>"));
    }
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let mut drop_tcp = None;
    let response = response.map_body(|_, body| {
        let (body, trigger) = AbortableBody::new(body);
        drop_tcp = Some(trigger);
        BoxBody::new(body)
    });
    let query = Some(req.query_string().to_owned()).filter(|q| !q.is_empty());
    actix_rt::spawn(run_connection(
        shared.clone(),
        connection,
        query,
        (session, drop_tcp),
        stream.max_frame_size(MAX_CLIENT_FRAME),
    ));
    Ok(response)
}

fn log(shared: &Shared, connection: u64, event: LogEvent) {
    if let Some(log) = &shared.log {
        log.write(&LogEntry { connection, event });
    }
}

/// What the connection does after a send.
enum Flow {
    Go,
    Stall,
    End,
}

/// Sends frames for one connection, applying its faults.
struct Sender {
    shared: Arc<Shared>,
    connection: u64,
    session: Session,
    /// Cuts the TCP connection, after the raw bytes it is given (see
    /// [`AbortableBody`]).
    drop_tcp: Option<oneshot::Sender<LastBytes>>,
    /// This connection's faults (see [`Faults::for_connection`]).
    faults: Faults,
    sent: u64,
}

impl Sender {
    async fn send_all(&mut self, venue: &dyn Venue, frames: &mut Vec<String>) -> Flow {
        for frame in frames.drain(..) {
            match self.send(venue, frame).await {
                Flow::Go => {}
                other => return other,
            }
        }
        Flow::Go
    }

    async fn send(&mut self, venue: &dyn Venue, mut frame: String) -> Flow {
        if let Some(flow) = self.due_fault(venue).await {
            return flow;
        }
        let faults = self.faults;
        let garbage_due = faults
            .garbage_every
            .is_some_and(|n| n > 0 && (self.sent + 1).is_multiple_of(n));
        if garbage_due && !self.text("\u{1}garbage, not JSON {".to_owned()).await {
            return Flow::End;
        }
        if faults.big_partials {
            let padded = venue.fault_frame(VenueFault::Padded {
                frame: &frame,
                padding: BIG_PARTIAL_PADDING,
            });
            if let Some(padded) = padded {
                frame = padded;
            }
        }
        if self.text(frame).await {
            Flow::Go
        } else {
            Flow::End
        }
    }

    /// The fault whose frame count has been reached, acted upon.
    async fn due_fault(&mut self, venue: &dyn Venue) -> Option<Flow> {
        let faults = self.faults;
        let sent = self.sent;
        if faults.drop_after.is_some_and(|n| sent >= n) {
            log(&self.shared, self.connection, LogEvent::Dropped);
            return Some(self.cut(LastBytes::new()).await);
        }
        if faults.malformed_after.is_some_and(|n| sent >= n) {
            log(&self.shared, self.connection, LogEvent::Malformed);
            return Some(self.cut(LastBytes::from_static(&MALFORMED_FRAME)).await);
        }
        if let Some((n, code)) = faults.close_after.filter(|(n, _)| sent >= *n) {
            let _ = n;
            self.close(code).await;
            return Some(Flow::End);
        }
        if let Some((_, retry_after)) = faults.rate_limit_after.filter(|(n, _)| sent >= *n) {
            let now = SystemClock.now();
            if let Some(error) = venue.fault_frame(VenueFault::RateLimit { retry_after, now }) {
                self.text(error).await;
            }
            self.close(1008).await;
            return Some(Flow::End);
        }
        if faults.stall_after.is_some_and(|n| sent >= n) {
            log(&self.shared, self.connection, LogEvent::Stalled);
            return Some(Flow::Stall);
        }
        None
    }

    /// Lets what was sent reach the socket, then writes `last` raw and cuts
    /// the TCP connection.
    async fn cut(&mut self, last: LastBytes) -> Flow {
        actix_rt::time::sleep(DROP_FLUSH).await;
        if let Some(drop_tcp) = self.drop_tcp.take() {
            let _ = drop_tcp.send(last);
        }
        Flow::End
    }

    async fn text(&mut self, frame: String) -> bool {
        log(
            &self.shared,
            self.connection,
            LogEvent::Sent {
                frame: frame.clone(),
            },
        );
        self.sent += 1;
        self.session.text(frame).await.is_ok()
    }

    async fn close(&mut self, code: u16) {
        log(&self.shared, self.connection, LogEvent::Closed { code });
        let reason = CloseReason {
            code: CloseCode::from(code),
            description: None,
        };
        let _ = self.session.clone().close(Some(reason)).await;
    }
}

async fn run_connection(
    shared: Arc<Shared>,
    connection: u64,
    query: Option<String>,
    (session, drop_tcp): (Session, Option<oneshot::Sender<LastBytes>>),
    mut stream: MessageStream,
) {
    let clock = SystemClock;
    let Some(mut venue) = shared.exchange.new_venue(&shared.venue) else {
        return;
    };
    if let Some(capture) = &shared.capture {
        let id = shared.exchange.id();
        match CaptureVenue::new(capture, id.as_str(), venue) {
            Ok(replay) => venue = Box::new(replay),
            Err(error) => {
                tracing::warn!(%error, "cannot read the capture; closing the connection");
                return;
            }
        }
    }
    let faults = shared.faults.for_connection(connection);
    let mut sender = Sender {
        shared,
        connection,
        session,
        drop_tcp,
        faults,
        sent: 0,
    };
    let mut out = Vec::new();
    venue.on_connect(query.as_deref(), clock.now(), &mut out);
    let mut stalled = match sender.send_all(venue.as_ref(), &mut out).await {
        Flow::Go => false,
        Flow::Stall => true,
        Flow::End => return,
    };
    // Firehose: events back to back, a batch at a time, never through the
    // timer (whose 1 ms granularity would cap it near 1000 frames/s).
    let firehose = venue.next_event_in().is_zero();
    let mut next_event = Instant::now() + venue.next_event_in();
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(Ok(message)) = message else { return };
                if stalled {
                    continue;
                }
                match message {
                    Message::Text(text) => {
                        venue.on_text(&text, clock.now(), &mut out);
                        // A request may make events due sooner (Deribit's
                        // set_heartbeat): never later than the venue says.
                        next_event = next_event.min(Instant::now() + venue.next_event_in());
                    }
                    Message::Ping(bytes) => {
                        let _ = sender.session.pong(&bytes).await;
                        continue;
                    }
                    Message::Close(_) => return,
                    _ => continue,
                }
            }
            () = tokio::time::sleep_until(next_event), if !stalled && !firehose => {
                venue.on_event(clock.now(), &mut out);
                next_event += venue.next_event_in();
            }
            () = std::future::ready(()), if !stalled && firehose => {
                let now = clock.now();
                for _ in 0..FIREHOSE_BATCH {
                    venue.on_event(now, &mut out);
                }
            }
        }
        match sender.send_all(venue.as_ref(), &mut out).await {
            Flow::Go => {}
            Flow::Stall => stalled = true,
            Flow::End => return,
        }
        // The venue ends a client that broke its rules (Deribit: an
        // unanswered test_request), as the exchange would.
        if let Some(code) = venue.close_code() {
            sender.close(code).await;
            return;
        }
        if firehose {
            // Let the socket drain and other connections run.
            tokio::task::yield_now().await;
        }
    }
}
