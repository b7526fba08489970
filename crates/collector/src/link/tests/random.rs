//! The link under random sequences of inputs, stale and duplicated ones
//! included: the invariants hold whatever happens.

use super::{backoff, config, quotes, rate_limited};
use crate::backoff::Backoff;
use crate::error::ConnectorError;
use crate::link::{Action, Generation, Input, Link, LinkConfig, Timer};
use mercury_core::SplitMix64;
use std::time::{Duration, Instant};

/// Random inputs, including stale and duplicated ones: never two live
/// connections, never a second Connect without a Teardown between, never
/// anything after Exit.
#[test]
fn at_most_one_live_connection_under_any_sequence() {
    let mut rng = SplitMix64::new(12);
    let mut total_connects = 0;
    for _ in 0..2000 {
        let mut link = Link::new(LinkConfig {
            max_age: Some(Duration::from_secs(50)),
            backoff: Backoff {
                max_attempts: None,
                ..backoff()
            },
            ..config()
        });
        let t0 = Instant::now();
        let (mut live, mut exited) = (false, false);
        let mut out = Vec::new();
        for step in 0..200u64 {
            let g = rng.next_u64() % (link.generation() + 2);
            let input = match step {
                0 => Input::Start,
                _ => random_input(&mut rng, g),
            };
            link.handle(t0 + Duration::from_millis(step * 300), input, &mut out);
            for action in out.drain(..) {
                assert!(!exited, "{action:?} after Exit");
                match action {
                    Action::Connect(_) => {
                        assert!(!live, "a second live connection");
                        live = true;
                        total_connects += 1;
                    }
                    Action::Teardown => live = false,
                    Action::Exit => exited = true,
                    _ => {}
                }
            }
        }
    }
    assert!(
        total_connects > 2_000,
        "{total_connects}: the sequences reconnect"
    );
}

fn random_input(rng: &mut SplitMix64, g: Generation) -> Input {
    let timer = Timer::ALL[(rng.next_u64() % 5) as usize];
    match rng.next_u64() % 12 {
        0 => Input::Start,
        1 | 2 => Input::Upgraded(g),
        3 => Input::UpgradeFailed(g, ConnectorError::Disconnected),
        4 => quotes(g, 1),
        5 => Input::ServerError(g, rate_limited(!rng.next_u64().is_multiple_of(4), Some(1))),
        6 => Input::ServerClose {
            generation: g,
            code: Some(1000),
            reason: None,
        },
        7 => Input::StreamFailed(g, ConnectorError::Protocol("bad".into())),
        8 => Input::StreamEnded(g),
        9 if rng.next_u64().is_multiple_of(20) => Input::Stop,
        _ => Input::Timer(g, timer),
    }
}
