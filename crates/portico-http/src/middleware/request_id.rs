//! A request id for every request, and a time limit on answering.

use std::fmt;
use std::future::Future;

use http::header::{HeaderName, HeaderValue};
use http::request::Parts;

use super::{Middleware, Next};
use crate::extract::{FromRequestParts, Rejection, RequestContext};
use crate::{Request, Response};

/// Gives every request an id: the one its `X-Request-ID` header carries when that looks like
/// an id (1 to 200 visible ASCII characters), a new random UUID otherwise. The id goes back in
/// the response's header, into the request's tracing span (field `request_id`), and to
/// handlers that take a [`RequestId`].
///
/// # Examples
///
/// ```
/// use portico_http::App;
/// use portico_http::middleware::{RequestId, SetRequestId};
///
/// async fn which(id: RequestId) -> String {
///     id.to_string()
/// }
///
/// let app = App::new().get("/", which).add_middleware(SetRequestId::new());
/// let client = portico::testing::blocking_client(app);
/// let response = client.get("/").header("x-request-id", "abc-123").send();
/// assert_eq!(response.header("x-request-id"), Some("abc-123"));
/// assert_eq!(response.text(), "abc-123");
/// let fresh = client.get("/").send();
/// assert_eq!(fresh.header("x-request-id").unwrap().len(), 36);
/// ```
#[derive(Debug, Clone)]
pub struct SetRequestId {
    header: HeaderName,
}

impl Default for SetRequestId {
    fn default() -> Self {
        SetRequestId {
            header: HeaderName::from_static("x-request-id"),
        }
    }
}

impl SetRequestId {
    /// Ids in the `X-Request-ID` header.
    pub fn new() -> Self {
        SetRequestId::default()
    }

    /// Ids in another header.
    pub fn header(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }
}

/// Whether a client's id is fit to be echoed and logged.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 200 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// A random UUID (v4), in one shared allocation: the copies for the request and the response
/// are reference counts.
fn new_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
    let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut text);
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(text))
        .unwrap_or(HeaderValue::from_static("unknown"))
}

impl Middleware for SetRequestId {
    fn call(&self, mut request: Request, mut next: Next) -> impl Future<Output = Response> + Send {
        let id = match request.headers().get(&self.header) {
            Some(value) if acceptable(value) => value.clone(),
            _ => new_id(),
        };
        tracing::Span::current().record("request_id", id.to_str().unwrap_or("unknown"));
        // Beside the request rather than in its extensions, whose map would cost three
        // allocations; middleware that reads the extensions finds it there (`Locals`). Where
        // an outer one's id is in the extensions already, this one replaces it there.
        match request.extensions_mut().get_mut::<RequestId>() {
            Some(outer) => *outer = RequestId(id.clone()),
            None => next.locals_mut().request_id = Some(id.clone()),
        }
        let fut = next.run(request);
        let header = self.header.clone();
        async move {
            let mut response = fut.await;
            response.headers_mut().insert(header, id);
            response
        }
    }
}

/// The id [`SetRequestId`] gave the request, for a handler or a dependency.
///
/// Extracting it where no [`SetRequestId`] runs is a mistake in the application: the answer is
/// 500, and the log says why. A function middleware (or a tower layer) inside
/// [`SetRequestId`] finds it in the request's extensions,
/// `request.extensions().get::<RequestId>()`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub(super) HeaderValue);

impl RequestId {
    /// The id.
    pub fn as_str(&self) -> &str {
        // Only visible ASCII is taken or made (see `acceptable`).
        self.0.to_str().unwrap_or("unknown")
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequestId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromRequestParts for RequestId {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let id = parts.extensions.get::<RequestId>().cloned().or_else(|| {
            ctx.locals
                .request_id
                .as_ref()
                .map(|id| RequestId(id.clone()))
        });
        match id {
            Some(id) => Ok(id),
            None => {
                tracing::error!("a handler takes a RequestId but no SetRequestId middleware runs");
                Err(Rejection::Response(crate::response::internal_error()))
            }
        }
    }
}
