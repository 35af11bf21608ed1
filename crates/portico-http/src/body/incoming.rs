//! A request body as it arrives off the wire: its reads timed against a stalled client, and
//! what a handler leaves unread handed back to its HTTP/1 connection, which drains it or says
//! `Connection: close`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::{BodyTimedOut, BoxError};
use crate::timer::LazyTimer;

/// A request body off the wire.
pub(super) struct IncomingBody {
    /// `None` only once dropped (handed to the connection).
    body: Option<hyper::body::Incoming>,
    clock: Option<ReadClock>,
    /// An HTTP/1 connection's slot for a body left unread.
    unread: Option<Arc<dyn HoldsUnread>>,
    /// Whether the body reported its end.
    ended: bool,
}

impl IncomingBody {
    pub(super) fn new(
        body: hyper::body::Incoming,
        clock: Option<ReadClock>,
        unread: Option<Arc<dyn HoldsUnread>>,
    ) -> Self {
        IncomingBody {
            body: Some(body),
            clock,
            unread,
            ended: false,
        }
    }

    pub(super) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(body) = &mut self.body else {
            return Poll::Ready(None);
        };
        match Pin::new(body).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(clock) = &mut self.clock {
                    clock.progress();
                }
                self.ended |= frame.is_none();
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => match &mut self.clock {
                Some(clock) => clock.poll_stalled(cx),
                None => Poll::Pending,
            },
        }
    }

    pub(super) fn is_end_stream(&self) -> bool {
        self.ended || self.body.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    pub(super) fn size_hint(&self) -> SizeHint {
        match &self.body {
            Some(body) => body.size_hint(),
            None => SizeHint::with_exact(0),
        }
    }
}

impl Drop for IncomingBody {
    fn drop(&mut self) {
        if let Some(conn) = self.unread.take()
            && let Some(body) = self.body.take()
            && !self.ended
            && !body.is_end_stream()
        {
            conn.unread().keep(body);
        }
    }
}

/// An HTTP/1 connection, which takes back the request body its handler did not read.
pub(crate) trait HoldsUnread: Send + Sync {
    fn unread(&self) -> &Unread;
}

/// The slot where a request body dropped before its end waits for its connection: hyper can
/// keep the connection only if the rest of the body is read, and the response must say
/// `Connection: close` when it will not be.
#[derive(Default)]
pub(crate) struct Unread(Mutex<Option<hyper::body::Incoming>>);

/// The most of an unread request body a connection reads and throws away to stay open.
const DRAIN_LIMIT: usize = 64 * 1024;

impl Unread {
    fn keep(&self, body: hyper::body::Incoming) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
    }

    /// The body the handler of the request just answered left unread, if it did.
    pub(crate) fn take(&self) -> Option<Drain> {
        let body = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        Some(Drain {
            body,
            read: 0,
            yielded: false,
        })
    }
}

/// Reads and throws away the rest of a request body its handler left unread, so that the
/// connection may stay open: what has arrived already, up to 64 KiB; the client is not waited
/// for (hyper's own drain, done before the response head rather than after it, so that the
/// head can tell the truth).
pub(crate) struct Drain {
    body: hyper::body::Incoming,
    read: usize,
    /// Whether the last poll found nothing and woke its task: hyper's connection then read
    /// once (a connection's task reads before it writes) before this is polled again.
    yielded: bool,
}

impl Drain {
    /// Whether the connection may stay open after the response. `expects_continue`: the
    /// client waits for `100 Continue` before it sends the body, so there is none to read.
    pub(crate) fn poll_kept(&mut self, cx: &mut Context<'_>, expects_continue: bool) -> Poll<bool> {
        if expects_continue {
            return Poll::Ready(false);
        }
        loop {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(true),
                Poll::Ready(Some(Ok(frame))) => {
                    self.read += frame.data_ref().map_or(0, Bytes::len);
                    if self.read > DRAIN_LIMIT {
                        return Poll::Ready(false);
                    }
                    self.yielded = false;
                }
                Poll::Ready(Some(Err(_))) => return Poll::Ready(false),
                Poll::Pending if self.yielded => return Poll::Ready(false),
                Poll::Pending => {
                    // Asked for more: the connection reads what it has, then polls again.
                    self.yielded = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
    }
}

/// Times the gaps between reads of a request body: once the body has waited for more than
/// the limit for the client, it fails with [`BodyTimedOut`]. No time counts while nobody reads
/// the body (the client is then held back by the transport's flow control, not stalling).
///
/// Small (two pointers), so that every request body stays small: the state of a wait is
/// allocated only for a body that has had to wait.
pub(crate) struct ReadClock {
    timeout: Arc<BodyTimeout>,
    waiting: Option<Box<Waiting>>,
}

/// A server's body timeout, shared by its request bodies.
pub(crate) struct BodyTimeout {
    limit: Duration,
    rt: portico_rt::Runtime,
}

impl BodyTimeout {
    pub(crate) fn new(limit: Duration, rt: portico_rt::Runtime) -> Self {
        BodyTimeout { limit, rt }
    }
}

/// A body's wait for its client.
struct Waiting {
    /// Set while the body waits; `None` once something arrived.
    since: Option<Instant>,
    timer: LazyTimer,
    expired: bool,
}

impl ReadClock {
    pub(crate) fn new(timeout: Arc<BodyTimeout>) -> Self {
        ReadClock {
            timeout,
            waiting: None,
        }
    }

    /// Something arrived (or the body ended): the next wait starts from zero.
    fn progress(&mut self) {
        if let Some(waiting) = &mut self.waiting {
            waiting.since = None;
        }
    }

    /// Nothing to read: fails once the wait has lasted `limit`.
    fn poll_stalled(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let limit = self.timeout.limit;
        let waiting = self.waiting.get_or_insert_with(|| {
            Box::new(Waiting {
                since: None,
                timer: LazyTimer::new(),
                expired: false,
            })
        });
        if waiting.expired {
            return Poll::Ready(None);
        }
        let deadline = *waiting.since.get_or_insert_with(Instant::now) + limit;
        loop {
            let now = Instant::now();
            if now >= deadline {
                waiting.expired = true;
                tracing::debug!("a request body stalled for {limit:?}");
                let err = BodyTimedOut { after: limit };
                return Poll::Ready(Some(Err(Box::new(err))));
            }
            let rt = &self.timeout.rt;
            std::task::ready!(waiting.timer.poll_until(rt, deadline, now, cx));
        }
    }
}
