//! [`Query`]: parameters from the query string.

use std::borrow::Cow;

use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use portico_openapi::{OperationDoc, ParamDoc, Source};

use super::{FromRequestParts, Rejection, RequestContext};
use crate::context::RouteSpec;
use crate::validate::{self, Inputs};

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

/// Decoded `name=value` pairs (a query string, a urlencoded form), looked up by name.
pub(crate) struct Pairs<'a> {
    /// A query string with nothing to decode, read in place (no allocation).
    plain: Option<&'a str>,
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// As FastAPI reads forms: an empty value counts as absent.
    skip_empty: bool,
}

impl<'a> Pairs<'a> {
    /// The pairs of a query string.
    pub(crate) fn query(query: Option<&'a str>) -> Self {
        let Some(query) = query else {
            return Pairs {
                plain: None,
                pairs: Vec::new(),
                skip_empty: false,
            };
        };
        if !query.bytes().any(|b| b == b'%' || b == b'+') {
            return Pairs {
                plain: Some(query),
                pairs: Vec::new(),
                skip_empty: false,
            };
        }
        let pairs = split(query)
            .map(|(key, value)| (decode_component(key), decode_component(value)))
            .collect();
        Pairs {
            plain: None,
            pairs,
            skip_empty: false,
        }
    }

    /// Pairs of a form, where empty values count as absent.
    pub(crate) fn form(pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> Self {
        Pairs {
            plain: None,
            pairs,
            skip_empty: true,
        }
    }
}

/// The raw `key=value` pairs of a query string.
fn split(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Decodes one component of a query string as browsers encode forms (`+` is a space, then
/// percent-escapes; invalid UTF-8 replaced), borrowing it when there is nothing to decode: the
/// common case, and the fast one.
fn decode_component(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let spaced: Vec<u8> = raw
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Cow<'_, [u8]> = percent_encoding::percent_decode(&spaced).into();
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

impl Inputs for Pairs<'_> {
    fn values<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s str> {
        let plain = self.plain.into_iter().flat_map(split);
        let decoded = self.pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        plain
            .chain(decoded)
            .filter(move |(k, v)| *k == name && !(self.skip_empty && v.is_empty()))
            .map(|(_, v)| v)
    }

    fn last<'s>(&'s self, name: &str) -> Option<&'s str> {
        // The common case, a plain query string, scanned without splitting each pair.
        let Some(plain) = self.plain else {
            return self.values(name).last();
        };
        let mut found = None;
        for pair in plain.split('&') {
            if let Some(rest) = pair.strip_prefix(name) {
                if rest.is_empty() {
                    found = Some(rest);
                } else if let Some(value) = rest.strip_prefix('=') {
                    found = Some(value);
                }
            }
        }
        found
    }

    fn names(&self) -> Vec<Cow<'_, str>> {
        let plain = self.plain.into_iter().flat_map(split);
        let decoded = self.pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        let mut names: Vec<Cow<'_, str>> = Vec::new();
        for (name, value) in plain.chain(decoded) {
            let given = !self.skip_empty || !value.is_empty();
            if given && !names.iter().any(|n| n == name) {
                names.push(Cow::Borrowed(name));
            }
        }
        names
    }

    /// A query's parameters with their values; none for a form, whose model reports the
    /// fields it received.
    fn received(&self) -> Vec<(Cow<'_, str>, Vec<&str>)> {
        if self.skip_empty {
            return Vec::new();
        }
        self.names()
            .into_iter()
            .map(|name| {
                let values = self.values(&name).collect();
                (name, values)
            })
            .collect()
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> FromRequestParts for Query<T> {
    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &RequestContext,
    ) -> Result<Self, Rejection> {
        let pairs = Pairs::query(parts.uri.query());
        validate::from_inputs::<T, _>(
            &ctx.shapes::<T>(),
            &pairs,
            vec![Source::Query.as_str().into()],
        )
        .map(Query)
        .map_err(Rejection::Invalid)
    }

    fn describe(doc: &mut OperationDoc) {
        describe_fields::<T>(doc, Source::Query, "Query", |name| name.to_owned());
    }

    fn spec(spec: &mut RouteSpec) {
        spec.validates::<T>();
    }
}

/// Documents each field of the struct `T` as a parameter of `source`, named by `name_of`.
pub(crate) fn describe_fields<T: JsonSchema>(
    doc: &mut OperationDoc,
    source: Source,
    extractor: &str,
    name_of: impl Fn(&str) -> String,
) {
    let schema = portico_openapi::schema_for::<T>();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        doc.problem(format!(
            "{extractor}<{}> needs a struct whose fields are the parameters",
            std::any::type_name::<T>()
        ));
        return;
    }
    for (name, mut prop, required) in portico_openapi::properties(&schema) {
        // Read and validated, but not documented (`include_in_schema = false`): the operation
        // still answers 422, so it still documents the 422.
        if prop.get(validate::HIDDEN) == Some(&Value::Bool(true)) {
            doc.validates = true;
            continue;
        }
        // A header named as written: its name stays, the marker leaves the document.
        let verbatim = prop
            .as_object_mut()
            .and_then(|map| map.remove(validate::VERBATIM))
            .is_some();
        let name = if verbatim { name } else { name_of(&name) };
        doc.param(ParamDoc::new(name, source, prop).required(required));
    }
}
