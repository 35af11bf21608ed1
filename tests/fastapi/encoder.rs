//! JSON compatible encoder: `docs_src/encoder/tutorial001`.
//!
//! `jsonable_encoder` is `serde_json::to_value`; FastAPI's module global `fake_db` is a map
//! the test creates and hands the app as state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use portico::testing::TestClient;
use portico::{App, Json, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, param, validation_response};

#[derive(Clone, Default)]
struct FakeDb(Arc<Mutex<HashMap<String, Value>>>);

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    title: String,
    timestamp: NaiveDateTime,
    #[serde(default)]
    description: Option<String>,
}

#[portico::handler]
fn update_item(#[path] id: String, State(fake_db): State<FakeDb>, Json(item): Json<Item>) {
    let json_compatible_item_data = serde_json::to_value(&item).unwrap();
    fake_db
        .0
        .lock()
        .unwrap()
        .insert(id, json_compatible_item_data);
}

fn app(fake_db: FakeDb) -> App {
    App::new().state(fake_db).put("/items/{id}", update_item)
}

#[portico::test]
async fn put() {
    let fake_db = FakeDb::default();
    let client = TestClient::new(app(fake_db.clone()));
    let response = client
        .put("/items/123")
        .json(&json!({
            "title": "Foo",
            "timestamp": "2023-01-01T12:00:00",
            "description": "An optional description",
        }))
        .await;
    assert_eq!(response.status(), 200);
    let fake_db = fake_db.0.lock().unwrap();
    assert!(fake_db.contains_key("123"));
    assert_eq!(
        fake_db["123"],
        json!({
            "title": "Foo",
            "timestamp": "2023-01-01T12:00:00",
            "description": "An optional description",
        })
    );
}

#[portico::test]
async fn put_invalid_data() {
    let fake_db = FakeDb::default();
    let client = TestClient::new(app(fake_db.clone()));
    let response = client
        .put("/items/345")
        .json(&json!({"title": "Foo", "timestamp": "not a date"}))
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.json::<Value>(),
        json!({
            "detail": [
                {
                    "loc": ["body", "timestamp"],
                    "msg": "Input should be a valid datetime or date, invalid character in year",
                    "type": "datetime_from_date_parsing",
                    "input": "not a date",
                    "ctx": {"error": "invalid character in year"},
                }
            ]
        })
    );
    assert!(!fake_db.0.lock().unwrap().contains_key("345"));
}

#[portico::test]
async fn openapi_schema() {
    let expected = document(
        json!({"/items/{id}": {"put": {
            "operationId": "update_item_items__id__put",
            "parameters": [param("path", "id", true, json!({"type": "string"}))],
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
                },
                "required": true,
            },
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Update Item",
        }}}),
        Some(json!({"Item": {
            "properties": {
                "description": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "timestamp": {"format": "date-time", "type": "string"},
                "title": {"type": "string"},
            },
            "required": ["title", "timestamp"],
            "type": "object",
        }})),
    );
    assert_document(&TestClient::new(app(FakeDb::default())), expected).await;
}
