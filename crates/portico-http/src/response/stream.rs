//! [`StreamBody`]: a response body produced as it is sent.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body::Frame;

use super::{IntoResponse, Response};
use crate::{Body, BoxError};

/// A response whose body comes from a [`Stream`] of chunks, sent as each one is ready
/// (FastAPI's `StreamingResponse`). The stream is dropped when the client goes away.
///
/// # Examples
///
/// ```
/// use portico_http::StreamBody;
///
/// async fn numbers() -> StreamBody {
///     let lines = futures_lite::stream::iter((1..=3).map(|n| Ok::<_, std::io::Error>(format!("{n}\n"))));
///     StreamBody::new(lines).content_type("text/plain; charset=utf-8")
/// }
/// ```
pub struct StreamBody {
    stream: Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>,
    content_type: Option<HeaderValue>,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl StreamBody {
    /// A body from a stream of chunks; an `Err` ends the response abruptly (the client sees a
    /// broken transfer, as it should when the data it was sent is incomplete). A stream that
    /// fails or panics on its very first poll, before its head is sent, is answered `500`.
    pub fn new<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<BoxError>,
    {
        struct MapChunks<S>(S);
        impl<S, B, E> Stream for MapChunks<S>
        where
            S: Stream<Item = Result<B, E>> + Unpin,
            B: Into<Bytes>,
            E: Into<BoxError>,
        {
            type Item = Result<Bytes, BoxError>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                Pin::new(&mut self.0)
                    .poll_next(cx)
                    .map(|item| item.map(|r| r.map(Into::into).map_err(Into::into)))
            }
        }
        StreamBody {
            stream: Box::pin(MapChunks(Box::pin(stream))),
            content_type: None,
        }
    }

    /// Sets the `Content-Type` (default `application/octet-stream`). An invalid value is
    /// ignored.
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = HeaderValue::from_str(content_type).ok();
        self
    }
}

struct Chunks(Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

impl IntoResponse for StreamBody {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::stream(Chunks(self.stream)));
        let content_type = self
            .content_type
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        response
    }
}
