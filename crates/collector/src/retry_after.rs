//! Reading `Retry-After` from a refused WebSocket upgrade.
//!
//! awc's `WebsocketsRequest::connect` turns any answer other than `101`
//! into `WsClientError::InvalidResponseStatus(status)` and drops the
//! headers, so a client cannot see how long an HTTP 429 asks it to wait.
//! The headers do pass through awc's middleware chain, though: this
//! middleware looks at the head of every tunnel (upgrade) response and, when
//! it is not `101`, leaves the parsed `Retry-After` in a slot the connector
//! reads after the failure.

use awc::error::SendRequestError;
use awc::http::StatusCode;
use awc::http::header::{HeaderMap, HttpDate, RETRY_AFTER};
use awc::middleware::Transform;
use awc::{ConnectRequest, ConnectResponse};
use futures_util::future::LocalBoxFuture;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// No server gets to park a connector for longer than this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Where the middleware leaves the wait asked for by the last refused upgrade.
pub(crate) type RetryAfterSlot = Rc<Cell<Option<Duration>>>;

/// The awc middleware; see the module docs.
pub(crate) struct RememberRetryAfter(pub(crate) RetryAfterSlot);

impl<S> Transform<S, ConnectRequest> for RememberRetryAfter
where
    S: actix_service::Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError>
        + 'static,
{
    type Transform = RememberRetryAfterService<S>;

    fn new_transform(self, service: S) -> Self::Transform {
        RememberRetryAfterService {
            service,
            slot: self.0,
        }
    }
}

/// The service [`RememberRetryAfter`] wraps around awc's connector.
pub(crate) struct RememberRetryAfterService<S> {
    service: S,
    slot: RetryAfterSlot,
}

impl<S> actix_service::Service<ConnectRequest> for RememberRetryAfterService<S>
where
    S: actix_service::Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError>
        + 'static,
{
    type Response = ConnectResponse;
    type Error = SendRequestError;
    type Future = LocalBoxFuture<'static, Result<ConnectResponse, SendRequestError>>;

    actix_service::forward_ready!(service);

    fn call(&self, request: ConnectRequest) -> Self::Future {
        let response = self.service.call(request);
        let slot = self.slot.clone();
        Box::pin(async move {
            let response = response.await?;
            if let ConnectResponse::Tunnel(head, _) = &response
                && head.status != StatusCode::SWITCHING_PROTOCOLS
            {
                slot.set(retry_after(&head.headers, SystemTime::now()));
            }
            Ok(response)
        })
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date
/// (RFC 9110 §10.2.3), at most [`MAX_RETRY_AFTER`]. A date in the past
/// means no wait; an unreadable value is ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than u64 holds is still "a very long time".
        Duration::from_secs(text.parse().unwrap_or(u64::MAX))
    } else {
        let date: SystemTime = text.parse::<HttpDate>().ok()?.into();
        date.duration_since(now).unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use awc::http::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn seconds_and_dates_are_read_and_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        let date = |t: SystemTime| HttpDate::from(t).to_string();
        assert_eq!(
            retry_after(&headers("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers(&date(now + Duration::from_secs(90))), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(&headers(&date(now - Duration::from_secs(90))), now),
            Some(Duration::ZERO),
            "a date in the past asks for no wait"
        );
        assert_eq!(
            retry_after(&headers("99999999999999999999999"), now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(&headers("86400"), now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn unreadable_values_are_ignored() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
        for bad in ["", "-1", "1.5", "soon", "Tue, 99 Foo 2026"] {
            assert_eq!(retry_after(&headers(bad), now), None, "{bad:?}");
        }
    }
}
