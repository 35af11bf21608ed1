//! Declare request example data: `docs_src/schema_extra_example/tutorial001` and `tutorial002`.
//!
//! Not ported: `tutorial003` to `tutorial005` put `examples` and `openapi_examples` on the body
//! parameter (`Body(examples=...)`), which Portico has no way to declare.

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, param, validation_response};

fn item_document(item: Value) -> Value {
    document(
        json!({"/items/{item_id}": {"put": {
            "summary": "Update Item",
            "operationId": "update_item_items__item_id__put",
            "parameters": [param("path", "item_id", true, json!({"type": "integer"}))],
            "requestBody": {
                "required": true,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
                },
            },
            "responses": {"200": any_json_response(), "422": validation_response()},
        }}}),
        Some(json!({"Item": item})),
    )
}

async fn assert_put_example(app: App) {
    let client = TestClient::new(app);
    let response = client
        .put("/items/5")
        .json(&json!({
            "name": "Foo",
            "description": "A very nice Item",
            "price": 35.4,
            "tax": 3.2,
        }))
        .await;
    assert_eq!(response.status(), 200);
}

/// `model_config = {"json_schema_extra": {"examples": [...]}}`.
mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    #[schemars(extend("examples" = [{
        "name": "Foo",
        "description": "A very nice Item",
        "price": 35.4,
        "tax": 3.2,
    }]))]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default)]
        tax: Option<f64>,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_body_example() {
        assert_put_example(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = item_document(json!({
            "properties": {
                "name": {"type": "string"},
                "description": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "price": {"type": "number"},
                "tax": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            },
            "type": "object",
            "required": ["name", "price"],
            "examples": [{
                "description": "A very nice Item",
                "name": "Foo",
                "price": 35.4,
                "tax": 3.2,
            }],
        }));
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// `Field(examples=[...])` on each field.
mod tutorial002 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        #[schemars(extend("examples" = ["Foo"]))]
        name: String,
        #[serde(default)]
        #[schemars(extend("examples" = ["A very nice Item"]))]
        description: Option<String>,
        #[schemars(extend("examples" = [35.4]))]
        price: f64,
        #[serde(default)]
        #[schemars(extend("examples" = [3.2]))]
        tax: Option<f64>,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(item): Json<Item>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_body_example() {
        assert_put_example(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = item_document(json!({
            "properties": {
                "name": {"type": "string", "examples": ["Foo"]},
                "description": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "examples": ["A very nice Item"],
                },
                "price": {"type": "number", "examples": [35.4]},
                "tax": {"anyOf": [{"type": "number"}, {"type": "null"}], "examples": [3.2]},
            },
            "type": "object",
            "required": ["name", "price"],
        }));
        assert_document(&TestClient::new(app()), expected).await;
    }
}
