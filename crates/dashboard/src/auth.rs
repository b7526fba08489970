//! An optional access token for every route (`serve --auth-token`, or
//! `MERCURY_AUTH_TOKEN`).
//!
//! Bound beyond loopback, the page, `/ws`, `/health` and `/metrics` are
//! visible to the network. With a token set, every request must carry it —
//! `Authorization: Bearer TOKEN` (scrapers, scripts) or `?token=TOKEN`
//! (a browser: the page passes its own on to `/ws`, since a browser's
//! WebSocket cannot set headers) — or it gets 401. The comparison takes the
//! same time whatever the first wrong byte.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use std::fmt;

/// The token every request must carry, when set.
#[derive(Clone, Default)]
pub struct AuthToken(Option<String>);

impl AuthToken {
    /// Requests must carry `token` (`None` or an empty one: no check).
    pub fn new(token: Option<String>) -> Self {
        AuthToken(token.filter(|t| !t.is_empty()))
    }

    /// Whether a token is required.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Whether `given` is the token (always, when none is set).
    pub fn admits(&self, given: Option<&str>) -> bool {
        match (&self.0, given) {
            (None, _) => true,
            (Some(token), Some(given)) => same(token.as_bytes(), given.as_bytes()),
            (Some(_), None) => false,
        }
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token itself, in a log or a panic.
        f.write_str(if self.is_set() {
            "AuthToken(set)"
        } else {
            "AuthToken(none)"
        })
    }
}

/// Equality in a time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    let longest = a.len().max(b.len());
    let mut differ = u8::from(a.len() != b.len());
    for i in 0..longest {
        differ |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    differ == 0
}

/// The token a request carries: its bearer header, or else `token=` in its
/// query.
fn carried(req: &ServiceRequest) -> Option<String> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    bearer.or_else(|| {
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("token").cloned())
    })
}

/// Middleware: refuses a request without the token (401).
pub async fn check_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let token = req
        .app_data::<web::Data<AuthToken>>()
        .map(|t| t.get_ref().clone())
        .unwrap_or_default();
    if !token.admits(carried(&req).as_deref()) {
        let refusal = HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .body("this dashboard needs its token: Authorization: Bearer TOKEN, or ?token=TOKEN");
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_is_admitted() {
        let token = AuthToken::new(Some("s3cret".into()));
        assert!(token.admits(Some("s3cret")));
        for wrong in ["", "s3cre", "s3crets", "S3cret", "x3cret"] {
            assert!(!token.admits(Some(wrong)), "{wrong}");
        }
        assert!(!token.admits(None));
        let none = AuthToken::new(Some(String::new()));
        assert!(!none.is_set() && none.admits(None));
        assert_eq!(format!("{token:?}"), "AuthToken(set)");
    }
}
