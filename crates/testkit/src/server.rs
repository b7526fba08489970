//! A scriptable WebSocket server on 127.0.0.1, for tests.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{CloseCode, CloseReason, Item, Message, Session};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest any script step may wait for the client.
const AWAIT_LIMIT: Duration = Duration::from_secs(10);

/// One thing the server does on a connection, in order.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send a text frame.
    Send(String),
    /// Send a text frame split into continuation frames of at most `n` bytes.
    SendFragmented(String, usize),
    /// Send a binary frame.
    SendBinary(Vec<u8>),
    /// Send a WebSocket ping.
    Ping(Vec<u8>),
    /// Wait this long.
    Pause(Duration),
    /// Wait (at most 10 s) until the client has sent a text message
    /// containing this text on this connection.
    AwaitText(String),
    /// Send a Close frame with this code, then end the connection.
    Close(u16),
    /// End the connection abruptly, without a Close frame.
    Drop,
    /// Send nothing more and answer nothing (not even pings) until the
    /// client goes away.
    Stall,
}

/// What the server does with every connection.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The steps, played in order on each connection.
    pub steps: Vec<Step>,
    /// Answer the text `ping` with the text `pong` (as BitMEX does) while
    /// not stalled.
    pub answer_text_ping: bool,
    /// Refuse the WebSocket upgrade and answer with this HTTP status.
    pub reject_with_status: Option<u16>,
}

impl Script {
    /// A script that plays `steps`, answering `ping` with `pong`, and then
    /// keeps the connection open until the client leaves.
    pub fn new(steps: Vec<Step>) -> Self {
        Script {
            steps,
            answer_text_ping: true,
            reject_with_status: None,
        }
    }

    /// A server that answers the upgrade request with `status` instead of 101.
    pub fn reject(status: u16) -> Self {
        Script {
            reject_with_status: Some(status),
            ..Script::default()
        }
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<String>>,
    connections: Mutex<usize>,
    pongs: Mutex<usize>,
}

/// A WebSocket server on `127.0.0.1:<free port>` that plays a [`Script`].
/// Stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts the server and returns once it listens.
    pub fn start(script: Script) -> MockServer {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let state = (Arc::new(script), shared.clone());
        let thread = std::thread::spawn(move || {
            let system = actix_rt::System::new();
            system.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(state.clone()))
                        .default_service(web::to(serve))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(server) => server,
                    Err(error) => panic!("mock server cannot bind: {error}"),
                };
                let addr = server.addrs()[0];
                let server = server.run();
                let _ = tx.send((addr, server.handle()));
                let _ = server.await;
            });
        });
        let (addr, handle) = match rx.recv_timeout(AWAIT_LIMIT) {
            Ok(started) => started,
            Err(error) => panic!("mock server did not start: {error}"),
        };
        MockServer {
            addr,
            shared,
            handle,
            thread: Some(thread),
        }
    }

    /// `ws://127.0.0.1:<port>/realtime`.
    pub fn url(&self) -> String {
        format!("ws://{}/realtime", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every text message clients have sent, in arrival order.
    pub fn received(&self) -> Vec<String> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// How many WebSocket pongs clients have sent (answers to [`Step::Ping`]).
    pub fn pongs(&self) -> usize {
        self.shared.pongs.lock().map(|p| *p).unwrap_or_default()
    }

    /// How many upgrade requests arrived (accepted or rejected).
    pub fn connections(&self) -> usize {
        self.shared
            .connections
            .lock()
            .map(|c| *c)
            .unwrap_or_default()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let stopped = self.handle.stop(false);
        std::mem::drop(stopped);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type State = (Arc<Script>, Arc<Shared>);

async fn serve(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<State>,
) -> Result<HttpResponse, actix_web::Error> {
    let (script, shared) = (state.0.clone(), state.1.clone());
    if let Ok(mut count) = shared.connections.lock() {
        *count += 1;
    }
    if let Some(status) = script.reject_with_status {
        let status = actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
        let mut response = HttpResponse::build(status);
        if matches!(status.as_u16(), 429 | 503) {
            response.insert_header(("Retry-After", "1"));
        }
        return Ok(response.body("not a websocket"));
    }
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let stream = stream.max_frame_size(16 << 20);
    actix_rt::spawn(play(script, shared, session, stream));
    Ok(response)
}

/// Reads the client on one task while the script plays on this one.
async fn play(
    script: Arc<Script>,
    shared: Arc<Shared>,
    session: Session,
    mut stream: actix_ws::MessageStream,
) {
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (heard_tx, mut heard_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = {
        let (shared, stalled, answer_ping) =
            (shared.clone(), stalled.clone(), script.answer_text_ping);
        let mut session = session.clone();
        actix_rt::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let quiet = stalled.load(std::sync::atomic::Ordering::SeqCst);
                match message {
                    Message::Text(text) => {
                        if let Ok(mut received) = shared.received.lock() {
                            received.push(text.to_string());
                        }
                        let _ = heard_tx.send(text.to_string());
                        if answer_ping && !quiet && text.trim() == "ping" {
                            let _ = session.text("pong").await;
                        }
                    }
                    Message::Ping(bytes) if !quiet => {
                        let _ = session.pong(&bytes).await;
                    }
                    Message::Pong(_) => {
                        if let Ok(mut pongs) = shared.pongs.lock() {
                            *pongs += 1;
                        }
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        })
    };
    let mut session = session;
    let mut heard: Vec<String> = Vec::new();
    for step in &script.steps {
        let ok = match step {
            Step::Send(text) => session.text(text.clone()).await.is_ok(),
            Step::SendBinary(bytes) => session.binary(bytes.clone()).await.is_ok(),
            Step::Ping(bytes) => session.ping(bytes).await.is_ok(),
            Step::SendFragmented(text, piece) => send_fragmented(&mut session, text, *piece).await,
            Step::Pause(duration) => {
                actix_rt::time::sleep(*duration).await;
                true
            }
            Step::AwaitText(needle) => {
                let deadline = tokio::time::Instant::now() + AWAIT_LIMIT;
                loop {
                    if heard.iter().any(|h| h.contains(needle.as_str())) {
                        break true;
                    }
                    match tokio::time::timeout_at(deadline, heard_rx.recv()).await {
                        Ok(Some(text)) => heard.push(text),
                        _ => break false,
                    }
                }
            }
            Step::Close(code) => {
                let reason = CloseReason {
                    code: CloseCode::from(*code),
                    description: None,
                };
                let _ = session.close(Some(reason)).await;
                return;
            }
            Step::Drop => {
                reader.abort();
                return;
            }
            Step::Stall => {
                stalled.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = reader.await;
                return;
            }
        };
        if !ok {
            reader.abort();
            return;
        }
    }
    let _ = reader.await;
}

async fn send_fragmented(session: &mut Session, text: &str, piece: usize) -> bool {
    let bytes = text.as_bytes();
    let chunks: Vec<&[u8]> = bytes.chunks(piece.max(1)).collect();
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let chunk = bytes::Bytes::copy_from_slice(chunk);
        let item = match i {
            0 if last == 0 => return session.text(text.to_owned()).await.is_ok(),
            0 => Item::FirstText(chunk),
            i if i == last => Item::Last(chunk),
            _ => Item::Continue(chunk),
        };
        if session.continuation(item).await.is_err() {
            return false;
        }
    }
    true
}
