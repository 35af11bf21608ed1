//! [`HttpError`]: FastAPI's `HTTPException`.

use std::fmt;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::Body;
use crate::response::{IntoResponse, Response};

/// An error that answers with a status code and `{"detail": ...}` (FastAPI's
/// `HTTPException`), plus optional headers.
///
/// The detail is the status's reason phrase unless set; it can be any JSON. Statuses that
/// forbid a body (1xx, 204, 304) get none.
///
/// # Examples
///
/// ```
/// use portico_http::{HttpError, Json};
/// use http::StatusCode;
///
/// async fn read_item(id: u64) -> Result<Json<u64>, HttpError> {
///     if id == 0 {
///         return Err(HttpError::new(StatusCode::NOT_FOUND).detail("Item not found"));
///     }
///     Ok(Json(id))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct HttpError {
    status: StatusCode,
    detail: Option<Value>,
    /// Boxed, so that `Result<T, HttpError>` stays small (most errors add no header).
    headers: Option<Box<HeaderMap>>,
}

impl HttpError {
    /// An error with `status` and its reason phrase as the detail.
    pub fn new(status: StatusCode) -> Self {
        HttpError {
            status,
            detail: None,
            headers: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request() -> Self {
        Self::new(StatusCode::BAD_REQUEST)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED)
    }

    /// 403 Forbidden.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN)
    }

    /// 404 Not Found, as FastAPI answers an unknown path: `{"detail":"Not Found"}`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND)
    }

    /// 409 Conflict.
    pub fn conflict() -> Self {
        Self::new(StatusCode::CONFLICT)
    }

    /// Sets the detail: a string, or any JSON (`serde_json::json!({...})`).
    pub fn detail(mut self, detail: impl Into<Value>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a header to the response (`WWW-Authenticate`, say). An invalid name or value is
    /// ignored and logged.
    pub fn header(
        mut self,
        name: impl TryInto<HeaderName>,
        value: impl TryInto<HeaderValue>,
    ) -> Self {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers.get_or_insert_default().append(name, value);
            }
            _ => tracing::error!("an HttpError header with an invalid name or value was ignored"),
        }
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The detail, as it will be sent.
    pub fn detail_value(&self) -> Value {
        self.detail
            .clone()
            .unwrap_or_else(|| Value::String(reason(self.status).to_owned()))
    }

    /// The headers added.
    pub fn headers(&self) -> &HeaderMap {
        static NONE: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);
        self.headers.as_deref().unwrap_or(&NONE)
    }
}

/// The reason phrase of a status, or `"Error"` for codes without one.
pub(crate) fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// Whether a response with this status must not have a body.
pub(crate) fn forbids_body(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(Value::String(detail)) => write!(f, "{}: {detail}", self.status),
            Some(detail) => write!(f, "{}: {detail}", self.status),
            None => write!(f, "{}", self.status),
        }
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = if forbids_body(self.status) {
            Body::empty()
        } else {
            let detail = self.detail_value();
            Body::full(
                serde_json::to_vec(&serde_json::json!({ "detail": detail })).unwrap_or_default(),
            )
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        if !forbids_body(self.status) {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(headers) = self.headers {
            response.headers_mut().extend(*headers);
        }
        response
    }
}
