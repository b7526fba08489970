//! Which `Host` names the dashboard answers to: a defence against DNS
//! rebinding.
//!
//! A page on `evil.example` can make its name resolve to 127.0.0.1 and
//! then talk to the dashboard as a same-origin page: its requests carry
//! `Host: evil.example:PORT` and a matching `Origin`, so an Origin check
//! alone lets it read `/ws` and `/metrics`. Rebinding needs a DNS *name*,
//! so the dashboard answers only to IP literals (`127.0.0.1:8080`,
//! `[::1]:8080`, any address it is reached at), `localhost`, and the
//! extra names it is configured with; any other name gets 421 Misdirected
//! Request, whatever the route.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use std::net::IpAddr;

/// The extra names (besides IP literals and `localhost`) the dashboard
/// answers to.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(pub Vec<String>);

impl AllowedHosts {
    /// Whether a request with this `Host` header value may be answered.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        name.parse::<IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || self.0.iter().any(|extra| extra.eq_ignore_ascii_case(name))
    }
}

/// The name in a `Host` value, without its port or IPv6 brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Middleware: refuses a request whose `Host` is not allowed (421).
pub async fn check_host(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let allowed = req
        .app_data::<web::Data<AllowedHosts>>()
        .map(|a| a.get_ref().clone())
        .unwrap_or_default();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    // HTTP/1.0 without a Host cannot be rebound by name.
    if host.is_some_and(|host| !allowed.allows(host)) {
        let refusal = HttpResponse::MisdirectedRequest()
            .body("this dashboard does not answer to that host name; see --allow-host");
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
    fn ip_literals_localhost_and_configured_names_only() {
        let allowed = AllowedHosts(vec!["dash.internal".into()]);
        for ok in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "[::1]:8080",
            "10.1.2.3:80",
            "localhost:8080",
            "LOCALHOST",
            "dash.internal:8080",
        ] {
            assert!(allowed.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io:8080",
        ] {
            assert!(!allowed.allows(refused), "{refused}");
        }
    }
}
