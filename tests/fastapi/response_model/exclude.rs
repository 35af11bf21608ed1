//! Response models, continued: `response_model_exclude_unset`, `include` and `exclude`
//! (tutorial004 to 006).

use super::*;

fn item_operation(summary: &str, operation_id: &str) -> Value {
    json!({
        "responses": {"200": json_response(component("Item")), "422": validation_response()},
        "summary": summary,
        "operationId": operation_id,
        "parameters": [param("path", "item_id", true, json!({"type": "string"}))],
    })
}

fn default_tax() -> f64 {
    10.5
}

/// `response_model_exclude_unset=True`: the stored item is read into a `Partial<Item>`, which
/// remembers the fields it set and answers those only.
mod tutorial004 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default = "default_tax")]
        tax: f64,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn items(item_id: &str) -> Value {
        match item_id {
            "foo" => json!({"name": "Foo", "price": 50.2}),
            "bar" => {
                json!({"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2})
            }
            "baz" => {
                json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []})
            }
            other => panic!("no item {other}"),
        }
    }

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Json<Partial<Item>> {
        Json(serde_json::from_value(items(&item_id)).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        for (url, data) in [
            ("/items/foo", json!({"name": "Foo", "price": 50.2})),
            (
                "/items/bar",
                json!({"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2}),
            ),
            (
                "/items/baz",
                json!({"name": "Baz", "description": null, "price": 50.2, "tax": 10.5, "tags": []}),
            ),
        ] {
            let response = client.get(url).await;
            assert_eq!(response.status(), 200, "{url}: {}", response.text());
            assert_python_eq(response.json(), data);
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": item_operation("Read Item", "read_item_items__item_id__get")}}),
            Some(json!({"Item": {
                "required": ["name", "price"],
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "description": nullable_string(),
                    "tax": {"type": "number", "default": 10.5},
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }
}

/// Tutorials 005 (`response_model_include={"name", "description"}`, a set) and 006 (the same
/// with lists): the routes' `response_model_include` and `response_model_exclude`. In Rust
/// the set and the list are the same slice: one app, against both of FastAPI's test files.
mod tutorial005 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default = "default_tax")]
        tax: f64,
    }

    fn items(item_id: &str) -> Value {
        match item_id {
            "foo" => json!({"name": "Foo", "price": 50.2}),
            "bar" => {
                json!({"name": "Bar", "description": "The Bar fighters", "price": 62, "tax": 20.2})
            }
            "baz" => json!({
                "name": "Baz",
                "description": "There goes my baz",
                "price": 50.2,
                "tax": 10.5,
            }),
            other => panic!("no item {other}"),
        }
    }

    /// The stored item through the model, as FastAPI's `response_model=Item` reads it.
    fn item(item_id: &str) -> Json<Item> {
        Json(serde_json::from_value(items(item_id)).unwrap())
    }

    #[portico::handler]
    async fn read_item_name(#[path] item_id: String) -> Json<Item> {
        item(&item_id)
    }

    #[portico::handler]
    async fn read_item_public_data(#[path] item_id: String) -> Json<Item> {
        item(&item_id)
    }

    pub(super) fn app() -> App {
        App::new()
            .route(
                Route::get("/items/{item_id}/name", read_item_name)
                    .response_model_include(["name", "description"]),
            )
            .route(
                Route::get("/items/{item_id}/public", read_item_public_data)
                    .response_model_exclude(["tax"]),
            )
    }

    pub(super) async fn read_item_name_test() {
        let client = TestClient::new(app());
        let response = client.get("/items/bar/name").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!({"name": "Bar", "description": "The Bar fighters"}),
        );
    }

    pub(super) async fn read_item_public_data_test() {
        let client = TestClient::new(app());
        let response = client.get("/items/bar/public").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!({"name": "Bar", "description": "The Bar fighters", "price": 62}),
        );
    }

    pub(super) async fn openapi_schema_test() {
        let client = TestClient::new(app());
        let expected = document(
            json!({
                "/items/{item_id}/name": {"get": item_operation(
                    "Read Item Name",
                    "read_item_name_items__item_id__name_get",
                )},
                "/items/{item_id}/public": {"get": item_operation(
                    "Read Item Public Data",
                    "read_item_public_data_items__item_id__public_get",
                )},
            }),
            Some(json!({"Item": {
                "required": ["name", "price"],
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "description": nullable_string(),
                    "tax": {"type": "number", "default": 10.5},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }

    #[portico::test]
    async fn read_item_name() {
        read_item_name_test().await;
    }

    #[portico::test]
    async fn read_item_public_data() {
        read_item_public_data_test().await;
    }

    #[portico::test]
    async fn openapi_schema() {
        openapi_schema_test().await;
    }
}

/// FastAPI's test file of tutorial006, against the same app as 005 (see there).
mod tutorial006 {
    use super::tutorial005::{
        openapi_schema_test, read_item_name_test, read_item_public_data_test,
    };

    #[portico::test]
    async fn read_item_name() {
        read_item_name_test().await;
    }

    #[portico::test]
    async fn read_item_public_data() {
        read_item_public_data_test().await;
    }

    #[portico::test]
    async fn openapi_schema() {
        openapi_schema_test().await;
    }
}
