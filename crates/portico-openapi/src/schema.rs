//! JSON Schemas of Rust types, as serde shapes them (through schemars): the same schema
//! validates a request's input and documents it.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

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

/// The properties of an object schema, in order: name, schema, and whether it is required.
///
/// ```
/// let schema = serde_json::json!({
///     "type": "object",
///     "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}},
///     "required": ["limit"],
/// });
/// let props = portico_openapi::properties(&schema);
/// assert_eq!(props[0].0, "q");
/// assert!(!props[0].2 && props[1].2);
/// ```
pub fn properties(schema: &Value) -> Vec<(String, Value, bool)> {
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
