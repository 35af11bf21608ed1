//! Extra data types: `docs_src/extra_data_types/tutorial001` (the `_an` variant is the same
//! app).
//!
//! The app takes a `UUID`, `datetime`s, a `timedelta` and a `time`: here `uuid::Uuid`,
//! `chrono::DateTime<FixedOffset>`, `chrono::TimeDelta` (in a newtype) and `chrono::NaiveTime`.

use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta};
use portico::testing::TestClient;
use portico::{App, Json};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

use crate::support::{assert_document, document, param, validation_response};

/// A `chrono::TimeDelta` as Pydantic reads a `timedelta` (a number of seconds) and
/// `jsonable_encoder` writes one (its seconds). chrono has no serde form for `TimeDelta`, and
/// schemars documents it as a `[seconds, nanoseconds]` pair, hence this newtype.
#[derive(Debug, Clone, Copy)]
struct Seconds(TimeDelta);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds")
            }

            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Seconds, E> {
                TimeDelta::try_seconds(seconds)
                    .map(Seconds)
                    .ok_or_else(|| E::custom("duration out of range"))
            }

            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Seconds, E> {
                let seconds = i64::try_from(seconds).map_err(E::custom)?;
                self.visit_i64(seconds)
            }

            fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Seconds, E> {
                std::time::Duration::try_from_secs_f64(seconds.abs())
                    .ok()
                    .and_then(|d| TimeDelta::from_std(d).ok())
                    .map(|d| Seconds(if seconds < 0.0 { -d } else { d }))
                    .ok_or_else(|| E::custom("duration out of range"))
            }
        }

        deserializer.deserialize_any(SecondsVisitor)
    }
}

impl Serialize for Seconds {
    /// Whole seconds as an integer, else as a float (Python's `total_seconds()`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.subsec_nanos() == 0 {
            serializer.serialize_i64(self.0.num_seconds())
        } else {
            serializer.serialize_f64(self.0.as_seconds_f64())
        }
    }
}

impl JsonSchema for Seconds {
    fn schema_name() -> Cow<'static, str> {
        "Seconds".into()
    }

    fn inline_schema() -> bool {
        true
    }

    /// Pydantic's schema of a `timedelta`.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "duration"})
    }
}

mod tutorial001 {
    use super::*;

    // FastAPI gathers several `Body()` parameters into a model it names after the operation;
    // a Rust function takes one body, so the model is written out, under FastAPI's name.
    #[derive(Deserialize, JsonSchema)]
    #[schemars(rename = "Body_read_items_items__item_id__put")]
    struct Body {
        start_datetime: DateTime<FixedOffset>,
        end_datetime: DateTime<FixedOffset>,
        process_after: Seconds,
        // schemars names a `NaiveTime`'s format `partial-time` (RFC 3339's word), Pydantic
        // `time`: the field says Pydantic's (a doc comment would become its description).
        #[serde(default)]
        #[schemars(extend("format" = "time"))]
        repeat_at: Option<NaiveTime>,
    }

    #[portico::handler]
    async fn read_items(#[path] item_id: Uuid, Json(body): Json<Body>) -> Json<Value> {
        let start_process = body.start_datetime + body.process_after.0;
        let duration = Seconds(body.end_datetime - start_process);
        // chrono's serde form writes a zero offset as `Z`; `to_rfc3339` writes `+00:00`, as
        // Python's `isoformat()` does.
        Json(json!({
            "item_id": item_id,
            "start_datetime": body.start_datetime.to_rfc3339(),
            "end_datetime": body.end_datetime.to_rfc3339(),
            "process_after": body.process_after,
            "repeat_at": body.repeat_at,
            "start_process": start_process.to_rfc3339(),
            "duration": duration,
        }))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn extra_types() {
        let client = TestClient::new(app());
        let item_id = "ff97dd87-a4a5-4a12-b412-cde99f33e00e";
        let data = json!({
            "start_datetime": "2018-12-22T14:00:00+00:00",
            "end_datetime": "2018-12-24T15:00:00+00:00",
            "repeat_at": "15:30:00",
            "process_after": 300,
        });
        let mut expected = data.clone();
        expected["start_process"] = json!("2018-12-22T14:05:00+00:00");
        expected["duration"] = json!(176_100);
        expected["item_id"] = json!(item_id);
        let response = client.put(format!("/items/{item_id}")).json(&data).await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), expected);
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let name = "Body_read_items_items__item_id__put";
        let expected = document(
            json!({"/items/{item_id}": {"put": {
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    },
                    "422": validation_response(),
                },
                "summary": "Read Items",
                "operationId": "read_items_items__item_id__put",
                "parameters": [param(
                    "path",
                    "item_id",
                    true,
                    json!({"type": "string", "format": "uuid"}),
                )],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {
                        "schema": {"$ref": format!("#/components/schemas/{name}")},
                    }},
                },
            }}}),
            Some(json!({name: {
                "type": "object",
                "properties": {
                    "start_datetime": {"type": "string", "format": "date-time"},
                    "end_datetime": {"type": "string", "format": "date-time"},
                    "repeat_at": {"anyOf": [
                        {"type": "string", "format": "time"},
                        {"type": "null"},
                    ]},
                    "process_after": {"type": "string", "format": "duration"},
                },
                "required": ["start_datetime", "end_datetime", "process_after"],
            }})),
        );
        assert_document(&client, expected).await;
    }
}
