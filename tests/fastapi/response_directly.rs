//! Return a response directly: `docs_src/response_directly/tutorial001` and `tutorial002`.

use portico::testing::TestClient;
use portico::{App, IntoResponse, Json, Response};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, param, validation_response};

/// `jsonable_encoder` and a `JSONResponse` built by hand: `serde_json::to_value` and a
/// `Response`, which the document describes as JSON of any shape.
mod tutorial001 {
    use chrono::NaiveDateTime;
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        title: String,
        timestamp: NaiveDateTime,
        #[serde(default)]
        description: Option<String>,
    }

    #[portico::handler]
    fn update_item(#[path] id: String, Json(item): Json<Item>) -> Response {
        let _ = id;
        let json_compatible_item_data = serde_json::to_value(&item).unwrap();
        Json(json_compatible_item_data).into_response()
    }

    fn app() -> App {
        App::new().put("/items/{id}", update_item)
    }

    #[portico::test]
    async fn path_operation() {
        let client = TestClient::new(app());
        let response = client
            .put("/items/1")
            .json(&json!({
                "title": "Foo",
                "timestamp": "2023-01-01T12:00:00",
                "description": "A test item",
            }))
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({
                "description": "A test item",
                "timestamp": "2023-01-01T12:00:00",
                "title": "Foo",
            })
        );
    }

    #[portico::test]
    async fn openapi_schema_pv2() {
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
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// A `Response` with XML and its media type.
mod tutorial002 {
    use super::*;

    const DATA: &str = r#"<?xml version="1.0"?>
    <shampoo>
    <Header>
        Apply shampoo here.
    </Header>
    <Body>
        You'll have to use soap here.
    </Body>
    </shampoo>
    "#;

    fn get_legacy_data() -> Response {
        let data = DATA;
        ([("content-type", "application/xml")], data).into_response()
    }

    fn app() -> App {
        App::new().get("/legacy/", get_legacy_data)
    }

    #[portico::test]
    async fn path_operation() {
        let client = TestClient::new(app());
        let expected_content = DATA;
        let response = client.get("/legacy/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.header("content-type"), Some("application/xml"));
        assert_eq!(response.text(), expected_content);
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = document(
            json!({"/legacy/": {"get": {
                "operationId": "get_legacy_data_legacy__get",
                "responses": {"200": any_json_response()},
                "summary": "Get Legacy Data",
            }}}),
            None,
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}
