//! Validation that reports **every** invalid input with its location, which serde alone cannot
//! do: it stops at the first error.
//!
//! Each input type's JSON Schema (from schemars, the same one the OpenAPI document shows) is
//! compiled once into [`Shapes`], when the route that reads it is built (see
//! [`RouteSpec::validates`](crate::RouteSpec::validates)). A JSON body is checked against it, collecting every type error,
//! missing field and constraint violation (bounds, lengths, patterns) with its path, applying
//! Pydantic's lax conversions on the way; string inputs (query, path, headers, cookies, forms)
//! are first arranged into an object by the schema, then checked the same way. Only a value that
//! passes is handed to serde. Valid input takes a fast path straight through serde: string
//! inputs whose type declares no constraints (`fast`), and every JSON body, whose constraints
//! are checked as serde reads it (`stream`).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{ErrorItem, LocPart};

mod check;
mod fast;
mod shape;
mod stream;
mod temporal;

pub(crate) use check::{Checker, Origin, params_object};
use fast::Fields;
pub(crate) use fast::{Inputs, Many, Text};
pub(crate) use shape::{FIELDS, HIDDEN, Shape, Shapes, VERBATIM};

/// The 422 item for a JSON syntax error: `loc` ends with the byte offset, as FastAPI's does.
pub(crate) fn json_invalid(
    err: &serde_json::Error,
    bytes: &[u8],
    mut loc: Vec<LocPart>,
) -> ErrorItem {
    let offset = offset_of(bytes, err.line(), err.column());
    loc.push(LocPart::Index(offset));
    let message = err.to_string();
    let message = match message.rfind(" at line ") {
        Some(cut) => &message[..cut],
        None => &message,
    };
    ErrorItem::new("json_invalid", loc, "JSON decode error", json!({}))
        .with_ctx(json!({ "error": python_json_message(message, bytes, offset) }))
}

/// serde_json's description of a syntax error in `bytes`, found at `offset`, as Python's
/// `json` module words it (what FastAPI's `ctx.error` says); others as they are.
fn python_json_message<'m>(serde: &'m str, bytes: &[u8], offset: usize) -> &'m str {
    const PROPERTY: &str = "Expecting property name enclosed in double quotes";
    const VALUE: &str = "Expecting value";
    const COMMA: &str = "Expecting ',' delimiter";
    // At the end of the input: what the input ended on.
    let last = bytes
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    // After a trailing comma: what it closes.
    let closing = bytes
        .get(offset.saturating_sub(1)..)
        .and_then(|rest| rest.iter().find(|b| matches!(b, b'}' | b']')))
        .copied();
    match serde {
        "key must be a string" => PROPERTY,
        "expected value" | "expected ident" | "invalid number" | "EOF while parsing a value" => {
            VALUE
        }
        "expected `,` or `}`" | "expected `,` or `]`" => COMMA,
        "expected `:`" => "Expecting ':' delimiter",
        "trailing characters" => "Extra data",
        "invalid escape" => "Invalid \\escape",
        "EOF while parsing a string" => "Unterminated string starting at",
        "trailing comma" => match closing {
            Some(b'}') => PROPERTY,
            _ => VALUE,
        },
        "EOF while parsing an object" => match last {
            Some(b'{' | b',') => PROPERTY,
            Some(b':') => VALUE,
            _ => COMMA,
        },
        "EOF while parsing a list" => match last {
            Some(b'[' | b',') => VALUE,
            _ => COMMA,
        },
        other if other.starts_with("control character") => "Invalid control character at",
        other => other,
    }
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

/// Deserialises a value that passed the schema. A type whose `Deserialize` checks more than its
/// schema says (Pydantic's `AfterValidator`, a `TryFrom`) can still refuse it: that is a 422
/// `value_error` at the place of the refused input, with that input, as Pydantic reports it.
fn deserialize_located<T: DeserializeOwned>(
    value: Value,
    mut loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    // The fast way first; the path is tracked only to report a refusal.
    let first = match T::deserialize(&value) {
        Ok(done) => return Ok(done),
        Err(err) => err,
    };
    let located = serde_path_to_error::deserialize::<_, T>(&value).err();
    let message = located
        .as_ref()
        .map_or_else(|| first.to_string(), |err| err.inner().to_string());
    let mut input = &value;
    for segment in located.iter().flat_map(|err| err.path().iter()) {
        match segment {
            serde_path_to_error::Segment::Map { key } => {
                input = input.get(key.as_str()).unwrap_or(&Value::Null);
                loc.push(LocPart::Key(Cow::Owned(key.clone())));
            }
            serde_path_to_error::Segment::Seq { index } => {
                input = input.get(*index).unwrap_or(&Value::Null);
                loc.push(LocPart::Index(*index));
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    Err(vec![
        ErrorItem::new(
            "value_error",
            loc,
            format!("Value error, {message}"),
            input.clone(),
        )
        .with_ctx(json!({ "error": {} })),
    ])
}

/// Parses a JSON document into `T`, whose shapes are `shapes`, reporting every invalid input
/// under `loc`.
pub(crate) fn from_json_bytes<T: DeserializeOwned>(
    shapes: &Shapes,
    bytes: &[u8],
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    // One pass for a valid body (constraints checked as serde reads it); the checker, which
    // reads it again, for any other.
    if let Some(value) = stream::from_slice::<T>(shapes, bytes) {
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
    deserialize_located(value, loc)
}

/// Checks named string inputs against `shapes` without building a value: the errors only.
pub(crate) fn check_inputs<I: Inputs>(
    shapes: &Shapes,
    inputs: &I,
    loc: Vec<LocPart>,
) -> Vec<ErrorItem> {
    let lookup = |name: &str| inputs.values(name).collect::<Vec<_>>();
    let mut map = params_object(shapes, lookup).unwrap_or_default();
    let input = model_input(shapes, inputs, &map);
    add_extras(shapes, inputs, &mut map);
    let mut value = Value::Object(map);
    let mut checker = Checker::new(shapes, Origin::Params, loc).with_model_input(input);
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
    let mut map = params_object(shapes, |name| inputs.values(name).collect()).unwrap_or_default();
    let input = model_input(shapes, inputs, &map);
    add_extras(shapes, inputs, &mut map);
    from_params_object::<T>(shapes, map, loc, input)
}

/// What a parameter model that misses a field reports as its input, as FastAPI builds it: the
/// fields received, the defaults of those absent that have one, and every other input under
/// the name it was sent with (one value, or the list of a repeated one). `None` when no field
/// is missing, when the root is not a model, or when the source does not list its inputs
/// (the checker then reports the fields received).
fn model_input<I: Inputs>(
    shapes: &Shapes,
    inputs: &I,
    fields: &serde_json::Map<String, Value>,
) -> Option<Value> {
    let Shape::Object { props, .. } = shapes.get(shapes.root) else {
        return None;
    };
    let missing = props
        .iter()
        .any(|prop| prop.required && !fields.contains_key(&prop.name));
    if !shapes.model || !missing {
        return None;
    }
    let received = inputs.received();
    if received.is_empty() {
        return None;
    }
    let mut input = fields.clone();
    for prop in props {
        if let Some(default) = prop.default.as_ref().filter(|d| !d.is_null())
            && !input.contains_key(&prop.name)
        {
            input.insert(prop.name.clone(), default.clone());
        }
    }
    for (name, values) in received {
        if props.iter().any(|prop| inputs.reads(&prop.name, &name)) {
            continue;
        }
        let value = match values.as_slice() {
            [one] => Value::String((*one).to_owned()),
            many => Value::Array(
                many.iter()
                    .map(|v| Value::String((*v).to_owned()))
                    .collect(),
            ),
        };
        input.insert(name.into_owned(), value);
    }
    Some(Value::Object(input))
}

/// The inputs a model that forbids extras does not have, added to its object so that the
/// checker reports each (`extra_forbidden`), with its last value.
fn add_extras<I: Inputs>(shapes: &Shapes, inputs: &I, map: &mut serde_json::Map<String, Value>) {
    let Shape::Object {
        props,
        extra: shape::Extra::Forbid,
    } = shapes.get(shapes.root)
    else {
        return;
    };
    for name in inputs.names() {
        if !props.iter().any(|prop| prop.name == name)
            && let Some(value) = inputs.last(&name)
        {
            map.insert(name.into_owned(), Value::String(value.to_owned()));
        }
    }
}

/// The checker's way of [`from_inputs`]: every error, with its location.
#[cfg(test)]
fn from_params<'v, T: DeserializeOwned>(
    shapes: &Shapes,
    lookup: impl Fn(&str) -> Vec<&'v str>,
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    let map = params_object(shapes, lookup).unwrap_or_default();
    from_params_object(shapes, map, loc, None)
}

/// Checks the object made of string inputs and deserialises it.
fn from_params_object<T: DeserializeOwned>(
    shapes: &Shapes,
    map: serde_json::Map<String, Value>,
    loc: Vec<LocPart>,
    model_input: Option<Value>,
) -> Result<T, Vec<ErrorItem>> {
    let mut value = Value::Object(map);
    let mut checker =
        Checker::new(shapes, Origin::Params, loc.clone()).with_model_input(model_input);
    checker.check_root(&mut value);
    let errors = checker.into_errors();
    if !errors.is_empty() {
        return Err(errors);
    }
    deserialize_located(value, loc)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod stream_tests;
