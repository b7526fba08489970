//! The link by tables of events: each row is (milliseconds since the
//! start, what happened, exactly what the link must do). Every path of
//! ARCHITECTURE.md's "how a connector survives the network" has a table.
#![allow(clippy::unwrap_used, clippy::panic)] // test code may fail loudly

mod random;

use super::*;
use crate::backoff::Schedule;
use std::time::Instant;

const URL: &str = "wss://example.test/realtime";
const CHECK_EVERY: Duration = Duration::from_millis(1250);
const FIRST_DATA: Duration = Duration::from_secs(30);
const GRACE: Duration = Duration::from_secs(1);

fn backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(2),
        max_attempts: Some(3),
        healthy_after: Duration::from_secs(10),
        seed: Some(1),
    }
}

fn config() -> LinkConfig {
    LinkConfig {
        url: URL.into(),
        heartbeat: HeartbeatPolicy {
            idle: Duration::from_secs(5),
            ping: Outgoing::Text("ping".into()),
            pong_deadline: Duration::from_secs(5),
        },
        keepalive: None,
        first_data: FIRST_DATA,
        max_age: None,
        close_grace: GRACE,
        backoff: backoff(),
    }
}

/// The delays the seeded schedule draws, in order.
fn delays(floors: &[Option<Duration>]) -> Vec<Duration> {
    let mut schedule = Schedule::new(backoff());
    floors
        .iter()
        .map(|floor| schedule.next_delay(*floor).unwrap())
        .collect()
}

/// Plays `rows` on a fresh link (or `link`), asserting each row's actions.
fn play(link: &mut Link, t0: Instant, rows: Vec<(u64, Input, Vec<Action>)>) {
    for (i, (ms, input, expected)) in rows.into_iter().enumerate() {
        let mut out = Vec::new();
        let shown = format!("{input:?}");
        link.handle(t0 + Duration::from_millis(ms), input, &mut out);
        assert_eq!(out, expected, "row {i}: at {ms} ms, {shown}");
    }
}

fn check(rows: Vec<(u64, Input, Vec<Action>)>) -> Link {
    let mut link = Link::new(config());
    play(&mut link, Instant::now(), rows);
    link
}

fn connecting(g: Generation) -> Vec<Action> {
    vec![
        Action::Report(ConnectionState::Connecting { url: URL.into() }),
        Action::Connect(g),
    ]
}

fn upgraded(g: Generation) -> Vec<Action> {
    vec![
        Action::Attach(g),
        Action::Subscribe,
        Action::Report(ConnectionState::Subscribing),
        Action::Arm(g, Timer::Heartbeat, CHECK_EVERY),
        Action::Arm(g, Timer::FirstData, FIRST_DATA),
    ]
}

fn quotes(g: Generation, n: usize) -> Input {
    Input::Message {
        generation: g,
        decoded: n as u64,
        forwarded: n,
        undecodable: false,
    }
}

fn garbage(g: Generation) -> Input {
    Input::Message {
        generation: g,
        decoded: 0,
        forwarded: 0,
        undecodable: true,
    }
}

fn streaming() -> Vec<Action> {
    vec![
        Action::Report(ConnectionState::Streaming),
        Action::Forward { gap: None },
    ]
}

fn forward(gap: Option<u64>) -> Vec<Action> {
    vec![Action::Forward {
        gap: gap.map(Duration::from_millis),
    }]
}

fn reconnecting(
    g: Generation,
    attempt: u32,
    delay: Duration,
    error: ConnectorError,
) -> Vec<Action> {
    vec![
        Action::Teardown,
        Action::Report(ConnectionState::Reconnecting {
            attempt,
            delay,
            error,
        }),
        Action::Arm(g, Timer::Retry, delay),
    ]
}

fn failed(error: ConnectorError) -> Vec<Action> {
    vec![
        Action::Teardown,
        Action::Report(ConnectionState::Failed(error)),
        Action::Exit,
    ]
}

fn stopped(torn_down: bool) -> Vec<Action> {
    let mut actions = if torn_down {
        vec![Action::Teardown]
    } else {
        vec![]
    };
    actions.extend([Action::Report(ConnectionState::Stopped), Action::Exit]);
    actions
}

fn normal_close() -> Action {
    Action::Close {
        code: Some(NORMAL_CLOSE),
        reason: None,
    }
}

fn rate_limited(retryable: bool, retry_after: Option<u64>) -> ExchangeError {
    ExchangeError {
        status: Some(if retryable { 429 } else { 400 }),
        message: "slow down".into(),
        retryable,
        retry_after: retry_after.map(Duration::from_secs),
        request: None,
    }
}

fn tls_error() -> ConnectorError {
    ConnectorError::Tls {
        url: URL.into(),
        detail: "unknown issuer".into(),
    }
}

fn refused() -> ConnectorError {
    ConnectorError::Connect {
        url: URL.into(),
        detail: "Connection refused (os error 111)".into(),
    }
}

/// The opening rows every scenario shares: connect, upgrade, first quote.
fn open(rows: Vec<(u64, Input, Vec<Action>)>) -> Vec<(u64, Input, Vec<Action>)> {
    let mut all = vec![
        (0, Input::Start, connecting(1)),
        (10, Input::Upgraded(1), upgraded(1)),
        (20, quotes(1, 1), streaming()),
    ];
    all.extend(rows);
    all
}

#[test]
fn it_connects_subscribes_and_forwards() {
    check(open(vec![
        (30, quotes(1, 2), forward(None)),
        (40, garbage(1), vec![]),
        (
            50,
            Input::Message {
                generation: 1,
                decoded: 3,
                forwarded: 0,
                undecodable: false,
            },
            vec![],
        ),
        (60, Input::Alive(1), vec![]),
    ]));
}

#[test]
fn eof_reconnects_after_the_backoff_and_marks_the_gap() {
    let d = delays(&[None]);
    let link = check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Disconnected),
        ),
        (150, Input::Timer(1, Timer::Retry), connecting(2)),
        (160, Input::Upgraded(2), upgraded(2)),
        (
            400,
            quotes(2, 1),
            vec![
                Action::Report(ConnectionState::Streaming),
                Action::Forward {
                    gap: Some(Duration::from_millis(300)),
                },
            ],
        ),
        (410, quotes(2, 1), forward(None)),
    ]));
    assert_eq!(link.generation(), 2);
}

/// Regression (issue #12, item 3): a stream that yields the same error on
/// every poll failed the link once per poll: ten "attempts" in a
/// millisecond, and as many connects scheduled at once.
#[test]
fn a_stream_that_keeps_failing_fails_the_link_once() {
    let d = delays(&[None]);
    let error = ConnectorError::Protocol("masked frame from the server".into());
    let mut rows = open(vec![(
        100,
        Input::StreamFailed(1, error.clone()),
        reconnecting(1, 1, d[0], error.clone()),
    )]);
    for _ in 0..10 {
        rows.push((100, Input::StreamFailed(1, error.clone()), vec![]));
        rows.push((100, Input::StreamEnded(1), vec![]));
    }
    rows.push((130, Input::Timer(1, Timer::Retry), connecting(2)));
    rows.push((130, Input::Timer(1, Timer::Retry), vec![]));
    let link = check(rows);
    assert_eq!(link.attempts(), 1);
}

#[test]
fn events_of_an_older_generation_do_not_count() {
    let d = delays(&[None]);
    let error = ConnectorError::Protocol("RSV1 set".into());
    check(open(vec![
        (
            100,
            Input::StreamFailed(1, error.clone()),
            reconnecting(1, 1, d[0], error),
        ),
        (150, Input::Timer(1, Timer::Retry), connecting(2)),
        // Late results of attempt 1 while attempt 2 is connecting…
        (151, Input::Upgraded(1), vec![]),
        (152, Input::UpgradeFailed(1, refused()), vec![]),
        (160, Input::Upgraded(2), upgraded(2)),
        // …and while it is open.
        (170, quotes(1, 5), vec![]),
        (171, Input::StreamEnded(1), vec![]),
        (
            172,
            Input::ServerError(1, rate_limited(false, None)),
            vec![],
        ),
        (173, Input::Timer(1, Timer::Heartbeat), vec![]),
        (174, Input::Timer(1, Timer::FirstData), vec![]),
        (
            175,
            Input::ServerClose {
                generation: 1,
                code: Some(1011),
                reason: None,
            },
            vec![],
        ),
        (
            200,
            quotes(2, 1),
            vec![
                Action::Report(ConnectionState::Streaming),
                Action::Forward {
                    gap: Some(Duration::from_millis(100)),
                },
            ],
        ),
    ]));
}

#[test]
fn a_server_close_is_echoed_and_is_the_cause() {
    let d = delays(&[None, None]);
    let closed = ConnectorError::Closed {
        code: Some(1011),
        reason: Some("bye".into()),
    };
    let mut close_rows = vec![
        (
            100,
            Input::ServerClose {
                generation: 1,
                code: Some(1011),
                reason: Some("bye".into()),
            },
            vec![
                Action::Close {
                    code: Some(1011),
                    reason: Some("bye".into()),
                },
                Action::Arm(1, Timer::CloseGrace, GRACE),
            ],
        ),
        // A closing link is not judged by its heartbeat.
        (6000, Input::Timer(1, Timer::Heartbeat), vec![]),
    ];
    // Either the peer ends the stream…
    let mut eof = close_rows.clone();
    eof.push((
        6010,
        Input::StreamEnded(1),
        reconnecting(1, 1, d[0], closed.clone()),
    ));
    check(open(eof));
    // …or the grace period ends it.
    close_rows.push((
        6010,
        Input::Timer(1, Timer::CloseGrace),
        reconnecting(1, 1, d[0], closed),
    ));
    check(open(close_rows));
}

#[test]
fn the_servers_retryable_error_is_the_cause_and_sets_the_wait() {
    let wait = Some(Duration::from_secs(5));
    let d = delays(&[wait]);
    let error = rate_limited(true, Some(5));
    check(open(vec![
        (100, Input::ServerError(1, error.clone()), vec![]),
        (
            110,
            Input::ServerClose {
                generation: 1,
                code: Some(1008),
                reason: None,
            },
            vec![
                Action::Close {
                    code: Some(1008),
                    reason: None,
                },
                Action::Arm(1, Timer::CloseGrace, GRACE),
            ],
        ),
        (
            120,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Exchange(error)),
        ),
    ]));
    assert_eq!(d[0], Duration::from_secs(5));
}

/// Regression (issue #12, item 4): an old error frame became the cause —
/// and set the wait — of an unrelated later failure.
#[test]
fn an_error_followed_by_good_data_is_not_the_cause() {
    let d = delays(&[None]);
    check(open(vec![
        (
            100,
            Input::ServerError(1, rate_limited(true, Some(60))),
            vec![],
        ),
        (110, quotes(1, 1), forward(None)),
        (
            9000,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Disconnected),
        ),
    ]));
    assert!(d[0] < Duration::from_secs(60));
}

#[test]
fn a_fatal_exchange_error_ends_the_link_without_retry() {
    let fatal = rate_limited(false, None);
    check(open(vec![
        (
            100,
            Input::ServerError(1, rate_limited(true, Some(1))),
            vec![],
        ),
        (
            100,
            Input::ServerError(1, fatal.clone()),
            failed(ConnectorError::Exchange(fatal)),
        ),
        (200, Input::StreamEnded(1), vec![]),
        (300, Input::Stop, vec![]),
    ]));
}

#[test]
fn a_quiet_link_is_pinged_and_a_dead_one_replaced() {
    let d = delays(&[None]);
    let ping = || Action::Send(Outgoing::Text("ping".into()));
    let rearm = || Action::Arm(1, Timer::Heartbeat, CHECK_EVERY);
    check(open(vec![
        (1260, Input::Timer(1, Timer::Heartbeat), vec![rearm()]),
        (
            5020,
            Input::Timer(1, Timer::Heartbeat),
            vec![ping(), rearm()],
        ),
        (6000, Input::Alive(1), vec![]), // the pong
        (
            11000,
            Input::Timer(1, Timer::Heartbeat),
            vec![ping(), rearm()],
        ),
        (15000, Input::Timer(1, Timer::Heartbeat), vec![rearm()]),
        (
            16000,
            Input::Timer(1, Timer::Heartbeat),
            reconnecting(
                1,
                1,
                d[0],
                ConnectorError::HeartbeatTimeout {
                    silent_for: Duration::from_secs(10),
                },
            ),
        ),
    ]));
}

#[test]
fn no_quote_in_time_is_a_failure_counting_what_came() {
    let d = delays(&[None]);
    check(vec![
        (0, Input::Start, connecting(1)),
        (10, Input::Upgraded(1), upgraded(1)),
        (20, garbage(1), vec![]),
        (
            30,
            Input::Message {
                generation: 1,
                decoded: 0,
                forwarded: 0,
                undecodable: false,
            },
            vec![],
        ),
        (
            30_010,
            Input::Timer(1, Timer::FirstData),
            reconnecting(
                1,
                1,
                d[0],
                ConnectorError::NoData {
                    after: FIRST_DATA,
                    frames: 2,
                    skipped: 1,
                },
            ),
        ),
    ]);
    // Quotes that came in time disarm it.
    check(open(vec![(
        30_010,
        Input::Timer(1, Timer::FirstData),
        vec![],
    )]));
}

#[test]
fn an_old_connection_is_renewed_without_a_failure() {
    let mut link = Link::new(LinkConfig {
        max_age: Some(Duration::from_secs(100)),
        ..config()
    });
    let mut opened = upgraded(1);
    opened.push(Action::Arm(1, Timer::Renew, Duration::from_secs(99)));
    let mut renewed = vec![normal_close(), Action::Teardown];
    renewed.extend(connecting(2));
    play(
        &mut link,
        Instant::now(),
        vec![
            (0, Input::Start, connecting(1)),
            (10, Input::Upgraded(1), opened),
            (20, quotes(1, 1), streaming()),
            (99_010, Input::Timer(1, Timer::Renew), renewed),
        ],
    );
    assert_eq!(link.attempts(), 0, "a renewal is no failure");
}

#[test]
fn stop_acts_at_once_in_every_state() {
    // Before the first connection, and during a pending upgrade.
    check(vec![
        (0, Input::Stop, stopped(false)),
        (1, Input::Start, vec![]),
    ]);
    check(vec![
        (0, Input::Start, connecting(1)),
        (5, Input::Stop, stopped(true)),
        (6, Input::Upgraded(1), vec![]),
    ]);
    // Open: a Close goes out; the echo, EOF, or the grace period end it.
    let stopping = vec![normal_close(), Action::Arm(1, Timer::CloseGrace, GRACE)];
    for end in [
        Input::ServerClose {
            generation: 1,
            code: Some(NORMAL_CLOSE),
            reason: None,
        },
        Input::StreamEnded(1),
        Input::StreamFailed(1, ConnectorError::Disconnected),
        Input::Timer(1, Timer::CloseGrace),
    ] {
        check(open(vec![
            (100, Input::Stop, stopping.clone()),
            (150, quotes(1, 1), vec![]),
            (200, end, stopped(true)),
            (300, Input::Stop, vec![]),
        ]));
    }
    // Closing by the server, and waiting for a retry.
    let close = Input::ServerClose {
        generation: 1,
        code: Some(1001),
        reason: None,
    };
    let echo = vec![
        Action::Close {
            code: Some(1001),
            reason: None,
        },
        Action::Arm(1, Timer::CloseGrace, GRACE),
    ];
    check(open(vec![
        (100, close, echo),
        (110, Input::Stop, stopped(true)),
    ]));
    let d = delays(&[None]);
    check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Disconnected),
        ),
        (110, Input::Stop, stopped(false)),
        (120, Input::Timer(1, Timer::Retry), vec![]),
    ]));
}

#[test]
fn it_gives_up_when_the_attempts_are_used() {
    let d = delays(&[None, None, None]);
    let dropped = || ConnectorError::Disconnected;
    let link = check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], dropped()),
        ),
        (1000, Input::Timer(1, Timer::Retry), connecting(2)),
        (
            1010,
            Input::UpgradeFailed(2, refused()),
            reconnecting(2, 2, d[1], refused()),
        ),
        (3000, Input::Timer(2, Timer::Retry), connecting(3)),
        (3010, Input::Upgraded(3), upgraded(3)),
        (
            3020,
            Input::StreamEnded(3),
            reconnecting(3, 3, d[2], dropped()),
        ),
        (6000, Input::Timer(3, Timer::Retry), connecting(4)),
        (
            6010,
            Input::UpgradeFailed(4, refused()),
            failed(ConnectorError::GaveUp {
                attempts: 3,
                last: Box::new(refused()),
            }),
        ),
    ]));
    assert!(link.is_done());
}

#[test]
fn what_cannot_succeed_is_not_retried() {
    // An unreachable host on the very first attempt: most likely a wrong URL.
    check(vec![
        (0, Input::Start, connecting(1)),
        (5, Input::UpgradeFailed(1, refused()), failed(refused())),
    ]);
    // A certificate problem is not retried, even after a working link.
    let d = delays(&[None]);
    check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Disconnected),
        ),
        (1000, Input::Timer(1, Timer::Retry), connecting(2)),
        (
            1010,
            Input::UpgradeFailed(2, tls_error()),
            failed(tls_error()),
        ),
    ]));
    // Once a link has worked, an unreachable host is retried.
    let d = delays(&[None, None]);
    check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, d[0], ConnectorError::Disconnected),
        ),
        (1000, Input::Timer(1, Timer::Retry), connecting(2)),
        (
            1010,
            Input::UpgradeFailed(2, refused()),
            reconnecting(2, 2, d[1], refused()),
        ),
    ]));
}

#[test]
fn a_healthy_connection_forgets_earlier_failures() {
    let mut schedule = Schedule::new(backoff());
    let first = schedule.next_delay(None).unwrap();
    schedule.connection_lasted(Duration::from_secs(10));
    let after_healthy = schedule.next_delay(None).unwrap();
    let link = check(open(vec![
        (
            100,
            Input::StreamEnded(1),
            reconnecting(1, 1, first, ConnectorError::Disconnected),
        ),
        (1000, Input::Timer(1, Timer::Retry), connecting(2)),
        (1010, Input::Upgraded(2), upgraded(2)),
        // Up for 10 s: healthy. The next failure is attempt 1 again, with
        // the schedule's second draw.
        (
            11_010,
            Input::StreamEnded(2),
            reconnecting(2, 1, after_healthy, ConnectorError::Disconnected),
        ),
    ]));
    assert_eq!(link.attempts(), 1);
}
