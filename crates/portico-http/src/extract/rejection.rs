//! Why a parameter could not be extracted, and where that goes.

use std::fmt;

use crate::BodyError;
use crate::error::{ErrorItem, HttpError, invalid};
use crate::response::{Caught, IntoResponse, Reply, Response};

/// Why a parameter could not be extracted.
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection {
    /// Invalid inputs, to report with every other parameter's in one 422.
    Invalid(Vec<ErrorItem>),
    /// Invalid inputs of the body, with the body as it was received, which exception handlers
    /// read from [`RequestValidationError::body`](crate::RequestValidationError::body)
    /// (FastAPI's `exc.body`).
    InvalidBody {
        /// The invalid inputs.
        errors: Vec<ErrorItem>,
        /// The body as received (parsed JSON, or the text of a body of another type).
        body: serde_json::Value,
    },
    /// A response to send at once (413, 415, 401, ...).
    Response(Response),
    /// An error for the application's exception handler for its type, answered with its own
    /// response when none is registered: see [`Rejection::error`].
    Error(RaisedError),
}

impl Rejection {
    /// Rejects with `error`, which the application's exception handler for its type answers
    /// (see [`App::exception_handler`](crate::App::exception_handler)), or its own response
    /// when there is none: what FastAPI does with an exception raised in a dependency.
    ///
    /// # Examples
    ///
    /// A parameter that refuses a client without an API key with an error of the
    /// application's own, which one handler renders for every route:
    ///
    /// ```
    /// use http::StatusCode;
    /// use http::request::Parts;
    /// use portico_http::{App, FromRequestParts, IntoResponse, Rejection, RequestContext, RequestHead, Response};
    ///
    /// #[derive(Debug)]
    /// struct NoKey;
    ///
    /// impl IntoResponse for NoKey {
    ///     fn into_response(self) -> Response {
    ///         StatusCode::UNAUTHORIZED.into_response()
    ///     }
    /// }
    ///
    /// struct ApiKey(String);
    ///
    /// impl FromRequestParts for ApiKey {
    ///     async fn from_request_parts(parts: &mut Parts, _: &RequestContext) -> Result<Self, Rejection> {
    ///         match parts.headers.get("x-api-key").and_then(|key| key.to_str().ok()) {
    ///             Some(key) => Ok(ApiKey(key.to_owned())),
    ///             None => Err(Rejection::error(NoKey)),
    ///         }
    ///     }
    /// }
    ///
    /// async fn secret(ApiKey(_): ApiKey) -> &'static str {
    ///     "42"
    /// }
    ///
    /// let app = App::new()
    ///     .get("/secret", secret)
    ///     .exception_handler(|_: NoKey, _: RequestHead| async { (StatusCode::UNAUTHORIZED, "show a key") });
    /// let client = portico::testing::blocking_client(app);
    /// assert_eq!(client.get("/secret").send().text(), "show a key");
    /// ```
    pub fn error<E: IntoResponse + Send + 'static>(error: E) -> Self {
        Rejection::Error(RaisedError(Caught::new(error)))
    }

    /// What the request answers with, when this ends it: the 422 of invalid inputs, the
    /// response, or the error for its handler.
    pub(crate) fn into_reply(self) -> Reply {
        match self {
            Rejection::Invalid(errors) => Reply::Response(invalid(errors, None)),
            Rejection::InvalidBody { errors, body } => Reply::Response(invalid(errors, Some(body))),
            Rejection::Response(response) => Reply::Response(response),
            Rejection::Error(error) => Reply::Error(error.0),
        }
    }

    /// A request's end as a rejection.
    pub(crate) fn from_reply(reply: Reply) -> Self {
        match reply {
            Reply::Response(response) => Rejection::Response(response),
            Reply::Error(caught) => Rejection::Error(RaisedError(caught)),
        }
    }
}

/// An error that a [`Rejection::error`] carries to the application's exception handlers.
pub struct RaisedError(pub(crate) Caught);

impl fmt::Debug for RaisedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<HttpError> for Rejection {
    /// The error's response; an exception handler registered for [`HttpError`] may replace it.
    fn from(err: HttpError) -> Self {
        Rejection::Response(crate::error::caught(err))
    }
}

impl From<Response> for Rejection {
    fn from(response: Response) -> Self {
        Rejection::Response(response)
    }
}

impl From<BodyError> for Rejection {
    /// 413 `Content Too Large` past the limit (as FastAPI, `text/plain`), 400 for a body that
    /// broke off or had invalid framing.
    fn from(err: BodyError) -> Self {
        Rejection::Response(err.into_response())
    }
}
