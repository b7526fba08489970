//! Dropping a WebSocket's TCP connection on purpose, optionally after raw
//! bytes no WebSocket session would write (a malformed frame).
//!
//! actix-ws gives no way to cut a connection without a Close frame: when the
//! session is dropped the response body just ends, and the HTTP dispatcher
//! may keep the socket open. A response body that fails makes the
//! dispatcher drop the socket at once, so the upgraded response's body is
//! wrapped in one that fails on demand. The same body is the one place
//! where bytes can reach the wire unencoded, so the trigger may carry some.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// What a fired trigger sends: raw bytes to write first (empty: none).
pub(crate) type LastBytes = Bytes;

/// The response body of a WebSocket that ends with an error (and so cuts
/// the TCP connection) once its trigger fires, after writing the bytes the
/// trigger carried.
pub(crate) struct AbortableBody {
    inner: BoxBody,
    trigger: Option<oneshot::Receiver<LastBytes>>,
    /// Fired: the raw bytes still to write, then the cut.
    cutting: Option<LastBytes>,
}

impl AbortableBody {
    /// Wraps `inner`; sending on the returned sender writes what it carries
    /// and then cuts the connection.
    pub(crate) fn new(inner: BoxBody) -> (AbortableBody, oneshot::Sender<LastBytes>) {
        let (tx, rx) = oneshot::channel();
        let body = AbortableBody {
            inner,
            trigger: Some(rx),
            cutting: None,
        };
        (body, tx)
    }
}

impl AbortableBody {
    /// Whether the trigger has fired (polling it registers the waker).
    fn fired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.cutting.is_some() {
            return true;
        }
        let Some(trigger) = self.trigger.as_mut() else {
            return false;
        };
        match Pin::new(trigger).poll(cx) {
            Poll::Ready(Ok(last)) => {
                self.trigger = None;
                self.cutting = Some(last);
                true
            }
            // The connection ended without a drop: nothing to watch.
            Poll::Ready(Err(_)) => {
                self.trigger = None;
                false
            }
            Poll::Pending => false,
        }
    }
}

impl MessageBody for AbortableBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        // What was sent before the drop goes out first; after it (or when
        // the session has ended meanwhile) a fired trigger cuts the socket.
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(item)) = next {
            return Poll::Ready(Some(item));
        }
        if this.fired(cx) {
            if let Some(last) = this.cutting.as_mut().filter(|last| !last.is_empty()) {
                return Poll::Ready(Some(Ok(std::mem::take(last))));
            }
            return Poll::Ready(Some(Err("connection dropped by the simulator".into())));
        }
        next
    }
}
