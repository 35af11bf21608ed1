//! [`Embed`]: a JSON body whose keys are parameters.

use std::future::Future;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use portico_openapi::{BodyDoc, OperationDoc, Source};

use super::json::{ReadAs, read_as, unsupported};
use super::{FromRequest, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::error::ErrorItem;
use crate::validate;

/// A JSON body that is an object whose keys are parameters: FastAPI's several body parameters
/// (`item: Item, user: User`), or one declared with `Body(embed=True)`. Each field of the
/// struct `T` is one parameter, validated on its own as FastAPI validates it: a request with
/// no body, or with a body that is not an object, has each required parameter `missing` at
/// `["body", name]`, and a missing parameter's `input` is `null`, not the whole body. The
/// document names the object `Body_<operationId>`, as FastAPI does.
///
/// `#[portico::handler]` writes the struct: `#[body] item: Item, #[body] user: User`, or
/// `#[body(embed)] item: Item` for one parameter.
///
/// # Examples
///
/// ```
/// use portico_http::{Embed, Json};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Item {
///     name: String,
/// }
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Update {
///     item: Item,
///     importance: u32,
/// }
///
/// // The body `{"item": {"name": "pot"}, "importance": 5}`.
/// async fn update(Embed(update): Embed<Update>) -> Json<Item> {
///     Json(update.item)
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Embed<T>(pub T);

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequest for Embed<T> {
    /// Reads the body as [`Json`](crate::Json) does (the same content-type check, limit and
    /// syntax errors), then validates each parameter as FastAPI does.
    fn from_request(
        request: crate::Request,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Self, Rejection>> + Send {
        let (parts, body) = request.into_parts();
        let read = read_as(&parts, &body, ctx.content_type_check());
        drop(parts);
        let limit = ctx.body_limit();
        async move {
            if read == ReadAs::Refuse {
                return Err(unsupported("application/json"));
            }
            let bytes = match read {
                ReadAs::Missing => Default::default(),
                _ => body.collect_limited(limit).await?,
            };
            let loc = vec![Source::Body.as_str().into()];
            let received = match read {
                _ if bytes.is_empty() => None,
                ReadAs::Text => Some(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
                _ => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(value) => Some(value),
                    // Broken JSON: the same 422 `json_invalid` as `Json`'s.
                    Err(err) => {
                        let error = validate::json_invalid(&err, &bytes, loc);
                        return Err(Rejection::Invalid(vec![error]));
                    }
                },
            };
            // What is not an object holds no parameter: each is missing.
            let object = match &received {
                Some(Value::Object(map)) => Value::Object(map.clone()),
                _ => Value::Object(Map::new()),
            };
            validate::from_json_value::<T>(&ctx.shapes::<T>(), object, loc)
                .map(Embed)
                .map_err(|mut errors| {
                    for error in &mut errors {
                        missing_on_its_own(error);
                    }
                    match received {
                        Some(body) => Rejection::InvalidBody { errors, body },
                        None => Rejection::Invalid(errors),
                    }
                })
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let schema = portico_openapi::schema_for::<T>();
        doc.body(BodyDoc::new("application/json", schema, true).named_by_operation());
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}

/// A parameter missing from the body is reported as FastAPI reports it: with `input` `null`,
/// since each parameter is validated on its own (not the whole body, as a model's field).
fn missing_on_its_own(error: &mut ErrorItem) {
    if error.kind == "missing" && error.loc.len() == 2 {
        error.input = Value::Null;
    }
}
