//! Validation errors in FastAPI's format: every invalid input of a request, each with its
//! location, in one 422 response.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use crate::Body;
use crate::response::{Caught, IntoResponse, Response, Unfinished};

/// One part of an error's location: a key (`"query"`, `"limit"`) or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    /// A source (`path`, `query`, `header`, `cookie`, `body`) or a field name.
    Key(Cow<'static, str>),
    /// A position in a list, or the byte offset of a JSON syntax error.
    Index(usize),
}

impl From<&'static str> for LocPart {
    fn from(key: &'static str) -> Self {
        LocPart::Key(Cow::Borrowed(key))
    }
}

impl From<String> for LocPart {
    fn from(key: String) -> Self {
        LocPart::Key(Cow::Owned(key))
    }
}

impl From<usize> for LocPart {
    fn from(index: usize) -> Self {
        LocPart::Index(index)
    }
}

/// One invalid input: FastAPI's (and Pydantic's) `{"type", "loc", "msg", "input", "ctx"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorItem {
    /// A machine-readable kind, as Pydantic names them: `missing`, `int_parsing`,
    /// `string_too_short`, `json_invalid`...
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// Where: the source, then field names and list indexes, e.g. `["body", "items", 2, "price"]`.
    pub loc: Vec<LocPart>,
    /// A message for people.
    pub msg: String,
    /// The input that was refused (`null` for a missing query parameter, the enclosing object
    /// for a missing field).
    pub input: Value,
    /// The constraint involved, e.g. `{"min_length": 3}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl ErrorItem {
    /// An error of `kind` at `loc`.
    pub fn new(
        kind: impl Into<Cow<'static, str>>,
        loc: Vec<LocPart>,
        msg: impl Into<String>,
        input: Value,
    ) -> Self {
        ErrorItem {
            kind: kind.into(),
            loc,
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    /// Adds the constraint involved.
    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// A missing required input.
    pub fn missing(loc: Vec<LocPart>, input: Value) -> Self {
        ErrorItem::new("missing", loc, "Field required", input)
    }
}

/// Every invalid input of one request: rendered as 422 `{"detail": [...]}` (FastAPI's
/// `RequestValidationError`).
///
/// The handler runs only when a request has none. The application can replace how it is
/// rendered (for instance with RFC 9457 problem details) with an exception handler for it.
///
/// # Examples
///
/// ```
/// use portico_http::{ErrorItem, IntoResponse, RequestValidationError};
///
/// let error = RequestValidationError::new(vec![ErrorItem::missing(vec!["query".into(), "q".into()], serde_json::Value::Null)]);
/// let response = error.into_response();
/// assert_eq!(response.status(), 422);
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestValidationError {
    errors: Vec<ErrorItem>,
    body: Option<Value>,
}

impl RequestValidationError {
    /// A validation error with these items.
    pub fn new(errors: Vec<ErrorItem>) -> Self {
        RequestValidationError { errors, body: None }
    }

    /// The same error, with the body the request sent.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The body the request sent, when it was what failed validation (FastAPI's `exc.body`):
    /// the parsed JSON of a `Json` parameter, or the text of a body of another type. `None`
    /// when only other inputs were invalid, or the body was not JSON at all.
    ///
    /// ```
    /// use portico_http::{IntoResponse, Json, RequestHead, RequestValidationError};
    /// use serde_json::json;
    ///
    /// // FastAPI's "use the RequestValidationError body" handler.
    /// async fn with_body(err: RequestValidationError, _: RequestHead) -> impl IntoResponse {
    ///     let detail = json!({"detail": err.errors(), "body": err.body()});
    ///     (http::StatusCode::UNPROCESSABLE_ENTITY, Json(detail))
    /// }
    /// let app = portico_http::App::new().exception_handler(with_body);
    /// # drop(app);
    /// ```
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// The invalid inputs, in the order they were found.
    pub fn errors(&self) -> &[ErrorItem] {
        &self.errors
    }

    /// The invalid inputs, by value.
    pub fn into_errors(self) -> Vec<ErrorItem> {
        self.errors
    }

    /// Adds more invalid inputs.
    pub fn extend(&mut self, more: impl IntoIterator<Item = ErrorItem>) {
        self.errors.extend(more);
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The body FastAPI sends: `{"detail": [...]}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "detail": self.errors })
    }
}

impl fmt::Display for RequestValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalid input(s)", self.errors.len())?;
        for item in &self.errors {
            let loc: Vec<String> = item
                .loc
                .iter()
                .map(|part| match part {
                    LocPart::Key(key) => key.to_string(),
                    LocPart::Index(index) => index.to_string(),
                })
                .collect();
            write!(f, "; {}: {}", loc.join("."), item.msg)?;
        }
        Ok(())
    }
}

impl std::error::Error for RequestValidationError {}

impl IntoResponse for RequestValidationError {
    /// 422 with FastAPI's body. Inside an application, its exception handler for
    /// `RequestValidationError` answers instead, if it registered one.
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        // The error travels with its response (a copy of its items, which are small).
        let mut response = Response::new(Body::full(body));
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Unfinished::error(&mut response, Caught::new(self));
        response
    }
}

/// The 422 for every invalid input of a request, in FastAPI's order: path, query, header,
/// cookie, then body.
/// `body` is the body as received, when the body was invalid.
pub(crate) fn invalid(mut errors: Vec<ErrorItem>, body: Option<Value>) -> Response {
    errors.sort_by_key(|item| match item.loc.first() {
        Some(LocPart::Key(source)) => match source.as_ref() {
            "path" => 0,
            "query" => 1,
            "header" => 2,
            "cookie" => 3,
            "body" => 4,
            _ => 5,
        },
        _ => 5,
    });
    let mut error = RequestValidationError::new(errors);
    error.body = body;
    error.into_response()
}
