//! [`Json`]: a JSON response (and, as a parameter, a JSON request body).

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use schemars::JsonSchema;
use serde::Serialize;

use super::{IntoResponse, Response};
use crate::Body;
use portico_openapi::{OperationDoc, ReturnDoc};

/// JSON: as a response, `T` serialised with serde (`application/json`); as a parameter, the
/// request body parsed and validated into `T` (see the extractor's documentation). Either way
/// `T` derives `JsonSchema` too: its schema is what the OpenAPI document shows.
///
/// # Examples
///
/// ```
/// use portico_http::Json;
/// use serde::Serialize;
///
/// #[derive(Serialize, schemars::JsonSchema)]
/// struct Message {
///     message: &'static str,
/// }
///
/// async fn hello() -> Json<Message> {
///     Json(Message { message: "Hello, World!" })
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Serialize + JsonSchema> IntoResponse for Json<T> {
    /// A value that cannot be serialised (a map with non-string keys, say) is a bug in the
    /// application: it answers 500, and the error is logged.
    fn into_response(self) -> Response {
        // Most bodies are small; 128 bytes spares the first few reallocations.
        let mut bytes = Vec::with_capacity(128);
        match serde_json::to_writer(&mut bytes, &self.0) {
            Ok(()) => {
                let mut response = Response::new(Body::full(bytes));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(err) => {
                tracing::error!("a response could not be serialised to JSON: {err}");
                super::internal_error()
            }
        }
    }

    /// `application/json` with the schema of `T` as it serialises.
    fn describe_response(doc: &mut OperationDoc) {
        doc.returns(ReturnDoc::Body {
            media_type: "application/json",
            schema: Some(portico_openapi::doc_schema_for::<T>(true)),
        });
    }
}

impl<T: Serialize + JsonSchema> Json<T> {
    /// This JSON with another status, e.g. `Json(item).with_status(StatusCode::CREATED)`.
    pub fn with_status(self, status: StatusCode) -> Response {
        let mut response = self.into_response();
        *response.status_mut() = status;
        response
    }
}
