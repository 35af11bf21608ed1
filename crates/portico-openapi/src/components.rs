//! `components/schemas`: every schema a route shows is taken apart into its named definitions,
//! kept once each, and referred to by `$ref`.

use serde_json::{Map, Value};

const DEFS_REF: &str = "#/$defs/";
const COMPONENTS_REF: &str = "#/components/schemas/";

/// The named schemas of a document, gathered from every route.
#[derive(Debug, Default)]
pub(crate) struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Takes `schema` (a root schema with its `$defs`, as schemars writes it) into the document:
    /// its definitions join `components/schemas` and the schema is returned pointing at them.
    ///
    /// Two types with one name but different schemas (a type that serialises differently from
    /// how it deserialises, or two types of the same name in different modules) keep both:
    /// the later one is renamed, `Name-Output` for a response's, `Name2` otherwise.
    pub(crate) fn absorb(&mut self, schema: &Value, output: bool) -> Value {
        let mut schema = schema.clone();
        let defs = match schema.as_object_mut() {
            Some(map) => {
                map.remove("$schema");
                match map.remove("$defs") {
                    Some(Value::Object(defs)) => defs,
                    _ => Map::new(),
                }
            }
            None => Map::new(),
        };
        // Pick a name for each definition: its own, unless that is taken by a different schema.
        let mut names: Vec<(String, String)> = defs
            .keys()
            .map(|name| (name.clone(), sanitize(name)))
            .collect();
        for _ in 0..3 {
            let mut changed = false;
            for i in 0..names.len() {
                let (original, chosen) = names[i].clone();
                let candidate = rewrite(&defs[&original], &names);
                match self.schemas.get(&chosen) {
                    Some(existing) if *existing != candidate => {
                        let renamed = self.free_name(&sanitize(&original), &candidate, output);
                        if renamed != chosen {
                            names[i].1 = renamed;
                            changed = true;
                        }
                    }
                    _ => {}
                }
            }
            if !changed {
                break;
            }
        }
        for (original, chosen) in &names {
            let def = rewrite(&defs[original], &names);
            self.schemas.entry(chosen.clone()).or_insert(def);
        }
        match rewrite(&schema, &names) {
            // The schema that allows anything (`serde_json::Value`'s) as FastAPI writes it:
            // `{}` means the same as `true` and every OpenAPI tool reads it.
            Value::Bool(true) => Value::Object(Map::new()),
            Value::Bool(false) => serde_json::json!({"not": {}}),
            other => other,
        }
    }

    /// A name for `schema` based on `base`: one that holds this very schema already, or one
    /// that is free.
    fn free_name(&self, base: &str, schema: &Value, output: bool) -> String {
        let mut candidates = Vec::new();
        if output {
            candidates.push(format!("{base}-Output"));
        }
        candidates.extend((2..).take(1000).map(|n| format!("{base}{n}")));
        if let Some(same) = candidates
            .iter()
            .find(|name| self.schemas.get(*name) == Some(schema))
        {
            return same.clone();
        }
        candidates
            .into_iter()
            .find(|name| !self.schemas.contains_key(name))
            .unwrap_or_else(|| format!("{base}-{}", self.schemas.len()))
    }

    /// Adds a schema under a fixed name (the validation error schemas).
    pub(crate) fn insert(&mut self, name: &str, schema: Value) {
        self.schemas.entry(name.to_owned()).or_insert(schema);
    }

    /// The `schemas` object, sorted by name.
    pub(crate) fn into_value(self) -> Value {
        let mut sorted: Vec<(String, Value)> = self.schemas.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(sorted.into_iter().collect())
    }

    /// Whether there are no schemas.
    pub(crate) fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }
}

/// Component names may hold letters, digits, `.`, `-` and `_` only.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `value` with every `#/$defs/X` reference pointing at `#/components/schemas/<chosen name>`.
///
/// An optional value's schema is written as Pydantic writes it, `anyOf` the value's and
/// `null`'s (see [`nullable_as_any_of`]).
fn rewrite(value: &Value, names: &[(String, String)]) -> Value {
    match value {
        Value::Object(map) => {
            nullable_as_any_of(formats_as_fastapi_writes_them(integer_keys_as_additional(
                map.iter()
                    .map(|(key, inner)| {
                        let inner = match (key.as_str(), inner) {
                            ("$ref", Value::String(target)) => {
                                match target.strip_prefix(DEFS_REF) {
                                    Some(name) => {
                                        let name = unescape(name);
                                        let chosen = names
                                            .iter()
                                            .find(|(original, _)| *original == name)
                                            .map_or_else(
                                                || sanitize(&name),
                                                |(_, chosen)| chosen.clone(),
                                            );
                                        Value::String(format!("{COMPONENTS_REF}{chosen}"))
                                    }
                                    None => inner.clone(),
                                }
                            }
                            (key, Value::Bool(true)) if holds_a_schema(key) => {
                                Value::Object(Map::new())
                            }
                            (key, Value::Object(schemas)) if holds_schemas(key) => Value::Object(
                                schemas
                                    .iter()
                                    .map(|(name, schema)| {
                                        (name.clone(), anything_as_object(rewrite(schema, names)))
                                    })
                                    .collect(),
                            ),
                            (key, Value::Array(schemas)) if holds_schema_list(key) => Value::Array(
                                schemas
                                    .iter()
                                    .map(|schema| anything_as_object(rewrite(schema, names)))
                                    .collect(),
                            ),
                            _ => rewrite(inner, names),
                        };
                        (key.clone(), inner)
                    })
                    .collect(),
            )))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| rewrite(v, names)).collect()),
        other => other.clone(),
    }
}

/// A map with integer keys as FastAPI documents Pydantic's `dict[int, V]`: schemars writes
/// `patternProperties` with an integer pattern and `additionalProperties: false`; JSON keys are
/// strings either way, and the value's schema becomes `additionalProperties`.
fn integer_keys_as_additional(mut map: Map<String, Value>) -> Map<String, Value> {
    let values = match map.get("patternProperties").and_then(Value::as_object) {
        Some(patterns) if patterns.len() == 1 => patterns
            .iter()
            .find(|(pattern, _)| crate::INTEGER_KEY_PATTERNS.contains(&pattern.as_str()))
            .map(|(_, values)| values.clone()),
        _ => None,
    };
    if let Some(values) = values {
        map.remove("patternProperties");
        map.insert(
            "additionalProperties".to_owned(),
            anything_as_object(values),
        );
    }
    map
}

/// A file's schema as FastAPI documents an upload in OpenAPI 3.1: `contentMediaType` rather
/// than OpenAPI 3.0's `format: binary`. And a time without an offset (chrono's `NaiveDateTime`
/// and `NaiveTime`, which schemars calls `partial-date-time` and `partial-time`, formats no
/// OpenAPI tool knows) as Pydantic documents Python's `datetime` and `time`.
fn formats_as_fastapi_writes_them(mut map: Map<String, Value>) -> Map<String, Value> {
    let known = match map.get("format").and_then(Value::as_str) {
        Some("partial-date-time") => Some("date-time"),
        Some("partial-time") => Some("time"),
        _ => None,
    };
    if let Some(format) = known {
        map.insert("format".to_owned(), Value::from(format));
    }
    // Also an optional file's (`["string", "null"]`), before it becomes `anyOf`.
    let string = match map.get("type") {
        Some(Value::String(kind)) => kind == "string",
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "string"),
        _ => false,
    };
    if string && map.get("format").and_then(Value::as_str) == Some("binary") {
        map.remove("format");
        map.insert(
            "contentMediaType".to_owned(),
            Value::from("application/octet-stream"),
        );
    }
    map
}

/// Keywords whose value is one schema (where `true`, "anything", is written `{}` as Pydantic
/// writes it; `additionalProperties: true` stays, as Pydantic writes that too).
fn holds_a_schema(key: &str) -> bool {
    matches!(
        key,
        "items" | "contains" | "not" | "propertyNames" | "if" | "then" | "else"
    )
}

/// Keywords whose value maps names to schemas.
fn holds_schemas(key: &str) -> bool {
    matches!(key, "properties" | "patternProperties" | "$defs")
}

/// Keywords whose value is a list of schemas.
fn holds_schema_list(key: &str) -> bool {
    matches!(key, "anyOf" | "oneOf" | "allOf" | "prefixItems")
}

/// `true` (the schema that allows anything) as `{}`.
fn anything_as_object(schema: Value) -> Value {
    match schema {
        Value::Bool(true) => Value::Object(Map::new()),
        other => other,
    }
}

/// Keywords that describe a schema as a whole and stay outside the `anyOf` of an optional value.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$defs",
];

/// `{"type": ["integer", "null"], "maximum": 9}` (schemars' optional value) as
/// `{"anyOf": [{"type": "integer", "maximum": 9}, {"type": "null"}]}` (Pydantic's, and so
/// FastAPI's): the same values, in the shape client generators know from FastAPI documents.
/// Annotations (a description, a default) stay outside.
fn nullable_as_any_of(mut map: Map<String, Value>) -> Value {
    let other = match map.get("type").and_then(Value::as_array).map(Vec::as_slice) {
        Some([a, b]) if b.as_str() == Some("null") && a.as_str() != Some("null") => a.clone(),
        Some([a, b]) if a.as_str() == Some("null") && b.as_str() != Some("null") => b.clone(),
        _ => return Value::Object(map),
    };
    map.insert("type".to_owned(), other);
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    let (outside, inside): (Map<String, Value>, Map<String, Value>) =
        map.into_iter().partition(|(key, value)| {
            // `format: password` is a hint to the docs UI (mask the field), which FastAPI
            // writes beside the `anyOf` of an optional secret.
            ANNOTATIONS.contains(&key.as_str())
                || (key == "format" && value.as_str() == Some("password"))
        });
    let mut out = Map::new();
    out.insert(
        "anyOf".to_owned(),
        Value::Array(vec![
            Value::Object(inside),
            serde_json::json!({"type": "null"}),
        ]),
    );
    out.extend(outside);
    Value::Object(out)
}

/// A JSON Pointer segment back to its name (`~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn definitions_move_to_components_and_references_follow() {
        let mut components = Components::default();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/Item",
            "$defs": {
                "Item": {"type": "object", "properties": {"tag": {"$ref": "#/$defs/Tag"}}},
                "Tag": {"type": "string", "enum": ["a", "b"]}
            }
        });
        let out = components.absorb(&schema, false);
        assert_eq!(out, json!({"$ref": "#/components/schemas/Item"}));
        let all = components.into_value();
        assert_eq!(
            all["Item"]["properties"]["tag"],
            json!({"$ref": "#/components/schemas/Tag"})
        );
        assert_eq!(all["Tag"]["enum"], json!(["a", "b"]));
    }

    #[test]
    fn a_name_taken_by_another_schema_is_renamed() {
        let mut components = Components::default();
        let input = json!({"$ref": "#/$defs/User", "$defs": {"User": {"type": "object", "required": ["name"]}}});
        let output = json!({"$ref": "#/$defs/User", "$defs": {"User": {"type": "object", "required": ["id", "name"]}}});
        let other = json!({"$ref": "#/$defs/User", "$defs": {"User": {"type": "string"}}});
        assert_eq!(
            components.absorb(&input, false),
            json!({"$ref": "#/components/schemas/User"})
        );
        assert_eq!(
            components.absorb(&output, true),
            json!({"$ref": "#/components/schemas/User-Output"})
        );
        assert_eq!(
            components.absorb(&output, true),
            json!({"$ref": "#/components/schemas/User-Output"}),
            "the same schema again reuses its name"
        );
        assert_eq!(
            components.absorb(&other, false),
            json!({"$ref": "#/components/schemas/User2"})
        );
        assert_eq!(
            components.absorb(&input, false),
            json!({"$ref": "#/components/schemas/User"})
        );
    }

    #[test]
    fn the_schema_that_allows_anything_is_written_as_an_empty_object() {
        let mut components = Components::default();
        assert_eq!(components.absorb(&json!(true), true), json!({}));
        let nested = json!({
            "type": "object",
            "properties": {"any": true, "list": {"type": "array", "items": true}, "flag": {"default": true}},
            "additionalProperties": true,
            "anyOf": [true],
        });
        assert_eq!(
            components.absorb(&nested, false),
            json!({
                "type": "object",
                "properties": {"any": {}, "list": {"type": "array", "items": {}}, "flag": {"default": true}},
                "additionalProperties": true,
                "anyOf": [{}],
            })
        );
        assert_eq!(components.absorb(&json!(false), false), json!({"not": {}}));
    }

    #[test]
    fn an_optional_value_is_written_as_pydantic_writes_it() {
        let mut components = Components::default();
        let schema = json!({"type": ["integer", "null"], "format": "int64", "maximum": 9, "description": "how many", "default": null});
        assert_eq!(
            components.absorb(&schema, false),
            json!({
                "anyOf": [{"type": "integer", "format": "int64", "maximum": 9}, {"type": "null"}],
                "description": "how many",
                "default": null,
            })
        );
        let field = json!({"$ref": "#/$defs/Item", "$defs": {"Item": {"type": "object", "properties": {
            "kind": {"type": ["string", "null"], "enum": ["a", "b", null]}
        }}}});
        components.absorb(&field, false);
        assert_eq!(
            components.into_value()["Item"]["properties"]["kind"],
            json!({"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]})
        );
    }

    #[test]
    fn a_map_with_integer_keys_is_written_as_fastapi_writes_it() {
        let mut components = Components::default();
        let schema = json!({
            "type": "object",
            "patternProperties": {"^-?\\d+$": {"type": "number", "format": "double"}},
            "additionalProperties": false,
        });
        assert_eq!(
            components.absorb(&schema, false),
            json!({"type": "object", "additionalProperties": {"type": "number", "format": "double"}})
        );
    }

    #[test]
    fn an_optional_secret_keeps_its_password_format_beside_the_any_of() {
        let mut components = Components::default();
        let schema = json!({"type": ["string", "null"], "format": "password"});
        assert_eq!(
            components.absorb(&schema, false),
            json!({"anyOf": [{"type": "string"}, {"type": "null"}], "format": "password"})
        );
    }

    #[test]
    fn times_without_an_offset_are_documented_as_pydantic_documents_them() {
        let mut components = Components::default();
        let schema = json!({"type": "object", "properties": {
            "at": {"type": "string", "format": "partial-date-time"},
            "time": {"type": ["string", "null"], "format": "partial-time"},
        }});
        assert_eq!(
            components.absorb(&schema, false),
            json!({"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"},
                "time": {"anyOf": [{"type": "string", "format": "time"}, {"type": "null"}]},
            }})
        );
    }
}
