//! Server-sent events: [`EventStream`] and [`ServerSentEvent`].

use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use http_body::Frame;
use portico_openapi::{OperationDoc, ReturnDoc};
use portico_rt::Sleep;
use serde::Serialize;

use super::unfinished::{Finishing, Unfinished};
use super::{IntoResponse, Response};
use crate::{Body, BoxError};

/// One server-sent event (sse-starlette's `ServerSentEvent`).
///
/// # Examples
///
/// ```
/// use portico_http::ServerSentEvent;
///
/// let event = ServerSentEvent::default().event("status").data("started").id("1");
/// assert_eq!(event.to_string(), "event: status\ndata: started\nid: 1\n\n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerSentEvent {
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    comment: Option<String>,
}

/// Strips the line breaks a field cannot hold (they would end it early).
fn one_line(text: impl Into<String>) -> String {
    let text: String = text.into();
    if text.contains(['\n', '\r']) {
        text.replace(['\n', '\r'], " ")
    } else {
        text
    }
}

/// The old name of [`ServerSentEvent`], which read as the `Event` of `portico::tasks`.
#[deprecated(since = "0.2.0", note = "renamed `ServerSentEvent`")]
pub type Event = ServerSentEvent;

impl ServerSentEvent {
    /// Sets the data; several lines become several `data:` lines, as the format wants.
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the data to `value` serialised as JSON.
    ///
    /// # Errors
    ///
    /// Whatever serde_json reports for a value it cannot serialise.
    pub fn json_data<T: Serialize>(mut self, value: &T) -> Result<Self, serde_json::Error> {
        self.data = Some(serde_json::to_string(value)?);
        Ok(self)
    }

    /// Sets the event's type (`event:`); browsers dispatch it to listeners of that name.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(one_line(event));
        self
    }

    /// Sets the event's id (`id:`), which the client sends back as `Last-ServerSentEvent-ID` when it
    /// reconnects.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(one_line(id));
        self
    }

    /// Tells the client how long to wait before reconnecting (`retry:`).
    pub fn retry(mut self, after: Duration) -> Self {
        self.retry = Some(after);
        self
    }

    /// Adds a comment line (`: text`), which clients ignore.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(one_line(comment));
        self
    }
}

impl fmt::Display for ServerSentEvent {
    /// The event as it goes on the wire, ending with the blank line that terminates it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(comment) = &self.comment {
            writeln!(f, ": {comment}")?;
        }
        if let Some(event) = &self.event {
            writeln!(f, "event: {event}")?;
        }
        if let Some(data) = &self.data {
            for line in data.split('\n') {
                writeln!(f, "data: {}", line.strip_suffix('\r').unwrap_or(line))?;
            }
        }
        if let Some(id) = &self.id {
            writeln!(f, "id: {id}")?;
        }
        if let Some(retry) = self.retry {
            writeln!(f, "retry: {}", retry.as_millis())?;
        }
        f.write_char('\n')
    }
}

/// Comments sent while a stream is idle, so that proxies and clients keep the connection open.
/// The default sends `: ping` after 15 idle seconds, as FastAPI does.
#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: Duration,
    text: String,
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive {
            interval: Duration::from_secs(15),
            text: "ping".to_owned(),
        }
    }
}

impl KeepAlive {
    /// Sends a comment after `interval` without events.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the comment's text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = one_line(text);
        self
    }
}

/// A `text/event-stream` response from a [`Stream`] of [`ServerSentEvent`]s (FastAPI's
/// `EventSourceResponse`), with keep-alive comments from the runtime's timer.
///
/// The response ends when the stream does, when the client goes away, or when the server shuts
/// down gracefully.
///
/// # Examples
///
/// ```
/// use portico_http::{ServerSentEvent, EventStream};
///
/// async fn ticks() -> EventStream {
///     let events = futures_lite::stream::iter((1..=3).map(|n| ServerSentEvent::default().data(n.to_string())));
///     EventStream::new(events)
/// }
/// ```
pub struct EventStream {
    events: Pin<Box<dyn Stream<Item = ServerSentEvent> + Send>>,
    keep_alive: Option<KeepAlive>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// An event stream with the default [`KeepAlive`].
    pub fn new(events: impl Stream<Item = ServerSentEvent> + Send + 'static) -> Self {
        EventStream {
            events: Box::pin(events),
            keep_alive: Some(KeepAlive::default()),
        }
    }

    /// Sets the keep-alive (`None` sends none).
    pub fn keep_alive(mut self, keep_alive: impl Into<Option<KeepAlive>>) -> Self {
        self.keep_alive = keep_alive.into();
        self
    }
}

struct EventBody {
    events: Pin<Box<dyn Stream<Item = ServerSentEvent> + Send>>,
    keep_alive: Option<(KeepAlive, Option<Sleep>)>,
    done: bool,
}

impl http_body::Body for EventBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(event)) => {
                // An event resets the idle time.
                if let Some((keep_alive, Some(sleep))) = &mut self.keep_alive {
                    sleep.reset(std::time::Instant::now() + keep_alive.interval);
                }
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(event.to_string())))));
            }
            Poll::Ready(None) => {
                self.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        let Some((keep_alive, sleep)) = &mut self.keep_alive else {
            return Poll::Pending;
        };
        if sleep.is_none() {
            // The timer comes from the runtime serving the request; without one, no keep-alive.
            match portico_rt::current() {
                Ok(rt) => *sleep = Some(rt.sleep(keep_alive.interval)),
                Err(_) => return Poll::Pending,
            }
        }
        let Some(timer) = sleep.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(&mut *timer).poll(cx) {
            Poll::Ready(()) => {
                timer.reset(std::time::Instant::now() + keep_alive.interval);
                let comment = format!(": {}\n\n", keep_alive.text);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(comment)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl IntoResponse for EventStream {
    fn into_response(self) -> Response {
        let body = EventBody {
            events: self.events,
            keep_alive: self.keep_alive.map(|k| (k, None)),
            done: false,
        };
        let mut response = Response::new(Body::stream(body));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // Tells nginx not to buffer the stream.
        headers.insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
        // Clients reconnect, so a stream ends when the server starts shutting down rather
        // than holding the shutdown until its grace period is over.
        Unfinished::defer(
            &mut response,
            Box::new(|mut response: Response, cx: &Finishing<'_>| {
                if let Some(draining) = cx.draining {
                    let body = std::mem::take(response.body_mut());
                    *response.body_mut() = Body::stream(EndsOnDrain::new(body, draining.clone()));
                }
                Box::pin(std::future::ready(response))
            }),
        );
        response
    }

    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Body {
            media_type: "text/event-stream",
            schema: Some(serde_json::json!({"type": "string"})),
        });
    }
}

/// A body that ends once the server starts shutting down.
struct EndsOnDrain {
    inner: Body,
    draining: Arc<portico_tasks::Event>,
    /// Waits for `draining`, once the body has had to wait.
    wait: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl EndsOnDrain {
    fn new(inner: Body, draining: Arc<portico_tasks::Event>) -> Self {
        EndsOnDrain {
            inner,
            draining,
            wait: None,
        }
    }
}

impl http_body::Body for EndsOnDrain {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.draining.is_set() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                let draining = this.draining.clone();
                let wait = this
                    .wait
                    .get_or_insert_with(|| Box::pin(async move { draining.wait().await }));
                match wait.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => ready,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
