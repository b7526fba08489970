//! `serve --auth-token` (issue #14, item 12): with a token set, every
//! route needs it, as a bearer header or `?token=`; 401 otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::Collector;
use mercury_dashboard::{AuthToken, Dashboard, DashboardOptions};

const TOKEN: &str = "s3cret-token";

async fn status(url: String, bearer: Option<&str>) -> u16 {
    let mut request = awc::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    request.send().await.unwrap().status().as_u16()
}

async fn ws_status(url: String, bearer: Option<&str>) -> u16 {
    let mut request = awc::Client::new().ws(url);
    if let Some(token) = bearer {
        request = request.set_header("Authorization", format!("Bearer {token}"));
    }
    match request.connect().await {
        Ok((response, _)) => response.status().as_u16(),
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => s.as_u16(),
        Err(e) => panic!("{e}"),
    }
}

#[actix::test]
async fn every_route_needs_the_token_as_a_bearer_header_or_in_the_query() {
    let dashboard = Dashboard::start(
        Collector::new().start(),
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions {
            auth_token: AuthToken::new(Some(TOKEN.into())),
            ..DashboardOptions::default()
        },
    )
    .unwrap();
    let addr = dashboard.addr();
    for path in ["/", "/health", "/metrics"] {
        let url = |query: &str| format!("http://{addr}{path}{query}");
        assert_eq!(status(url(""), None).await, 401, "{path} without");
        assert_eq!(
            status(url(""), Some("wrong")).await,
            401,
            "{path} wrong bearer"
        );
        assert_eq!(
            status(url("?token=wrong"), None).await,
            401,
            "{path} wrong query"
        );
        assert_eq!(
            status(url("?token="), None).await,
            401,
            "{path} empty query"
        );
        // /health answers 503 (down: nothing collected) once admitted.
        assert_ne!(status(url(""), Some(TOKEN)).await, 401, "{path} bearer");
        assert_ne!(
            status(url(&format!("?token={TOKEN}")), None).await,
            401,
            "{path} query"
        );
    }
    let ws = |query: &str| format!("ws://{addr}/ws{query}");
    assert_eq!(ws_status(ws(""), None).await, 401);
    assert_eq!(ws_status(ws("?token=wrong"), None).await, 401);
    assert_eq!(ws_status(ws(""), Some("wrong")).await, 401);
    assert_eq!(ws_status(ws(&format!("?token={TOKEN}")), None).await, 101);
    assert_eq!(ws_status(ws(""), Some(TOKEN)).await, 101);
    dashboard.stop().await;
}

#[actix::test]
async fn without_a_token_nothing_is_asked() {
    let dashboard = Dashboard::start(
        Collector::new().start(),
        Vec::new(),
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions::default(),
    )
    .unwrap();
    let addr = dashboard.addr();
    assert_eq!(status(format!("http://{addr}/"), None).await, 200);
    assert_eq!(ws_status(format!("ws://{addr}/ws"), None).await, 101);
    dashboard.stop().await;
}
