//! [`Path`]: parameters from the route template.

use std::borrow::Cow;

use http::request::Parts;
use percent_encoding::percent_decode_str;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use portico_openapi::{OperationDoc, ParamDoc, Source};

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::error::LocPart;
use crate::validate::{self, Checker, Inputs, Many, Origin, Shape, Text};

/// Path parameters, from the route template (`/items/{item_id}`), converted and validated
/// into `T`:
///
/// * a single value when the route has one parameter: `Path<u64>`;
/// * a tuple, in the template's order: `Path<(u64, String)>`;
/// * a struct whose fields are named after the parameters.
///
/// An invalid value answers 422 with `loc` `["path", "item_id"]`. Values are percent-decoded.
///
/// # Examples
///
/// ```
/// use portico_http::{Json, Path};
///
/// // On `/users/{user_id}/items/{item_id}`:
/// async fn read(Path((user_id, item_id)): Path<(u64, String)>) -> Json<(u64, String)> {
///     Json((user_id, item_id))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

fn decode(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}

/// Path parameters, looked up by name.
struct PathInputs<'a>(Vec<(&'a str, Cow<'a, str>)>);

impl Inputs for PathInputs<'_> {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Path<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let path = parts.uri.path();
        let shapes = ctx.shapes::<T>();
        let shapes = &*shapes;
        let root = shapes.get(shapes.root);
        if !shapes.has_constraints && !matches!(root, Shape::Object { .. }) {
            // The fast path for one value or a tuple: straight from the decoded strings.
            let fast = match root {
                Shape::Array { .. } => {
                    let values: Vec<Cow<'_, str>> =
                        ctx.raw_params(path).map(|(_, raw)| decode(raw)).collect();
                    T::deserialize(Many(values.iter().map(AsRef::as_ref).collect())).ok()
                }
                _ => match ctx.raw_params(path).next() {
                    Some((_, raw)) => T::deserialize(Text(&decode(raw))).ok(),
                    None => None,
                },
            };
            if let Some(value) = fast {
                return Ok(Path(value));
            }
        }
        let params = PathInputs(
            ctx.raw_params(path)
                .map(|(name, raw)| (name, decode(raw)))
                .collect(),
        );
        let value = match root {
            Shape::Object { .. } => {
                return validate::from_inputs::<T, _>(
                    shapes,
                    &params,
                    vec![Source::Path.as_str().into()],
                )
                .map(Path)
                .map_err(Rejection::Invalid);
            }
            Shape::Array { .. } => Value::Array(
                params
                    .0
                    .iter()
                    .map(|(_, v)| Value::String(v.to_string()))
                    .collect(),
            ),
            _ => match params.0.as_slice() {
                [(_, value)] => Value::String(value.to_string()),
                _ => {
                    tracing::error!(route = %ctx.route(), "Path<{}> needs exactly one path parameter", std::any::type_name::<T>());
                    return Err(Rejection::Response(crate::response::internal_error()));
                }
            },
        };
        let params = params.0;
        // Tuples and single values are checked in place; their errors name the parameter.
        let mut value = value;
        let mut checker = Checker::new(shapes, Origin::Params, vec![Source::Path.as_str().into()]);
        checker.check_root(&mut value);
        let mut errors = checker.into_errors();
        if !errors.is_empty() {
            for error in &mut errors {
                let name = match error.loc.get(1) {
                    Some(LocPart::Index(i)) => params.get(*i).map(|(n, _)| *n),
                    None => params.first().map(|(n, _)| *n),
                    _ => None,
                };
                match (name, error.loc.len()) {
                    (Some(name), 1) => error.loc.push(name.to_owned().into()),
                    (Some(name), _) => error.loc[1] = name.to_owned().into(),
                    _ => {}
                }
            }
            return Err(Rejection::Invalid(errors));
        }
        T::deserialize(&value).map(Path).map_err(|err| {
            Rejection::Invalid(vec![crate::ErrorItem::new(
                "value_error",
                vec![Source::Path.as_str().into()],
                format!("Value error, {err}"),
                value,
            )])
        })
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }

    fn describe(doc: &mut OperationDoc) {
        let schema = portico_openapi::schema_for::<T>();
        let names = doc.path_params.clone();
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                for (name, prop, _required) in portico_openapi::properties(&schema) {
                    if !names.contains(&name) {
                        doc.problem(format!(
                            "Path<{}> has a field `{name}` that the route does not have",
                            std::any::type_name::<T>()
                        ));
                    }
                    doc.param(ParamDoc::new(name, Source::Path, prop).required(true));
                }
            }
            Some("array") => {
                let items = schema
                    .get("prefixItems")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if items.len() != names.len() {
                    doc.problem(format!(
                        "Path<{}> has {} values but the route has {} parameters",
                        std::any::type_name::<T>(),
                        items.len(),
                        names.len()
                    ));
                }
                for (name, item) in names.iter().zip(items) {
                    doc.param(ParamDoc::new(name.clone(), Source::Path, item).required(true));
                }
            }
            _ => match names.as_slice() {
                [name] => {
                    doc.param(ParamDoc::new(name.clone(), Source::Path, schema).required(true))
                }
                _ => doc.problem(format!(
                    "Path<{}> takes one parameter but the route has {}; use a tuple or a struct",
                    std::any::type_name::<T>(),
                    names.len()
                )),
            },
        }
    }
}
