//! Responses: what a path operation returns.
//!
//! Anything that implements [`IntoResponse`] can be returned: strings (`text/plain`), bytes,
//! [`Json`], [`Html`], [`Redirect`], status codes, `(status, headers, body)` tuples, `Result`s
//! of those, and the streaming, file and event-stream types in this module.

use std::borrow::Cow;
use std::convert::Infallible;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use portico_openapi::{OperationDoc, ReturnDoc};

use crate::Body;

mod cookie;
pub(crate) mod fields;
mod json;
mod redirect;
pub(crate) mod sse;
mod stream;
pub(crate) mod unfinished;

pub use cookie::SetCookie;
pub use fields::Partial;
pub use json::Json;
pub use redirect::Redirect;
pub use sse::{EventStream, KeepAlive, ServerSentEvent};
pub use stream::StreamBody;
pub(crate) use unfinished::{Caught, Reply, Unfinished};

/// An HTTP response.
pub type Response = http::Response<Body>;

/// A boxed response future (or of `T`), as the application's parts hand them around.
pub(crate) type BoxFuture<T = Response> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// 500 Internal Server Error as FastAPI sends it: `text/plain`, with no detail. The one place
/// that writes it.
pub(crate) fn internal_error() -> Response {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// A `text/plain` response, as the framework's own 500 and 413 are (as Starlette sends them).
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Converts a value into a [`Response`]; implemented by everything a path operation may return.
///
/// # Examples
///
/// ```
/// use portico_http::{IntoResponse, Json};
/// use http::StatusCode;
///
/// async fn create() -> impl IntoResponse {
///     (StatusCode::CREATED, Json(serde_json::json!({"id": 1})))
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a response",
    label = "does not implement `IntoResponse`",
    note = "a handler returns a response: `String`, `&'static str`, `Json<T>` (with `T: Serialize + JsonSchema`), `Html<T>`, `Response`, `(StatusCode, R)`, `Result<R, E>` with an error type that is a response too (`HttpError`, or yours with `impl IntoResponse`)"
)]
pub trait IntoResponse {
    /// Makes the response.
    fn into_response(self) -> Response;

    /// Describes the successful response for the OpenAPI document (see
    /// [`OperationDoc::returns`]). Says nothing by default, which documents JSON of any shape.
    fn describe_response(doc: &mut OperationDoc) {
        let _ = doc;
    }

    /// The response, or the error the application's exception handlers may answer instead
    /// (what `Result`'s `Err` gives). Not meant to be overridden.
    #[doc(hidden)]
    #[allow(
        private_interfaces,
        reason = "internal plumbing between handlers and the application"
    )]
    fn into_reply(self) -> Reply
    where
        Self: Sized,
    {
        Reply::Response(self.into_response())
    }
}

/// Documents a body of `media_type` whose schema is a string.
fn returns_text(doc: &mut OperationDoc, media_type: &'static str) {
    doc.returns(ReturnDoc::Body {
        media_type,
        schema: Some(serde_json::json!({"type": "string"})),
    });
}

/// Documents a body of raw bytes.
fn returns_bytes(doc: &mut OperationDoc) {
    doc.returns(ReturnDoc::Body {
        media_type: "application/octet-stream",
        schema: Some(serde_json::json!({"type": "string", "format": "binary"})),
    });
}

/// Sets headers (and cookies) on a response being built: the middle parts of a
/// `(status, parts..., body)` tuple.
pub trait IntoResponseParts {
    /// Adds these parts to `response`.
    fn apply(self, response: &mut Response);
}

/// A value with its content type, to build the common responses.
fn with_type(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const TEXT: &str = "text/plain; charset=utf-8";

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

/// `null` as JSON, as FastAPI answers a path operation that returns `None`; a route whose
/// status allows no body (`status_code(StatusCode::NO_CONTENT)`) answers none.
impl IntoResponse for () {
    fn into_response(self) -> Response {
        with_type(Bytes::from_static(b"null"), "application/json")
    }

    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Unknown);
    }
}

impl IntoResponse for Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_type(self, TEXT)
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_text(doc, "text/plain");
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_type(self, TEXT)
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_text(doc, "text/plain");
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(text) => text.into_response(),
            Cow::Owned(text) => text.into_response(),
        }
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_text(doc, "text/plain");
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_type(self, "application/octet-stream")
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_bytes(doc);
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_type(self, "application/octet-stream")
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_bytes(doc);
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        with_type(Bytes::from_static(self), "application/octet-stream")
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_bytes(doc);
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }

    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Empty);
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl<T: IntoResponse, E: IntoResponse + Send + 'static> IntoResponse for Result<T, E> {
    /// `Ok` as itself, `Err` as the error's own response. Returned by a path operation, an
    /// `Err` goes to the application's exception handler for its type first, if it registered
    /// one (see `App::exception_handler`).
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(err) => err.into_response(),
        }
    }

    #[allow(
        private_interfaces,
        reason = "internal plumbing between handlers and the application"
    )]
    fn into_reply(self) -> Reply {
        match self {
            Ok(value) => value.into_reply(),
            Err(err) => Reply::Error(Caught::new(err)),
        }
    }

    /// As `T`: errors are documented with the route's `response`.
    fn describe_response(doc: &mut OperationDoc) {
        T::describe_response(doc);
    }
}

/// HTML, sent as `text/html; charset=utf-8`.
///
/// ```
/// use portico_http::Html;
///
/// async fn page() -> Html<&'static str> {
///     Html("<h1>Hello</h1>")
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        with_type(self.0, "text/html; charset=utf-8")
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_text(doc, "text/html");
    }
}

/// Plain text, sent as `text/plain; charset=utf-8` (what a bare `String` gives too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Text<T>(pub T);

impl<T: Into<Body>> IntoResponse for Text<T> {
    fn into_response(self) -> Response {
        with_type(self.0, TEXT)
    }

    fn describe_response(doc: &mut OperationDoc) {
        returns_text(doc, "text/plain");
    }
}

impl IntoResponseParts for HeaderMap {
    fn apply(self, response: &mut Response) {
        response.headers_mut().extend(self);
    }
}

impl<K, V, const N: usize> IntoResponseParts for [(K, V); N]
where
    K: TryInto<HeaderName>,
    V: TryInto<HeaderValue>,
{
    /// Sets each header, replacing a value the body set (its `Content-Type`, say); to send
    /// several values of one header, use a [`HeaderMap`]. A name or value that is not valid HTTP
    /// is skipped and logged, since failing the whole response over it would hide the
    /// handler's result.
    fn apply(self, response: &mut Response) {
        for (name, value) in self {
            match (name.try_into(), value.try_into()) {
                (Ok(name), Ok(value)) => {
                    response.headers_mut().insert(name, value);
                }
                _ => tracing::error!("a response header with an invalid name or value was skipped"),
            }
        }
    }
}

impl IntoResponseParts for SetCookie {
    fn apply(self, response: &mut Response) {
        self.append_to(response.headers_mut());
    }
}

impl<P: IntoResponseParts> IntoResponseParts for Option<P> {
    fn apply(self, response: &mut Response) {
        if let Some(parts) = self {
            parts.apply(response);
        }
    }
}

macro_rules! tuple_responses {
    ($($part:ident),*) => {
        impl<$($part: IntoResponseParts,)* R: IntoResponse> IntoResponse for ($($part,)* R,) {
            #[allow(non_snake_case, unused_mut, reason = "the type names double as bindings")]
            fn into_response(self) -> Response {
                let ($($part,)* body,) = self;
                let mut response = body.into_response();
                $($part.apply(&mut response);)*
                response
            }

            fn describe_response(doc: &mut OperationDoc) {
                R::describe_response(doc);
            }
        }

        impl<$($part: IntoResponseParts,)* R: IntoResponse> IntoResponse for (StatusCode, $($part,)* R,) {
            #[allow(non_snake_case, reason = "the type names double as bindings")]
            fn into_response(self) -> Response {
                let (status, $($part,)* body,) = self;
                let mut response = body.into_response();
                *response.status_mut() = status;
                $($part.apply(&mut response);)*
                response
            }

            fn describe_response(doc: &mut OperationDoc) {
                R::describe_response(doc);
            }
        }
    };
}

tuple_responses!();
tuple_responses!(P1);
tuple_responses!(P1, P2);
tuple_responses!(P1, P2, P3);
tuple_responses!(P1, P2, P3, P4);
