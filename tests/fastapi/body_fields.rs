//! Body - fields: `docs_src/body_fields/tutorial001`.

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, param, schemas_with_validation, validation_response,
};

mod tutorial001 {
    use super::*;

    // Pydantic's `Field(title=...)` is a schema title, left out of comparisons.
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[schemars(length(max = 300))]
        description: Option<String>,
        /// The price must be greater than zero
        #[schemars(extend("exclusiveMinimum" = 0.0))]
        price: f64,
        tax: Option<f64>,
    }

    /// `Body(embed=True)`: the item under the key `item`, in the object FastAPI names
    /// `Body_<operation id>` (a Rust function has one body: it is declared as a struct).
    #[derive(Deserialize, JsonSchema)]
    #[schemars(rename = "Body_update_item_items__item_id__put")]
    struct Embedded {
        item: Item,
    }

    #[portico::handler]
    async fn update_item(#[path] item_id: i64, Json(body): Json<Embedded>) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": body.item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    async fn assert_put(url: &str, body: Value, status: u16, expected: Value) {
        let client = TestClient::new(app());
        let response = client.put(url).json(&body).await;
        assert_eq!(response.status(), status, "{body}: {}", response.text());
        assert_eq!(response.json::<Value>(), expected, "{body}");
    }

    #[portico::test]
    async fn items_5() {
        assert_put(
            "/items/5",
            json!({"item": {"name": "Foo", "price": 3.0}}),
            200,
            json!({
                "item_id": 5,
                "item": {"name": "Foo", "price": 3.0, "description": null, "tax": null},
            }),
        )
        .await;
    }

    #[portico::test]
    async fn items_6() {
        assert_put(
            "/items/6",
            json!({"item": {"name": "Bar", "price": 0.2, "description": "Some bar", "tax": "5.4"}}),
            200,
            json!({
                "item_id": 6,
                "item": {"name": "Bar", "price": 0.2, "description": "Some bar", "tax": 5.4},
            }),
        )
        .await;
    }

    #[portico::test]
    async fn invalid_price() {
        assert_put(
            "/items/5",
            json!({"item": {"name": "Foo", "price": -3.0}}),
            422,
            json!({"detail": [{
                "type": "greater_than",
                "loc": ["body", "item", "price"],
                "msg": "Input should be greater than 0",
                "input": -3.0,
                // FastAPI's test writes `{"gt": 0.0}`, which Python holds equal to `0`: the
                // same JSON number.
                "ctx": {"gt": 0},
            }]}),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let body_name = "Body_update_item_items__item_id__put";
        let expected = json!({
            "openapi": "3.1.0",
            "paths": {"/items/{item_id}": {"put": {
                "responses": {"200": any_json_response(), "422": validation_response()},
                "summary": "Update Item",
                "operationId": "update_item_items__item_id__put",
                "parameters": [param("path", "item_id", true, json!({"type": "integer"}))],
                "requestBody": {
                    "content": {"application/json": {"schema": {
                        "$ref": format!("#/components/schemas/{body_name}"),
                    }}},
                    "required": true,
                },
            }}},
            "components": {"schemas": schemas_with_validation(json!({
                "Item": {
                    "required": ["name", "price"],
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "description": {
                            "anyOf": [{"maxLength": 300, "type": "string"}, {"type": "null"}],
                        },
                        "price": {
                            "exclusiveMinimum": 0.0,
                            "type": "number",
                            "description": "The price must be greater than zero",
                        },
                        "tax": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                    },
                },
                body_name: {
                    "required": ["item"],
                    "type": "object",
                    "properties": {"item": {"$ref": "#/components/schemas/Item"}},
                },
            }))},
        });
        assert_document(&client, expected).await;
    }
}
