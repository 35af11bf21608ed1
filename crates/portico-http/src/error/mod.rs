//! Errors as FastAPI writes them, each body written in one place: [`HttpError`]
//! (`HTTPException`, `{"detail": ...}`), the 422 of [`RequestValidationError`], the 413 and
//! 400 of a body that is too large or broke off ([`BodyError`](crate::BodyError)), and the
//! application's exception handlers, which answer an error of their type instead.
//!
//! The framework's bare 500 is `response::internal_error`.

use http::StatusCode;

use crate::BodyError;
use crate::response::{Caught, IntoResponse, Response, Unfinished, plain};

mod build;
mod handlers;
mod http_error;
mod validation;

pub use build::BuildError;
pub(crate) use handlers::ErrorHandlers;
pub use handlers::RequestHead;
pub use http_error::HttpError;
pub(crate) use http_error::forbids_body;
pub(crate) use validation::invalid;
pub use validation::{ErrorItem, LocPart, RequestValidationError};

/// `error`'s own response, which the application's exception handler for its type may
/// replace: how the framework answers with an error it raises itself (a rejected parameter,
/// an unknown path).
pub(crate) fn caught<E: IntoResponse + Clone + Send + 'static>(error: E) -> Response {
    let mut response = error.clone().into_response();
    Unfinished::error(&mut response, Caught::new(error));
    response
}

impl IntoResponse for BodyError {
    /// 413 `Content Too Large` past the limit (as FastAPI, `text/plain`); 400 `{"detail": "The
    /// request body could not be read"}` for a body that broke off or had invalid framing;
    /// 408 `Request Timeout` (`text/plain`) for a client that stalled in the middle of its body
    /// (the connection then closes).
    fn into_response(self) -> Response {
        match self {
            BodyError::TooLarge { .. } => plain(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large"),
            BodyError::TimedOut { .. } => plain(StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
            BodyError::Read(err) => {
                tracing::debug!("request body unreadable: {err}");
                HttpError::bad_request()
                    .detail("The request body could not be read")
                    .into_response()
            }
        }
    }
}
