//! JSON Schemas of Rust types, as serde shapes them (through schemars): the same schema
//! validates a request's input and documents it.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The `patternProperties` patterns schemars writes for the keys of a map with integer keys
/// (`HashMap<i64, V>`, `BTreeMap<u32, V>`): Pydantic's `dict[int, V]`.
pub const INTEGER_KEY_PATTERNS: [&str; 2] = ["^-?\\d+$", "^\\d+$"];

/// The JSON Schema of `T` as inputs are validated (and documented): draft 2020-12, describing
/// what deserialises, with its definitions under `$defs`.
///
/// # Examples
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Item {
///     name: String,
///     price: Option<f64>,
/// }
///
/// let schema = portico_openapi::schema_for::<Item>();
/// assert_eq!(schema["type"], "object");
/// assert_eq!(schema["required"], serde_json::json!(["name"]));
/// ```
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
///
/// An output schema requires a field only when a request would have to send it too, as
/// Pydantic's does: an `Option` or defaulted field is optional in both, and a type read and
/// written alike has one schema (and one component) for both.
///
/// # Examples
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Item {
///     name: String,
/// }
///
/// let schema = portico_openapi::doc_schema_for::<Item>(false);
/// assert_eq!(schema["$ref"], "#/$defs/Item");
/// assert_eq!(schema["$defs"]["Item"]["type"], "object");
/// ```
pub fn doc_schema_for<T: JsonSchema + ?Sized>(output: bool) -> Value {
    let (mut value, mut defs) = schema_and_definitions::<T>(output);
    if output {
        let (input, input_defs) = schema_and_definitions::<T>(false);
        required_as_input(&mut value, &input);
        for (name, def) in &mut defs {
            if let Some(input) = input_defs.get(name) {
                required_as_input(def, input);
            }
        }
    }
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

/// `T`'s schema for the document, as it serialises (`output`) or deserialises, and the
/// definitions it refers to.
fn schema_and_definitions<T: JsonSchema + ?Sized>(output: bool) -> (Value, Map<String, Value>) {
    let settings = SchemaSettings::draft2020_12();
    let settings = if output {
        settings.for_serialize()
    } else {
        settings.for_deserialize()
    };
    let mut generator = settings.into_generator();
    let schema = generator.subschema_for::<T>();
    (schema.to_value(), generator.take_definitions(true))
}

/// Drops from the output object schema `output`'s `required` the fields that its input schema
/// `input` has but does not require. (A field only written, never read, stays required.)
fn required_as_input(output: &mut Value, input: &Value) {
    let Some(input_properties) = input.get("properties").and_then(Value::as_object) else {
        return;
    };
    let empty = Vec::new();
    let input_required = input
        .get("required")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if let Some(Value::Array(required)) = output.get_mut("required") {
        required.retain(|name| {
            input_required.contains(name)
                || !name
                    .as_str()
                    .is_some_and(|name| input_properties.contains_key(name))
        });
        if required.is_empty()
            && let Some(map) = output.as_object_mut()
        {
            map.remove("required");
        }
    }
}

/// The properties of an object schema, in order: name, schema, and whether it is required.
///
/// A property that refers to a definition of the root (`#/$defs/Kind`, an enum or a struct
/// field type) carries those definitions, and the ones they refer to, under its own `$defs`:
/// each property is a schema that stands alone, as a parameter's must.
///
/// ```
/// let schema = serde_json::json!({
///     "type": "object",
///     "properties": {"q": {"type": "string"}, "kind": {"$ref": "#/$defs/Kind"}},
///     "required": ["kind"],
///     "$defs": {"Kind": {"enum": ["a", "b"]}, "Unused": {"type": "string"}},
/// });
/// let props = portico_openapi::properties(&schema);
/// assert_eq!(props[0].0, "q");
/// assert!(!props[0].2 && props[1].2);
/// assert_eq!(props[1].1["$defs"], serde_json::json!({"Kind": {"enum": ["a", "b"]}}));
/// ```
pub fn properties(schema: &Value) -> Vec<(String, Value, bool)> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let defs = schema.get("$defs").and_then(Value::as_object);
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| {
                    let prop = match defs {
                        Some(defs) => with_definitions(prop, defs),
                        None => prop.clone(),
                    };
                    (name.clone(), prop, required.contains(&name.as_str()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `schema` with the definitions of `defs` it refers to, directly or through each other.
fn with_definitions(schema: &Value, defs: &Map<String, Value>) -> Value {
    let mut wanted: Vec<String> = Vec::new();
    let mut pending = vec![schema];
    while let Some(next) = pending.pop() {
        let mut found = Vec::new();
        references(next, &mut found);
        for name in found {
            if let Some(def) = defs.get(&name)
                && !wanted.contains(&name)
            {
                wanted.push(name);
                pending.push(def);
            }
        }
    }
    if wanted.is_empty() {
        return schema.clone();
    }
    let used: Map<String, Value> = wanted
        .into_iter()
        .filter_map(|name| defs.get(&name).map(|def| (name, def.clone())))
        .collect();
    match schema {
        Value::Object(map) => {
            let mut map = map.clone();
            map.insert("$defs".to_owned(), Value::Object(used));
            Value::Object(map)
        }
        other => json!({ "allOf": [other], "$defs": used }),
    }
}

/// The names of the root definitions (`#/$defs/Name`) that `value` refers to.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            out.push(name.replace("~1", "/").replace("~0", "~"));
                        }
                    }
                    _ => references(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}
