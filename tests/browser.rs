//! The dashboard in a real browser: `collector serve --sim` as a process,
//! headless Chromium driven over the DevTools protocol, assertions on the
//! rendered DOM (each component streaming, ten quotes or more, a drawn
//! chart per source), and a screenshot.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs
//! it). Where no Chromium can be found this test says so and passes; set
//! `MERCURY_REQUIRE_BROWSER=1` (CI does) to make that a failure.
//! `MERCURY_SCREENSHOT=path.png` saves the screenshot there too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use mercury_tests::collector;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MERCURY_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// `collector serve --sim` on 127.0.0.1:0; returns it and the page's URL.
fn serve() -> (Killed, String) {
    let mut child = collector()
        .args([
            "serve",
            "--sim",
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "120",
        ])
        .args(["bitmex:XBTUSD", "binance:BTCUSDT"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("http://127.0.0.1:"), "{line:?}");
    (Killed(child), line.trim().to_owned())
}

/// Headless Chromium with a DevTools port; returns it and the port.
fn launch(chromium: &Path, profile: &Path) -> (Killed, u16) {
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--window-size=1280,860",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let port = std::fs::read_to_string(profile.join("DevToolsActivePort"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse().ok());
        if let Some(port) = port {
            return (child, port);
        }
        assert!(
            Instant::now() < deadline,
            "Chromium did not open its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

type Socket = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// One DevTools command and its result.
async fn call(socket: &mut Socket, id: u64, method: &str, params: Value) -> Value {
    let message = json!({"id": id, "method": method, "params": params}).to_string();
    socket
        .send(awc::ws::Message::Text(message.into()))
        .await
        .unwrap();
    loop {
        let frame = actix_rt::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"));
        if let Some(Ok(awc::ws::Frame::Text(text))) = frame {
            let reply: Value = serde_json::from_slice(&text).unwrap();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }
}

/// What the page shows, read from the DOM.
const READ_PAGE: &str = r##"JSON.stringify({
  link: document.getElementById("link").dataset.state,
  quotes: Number(document.getElementById("quote-count").textContent),
  components: [...document.querySelectorAll(".component")].map(c => c.dataset.state),
  rows: document.querySelectorAll("#latest tr").length,
  points: [...document.querySelectorAll("canvas")].map(c => Number(c.dataset.points)),
})"##;

/// What the page shows now (see [`READ_PAGE`]).
async fn read_page(socket: &mut Socket, id: u64) -> Value {
    let params = json!({"expression": READ_PAGE, "returnByValue": true});
    let result = call(socket, id, "Runtime.evaluate", params).await;
    result["result"]["value"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null)
}

#[actix::test]
async fn the_page_shows_components_quotes_and_charts() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("MERCURY_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "no Chromium found, and MERCURY_REQUIRE_BROWSER=1"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium, or set MERCURY_CHROMIUM)");
        return;
    };
    let (_server, url) = serve();
    let profile = std::env::temp_dir().join(format!("mercury-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let (_browser, port) = launch(&chromium, &profile);

    let mut targets = awc::Client::new()
        .get(format!("http://127.0.0.1:{port}/json/list"))
        .send()
        .await
        .unwrap();
    let targets: Value = targets.json().await.unwrap();
    let page = targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .unwrap_or_else(|| panic!("{targets}"));
    let debugger = page["webSocketDebuggerUrl"].as_str().unwrap();
    let (_, mut socket) = awc::Client::new()
        .ws(debugger)
        .max_frame_size(64 << 20)
        .connect()
        .await
        .unwrap();
    call(&mut socket, 1, "Page.navigate", json!({"url": url})).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut id = 10;
    let shown = loop {
        id += 1;
        let shown = read_page(&mut socket, id).await;
        let all = |key: &str, ok: &dyn Fn(&Value) -> bool| {
            shown[key]
                .as_array()
                .is_some_and(|a| a.len() == 2 && a.iter().all(ok))
        };
        let ready = shown["quotes"].as_u64().unwrap_or(0) >= 10
            && all("components", &|s| s == "streaming")
            && all("points", &|n| n.as_u64() >= Some(2));
        if ready {
            break shown;
        }
        assert!(
            Instant::now() < deadline,
            "the page never got there: {shown}"
        );
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(shown["link"], "live");
    assert_eq!(shown["rows"], 2, "one row per source: {shown}");

    // A little more history for the picture (bounded, not asserted).
    let more = Instant::now() + Duration::from_secs(8);
    while Instant::now() < more
        && read_page(&mut socket, id + 1).await["quotes"].as_u64() < Some(80)
    {
        id += 1;
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
    let shot = call(
        &mut socket,
        99,
        "Page.captureScreenshot",
        json!({"format": "png"}),
    )
    .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(dir.join("dashboard.png"), &png).unwrap();
    if let Ok(path) = std::env::var("MERCURY_SCREENSHOT") {
        std::fs::write(path, &png).unwrap();
    }
    let _ = std::fs::remove_dir_all(&profile);
}
