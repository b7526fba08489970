//! The HTTP side: `/` (the embedded page), `/ws` (events), `/health`,
//! `/metrics`. Nothing else is served.

use crate::freshness::QuoteAge;
use crate::guard::GuardedPayload;
use crate::hub::{CLIENT_QUEUE, GetSnapshot, Hub, Join, Leave, Snapshot};
use actix::Addr;
use actix_web::http::header::{self, ContentType};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use actix_ws::Message;
use futures_util::StreamExt;
use mercury_collector::ConnectionSnapshot;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::sync::mpsc;

/// The page, with its CSS and JS inline: no CDN, works offline.
const PAGE: &str = include_str!("page.html");
/// When the dashboard pings a browser, and when it gives up on one.
#[derive(Debug, Clone, Copy)]
pub struct BrowserTimers {
    /// A WebSocket ping goes to each browser this often (browsers answer
    /// pings by themselves).
    pub ping_every: Duration,
    /// A browser that sends nothing, not even a pong, this long is dropped,
    /// however many events flow to it.
    pub idle: Duration,
}

impl Default for BrowserTimers {
    fn default() -> Self {
        BrowserTimers {
            ping_every: Duration::from_secs(20),
            idle: Duration::from_secs(60),
        }
    }
}
/// The largest message read from a browser.
const MAX_CLIENT_MESSAGE: usize = 4096;

/// Registers the routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(page))
        .route("/ws", web::get().to(events))
        .route("/health", web::get().to(health))
        .route("/metrics", web::get().to(metrics));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"))
        .body(PAGE)
}

/// Whether a browser's `Origin` is this server's own page. Requests
/// without an Origin (not from a browser page) are allowed.
pub fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    origin
        .to_str()
        .is_ok_and(|o| o == format!("http://{host}") || o == format!("https://{host}"))
}

async fn events(
    req: HttpRequest,
    body: web::Payload,
    hub: web::Data<Addr<Hub>>,
) -> Result<HttpResponse, actix_web::Error> {
    if !same_origin(&req) {
        return Ok(HttpResponse::Forbidden().body("cross-origin WebSocket refused"));
    }
    // Frames are measured from their headers before actix-ws buffers them.
    let guarded: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> =
        Box::pin(GuardedPayload::new(body, MAX_CLIENT_MESSAGE));
    let mut payload = actix_web::dev::Payload::from(guarded);
    let body = web::Payload::from_request(&req, &mut payload).await?;
    let (response, mut session, stream) = actix_ws::handle(&req, body)?;
    let mut stream = stream.max_frame_size(MAX_CLIENT_MESSAGE);
    let (queue, mut events) = mpsc::channel(CLIENT_QUEUE);
    let hub = hub.get_ref().clone();
    let Ok((id, hello)) = hub.send(Join(queue)).await else {
        return Ok(HttpResponse::ServiceUnavailable().finish());
    };
    let timers = req
        .app_data::<web::Data<BrowserTimers>>()
        .map(|t| *t.get_ref())
        .unwrap_or_default();
    actix_rt::spawn(async move {
        let mut open = session.text(hello).await.is_ok();
        let mut ping = tokio::time::interval(timers.ping_every);
        // The deadline moves only when the browser sends something:
        // events flowing to it prove nothing.
        let mut heard_by = tokio::time::Instant::now() + timers.idle;
        while open {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => open = session.text(event.to_string()).await.is_ok(),
                    None => open = false,
                },
                message = stream.next() => {
                    heard_by = tokio::time::Instant::now() + timers.idle;
                    match message {
                        Some(Ok(Message::Ping(bytes))) => open = session.pong(&bytes).await.is_ok(),
                        Some(Ok(Message::Close(_)) | Err(_)) | None => open = false,
                        Some(Ok(_)) => {}
                    }
                }
                _ = ping.tick() => open = session.ping(b"").await.is_ok(),
                () = tokio::time::sleep_until(heard_by) => open = false,
            }
        }
        hub.do_send(Leave(id));
        let _ = session.close(None).await;
    });
    Ok(response)
}

async fn snapshot(hub: &Addr<Hub>) -> Option<Snapshot> {
    hub.send(GetSnapshot).await.ok()
}

async fn health(hub: web::Data<Addr<Hub>>) -> HttpResponse {
    let Some(snapshot) = snapshot(&hub).await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let streaming = snapshot
        .connections
        .iter()
        .filter(|c| c.state == "streaming")
        .count();
    let status = match streaming {
        n if n == snapshot.connections.len() && n > 0 => "ok",
        0 => "down",
        _ => "degraded",
    };
    // Up but silent is not healthy: a stale subscription degrades an `ok`.
    let stale: Vec<String> = snapshot
        .quote_ages
        .iter()
        .filter(|a| a.stale)
        .map(QuoteAge::name)
        .collect();
    // A file sink that failed or lags degrades an `ok` too.
    let sinks_degraded: Vec<&str> = snapshot
        .sinks
        .iter()
        .filter(|s| s.degraded)
        .map(|s| s.sink)
        .collect();
    // So does a disconnected NATS sink (quotes wait for it).
    let nats_degraded = snapshot.nats.as_ref().and_then(|n| n.degraded);
    let status = if status == "ok"
        && !(stale.is_empty() && sinks_degraded.is_empty() && nats_degraded.is_none())
    {
        "degraded"
    } else {
        status
    };
    let body = serde_json::json!({
        "status": status,
        "connections": snapshot.connections,
        "quotes": snapshot.quote_ages,
        "stale": stale,
        "stale_after_s": snapshot.stale_after.as_secs(),
        "sinks": snapshot.sinks,
        "sinks_degraded": sinks_degraded,
        "nats": snapshot.nats,
        "nats_degraded": nats_degraded,
    });
    let mut response = if status == "down" {
        HttpResponse::ServiceUnavailable()
    } else {
        HttpResponse::Ok()
    };
    response.json(body)
}

async fn metrics(hub: web::Data<Addr<Hub>>) -> HttpResponse {
    let Some(snapshot) = snapshot(&hub).await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(prometheus(&snapshot))
}

/// A metric: name, type, help, and its value for one connection.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ConnectionSnapshot) -> u64,
);

/// The Prometheus text exposition of a snapshot, per exchange and
/// connection.
pub fn prometheus(snapshot: &Snapshot) -> String {
    let mut text = String::new();
    let connections = snapshot
        .stats
        .as_ref()
        .map(|s| s.connections.as_slice())
        .unwrap_or_default();
    let series: [Series; 5] = [
        (
            "mercury_messages_total",
            "counter",
            "WebSocket messages received.",
            |c| c.frames,
        ),
        ("mercury_quotes_total", "counter", "Quotes received.", |c| {
            c.quotes
        }),
        (
            "mercury_reconnects_total",
            "counter",
            "Reconnects after a failure.",
            |c| c.reconnects,
        ),
        (
            "mercury_gaps_total",
            "counter",
            "Quotes that came after a gap.",
            |c| c.gaps,
        ),
        (
            "mercury_connection_up",
            "gauge",
            "1 while quotes are streaming.",
            |c| {
                u64::from(matches!(
                    c.state,
                    mercury_collector::ConnectionState::Streaming
                ))
            },
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for c in connections {
            let _ = writeln!(
                text,
                "{name}{{exchange=\"{}\",connection=\"{}\"}} {}",
                label(c.exchange.as_str()),
                label(&c.connection.to_string()),
                value(c)
            );
        }
    }
    quote_ages(&mut text, &snapshot.quote_ages);
    if let Some(stats) = &snapshot.stats {
        crate::latency::prometheus(&mut text, &stats.latency);
    }
    crate::sinks::prometheus(&mut text, &snapshot.sinks);
    crate::nats::prometheus(&mut text, snapshot.nats.as_ref());
    let _ = writeln!(
        text,
        "# HELP mercury_dashboard_clients Browsers connected.\n# TYPE mercury_dashboard_clients gauge\nmercury_dashboard_clients {}",
        snapshot.clients
    );
    let _ = writeln!(
        text,
        "# HELP mercury_dashboard_drops_total Events dropped for slow browsers.\n# TYPE mercury_dashboard_drops_total counter\nmercury_dashboard_drops_total {}",
        snapshot.client_drops
    );
    text
}

/// The per-subscription freshness series.
fn quote_ages(text: &mut String, ages: &[QuoteAge]) {
    let _ = writeln!(
        text,
        "# HELP mercury_quote_age_seconds Time since the latest quote (since the start if none came).\n# TYPE mercury_quote_age_seconds gauge"
    );
    for a in ages {
        let _ = writeln!(
            text,
            "mercury_quote_age_seconds{{exchange=\"{}\",symbol=\"{}\",kind=\"{}\"}} {}.{:03}",
            label(&a.exchange),
            label(&a.symbol),
            a.kind,
            a.age_ms / 1000,
            a.age_ms % 1000
        );
    }
    let _ = writeln!(
        text,
        "# HELP mercury_quote_stale 1 while a subscription has had no quote for longer than the staleness limit.\n# TYPE mercury_quote_stale gauge"
    );
    for a in ages {
        let _ = writeln!(
            text,
            "mercury_quote_stale{{exchange=\"{}\",symbol=\"{}\",kind=\"{}\"}} {}",
            label(&a.exchange),
            label(&a.symbol),
            a.kind,
            u8::from(a.stale)
        );
    }
}

/// A Prometheus label value: shortened, control characters escaped
/// ([`mercury_core::excerpt`]), then `\` and `"` escaped as the text
/// format asks (a newline is already `\n`).
pub(crate) fn label(value: &str) -> String {
    mercury_core::excerpt(value)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn label_values_are_escaped_and_short() {
        assert_eq!(label("XBTUSD"), "XBTUSD");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\\\nd");
        let long = label(&format!("\u{1b}[31m{}", "x".repeat(1 << 20)));
        assert!(long.chars().count() < 260 && !long.chars().any(char::is_control));
    }
}
