//! Validation that reports **every** invalid input with its location, which serde alone cannot
//! do: it stops at the first error.
//!
//! Each input type's JSON Schema (from schemars, the same one the OpenAPI document shows) is
//! compiled once into [`Shapes`], when the route that reads it is built (see
//! [`RouteSpec::validates`](crate::RouteSpec::validates)). A JSON body is checked against it, collecting every type error,
//! missing field and constraint violation (bounds, lengths, patterns) with its path, applying
//! Pydantic's lax conversions on the way; string inputs (query, path, headers, cookies, forms)
//! are first arranged into an object by the schema, then checked the same way. Only a value that
//! passes is handed to serde. Valid input whose type declares no constraints takes a fast path
//! straight through serde.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{ErrorItem, LocPart};

mod check;
mod fast;
mod shape;

pub(crate) use check::{Checker, Origin, params_object};
use fast::Fields;
pub(crate) use fast::{Inputs, Many, Text};
pub(crate) use shape::{Shape, Shapes};

/// The 422 item for a JSON syntax error: `loc` ends with the byte offset, as FastAPI's does.
fn json_invalid(err: &serde_json::Error, bytes: &[u8], mut loc: Vec<LocPart>) -> ErrorItem {
    let offset = offset_of(bytes, err.line(), err.column());
    loc.push(LocPart::Index(offset));
    let message = err.to_string();
    let message = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    };
    ErrorItem::new("json_invalid", loc, "JSON decode error", json!({}))
        .with_ctx(json!({ "error": message }))
}

/// The byte offset of a 1-based line and column.
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, text) in bytes.split(|&b| b == b'\n').enumerate() {
        if index + 1 == line {
            return offset + column.saturating_sub(1).min(text.len());
        }
        offset += text.len() + 1;
    }
    bytes.len()
}

/// The 422 item for a value that passed the schema but that serde still refused (a type whose
/// `Deserialize` checks more than its schema says).
fn value_error(err: &serde_json::Error, loc: Vec<LocPart>, input: Value) -> ErrorItem {
    ErrorItem::new("value_error", loc, format!("Value error, {err}"), input)
        .with_ctx(json!({ "error": {} }))
}

/// Parses a JSON document into `T`, whose shapes are `shapes`, reporting every invalid input
/// under `loc`.
pub(crate) fn from_json_bytes<T: DeserializeOwned>(
    shapes: &Shapes,
    bytes: &[u8],
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    if !shapes.has_constraints
        && let Ok(value) = serde_json::from_slice::<T>(bytes)
    {
        return Ok(value);
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| vec![json_invalid(&err, bytes, loc.clone())])?;
    from_json_value(shapes, value, loc)
}

/// Checks a JSON value against `T`'s shapes and deserialises it.
pub(crate) fn from_json_value<T: DeserializeOwned>(
    shapes: &Shapes,
    mut value: Value,
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    let mut checker = Checker::new(shapes, Origin::Json, loc.clone());
    checker.check_root(&mut value);
    let errors = checker.into_errors();
    if !errors.is_empty() {
        return Err(errors);
    }
    T::deserialize(&value).map_err(|err| vec![value_error(&err, loc, value)])
}

/// Checks named string inputs against `shapes` without building a value: the errors only.
pub(crate) fn check_inputs<I: Inputs>(
    shapes: &Shapes,
    inputs: &I,
    loc: Vec<LocPart>,
) -> Vec<ErrorItem> {
    let lookup = |name: &str| inputs.values(name).collect::<Vec<_>>();
    let mut value = Value::Object(params_object(shapes, lookup).unwrap_or_default());
    let mut checker = Checker::new(shapes, Origin::Params, loc);
    checker.check_root(&mut value);
    checker.into_errors()
}

/// Builds `T` from named string inputs (repeated names make lists), reporting every invalid
/// input under `loc`. Valid input of a type without constraints is deserialised straight from
/// the strings; anything else goes through the checker.
pub(crate) fn from_inputs<T: DeserializeOwned, I: Inputs>(
    shapes: &Shapes,
    inputs: &I,
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    if !shapes.has_constraints
        && let Ok(value) = T::deserialize(Fields { shapes, inputs })
    {
        return Ok(value);
    }
    from_params::<T>(shapes, |name| inputs.values(name).collect(), loc)
}

/// The checker's way of [`from_inputs`]: every error, with its location.
fn from_params<'v, T: DeserializeOwned>(
    shapes: &Shapes,
    lookup: impl Fn(&str) -> Vec<&'v str>,
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    let map = params_object(shapes, lookup).unwrap_or_default();
    let mut value = Value::Object(map);
    let mut checker = Checker::new(shapes, Origin::Params, loc.clone());
    checker.check_root(&mut value);
    let errors = checker.into_errors();
    if !errors.is_empty() {
        return Err(errors);
    }
    T::deserialize(&value).map_err(|err| vec![value_error(&err, loc, value)])
}

#[cfg(test)]
mod tests;
