//! The one error enum of `mercury-core`, shared by every exchange.
//!
//! Exchange crates report decode failures with [`DecodeError`] so that the
//! collector can count and skip them uniformly: a frame that cannot be decoded
//! is never fatal to a healthy stream.

use thiserror::Error as ThisError;

/// Why a single frame could not be decoded. Never fatal to the connection:
/// the caller logs the error, counts it and goes on with the next frame.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame was empty (zero bytes or only white space).
    #[error("empty frame")]
    Empty,
    /// The frame was larger than the source accepts.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size of the frame in bytes.
        len: usize,
        /// The configured limit in bytes.
        max: usize,
    },
    /// A binary frame arrived where the protocol only uses text.
    #[error("unexpected binary frame of {len} bytes")]
    UnexpectedBinary {
        /// Size of the frame in bytes.
        len: usize,
    },
    /// The frame is not valid JSON, or a field has the wrong type.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// Valid JSON, but not a message this protocol defines.
    #[error("unrecognized message: {0}")]
    UnknownShape(String),
    /// A price field held text that is not a decimal number.
    #[error("invalid price {0:?}")]
    InvalidPrice(String),
    /// A timestamp field held text that is not an ISO-8601 UTC time.
    #[error("invalid timestamp {0:?}")]
    InvalidTimestamp(String),
}

impl DecodeError {
    /// A malformed frame: `error` (e.g. serde's) quoted through
    /// [`excerpt`](crate::excerpt), the same for every exchange.
    pub fn malformed(error: impl std::fmt::Display) -> DecodeError {
        DecodeError::Malformed(crate::excerpt(&error.to_string()))
    }
}

/// Errors of `mercury-core` and of the exchange crates built on it.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// One frame could not be decoded (see [`DecodeError`]); skip it.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A subscription the exchange cannot serve (unknown kind, bad symbol).
    #[error("invalid subscription: {0}")]
    InvalidSubscription(String),
    /// A target, exchange or URL a user asked for that cannot be planned
    /// (unknown exchange, malformed target); the text says what to do.
    #[error("{0}")]
    Target(String),
    /// A value that failed to parse (price, kind, timestamp, identifier).
    #[error("cannot parse {what} from {input:?}")]
    Parse {
        /// What was being parsed, e.g. "price".
        what: &'static str,
        /// The offending input.
        input: String,
    },
}

impl Error {
    /// Whether retrying the same operation later can succeed. Decode errors
    /// concern one frame only, so the stream may go on; invalid subscriptions
    /// and parse errors are mistakes in the request and never retryable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Decode(_))
    }
}
