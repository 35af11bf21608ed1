//! What the test client reads back: [`TestResponse`] and [`StreamingResponse`].

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode, Version};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::Body;

/// A response read by a test client.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub(super) status: StatusCode,
    pub(super) version: Version,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    #[cfg(feature = "templates")]
    template: Option<crate::templates::RenderedTemplate>,
}

impl TestResponse {
    /// The response of `head`, whose body read in full is `body`.
    pub(super) fn new(head: http::response::Parts, body: Bytes) -> Self {
        TestResponse {
            status: head.status,
            version: head.version,
            #[cfg(feature = "templates")]
            template: head
                .extensions
                .get::<crate::templates::RenderedTemplate>()
                .cloned(),
            headers: head.headers,
            body,
        }
    }

    /// The name of the template that rendered the response, if one did
    /// ([`Templates::response`](crate::Templates::response)).
    #[cfg(feature = "templates")]
    pub fn template(&self) -> Option<&str> {
        self.template.as_ref().map(|t| t.name.as_str())
    }

    /// The context the template rendered with, as JSON.
    #[cfg(feature = "templates")]
    pub fn context(&self) -> Option<&serde_json::Value> {
        self.template.as_ref().map(|t| &t.context)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name`, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON into `T` (`serde_json::Value` for any JSON).
    ///
    /// # Panics
    ///
    /// If the body is not JSON of that shape; the message shows the body.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.body) {
            Ok(value) => value,
            Err(err) => panic!(
                "the response body is not the JSON expected ({err}): {}",
                self.text()
            ),
        }
    }
}

/// A response whose body is read as it comes, from
/// [`TestRequest::send_streaming`](super::TestRequest::send_streaming).
pub struct StreamingResponse {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Body,
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl StreamingResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name`, as text.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body, or `None` at its end.
    ///
    /// # Panics
    ///
    /// If the body fails.
    pub async fn chunk(&mut self) -> Option<Bytes> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(data);
                    }
                }
                Err(err) => panic!("the response body failed while it was read: {err}"),
            }
        }
    }

    /// The rest of the body.
    ///
    /// # Panics
    ///
    /// If the body fails.
    pub async fn rest(mut self) -> Bytes {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            all.extend_from_slice(&chunk);
        }
        all.freeze()
    }
}
