//! [`Query`]: parameters from the query string.

use std::borrow::Cow;

use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{FromRequestParts, OperationDoc, ParamDoc, Rejection, RequestContext};
use crate::error::Source;
use crate::validate;

/// Query parameters, converted and validated into the struct `T` (FastAPI's query parameter
/// models): each field is a parameter; an `Option` or a `#[serde(default)]` field is optional;
/// a `Vec` field collects a repeated key (`?tag=a&tag=b`). Unknown keys are ignored.
///
/// Every invalid parameter is reported in the 422, with `loc` `["query", name]`.
///
/// # Examples
///
/// ```
/// use portico_http::{Json, Query};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Paging {
///     #[serde(default)]
///     skip: u32,
///     #[schemars(range(max = 100))]
///     limit: Option<u32>,
///     tag: Option<Vec<String>>,
/// }
///
/// async fn list(Query(paging): Query<Paging>) -> Json<u32> {
///     Json(paging.skip + paging.limit.unwrap_or(10))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

/// The query string as decoded pairs.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
        .unwrap_or_default()
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Query<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        _ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let pairs = pairs(parts.uri.query());
        let lookup = |name: &str| {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_ref())
                .collect::<Vec<_>>()
        };
        validate::from_params::<T>(lookup, vec![Source::Query.as_str().into()])
            .map(Query)
            .map_err(Rejection::Invalid)
    }

    fn describe(doc: &mut OperationDoc) {
        describe_fields::<T>(doc, Source::Query, "Query", |name| name.to_owned());
    }
}

/// Documents each field of the struct `T` as a parameter of `source`, named by `name_of`.
pub(crate) fn describe_fields<T: JsonSchema>(
    doc: &mut OperationDoc,
    source: Source,
    extractor: &str,
    name_of: impl Fn(&str) -> String,
) {
    let schema = validate::schema_for::<T>();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        doc.problem(format!(
            "{extractor}<{}> needs a struct whose fields are the parameters",
            std::any::type_name::<T>()
        ));
        return;
    }
    if let Err(err) = validate::check_schema::<T>() {
        doc.problem(format!(
            "the schema of {} cannot be used: {err}",
            std::any::type_name::<T>()
        ));
    }
    for (name, prop, required) in properties(&schema) {
        doc.param(ParamDoc {
            name: name_of(&name),
            source,
            schema: prop,
            required,
        });
    }
}

/// The properties of an object schema: name, schema, required.
pub(crate) fn properties(schema: &Value) -> Vec<(String, Value, bool)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| {
                    (
                        name.clone(),
                        prop.clone(),
                        required.contains(&name.as_str()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
