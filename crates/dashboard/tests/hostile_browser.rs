//! A browser-side client that lies in its frame headers (issue #14, item 1,
//! server side): the dashboard's `/ws` must refuse a frame as soon as its
//! header says it is too large, before buffering what follows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use actix::Actor;
use mercury_collector::Collector;
use mercury_dashboard::{Dashboard, DashboardOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What the lying client streams after its header, at most.
const STREAM_AT_MOST: usize = 256 << 20;
/// The most the process may grow while it does (the page's own allocations,
/// socket buffers, the harness): far below what buffering would take.
const GROWTH_BOUND_KIB: u64 = 48 << 10;

/// Upgrades a raw TCP connection to `/ws` by hand; returns the socket once
/// the 101 is read.
pub fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        socket,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(socket.read(&mut byte).unwrap(), 1, "the upgrade was cut");
        head.push(byte[0]);
        assert!(head.len() < 4096, "an endless response head");
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket
}

/// A masked text frame header claiming `len` payload bytes.
fn masked_header(len: u64) -> Vec<u8> {
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    header
}

/// Streams after `header` until the server closes (or `STREAM_AT_MOST`);
/// returns the process's peak RSS meanwhile.
fn stream_after(mut socket: TcpStream, header: &[u8]) -> u64 {
    let pid = std::process::id();
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.write_all(header).unwrap();
    let chunk = vec![b'x'; 64 << 10];
    let (mut sent, mut peak) = (0, 0);
    while sent < STREAM_AT_MOST {
        match socket.write(&chunk) {
            Ok(n) if n > 0 => sent += n,
            _ => break,
        }
        peak = peak.max(mercury_testkit::rss_kib(pid).unwrap_or(0));
    }
    peak
}

/// How the server ended the connection, as the client reads it: whether a
/// Close frame came, and when the connection ended (EOF or reset), if it
/// did within 5 s.
fn read_to_end(mut socket: TcpStream) -> (bool, Option<Duration>) {
    let started = Instant::now();
    let (mut read, mut buf) = (Vec::new(), [0u8; 4096]);
    loop {
        match socket.read(&mut buf) {
            Ok(n) if n > 0 && read.len() < 1 << 20 => read.extend_from_slice(&buf[..n]),
            Ok(0) | Err(_) if started.elapsed() < Duration::from_secs(5) => break,
            _ => return (false, None),
        }
    }
    // The hello event, then the Close frame (0x88) the dashboard sends.
    let closed = read.windows(2).any(|w| w[0] == 0x88 && w[1] < 126);
    (closed, Some(started.elapsed()))
}

/// Regression (issue #14, item 1, server side): a header claiming 2^62
/// bytes made `/ws` buffer everything that followed (one client took
/// `serve` from 13 to 526 MB; the 4 KiB message limit had no effect). Now
/// the connection is closed as soon as the header is in, and the process
/// does not grow.
#[actix::test]
async fn a_header_claiming_2_pow_62_bytes_is_refused_before_anything_is_buffered() {
    let collector = Collector::new().start();
    let dashboard = Dashboard::start(
        collector,
        vec!["bitmex:XBTUSD (fair)".into()],
        "127.0.0.1:0".parse().unwrap(),
        DashboardOptions::default(),
    )
    .unwrap();
    let addr = dashboard.addr();
    let before = mercury_testkit::rss_kib(std::process::id()).unwrap();
    // Blocking sockets on threads of their own: the dashboard runs on this one.
    let (sockets, upgraded) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let socket = raw_upgrade(addr);
        sockets.send(socket.try_clone().unwrap()).unwrap();
        stream_after(socket, &masked_header(1 << 62))
    });
    let reader = std::thread::spawn(move || read_to_end(upgraded.recv().unwrap()));
    while !(writer.is_finished() && reader.is_finished()) {
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    let peak = writer.join().unwrap();
    let (close_frame, ended_after) = reader.join().unwrap();
    let growth = peak.saturating_sub(before);
    eprintln!(
        "close frame: {close_frame}, ended after {ended_after:?}; RSS {} → peak {} MiB (+{} MiB)",
        before >> 10,
        peak >> 10,
        growth >> 10
    );
    assert!(
        growth < GROWTH_BOUND_KIB,
        "the process grew by {} MiB",
        growth >> 10
    );
    assert!(close_frame, "the dashboard sent no Close frame");
    assert!(ended_after.is_some(), "the connection stayed open");
    dashboard.stop().await;
}
