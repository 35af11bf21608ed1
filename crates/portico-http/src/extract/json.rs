//! The JSON body parameter, [`Json`](crate::Json).

use std::future::Future;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use portico_openapi::{BodyDoc, OperationDoc, Source};

use super::{FromRequest, Rejection, RequestContext};
use crate::context::{ContentTypeCheck, RouteSpec};
use crate::error::{ErrorItem, HttpError};
use crate::response::Json;
use crate::validate;

/// Whether a content type is JSON: `application/json` or `application/<x>+json`.
pub(crate) fn is_json(parts: &Parts) -> bool {
    let Some(value) = parts.headers.get(CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether the request has no body: as its head says (`Content-Length: 0`, or no length and no
/// chunks) for one off the wire, as the body itself says for one built in memory (by a
/// middleware, a test or a tower service in front).
pub(crate) fn has_no_body(parts: &Parts, body: &crate::Body) -> bool {
    if let Some(empty) = body.known_empty() {
        return empty;
    }
    match parts.headers.get(CONTENT_LENGTH) {
        Some(len) => len.as_bytes() == b"0",
        None => {
            !parts.headers.contains_key(TRANSFER_ENCODING) && parts.version < http::Version::HTTP_2
        }
    }
}

/// The 422 for a request without the body it needs: `missing` at `["body"]`, as FastAPI.
fn missing_body() -> Rejection {
    Rejection::Invalid(vec![ErrorItem::missing(
        vec![Source::Body.as_str().into()],
        Value::Null,
    )])
}

/// The 415 for a body whose content type the parameter does not read.
pub(crate) fn unsupported(expected: &str) -> Rejection {
    HttpError::new(http::StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .detail(format!(
            "Unsupported Media Type: the request body must be {expected}"
        ))
        .into()
}

/// How a JSON parameter reads a body, by its head and the route's check (decided before the
/// future is made, so that the future holds one byte for it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadAs {
    Json,
    /// As FastAPI hands a body of another type to the model: a string.
    Text,
    /// No body: 422 `missing`.
    Missing,
    /// A body of another type under [`ContentTypeCheck::Refuse`]: 415.
    Refuse,
}

pub(super) fn read_as(parts: &Parts, body: &crate::Body, check: ContentTypeCheck) -> ReadAs {
    if has_no_body(parts, body) {
        return ReadAs::Missing;
    }
    if is_json(parts) {
        return ReadAs::Json;
    }
    match (check, parts.headers.contains_key(CONTENT_TYPE)) {
        (ContentTypeCheck::Refuse, _) => ReadAs::Refuse,
        (ContentTypeCheck::Lax, false) => ReadAs::Json,
        _ => ReadAs::Text,
    }
}

/// The value of a JSON parameter whose request has no body: `None` for a type that accepts
/// `null` (an optional body), a 422 `missing` otherwise.
#[allow(
    clippy::result_large_err,
    reason = "the extractor's own result: a rejection is a response"
)]
fn absent<T: DeserializeOwned + JsonSchema + Send + 'static>(
    ctx: &RequestContext,
) -> Result<Json<T>, Rejection> {
    validate::from_json_value::<T>(&ctx.shapes::<T>(), Value::Null, Vec::new())
        .map(Json)
        .map_err(|_| missing_body())
}

/// Whether a schema (as the document shows it) allows `null`: an optional body.
fn accepts_null(schema: &Value) -> bool {
    let null = Value::from("null");
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "null" => return true,
        Some(Value::Array(kinds)) if kinds.contains(&null) => return true,
        _ => {}
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().any(accepts_null))
    })
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequest for Json<T> {
    /// Reads the body as JSON and validates it into `T`, reporting every invalid field under
    /// `["body", ...]`.
    ///
    /// * No body at all: 422 `missing` at `["body"]`, as FastAPI; unless `T` accepts `null`
    ///   (`Json<Option<Item>>`, FastAPI's `item: Item | None = None`), which is then `None`.
    /// * A body whose `Content-Type` is not JSON (or that has none): validated as a string, as
    ///   FastAPI does, so a struct answers 422 `model_attributes_type` at `["body"]`. The
    ///   app's, a router's or the route's [`ContentTypeCheck`] can read a body without a
    ///   `Content-Type` as JSON, or answer 415 instead.
    /// * Malformed JSON: 422 `json_invalid` at `["body", <byte offset>]`.
    /// * More than the body limit (2 MiB by default): 413.
    fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        // The head is checked before the future is made, so that the future holds the body
        // alone (a smaller allocation per request).
        let (parts, body) = request.into_parts();
        let read = read_as(&parts, &body, ctx.content_type_check());
        drop(parts);
        let limit = ctx.body_limit();
        async move {
            match read {
                ReadAs::Missing => return absent::<T>(ctx),
                ReadAs::Refuse => return Err(unsupported("application/json")),
                ReadAs::Json | ReadAs::Text => {}
            }
            let bytes = body.collect_limited(limit).await?;
            if bytes.is_empty() {
                return absent::<T>(ctx);
            }
            let loc = vec![Source::Body.as_str().into()];
            let shapes = ctx.shapes::<T>();
            match read {
                ReadAs::Json | ReadAs::Missing | ReadAs::Refuse => {
                    validate::from_json_bytes::<T>(&shapes, &bytes, loc).map_err(|errors| {
                        // The body as received, for exception handlers (`exc.body`): parsed
                        // again, on this failing path only. Broken JSON has none.
                        match serde_json::from_slice::<Value>(&bytes) {
                            Ok(body) => Rejection::InvalidBody { errors, body },
                            Err(_) => Rejection::Invalid(errors),
                        }
                    })
                }
                ReadAs::Text => {
                    let text = Value::String(String::from_utf8_lossy(&bytes).into_owned());
                    validate::from_json_value::<T>(&shapes, text.clone(), loc)
                        .map_err(|errors| Rejection::InvalidBody { errors, body: text })
                }
            }
            .map(Json)
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let schema = portico_openapi::doc_schema_for::<T>(false);
        let required = !accepts_null(&schema);
        doc.body(BodyDoc::new("application/json", schema, required));
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}
