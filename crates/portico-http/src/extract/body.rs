//! Raw bodies: `Bytes`, `String` and [`BodyStream`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body::Body as _;
use serde_json::json;

use portico_openapi::{BodyDoc, OperationDoc};

use super::{FromRequest, Rejection, RequestContext};
use crate::error::HttpError;
use crate::{Body, BodyError};

impl FromRequest for Bytes {
    /// The whole body, up to the route's limit (413 past it).
    fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        let (body, limit) = (request.into_body(), ctx.body_limit());
        async move { Ok(body.collect_limited(limit).await?) }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.body(BodyDoc::new(
            "application/octet-stream",
            json!({"type": "string", "format": "binary"}),
            true,
        ));
    }
}

impl FromRequest for String {
    /// The whole body as text, up to the route's limit; 400 if it is not UTF-8.
    fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        let (body, limit) = (request.into_body(), ctx.body_limit());
        async move {
            let bytes = body.collect_limited(limit).await?;
            String::from_utf8(bytes.into()).map_err(|_| {
                HttpError::bad_request()
                    .detail("The request body is not valid UTF-8")
                    .into()
            })
        }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.body(BodyDoc::new("text/plain", json!({"type": "string"}), true));
    }
}

/// The request body as a [`Stream`] of chunks, read as the client sends them. The route's body
/// limit still applies: past it, the stream yields [`BodyError::TooLarge`].
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use portico_http::BodyStream;
///
/// async fn count(mut body: BodyStream) -> String {
///     let mut total = 0;
///     while let Some(chunk) = body.next().await {
///         match chunk {
///             Ok(chunk) => total += chunk.len(),
///             Err(err) => return err.to_string(),
///         }
///     }
///     format!("{total} bytes")
/// }
/// ```
#[derive(Debug)]
pub struct BodyStream {
    body: Body,
    received: usize,
    limit: usize,
    done: bool,
}

impl Stream for BodyStream {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let frame = match std::task::ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Some(Err(err)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(BodyError::from_read(err))));
                }
                Some(Ok(frame)) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.received = self.received.saturating_add(data.len());
            if self.received > self.limit {
                self.done = true;
                let limit = self.limit;
                return Poll::Ready(Some(Err(BodyError::TooLarge { limit })));
            }
            return Poll::Ready(Some(Ok(data)));
        }
    }
}

impl BodyStream {
    /// `body` as a stream that fails past `limit` bytes.
    pub(crate) fn limited(body: Body, limit: usize) -> Self {
        BodyStream {
            body,
            received: 0,
            limit,
            done: false,
        }
    }
}

impl FromRequest for BodyStream {
    async fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        Ok(BodyStream::limited(request.into_body(), ctx.body_limit()))
    }

    fn describe(doc: &mut OperationDoc) {
        doc.body(BodyDoc::new(
            "application/octet-stream",
            json!({"type": "string", "format": "binary"}),
            false,
        ));
    }
}
