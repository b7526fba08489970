//! What an `{"channel":"error","data":"…"}` text means for the connection.
//!
//! Hyperliquid's errors are plain sentences without a code. The ones on
//! record (nktkas/hyperliquid issue #78, ccxt, gemwallet issue #462) are
//! matched by their opening words; anything else is an error that
//! reconnecting does not cure.

use mercury_core::{ExchangeError, MAX_RETRY_AFTER};
use std::time::Duration;
use tracing::debug;

/// More than 2000 messages a minute from one IP.
pub(crate) const TOO_MANY_MESSAGES: &str = "Cannot send more than";
/// More than 1000 subscriptions on one IP.
const TOO_MANY_SUBSCRIPTIONS: &str = "Cannot subscribe to more than";
/// More than 100 post requests in flight.
const TOO_MANY_POSTS: &str = "too many pending post requests";
/// A subscription sent twice on one connection: harmless.
pub(crate) const ALREADY_SUBSCRIBED: &str = "Already subscribed";
/// The simulator's wait, appended to its rate-limit text (the real
/// exchange gives none; see `PROTOCOL-notes.md`).
pub(crate) const RETRY_IN: &str = "retry in ";

/// What an error text asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ErrorText {
    /// A harmless notice.
    Notice,
    /// An error, retryable or not.
    Error(ExchangeError),
}

/// Classifies the text of an `error` frame.
pub(crate) fn classify(text: &str) -> ErrorText {
    if text.starts_with(ALREADY_SUBSCRIBED) {
        return ErrorText::Notice;
    }
    // Limits per IP pass: the minute ends, subscriptions of a dropped
    // connection are released, posts complete.
    let limited = [TOO_MANY_MESSAGES, TOO_MANY_SUBSCRIPTIONS, TOO_MANY_POSTS]
        .iter()
        .any(|opening| text.starts_with(opening));
    ErrorText::Error(ExchangeError {
        status: limited.then_some(429),
        message: text.to_owned(),
        retryable: limited,
        retry_after: if limited { retry_in(text) } else { None },
        request: None,
    })
}

/// The wait in `… retry in N s`, clamped to [`MAX_RETRY_AFTER`].
fn retry_in(text: &str) -> Option<Duration> {
    let (_, rest) = text.split_once(RETRY_IN)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let seconds: u64 = digits.parse().ok()?;
    let wait = Duration::from_secs(seconds);
    if wait > MAX_RETRY_AFTER {
        debug!(?wait, max = ?MAX_RETRY_AFTER, "a wait clamped to the longest we honour");
    }
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ExchangeError {
        match classify(text) {
            ErrorText::Error(error) => error,
            ErrorText::Notice => panic!("a notice: {text}"),
        }
    }

    #[test]
    fn limits_are_retryable_and_the_rest_is_not() {
        let limit = error("Cannot send more than 2000 messages per minute.");
        assert!(limit.retryable);
        assert_eq!((limit.status, limit.retry_after), (Some(429), None));
        assert!(error("Cannot subscribe to more than 1000 channels.").retryable);
        assert!(!error("Cannot track more than 10 total users.").retryable);
        assert!(!error("Error parsing JSON into valid websocket request: {}").retryable);
        assert_eq!(
            classify(r#"Already subscribed: {"type":"activeAssetCtx","coin":"UNI"}"#),
            ErrorText::Notice
        );
    }

    #[test]
    fn a_wait_is_read_and_clamped() {
        let text =
            "Cannot send more than 2000 messages per minute. (mercury simulator: retry in 7 s)";
        assert_eq!(error(text).retry_after, Some(Duration::from_secs(7)));
        let text = "Cannot send more than 2000 messages per minute. retry in 99999999999 s";
        assert_eq!(error(text).retry_after, Some(MAX_RETRY_AFTER));
        let text = "Cannot send more than 2000 messages per minute. retry in 1e400 s";
        assert_eq!(error(text).retry_after, Some(Duration::from_secs(1)));
        assert_eq!(
            error("Cannot send more than 2000. retry in x").retry_after,
            None
        );
    }
}
