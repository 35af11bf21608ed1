//! Errors as FastAPI writes them: [`HttpError`] (`HTTPException`), 422 validation errors, 413,
//! and the 500 for a handler that panicked.
//!
//! A handler that returns `Err(e)` answers with `e`'s response, unless the application
//! registered an exception handler for `e`'s type; the error travels to the application inside
//! the response until then (see [`carry`]).

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex, PoisonError};

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::body::ResponseBody;
use crate::response::{IntoResponse, Response};

mod http_error;
mod validation;

pub use http_error::HttpError;
pub use validation::{ErrorItem, LocPart, RequestValidationError, Source};

/// 500 Internal Server Error as FastAPI sends it: `text/plain`, with no detail.
pub(crate) fn internal_error() -> Response {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// A `text/plain` response (the framework's own 413 and 500 use it, as Starlette does).
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(ResponseBody::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An error travelling inside a response to the application's exception handlers.
#[derive(Clone)]
pub(crate) struct Carried {
    pub(crate) type_id: TypeId,
    /// The error's own response, for when no handler takes it.
    render: fn(Box<dyn Any + Send>) -> Response,
    /// The error, taken by whoever handles it. (Extensions must be `Sync`, hence the lock.)
    error: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
}

impl Carried {
    /// Takes the error out.
    pub(crate) fn take_any(&self) -> Option<Box<dyn Any + Send>> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// The default response of an error taken with [`take_any`](Self::take_any).
    pub(crate) fn render_boxed(&self, error: Box<dyn Any + Send>) -> Response {
        (self.render)(error)
    }

    /// The error's own response.
    pub(crate) fn render(&self) -> Option<Response> {
        self.take_any().map(self.render)
    }
}

/// The response for `Err(error)` from a handler: the error's own response, with the error
/// attached so that an exception handler registered for its type can replace it.
pub(crate) fn carry<E: IntoResponse + Send + 'static>(error: E) -> Response {
    fn render<E: IntoResponse + 'static>(error: Box<dyn Any + Send>) -> Response {
        match error.downcast::<E>() {
            Ok(error) => error.into_response(),
            Err(_) => internal_error(),
        }
    }
    let mut response = Response::new(ResponseBody::empty());
    response.extensions_mut().insert(Carried {
        type_id: TypeId::of::<E>(),
        render: render::<E>,
        error: Arc::new(Mutex::new(Some(Box::new(error)))),
    });
    response
}

impl IntoResponse for RequestValidationError {
    /// 422 with FastAPI's body, unless the application replaced the renderer; the errors travel
    /// with the response until the application has rendered them.
    fn into_response(self) -> Response {
        carry_validation(self)
    }
}

fn carry_validation(error: RequestValidationError) -> Response {
    carry(ValidationCarrier(error))
}

/// A [`RequestValidationError`] on its way to the application's renderer.
pub(crate) struct ValidationCarrier(pub(crate) RequestValidationError);

impl IntoResponse for ValidationCarrier {
    fn into_response(self) -> Response {
        default_validation_response(&self.0)
    }
}

/// FastAPI's 422: `{"detail": [...]}`.
pub(crate) fn default_validation_response(error: &RequestValidationError) -> Response {
    let body = serde_json::to_vec(&error.to_json()).unwrap_or_default();
    let mut response = Response::new(ResponseBody::full(body));
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
