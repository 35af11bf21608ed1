//! [`Redirect`] responses.

use http::StatusCode;
use http::header::{HeaderValue, LOCATION};

use super::{IntoResponse, Response};
use crate::Body;

/// A redirect to another URL. [`Redirect::to`] answers 307 (the method and body are kept), as
/// FastAPI's `RedirectResponse` does by default.
///
/// # Examples
///
/// ```
/// use portico_http::Redirect;
///
/// async fn old_docs() -> Redirect {
///     Redirect::permanent("/docs")
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Redirect {
    status: StatusCode,
    location: String,
}

impl Redirect {
    /// 307 Temporary Redirect: the client repeats the same method and body.
    pub fn to(location: impl Into<String>) -> Self {
        Redirect {
            status: StatusCode::TEMPORARY_REDIRECT,
            location: location.into(),
        }
    }

    /// 303 See Other: the client follows with a GET (after a form post, say).
    pub fn see_other(location: impl Into<String>) -> Self {
        Redirect {
            status: StatusCode::SEE_OTHER,
            location: location.into(),
        }
    }

    /// 308 Permanent Redirect: as 307, and the client may remember it.
    pub fn permanent(location: impl Into<String>) -> Self {
        Redirect {
            status: StatusCode::PERMANENT_REDIRECT,
            location: location.into(),
        }
    }

    /// Where the redirect points.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl IntoResponse for Redirect {
    /// A location that is not a valid header value (a raw newline, say) answers 500 rather
    /// than send a broken header.
    fn into_response(self) -> Response {
        match HeaderValue::try_from(self.location) {
            Ok(location) => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = self.status;
                response.headers_mut().insert(LOCATION, location);
                response
            }
            Err(_) => {
                tracing::error!("a redirect location is not a valid header value");
                super::internal_error()
            }
        }
    }
}
