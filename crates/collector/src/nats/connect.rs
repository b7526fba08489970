//! Connecting to NATS at start: options from [`NatsConfig`] (credentials,
//! trust, reconnect pacing, connection events into [`NatsStats`]), the
//! typed errors of a failed start, and the stream.

use super::{NatsAuth, NatsConfig, NatsError, NatsStats, stream};
use crate::tls::tls_client_config;
use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use std::time::Duration;

/// A connected client's JetStream context, the stream ready.
pub(crate) struct Connected {
    pub(crate) js: async_nats::jetstream::Context,
}

/// Connects (bounded by `connect_timeout`), then creates or checks the
/// stream. Later losses of the server are reconnected forever, paced by
/// `retry_base`..`retry_cap`.
pub(crate) async fn connect(
    config: &NatsConfig,
    stats: &NatsStats,
) -> Result<Connected, NatsError> {
    let client = client(config, stats).await?;
    let js = async_nats::jetstream::ContextBuilder::new()
        .timeout(config.ack_timeout)
        .max_ack_inflight(config.window.saturating_mul(4).max(64))
        .build(client);
    stream::ensure_stream(&js, config).await?;
    Ok(Connected { js })
}

/// A client connected with `config`'s credentials and trust (bounded by
/// `connect_timeout`), its connection events counted in `stats`: the one
/// way both the publisher and `collector consume` reach NATS.
pub(crate) async fn client(
    config: &NatsConfig,
    stats: &NatsStats,
) -> Result<async_nats::Client, NatsError> {
    config.check()?;
    let options = options(config, stats).await?;
    let urls = config.urls.join(",");
    let attempt = options.connect(config.urls.as_slice());
    let client = match tokio::time::timeout(config.connect_timeout, attempt).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => return Err(connect_error(&urls, &error)),
        Err(_) => {
            return Err(NatsError::Connect {
                url: urls,
                detail: format!("no answer within {:?}", config.connect_timeout),
            });
        }
    };
    stats.set_connected(true);
    Ok(client)
}

/// The client's options for `config`.
async fn options(config: &NatsConfig, stats: &NatsStats) -> Result<ConnectOptions, NatsError> {
    let events = stats.clone();
    let (base, cap) = (config.retry_base, config.retry_cap);
    let mut options = ConnectOptions::new()
        .name("mercury collector")
        .connection_timeout(config.connect_timeout)
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempts| reconnect_delay(base, cap, attempts))
        .event_callback(move |event| {
            let stats = events.clone();
            async move { on_event(&stats, event) }
        });
    options = match &config.auth {
        NatsAuth::None => options,
        NatsAuth::Token(token) => options.token(token.clone()),
        NatsAuth::UserPassword { user, password } => {
            options.user_and_password(user.clone(), password.clone())
        }
        NatsAuth::NKey(seed) => options.nkey(seed.clone()),
        NatsAuth::CredsFile(path) => options
            .credentials_file(path)
            .await
            .map_err(|e| NatsError::Credentials(format!("{}: {e}", path.display())))?,
    };
    let mut tls = (*tls_client_config(&config.trust)
        .map_err(|e| NatsError::Credentials(e.to_string()))?)
    .clone();
    // NATS speaks its own protocol over TLS, not HTTP.
    tls.alpn_protocols.clear();
    let wants_tls = config.urls.iter().any(|u| u.starts_with("tls://"));
    Ok(options.tls_client_config(tls).require_tls(wants_tls))
}

/// The delay before reconnect attempt `attempts`: `base` doubled per
/// attempt, at most `cap`.
fn reconnect_delay(base: Duration, cap: Duration, attempts: usize) -> Duration {
    let shift = u32::try_from(attempts.min(16)).unwrap_or(16);
    base.saturating_mul(1u32 << shift).min(cap)
}

/// A connection event into the counters and the log.
fn on_event(stats: &NatsStats, event: Event) {
    match event {
        Event::Connected => {
            stats.set_connected(true);
            tracing::info!("NATS connected");
        }
        Event::Disconnected => {
            stats.set_connected(false);
            tracing::warn!("NATS disconnected; reconnecting");
        }
        Event::ServerError(error) => {
            stats.add_error();
            let text = error.to_string();
            tracing::warn!(error = %mercury_core::excerpt(&text), "NATS server error");
        }
        Event::ClientError(error) => {
            stats.add_error();
            tracing::warn!(%error, "NATS client error");
        }
        other => tracing::debug!(event = %other, "NATS event"),
    }
}

/// A failed first connection as a typed error.
fn connect_error(urls: &str, error: &async_nats::ConnectError) -> NatsError {
    let detail = mercury_core::excerpt(&error.to_string());
    match error.kind() {
        ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
            NatsError::Auth(detail)
        }
        ConnectErrorKind::Tls => NatsError::Tls(detail),
        _ if is_tls_failure(error) => NatsError::Tls(detail),
        _ => NatsError::Connect {
            url: mercury_core::excerpt(urls),
            detail,
        },
    }
}

/// Whether a rustls error (an untrusted certificate, a failed handshake)
/// is behind `error`: async-nats reports those as I/O errors.
fn is_tls_failure(error: &async_nats::ConnectError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if current.is::<rustls::Error>() {
            return true;
        }
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<rustls::Error>());
        if inner {
            return true;
        }
        cause = current.source();
    }
    false
}
