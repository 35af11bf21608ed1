//! Which fields of a response model are answered: FastAPI's `response_model_include`,
//! `response_model_exclude` and `response_model_exclude_none` as route settings
//! ([`Route::response_model_include`](crate::Route::response_model_include) and its
//! siblings), and its `response_model_exclude_unset` as a model that remembers which fields
//! its input set ([`Partial`]).

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{DeserializeOwned, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Response;

/// What a route keeps of its successful JSON answers.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseFields {
    /// The only top-level fields kept, when set.
    pub(crate) include: Option<Vec<String>>,
    /// Top-level fields left out.
    pub(crate) exclude: Vec<String>,
    /// Whether fields whose value is `null` are left out, at every depth.
    pub(crate) exclude_none: bool,
}

impl ResponseFields {
    /// Whether the route keeps every field, as it does unless told otherwise.
    pub(crate) fn keeps_all(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty() && !self.exclude_none
    }

    /// Filters `response`'s JSON body when it is a success held in memory (an object, or a
    /// list of objects, as a `response_model=list[Item]` is); anything else is left as it is.
    pub(crate) fn apply(&self, response: &mut Response) {
        let is_json = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !response.status().is_success() || !is_json {
            return;
        }
        let Some(Ok(mut value)) = response
            .body()
            .as_bytes()
            .map(serde_json::from_slice::<Value>)
        else {
            return;
        };
        match &mut value {
            Value::Array(items) => items.iter_mut().for_each(|item| self.filter(item)),
            item => self.filter(item),
        }
        let Ok(bytes) = serde_json::to_vec(&value) else {
            return;
        };
        response.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(bytes.len()),
        );
        *response.body_mut() = crate::Body::full(bytes);
    }

    fn filter(&self, value: &mut Value) {
        if let Value::Object(fields) = value {
            if let Some(include) = &self.include {
                fields.retain(|key, _| include.iter().any(|k| k == key));
            }
            fields.retain(|key, _| !self.exclude.iter().any(|k| k == key));
        }
        if self.exclude_none {
            drop_nulls(value);
        }
    }
}

/// Removes the `null` fields of every object in `value` (a list keeps its `null` items, as
/// Pydantic's `exclude_none` does).
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, v| !v.is_null());
            fields.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A model that remembers which of its fields its input set, and answers only those: what
/// Pydantic calls `model_fields_set`, and FastAPI's `response_model_exclude_unset=True` or
/// `item.model_dump(exclude_unset=True)` read.
///
/// Read from JSON (a stored record, or a request body as `Json<Partial<T>>`, validated and
/// documented as `T`), it holds the `T` and the names of the top-level keys that were present.
/// Written as JSON, it writes those keys only, so a field that took its default is left out
/// while one sent with the default's value stays. [`Partial::apply_to`] updates another `T`
/// with the set fields only, FastAPI's `stored.model_copy(update=...)` for a `PATCH`.
///
/// # Examples
///
/// ```
/// use portico_http::{App, Json, Partial};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Item {
///     name: String,
///     #[serde(default)]
///     tags: Vec<String>,
/// }
///
/// // Answers `{"name": "Foo"}`: `tags` took its default, so it is not written.
/// async fn read_item() -> Json<Partial<Item>> {
///     Json(serde_json::from_value(serde_json::json!({"name": "Foo"})).unwrap())
/// }
///
/// let client = portico::testing::blocking_client(App::new().get("/item", read_item));
/// assert_eq!(client.get("/item").send().text(), r#"{"name":"Foo"}"#);
/// ```
#[derive(Clone, PartialEq)]
pub struct Partial<T> {
    value: T,
    set: Vec<String>,
}

impl<T> Partial<T> {
    /// `value`, with every field of its JSON form counted as set.
    pub fn new(value: T) -> Self
    where
        T: Serialize,
    {
        let set = match serde_json::to_value(&value) {
            Ok(Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        };
        Partial { value, set }
    }

    /// The model.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Whether the input set the field `name` (its name in JSON).
    pub fn is_set(&self, name: &str) -> bool {
        self.set.iter().any(|n| n == name)
    }

    /// The names of the fields the input set, in its order.
    pub fn fields_set(&self) -> impl Iterator<Item = &str> {
        self.set.iter().map(String::as_str)
    }

    /// The set fields only, as a JSON object (`model_dump(exclude_unset=True)`).
    pub fn to_json(&self) -> Result<Map<String, Value>, serde_json::Error>
    where
        T: Serialize,
    {
        Ok(match serde_json::to_value(&self.value)? {
            Value::Object(mut fields) => {
                fields.retain(|key, _| self.is_set(key));
                fields
            }
            _ => Map::new(),
        })
    }

    /// `base` with the fields this one set written over it: FastAPI's
    /// `stored.model_copy(update=item.model_dump(exclude_unset=True))`.
    pub fn apply_to(&self, base: &T) -> Result<T, serde_json::Error>
    where
        T: Serialize + DeserializeOwned,
    {
        let mut merged = match serde_json::to_value(base)? {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        merged.extend(self.to_json()?);
        serde_json::from_value(Value::Object(merged))
    }
}

impl<T> Deref for Partial<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Partial<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partial")
            .field("value", &self.value)
            .field("set", &self.set)
            .finish()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Partial<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let input = Value::deserialize(deserializer)?;
        let set = match &input {
            Value::Object(fields) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let value = T::deserialize(input).map_err(serde::de::Error::custom)?;
        Ok(Partial { value, set })
    }
}

impl<T: Serialize> Serialize for Partial<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json()
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Partial<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default = "ten")]
        tax: f64,
    }

    fn ten() -> f64 {
        10.0
    }

    #[test]
    fn a_partial_writes_the_fields_its_input_set_even_with_default_values() {
        let item: Partial<Item> =
            serde_json::from_value(json!({"name": "Baz", "description": null, "tax": 10.0}))
                .unwrap();
        assert!(item.is_set("description") && item.is_set("tax"));
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"name": "Baz", "description": null, "tax": 10.0})
        );
        let item: Partial<Item> = serde_json::from_value(json!({"name": "Foo"})).unwrap();
        assert_eq!(item.tax, 10.0);
        assert_eq!(serde_json::to_value(&item).unwrap(), json!({"name": "Foo"}));
    }

    #[test]
    fn a_partial_updates_only_the_fields_it_set() {
        let stored = Item {
            name: "Bar".into(),
            description: Some("The bartenders".into()),
            tax: 20.2,
        };
        let update: Partial<Item> =
            serde_json::from_value(json!({"name": "Barz", "tax": 10.0})).unwrap();
        let merged = update.apply_to(&stored).unwrap();
        assert_eq!(merged.description.as_deref(), Some("The bartenders"));
        assert_eq!((merged.name.as_str(), merged.tax), ("Barz", 10.0));
    }

    #[test]
    fn route_fields_include_exclude_and_drop_nulls_in_objects_and_lists() {
        let fields = ResponseFields {
            include: Some(vec!["name".into(), "description".into(), "tags".into()]),
            exclude: vec!["tags".into()],
            exclude_none: true,
        };
        let mut one = json!({"name": "A", "description": null, "tax": 1, "tags": []});
        fields.filter(&mut one);
        assert_eq!(one, json!({"name": "A"}));
        let mut nested = json!({"a": {"b": null, "c": [null, {"d": null}]}});
        drop_nulls(&mut nested);
        assert_eq!(nested, json!({"a": {"c": [null, {}]}}));
    }
}
