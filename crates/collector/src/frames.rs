//! Reassembly of fragmented WebSocket messages (continuation frames).
//!
//! awc hands over the pieces of a fragmented message as they come; the
//! connector must join them, within the same size limit as whole frames.

use crate::error::ConnectorError;
use actix_http::ws::Item;
use bytes::{Bytes, BytesMut};

/// A complete message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assembled {
    /// A text message (UTF-8 not yet checked).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

/// Joins continuation frames into whole messages.
#[derive(Debug)]
pub(crate) struct Reassembler {
    pending: Option<(bool, BytesMut)>,
    max_len: usize,
}

impl Reassembler {
    /// A reassembler that refuses messages over `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Reassembler {
            pending: None,
            max_len,
        }
    }

    /// Adds one piece; returns the message when it is complete.
    pub fn push(&mut self, item: Item) -> Result<Option<Assembled>, ConnectorError> {
        let protocol = |what: &str| Err(ConnectorError::Protocol(what.to_string()));
        let (is_text, piece, last) = match item {
            Item::FirstText(piece) | Item::FirstBinary(piece) if self.pending.is_some() => {
                let _ = piece;
                return protocol("a new fragmented message began before the last one ended");
            }
            Item::FirstText(piece) => (true, piece, false),
            Item::FirstBinary(piece) => (false, piece, false),
            Item::Continue(piece) | Item::Last(piece) if self.pending.is_none() => {
                let _ = piece;
                return protocol("a continuation frame arrived without a first frame");
            }
            Item::Continue(piece) => (false, piece, false),
            Item::Last(piece) => (false, piece, true),
        };
        let (text, buffer) = self
            .pending
            .get_or_insert_with(|| (is_text, BytesMut::new()));
        if buffer.len() + piece.len() > self.max_len {
            self.pending = None;
            return Err(ConnectorError::Protocol(format!(
                "a fragmented message exceeds the limit of {} bytes",
                self.max_len
            )));
        }
        buffer.extend_from_slice(&piece);
        if !last {
            return Ok(None);
        }
        let text = *text;
        let whole = self
            .pending
            .take()
            .map(|(_, b)| b.freeze())
            .unwrap_or_default();
        Ok(Some(if text {
            Assembled::Text(whole)
        } else {
            Assembled::Binary(whole)
        }))
    }

    /// Forgets a half-received message (on a new connection).
    pub fn clear(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn joins_pieces_in_order() {
        let mut r = Reassembler::new(100);
        assert_eq!(r.push(Item::FirstText(b("{\"a\""))).unwrap(), None);
        assert_eq!(r.push(Item::Continue(b(":1"))).unwrap(), None);
        assert_eq!(
            r.push(Item::Last(b("}"))).unwrap(),
            Some(Assembled::Text(b("{\"a\":1}")))
        );
        assert_eq!(r.push(Item::FirstBinary(b("x"))).unwrap(), None);
        assert_eq!(
            r.push(Item::Last(b("y"))).unwrap(),
            Some(Assembled::Binary(b("xy")))
        );
    }

    #[test]
    fn refuses_out_of_order_and_oversized_pieces() {
        let mut r = Reassembler::new(4);
        assert!(r.push(Item::Continue(b("x"))).is_err());
        assert!(r.push(Item::Last(b("x"))).is_err());
        r.push(Item::FirstText(b("ab"))).unwrap();
        assert!(r.push(Item::FirstText(b("c"))).is_err());
        let mut r = Reassembler::new(4);
        r.push(Item::FirstText(b("abc"))).unwrap();
        assert!(r.push(Item::Last(b("de"))).is_err());
        // After an error the next message starts clean.
        assert_eq!(r.push(Item::FirstText(b("a"))).unwrap(), None);
        r.clear();
        assert!(r.push(Item::Last(b("a"))).is_err());
    }
}
