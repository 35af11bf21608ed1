//! Body - nested models: `docs_src/body_nested_models/tutorial001` to `tutorial009` (the
//! `_py310` apps).
//!
//! Tutorials 001 to 006 share FastAPI's `PUT /items/{item_id}` and most of their tests, written
//! once here; 001 to 003 are small enough to sit here too, 004 to 009 have a file each.

use std::collections::BTreeSet;

use portico::testing::{TestClient, TestRequest};
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, document, nullable, param, validation_response,
};

mod tutorial004;
mod tutorial005;
mod tutorial006;
mod tutorial007;
mod tutorial008;
mod tutorial009;

/// Sends `request`, asserts FastAPI's status and returns the answer.
async fn answer(request: TestRequest, status: u16) -> Value {
    let response = request.await;
    assert_eq!(response.status(), status, "{}", response.text());
    response.json()
}

/// The answer with `item.tags` sorted: FastAPI compares a set's items with
/// `IsList(..., check_order=False)`.
fn tags_in_any_order(mut answer: Value) -> Value {
    if let Some(tags) = answer["item"]["tags"].as_array_mut() {
        tags.sort_by_key(|tag| tag.to_string());
    }
    answer
}

/// Pydantic's error for a required field that is missing.
fn missing(loc: Value, input: Value) -> Value {
    json!({"loc": loc, "input": input, "msg": "Field required", "type": "missing"})
}

/// Pydantic's error for an `HttpUrl` that is not a URL.
fn not_a_url(loc: Value, input: &str) -> Value {
    json!({
        "loc": loc,
        "input": input,
        "msg": "Input should be a valid URL, relative URL without a base",
        "type": "url_parsing",
        "ctx": {"error": "relative URL without a base"},
    })
}

/// FastAPI's schema of `tags: set[str] = set()`.
fn set_of_str() -> Value {
    json!({"default": [], "type": "array", "items": {"type": "string"}, "uniqueItems": true})
}

/// FastAPI's schema of `Image`, with the given schema of `url`.
fn image_schema(url: Value) -> Value {
    json!({
        "properties": {"url": url, "name": {"type": "string"}},
        "required": ["url", "name"],
        "type": "object",
    })
}

/// FastAPI's schema of `HttpUrl`.
fn http_url() -> Value {
    json!({"type": "string", "format": "uri", "maxLength": 2083, "minLength": 1})
}

/// FastAPI's schema of `Item`: name, description, price and tax, then `more` properties.
fn item_schema(more: Value) -> Value {
    let mut properties = json!({
        "name": {"type": "string"},
        "description": nullable(json!({"type": "string"})),
        "price": {"type": "number"},
        "tax": nullable(json!({"type": "number"})),
    });
    if let (Value::Object(all), Value::Object(more)) = (&mut properties, more) {
        all.extend(more);
    }
    json!({"properties": properties, "required": ["name", "price"], "type": "object"})
}

/// The document of tutorials 001 to 006: `PUT /items/{item_id}` taking an `Item`, with the
/// given component schemas.
fn put_item_document(schemas: Value) -> Value {
    document(
        json!({"/items/{item_id}": {"put": {
            "parameters": [param("path", "item_id", true, json!({"type": "integer"}))],
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Update Item",
            "operationId": "update_item_items__item_id__put",
            "requestBody": {
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Item"},
                }},
                "required": true,
            },
        }}}),
        Some(schemas),
    )
}

/// `test_put_empty_body` of tutorials 001 to 006.
async fn check_put_empty_body(app: App) {
    let client = TestClient::new(app);
    let answer = answer(client.put("/items/5").json(&json!({})), 422).await;
    assert_eq!(
        answer,
        json!({"detail": [
            missing(json!(["body", "name"]), json!({})),
            missing(json!(["body", "price"]), json!({})),
        ]})
    );
}

/// `test_put_missing_required` (`_in_item`) of tutorials 001 to 005.
async fn check_put_missing_required(app: App) {
    let client = TestClient::new(app);
    let body = json!({"description": "A very nice Item"});
    let answer = answer(client.put("/items/5").json(&body), 422).await;
    assert_eq!(
        answer,
        json!({"detail": [
            missing(json!(["body", "name"]), body.clone()),
            missing(json!(["body", "price"]), body),
        ]})
    );
}

/// `test_put_only_required` of tutorials 001 to 006: `more` is what the item answers beyond
/// FastAPI's `name`, `description`, `price`, `tax` and `tags`.
async fn check_put_only_required(app: App, more: Value) {
    let client = TestClient::new(app);
    let body = json!({"name": "Foo", "price": 35.4});
    let answer = answer(client.put("/items/5").json(&body), 200).await;
    let mut item = json!({
        "name": "Foo",
        "description": null,
        "price": 35.4,
        "tax": null,
        "tags": [],
    });
    if let (Value::Object(item), Value::Object(more)) = (&mut item, more) {
        item.extend(more);
    }
    assert_eq!(answer, json!({"item_id": 5, "item": item}));
}

/// `test_put_all` of tutorials 001 to 003: `tags` is the answer's, `ordered` false where
/// FastAPI compares them in any order (tutorial003's set).
async fn check_put_all(app: App, tags: Value, ordered: bool) {
    let client = TestClient::new(app);
    let body = json!({
        "name": "Foo",
        "description": "A very nice Item",
        "price": 35.4,
        "tax": 3.2,
        "tags": ["foo", "bar", "foo"],
    });
    let mut answer = answer(client.put("/items/123").json(&body), 200).await;
    if !ordered {
        answer = tags_in_any_order(answer);
    }
    assert_eq!(
        answer,
        json!({"item_id": 123, "item": {
            "name": "Foo",
            "description": "A very nice Item",
            "price": 35.4,
            "tax": 3.2,
            "tags": tags,
        }})
    );
}

/// `test_openapi_schema` of tutorials 001 to 003, with FastAPI's schema of `tags`.
async fn check_tags_document(app: App, tags: Value) {
    let client = TestClient::new(app);
    let schemas = json!({"Item": item_schema(json!({"tags": tags}))});
    assert_document(&client, put_item_document(schemas)).await;
}

mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        description: Option<String>,
        price: f64,
        tax: Option<f64>,
        // Python's untyped `list`: a list of any JSON.
        #[serde(default)]
        tags: Vec<Value>,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn put_all() {
        check_put_all(app(), json!(["foo", "bar", "foo"]), true).await;
    }

    #[portico::test]
    async fn put_only_required() {
        check_put_only_required(app(), json!({})).await;
    }

    #[portico::test]
    async fn put_empty_body() {
        check_put_empty_body(app()).await;
    }

    #[portico::test]
    async fn put_missing_required() {
        check_put_missing_required(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        check_tags_document(app(), json!({"default": [], "type": "array", "items": {}})).await;
    }
}

mod tutorial002 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        description: Option<String>,
        price: f64,
        tax: Option<f64>,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn put_all() {
        check_put_all(app(), json!(["foo", "bar", "foo"]), true).await;
    }

    #[portico::test]
    async fn put_only_required() {
        check_put_only_required(app(), json!({})).await;
    }

    #[portico::test]
    async fn put_empty_body() {
        check_put_empty_body(app()).await;
    }

    #[portico::test]
    async fn put_missing_required() {
        check_put_missing_required(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let tags = json!({"default": [], "type": "array", "items": {"type": "string"}});
        check_tags_document(app(), tags).await;
    }
}

mod tutorial003 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        description: Option<String>,
        price: f64,
        tax: Option<f64>,
        #[serde(default)]
        tags: BTreeSet<String>,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn put_all() {
        check_put_all(app(), json!(["bar", "foo"]), false).await;
    }

    #[portico::test]
    async fn put_only_required() {
        check_put_only_required(app(), json!({})).await;
    }

    #[portico::test]
    async fn put_empty_body() {
        check_put_empty_body(app()).await;
    }

    #[portico::test]
    async fn put_missing_required() {
        check_put_missing_required(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        check_tags_document(app(), set_of_str()).await;
    }
}
