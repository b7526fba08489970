//! The dashboard in a real browser: `collector serve` as a process,
//! headless Chromium driven over the DevTools protocol, assertions on the
//! rendered DOM, and screenshots.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs
//! it). Where no Chromium can be found these tests say so and pass; set
//! `MERCURY_REQUIRE_BROWSER=1` (CI does) to make that a failure.
//! `MERCURY_SCREENSHOT_DIR=dir` saves the screenshots there too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use mercury_tests::{SimProcess, collector};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One browser at a time: two Chromiums on two cores starve the servers.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

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

/// Chromium, or `None` after saying why this test skips.
#[allow(clippy::print_stderr)] // the one line that says a test skipped
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("MERCURY_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "no Chromium found, and MERCURY_REQUIRE_BROWSER=1"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium, or set MERCURY_CHROMIUM)");
    }
    found
}

/// `collector serve ARGS…`; returns it and the page's URL.
fn serve(args: &[&str]) -> (Killed, String) {
    let mut child = collector()
        .args(["serve", "--duration", "120"])
        .args(args)
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
    let _ = std::fs::remove_dir_all(profile);
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
    // A cold start on a loaded 2-core machine has taken over 30 s.
    let deadline = Instant::now() + Duration::from_secs(90);
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

/// A page driven over the DevTools protocol.
struct Page {
    socket: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
    next_id: u64,
}

impl Page {
    /// The first page of the browser listening on `port`, navigated to `url`.
    async fn open(port: u16, url: &str) -> Page {
        let mut list = awc::Client::new()
            .get(format!("http://127.0.0.1:{port}/json/list"))
            .send()
            .await
            .unwrap();
        let targets: Value = list.json().await.unwrap();
        let target = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .unwrap_or_else(|| panic!("{targets}"));
        let (_, socket) = awc::Client::new()
            .ws(target["webSocketDebuggerUrl"].as_str().unwrap())
            .max_frame_size(64 << 20)
            .connect()
            .await
            .unwrap();
        let mut page = Page { socket, next_id: 1 };
        page.call("Page.navigate", json!({"url": url})).await;
        page
    }

    /// One DevTools command and its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(awc::ws::Message::Text(message.into()))
            .await
            .unwrap();
        loop {
            let frame = actix_rt::time::timeout(Duration::from_secs(20), self.socket.next())
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

    /// What the page shows now, read from its DOM.
    async fn read(&mut self) -> Value {
        let params = json!({"expression": READ_PAGE, "returnByValue": true});
        let result = self.call("Runtime.evaluate", params).await;
        result["result"]["value"]
            .as_str()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null)
    }

    /// Reads the page every 100 ms until `done` holds (at most `limit`).
    async fn wait_for(&mut self, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let shown = self.read().await;
            if done(&shown) {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "the page never got there: {shown}"
            );
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG of the page, saved under the test's target folder as `name`
    /// (and in `MERCURY_SCREENSHOT_DIR` when set).
    async fn screenshot(&mut self, name: &str) {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name), &png).unwrap();
        if let Ok(dir) = std::env::var("MERCURY_SCREENSHOT_DIR") {
            std::fs::write(Path::new(&dir).join(name), &png).unwrap();
        }
    }
}

/// What the page shows: the link, the quote count, each component's state
/// and state history (newest first), table rows, chart points.
const READ_PAGE: &str = r##"JSON.stringify({
  link: document.getElementById("link").dataset.state,
  quotes: Number(document.getElementById("quote-count").textContent),
  components: [...document.querySelectorAll(".component")].map(c => c.dataset.state),
  history: [...document.querySelectorAll(".component")].map(c => c.dataset.history || ""),
  details: [...document.querySelectorAll(".component .detail")].map(d => d.textContent),
  rows: document.querySelectorAll("#latest tr").length,
  points: [...document.querySelectorAll("canvas")].map(c => Number(c.dataset.points)),
  sinksShown: !document.getElementById("sinks").hidden,
  sinks: [...document.querySelectorAll("#sink-rows tr")].map(r =>
    ({sink: r.dataset.sink, records: Number(r.children[3].textContent), cells: r.children.length})),
  latencyShown: !document.getElementById("latency").hidden,
  latency: [...document.querySelectorAll("#latency-rows tr")].map(r =>
    ({source: r.dataset.source, quotes: Number(r.children[1].textContent), cells: [...r.children].map(c => c.textContent)})),
})"##;

fn quotes(shown: &Value) -> u64 {
    shown["quotes"].as_u64().unwrap_or(0)
}

fn profile(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mercury-chromium-{}-{name}", std::process::id()))
}

// Each test has its own thread and runtime; the lock only makes them take turns.
#[allow(clippy::await_holding_lock)]
#[actix::test]
async fn the_page_shows_components_quotes_and_charts() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let (_server, url) = serve(&[
        "--sim",
        "--listen",
        "127.0.0.1:0",
        "bitmex:XBTUSD",
        "binance:BTCUSDT",
    ]);
    let (_browser, port) = launch(&chromium, &profile("page"));
    let mut page = Page::open(port, &url).await;

    let all_of_two = |shown: &Value, key: &str, ok: &dyn Fn(&Value) -> bool| {
        shown[key]
            .as_array()
            .is_some_and(|a| a.len() == 2 && a.iter().all(ok))
    };
    let shown = page
        .wait_for(Duration::from_secs(30), |s| {
            quotes(s) >= 10
                && all_of_two(s, "components", &|state| state == "streaming")
                && all_of_two(s, "points", &|n| n.as_u64() >= Some(2))
                && all_of_two(s, "latency", &|row| row["quotes"].as_u64() > Some(0))
        })
        .await;
    assert_eq!(shown["link"], "live");
    // The latency table: a row per (exchange, kind), every cell filled.
    assert_eq!(shown["latencyShown"], true, "{shown}");
    let sources: Vec<&str> = shown["latency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"bitmex:fair") && sources.contains(&"binance:mark"),
        "{shown}"
    );
    for row in shown["latency"].as_array().unwrap() {
        let cells = row["cells"].as_array().unwrap();
        assert_eq!(
            cells.len(),
            9,
            "source, quotes, feed ×3, negative, internal ×3: {row}"
        );
        assert!(
            cells.iter().all(|c| !c.as_str().unwrap().is_empty()),
            "{row}"
        );
        assert!(
            cells[4].as_str().unwrap().ends_with('s'),
            "feed max is a duration: {row}"
        );
    }
    assert_eq!(shown["rows"], 2, "one row per source: {shown}");
    assert_eq!(
        shown["sinksShown"], false,
        "no --out, no Files table: {shown}"
    );
    for history in shown["history"].as_array().unwrap() {
        // The page joined a running server: its first state is the current one.
        assert!(
            history.as_str().is_some_and(|h| h.starts_with("streaming")),
            "{shown}"
        );
    }
    // A little more history for the picture (bounded, not asserted).
    let more = Instant::now() + Duration::from_secs(8);
    while Instant::now() < more && quotes(&page.read().await) < 80 {
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
    page.screenshot("dashboard.png").await;
}

#[allow(clippy::await_holding_lock)]
#[actix::test]
async fn the_page_follows_reconnects_and_a_server_restart() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    // Every connection to this simulator is closed after ~0.5 s.
    let sim = SimProcess::start(
        "browser-closes",
        &["--fair-interval", "0.04", "--close-after", "40"],
    );
    let serve_args = |listen: &str| -> Vec<String> {
        ["--listen", listen, "--url", sim.url(), "bitmex", "XBTUSD"]
            .map(str::to_owned)
            .to_vec()
    };
    let args = serve_args("127.0.0.1:0");
    let (server, url) = serve(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (_browser, port) = launch(&chromium, &profile("reconnect"));
    let mut page = Page::open(port, &url).await;

    // The component goes through a reconnect and streams again; the page
    // says why it reconnected while it waits. (The page may join during a
    // reconnect, whose length the jitter decides: wait for a whole cycle.)
    let cycle = "streaming,subscribing,connecting,reconnecting,streaming";
    let shown = page
        .wait_for(Duration::from_secs(30), |s| {
            s["history"][0]
                .as_str()
                .is_some_and(|h| h.starts_with(cycle))
        })
        .await;
    let history = shown["history"][0].as_str().unwrap();
    assert!(history.contains(cycle), "{history}");
    let reason = page
        .wait_for(Duration::from_secs(30), |s| {
            s["components"][0] == "reconnecting"
        })
        .await;
    assert!(
        reason["details"][0]
            .as_str()
            .unwrap()
            .contains("closed the connection (code 1011)"),
        "{reason}"
    );
    page.screenshot("dashboard-reconnecting.png").await;

    // The server goes away: the page says so; it comes back on the same
    // address: the page reconnects by itself and quotes flow again.
    let before = quotes(&page.read().await);
    drop(server);
    page.wait_for(Duration::from_secs(10), |s| s["link"] == "down")
        .await;
    let listen = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let args = serve_args(&listen);
    let (_server, _) = serve(&args.iter().map(String::as_str).collect::<Vec<_>>());
    page.wait_for(Duration::from_secs(30), |s| {
        s["link"] == "live" && quotes(s) > before
    })
    .await;
}

/// With `--auth-token`, the page opened with `?token=` passes the token on
/// to its `/ws`, and quotes flow (issue #14, item 12).
#[allow(clippy::await_holding_lock)]
#[actix::test]
async fn a_page_opened_with_its_token_shows_quotes() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let token = "s3cret-token";
    let (_server, url) = serve(&[
        "--sim",
        "--listen",
        "127.0.0.1:0",
        "--auth-token",
        token,
        "bitmex:XBTUSD",
    ]);
    let (_browser, port) = launch(&chromium, &profile("token"));
    let mut page = Page::open(port, &format!("{url}?token={token}")).await;
    let shown = page
        .wait_for(Duration::from_secs(30), |s| quotes(s) >= 3)
        .await;
    assert_eq!(shown["link"], "live", "{shown}");
}

/// `serve --out`: the page's Files table shows each sink (#15).
#[allow(clippy::await_holding_lock)]
#[actix::test]
async fn the_page_shows_the_file_sinks_of_serve_out() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().display().to_string();
    let (_server, url) = serve(&[
        "--sim",
        "--listen",
        "127.0.0.1:0",
        "bitmex:XBTUSD",
        "--out",
        &out_arg,
    ]);
    let (_browser, port) = launch(&chromium, &profile("sinks"));
    let mut page = Page::open(port, &url).await;
    let shown = page
        .wait_for(Duration::from_secs(30), |s| {
            let sinks = s["sinks"].as_array().cloned().unwrap_or_default();
            sinks.len() == 3 && sinks.iter().all(|r| r["records"].as_u64() > Some(0))
        })
        .await;
    assert_eq!(shown["sinksShown"], true, "{shown}");
    let names: Vec<&str> = shown["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sink"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["raw", "jsonl", "parquet"], "{shown}");
    assert!(
        shown["sinks"][0]["cells"] == 7,
        "sink, files, bytes, records, last write, lag, state: {shown}"
    );
}
