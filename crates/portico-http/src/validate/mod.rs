//! Validation that reports **every** invalid input with its location, which serde alone cannot
//! do: it stops at the first error.
//!
//! Each input type's JSON Schema (from schemars, the same one the OpenAPI document shows) is
//! compiled once into [`Shapes`]. A JSON body is checked against it, collecting every type error,
//! missing field and constraint violation (bounds, lengths, patterns) with its path, applying
//! Pydantic's lax conversions on the way; string inputs (query, path, headers, cookies, forms)
//! are first arranged into an object by the schema, then checked the same way. Only a value that
//! passes is handed to serde. Valid input whose type declares no constraints takes a fast path
//! straight through serde.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{PoisonError, RwLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
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

/// The JSON Schema of `T` as inputs are validated (and documented): draft 2020-12, describing
/// what deserialises.
pub fn schema_for<T: JsonSchema + ?Sized>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// The JSON Schema of `T` as the OpenAPI document shows a body: a `$ref` to the type's own
/// definition when it is a named type (a struct or an enum), the schema itself otherwise, with
/// the definitions it refers to under `$defs`. `output` describes what serialises (a response)
/// rather than what deserialises (a request).
pub fn doc_schema_for<T: JsonSchema + ?Sized>(output: bool) -> Value {
    let settings = SchemaSettings::draft2020_12();
    let settings = if output {
        settings.for_serialize()
    } else {
        settings.for_deserialize()
    };
    let mut generator = settings.into_generator();
    let schema = generator.subschema_for::<T>();
    let defs = generator.take_definitions(true);
    let mut value = schema.to_value();
    if !defs.is_empty() {
        match &mut value {
            Value::Object(map) => {
                map.insert("$defs".to_owned(), Value::Object(defs));
            }
            other => {
                // `true` / `false` schemas carry no keywords; put them in a wrapper.
                *other = json!({ "allOf": [other.clone()], "$defs": defs });
            }
        }
    }
    value
}

/// Hashes a `TypeId` by taking the bits it already hashes to: it is a hash itself.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type ById = HashMap<TypeId, &'static Shapes, BuildHasherDefault<IdHasher>>;

thread_local! {
    static LOCAL: RefCell<ById> = RefCell::new(ById::default());
}

static GLOBAL: RwLock<Option<ById>> = RwLock::new(None);

/// The compiled shapes of `T`, compiled on first use and kept for the life of the process (one
/// per input type). A per-thread table in front keeps the shared one out of the request path.
///
/// A schema that cannot be compiled (an invalid `pattern`, say) is logged once and validates
/// nothing; serde still checks the types.
pub(crate) fn shapes_of<T: JsonSchema + 'static>() -> &'static Shapes {
    let id = TypeId::of::<T>();
    if let Ok(Some(found)) = LOCAL.try_with(|local| local.borrow().get(&id).copied()) {
        return found;
    }
    let found = GLOBAL
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|g| g.get(&id).copied());
    let shapes = found.unwrap_or_else(|| {
        let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
        let table = global.get_or_insert_with(ById::default);
        *table.entry(id).or_insert_with(|| {
            let compiled = Shapes::compile(&schema_for::<T>()).unwrap_or_else(|err| {
                tracing::error!(
                    r#type = std::any::type_name::<T>(),
                    "cannot validate with its schema: {err}"
                );
                Shapes::compile(&Value::Bool(true))
                    .unwrap_or_else(|_| unreachable!("`true` compiles"))
            });
            Box::leak(Box::new(compiled))
        })
    });
    let _ = LOCAL.try_with(|local| local.borrow_mut().insert(id, shapes));
    shapes
}

/// Checks that `T`'s schema compiles, for the moment a route is registered.
pub(crate) fn check_schema<T: JsonSchema + ?Sized>() -> Result<(), String> {
    Shapes::compile(&schema_for::<T>()).map(drop)
}

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

/// Parses a JSON document into `T`, reporting every invalid input under `loc`.
pub(crate) fn from_json_bytes<T: DeserializeOwned + JsonSchema + 'static>(
    bytes: &[u8],
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    let shapes = shapes_of::<T>();
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

/// Checks named string inputs against `T`'s shapes without building a `T`: the errors only.
pub(crate) fn check_inputs<T: JsonSchema + 'static, I: Inputs>(
    inputs: &I,
    loc: Vec<LocPart>,
) -> Vec<ErrorItem> {
    let shapes = shapes_of::<T>();
    let lookup = |name: &str| inputs.values(name).collect::<Vec<_>>();
    let mut value = Value::Object(params_object(shapes, lookup).unwrap_or_default());
    let mut checker = Checker::new(shapes, Origin::Params, loc);
    checker.check_root(&mut value);
    checker.into_errors()
}

/// Builds `T` from named string inputs (repeated names make lists), reporting every invalid
/// input under `loc`. Valid input of a type without constraints is deserialised straight from
/// the strings; anything else goes through the checker.
pub(crate) fn from_inputs<T: DeserializeOwned + JsonSchema + 'static, I: Inputs>(
    inputs: &I,
    loc: Vec<LocPart>,
) -> Result<T, Vec<ErrorItem>> {
    let shapes = shapes_of::<T>();
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
