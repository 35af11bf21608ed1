//! [`Body`]: the body of a request (what the client sends, read as it arrives) and of a
//! response (empty, bytes in memory, or a stream): one type for both, as in hyper.

mod incoming;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;

use incoming::IncomingBody;
pub(crate) use incoming::{BodyTimeout, Drain, HoldsUnread, ReadClock, Unread};

/// A boxed error, as bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

type BoxBody = Pin<Box<dyn HttpBody<Data = Bytes, Error = BoxError> + Send + 'static>>;

/// The body of a request or a response: empty, bytes in memory, what the client is sending,
/// or any stream of bytes.
///
/// # Examples
///
/// ```
/// use portico_http::Body;
///
/// let body = Body::from("hello");
/// assert_eq!(body.as_bytes(), Some(&b"hello"[..]));
/// assert!(!body.is_stream());
/// ```
pub struct Body {
    inner: Inner,
}

enum Inner {
    Empty,
    Full(Option<Bytes>),
    Incoming(IncomingBody),
    Boxed(BoxBody),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Empty => "empty",
            Inner::Full(_) => "full",
            Inner::Incoming(..) => "incoming",
            Inner::Boxed(_) => "stream",
        };
        f.debug_tuple("Body").field(&kind).finish()
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body {
            inner: Inner::Empty,
        }
    }

    /// A body holding `bytes` (an empty body when there are none).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Body::empty()
        } else {
            Body {
                inner: Inner::Full(Some(bytes)),
            }
        }
    }

    /// A body holding `bytes`, sent in one piece.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Body {
            inner: Inner::Full(Some(bytes.into())),
        }
    }

    /// Wraps any `http_body::Body`, such as one built in a test.
    pub fn new<B>(body: B) -> Self
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            inner: Inner::Boxed(Box::pin(body.map_err(Into::into))),
        }
    }

    /// A body streamed as `body` produces it (the same as [`new`](Self::new)).
    pub fn stream<B>(body: B) -> Self
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body::new(body)
    }

    /// The bytes of a body held in memory (`None` for a stream or a body still arriving).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.inner {
            Inner::Empty => Some(&[]),
            Inner::Full(bytes) => Some(bytes.as_deref().unwrap_or_default()),
            Inner::Incoming(..) | Inner::Boxed(_) => None,
        }
    }

    /// Whether the body is a stream (sent as it is produced, or read as it arrives).
    pub fn is_stream(&self) -> bool {
        matches!(self.inner, Inner::Incoming(..) | Inner::Boxed(_))
    }

    /// Whether the body is a stream the application produces (not bytes in memory, not a
    /// request body).
    pub(crate) fn is_produced_stream(&self) -> bool {
        matches!(self.inner, Inner::Boxed(_))
    }

    /// Whether the body is empty, when that is known without its head: for a body built in
    /// memory, not for one arriving off the wire.
    pub(crate) fn known_empty(&self) -> Option<bool> {
        match &self.inner {
            Inner::Empty => Some(true),
            Inner::Full(bytes) => Some(bytes.as_ref().is_none_or(Bytes::is_empty)),
            Inner::Incoming(..) => None,
            Inner::Boxed(body) => Some(body.is_end_stream()),
        }
    }

    /// A request body off the wire, its reads timed by `clock` when there is one; on HTTP/1,
    /// what the handler leaves unread goes back to the connection (`unread`).
    pub(crate) fn incoming(
        incoming: hyper::body::Incoming,
        clock: Option<ReadClock>,
        unread: Option<Arc<dyn HoldsUnread>>,
    ) -> Self {
        Body {
            inner: Inner::Incoming(IncomingBody::new(incoming, clock, unread)),
        }
    }

    /// Reads the whole body, refusing it once more than `limit` bytes have arrived (whatever
    /// `Content-Length` said).
    ///
    /// # Errors
    ///
    /// [`BodyError::TooLarge`] past the limit; [`BodyError::Read`] if the body broke off or its
    /// framing was invalid; [`BodyError::TimedOut`] if the client stalled past the server's
    /// body timeout.
    pub async fn collect_limited(self, limit: usize) -> Result<Bytes, BodyError> {
        if let Inner::Full(bytes) = self.inner {
            let bytes = bytes.unwrap_or_default();
            return if bytes.len() > limit {
                Err(BodyError::TooLarge { limit })
            } else {
                Ok(bytes)
            };
        }
        let mut body = self;
        let mut first: Option<Bytes> = None;
        let mut rest: Option<BytesMut> = None;
        let mut received = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(BodyError::from_read)?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            received = received.saturating_add(data.len());
            if received > limit {
                return Err(BodyError::TooLarge { limit });
            }
            // One chunk is kept as it is; only a body in several chunks is copied together.
            match (&mut first, &mut rest) {
                (None, _) => first = Some(data),
                (Some(head), None) => {
                    let mut joined = BytesMut::with_capacity(head.len() + data.len());
                    joined.extend_from_slice(head);
                    joined.extend_from_slice(&data);
                    rest = Some(joined);
                }
                (Some(_), Some(joined)) => joined.extend_from_slice(&data),
            }
        }
        Ok(match (first, rest) {
            (_, Some(joined)) => joined.freeze(),
            (Some(head), None) => head,
            (None, None) => Bytes::new(),
        })
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.inner {
            Inner::Empty => Poll::Ready(None),
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Incoming(incoming) => incoming.poll_frame(cx),
            Inner::Boxed(body) => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Full(bytes) => bytes.is_none(),
            Inner::Incoming(incoming) => incoming.is_end_stream(),
            Inner::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Empty => SizeHint::with_exact(0),
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::Incoming(incoming) => incoming.size_hint(),
            Inner::Boxed(body) => body.size_hint(),
        }
    }
}

/// Why reading a request body failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// More than the limit arrived.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body broke off, or its framing (chunked encoding, say) was invalid.
    Read(BoxError),
    /// The client sent nothing more for longer than the server's body timeout
    /// (`Server::body_timeout`) while the body was being read.
    TimedOut {
        /// The longest wait allowed between two reads.
        after: Duration,
    },
}

impl BodyError {
    /// A read error from a body, telling a stalled client apart.
    pub(crate) fn from_read(err: BoxError) -> Self {
        match err.downcast::<BodyTimedOut>() {
            Ok(timed_out) => BodyError::TimedOut {
                after: timed_out.after,
            },
            Err(err) => BodyError::Read(err),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge { limit } => write!(f, "the body is larger than {limit} bytes"),
            BodyError::Read(err) => write!(f, "the body could not be read: {err}"),
            BodyError::TimedOut { after } => {
                write!(f, "the client sent no more of the body within {after:?}")
            }
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BodyError::Read(err) => Some(err.as_ref()),
            BodyError::TooLarge { .. } | BodyError::TimedOut { .. } => None,
        }
    }
}

/// The error a request body reports when the client stalls past the server's body timeout:
/// what a handler reading the body itself sees (as the source of its `BoxError`).
///
/// The extractors turn it into [`BodyError::TimedOut`], answered `408 Request Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimedOut {
    /// The longest wait allowed between two reads.
    pub after: Duration,
}

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the client sent no more of the body within {:?}",
            self.after
        )
    }
}

impl std::error::Error for BodyTimedOut {}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::full(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::full(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::full(bytes)
    }
}

/// The body of a response: the same type as a request's.
#[deprecated(
    since = "0.2.0",
    note = "requests and responses share one body type: use `Body`"
)]
pub type ResponseBody = Body;
