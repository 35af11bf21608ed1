//! Path operation configuration: `docs_src/path_operation_configuration/tutorial001` to
//! `tutorial006`: status code, tags, summary, description, response description, deprecation.

use std::collections::BTreeSet;

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Json, Route};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, validation_response};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    name: String,
    #[serde(default)]
    description: Option<String>,
    price: f64,
    #[serde(default)]
    tax: Option<f64>,
    #[serde(default)]
    tags: BTreeSet<String>,
}

fn item_schema() -> Value {
    let nullable = |t: &str| json!({"anyOf": [{"type": t}, {"type": "null"}]});
    json!({"Item": {
        "required": ["name", "price"],
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": nullable("string"),
            "price": {"type": "number"},
            "tax": nullable("number"),
            "tags": {"uniqueItems": true, "type": "array", "items": {"type": "string"}, "default": []},
        },
    }})
}

/// `POST /items/` taking and answering an `Item`, with `status` and `description` for its
/// success and the operation's other keys in `extra`.
fn create_item_operation(status: &str, description: &str, extra: Value) -> Value {
    let item = json!({"$ref": "#/components/schemas/Item"});
    let mut operation = json!({
        "summary": "Create Item",
        "operationId": "create_item_items__post",
        "requestBody": {"content": {"application/json": {"schema": item}}, "required": true},
        "responses": {
            status: {"description": description, "content": {"application/json": {"schema": item}}},
            "422": validation_response(),
        },
    });
    if let (Value::Object(operation), Value::Object(extra)) = (&mut operation, extra) {
        operation.extend(extra);
    }
    operation
}

/// A `GET` answering any JSON with a 200, with `extra` keys (tags, deprecated).
fn get_operation(summary: &str, operation_id: &str, extra: Value) -> Value {
    let mut operation = json!({
        "summary": summary,
        "operationId": operation_id,
        "responses": {"200": any_json_response()},
    });
    if let (Value::Object(operation), Value::Object(extra)) = (&mut operation, extra) {
        operation.extend(extra);
    }
    operation
}

/// FastAPI's `test_post_items` of tutorials 001 to 004.
async fn assert_post_items(client: &TestClient, status: u16) {
    let response = client
        .post("/items/")
        .json(&json!({
            "name": "Foo",
            "description": "Item description",
            "price": 42.0,
            "tax": 3.2,
            "tags": ["bar", "baz"],
        }))
        .await;
    assert_eq!(response.status(), status, "{}", response.text());
    let mut body: Value = response.json();
    // FastAPI compares the set of tags in any order.
    let tags = body["tags"].as_array_mut().unwrap();
    tags.sort_by_key(|tag| tag.to_string());
    assert_eq!(
        body,
        json!({
            "name": "Foo",
            "description": "Item description",
            "price": 42.0,
            "tax": 3.2,
            "tags": ["bar", "baz"],
        })
    );
}

async fn assert_get(client: &TestClient, path: &str, expected: Value) {
    let response = client.get(path).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), expected);
}

async fn create_item(Json(item): Json<Item>) -> Json<Item> {
    Json(item)
}

async fn read_items() -> Json<Value> {
    Json(json!([{"name": "Foo", "price": 42}]))
}

async fn read_users() -> Json<Value> {
    Json(json!([{"username": "johndoe"}]))
}

mod tutorial001 {
    use super::*;

    fn app() -> App {
        App::new().route(Route::post("/items/", create_item).status_code(StatusCode::CREATED))
    }

    #[portico::test]
    async fn post_items() {
        assert_post_items(&TestClient::new(app()), 201).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/": {"post": create_item_operation("201", "Successful Response", json!({}))}}),
            Some(item_schema()),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    fn app() -> App {
        App::new()
            .route(Route::post("/items/", create_item).tag("items"))
            .route(Route::get("/items/", read_items).tag("items"))
            .route(Route::get("/users/", read_users).tag("users"))
    }

    #[portico::test]
    async fn post_items() {
        assert_post_items(&TestClient::new(app()), 200).await;
    }

    #[portico::test]
    async fn get_items() {
        assert_get(
            &TestClient::new(app()),
            "/items/",
            json!([{"name": "Foo", "price": 42}]),
        )
        .await;
    }

    #[portico::test]
    async fn get_users() {
        assert_get(
            &TestClient::new(app()),
            "/users/",
            json!([{"username": "johndoe"}]),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let items = json!({"tags": ["items"]});
        let expected = document(
            json!({
                "/items/": {
                    "get": get_operation("Read Items", "read_items_items__get", items.clone()),
                    "post": create_item_operation("200", "Successful Response", items),
                },
                "/users/": {
                    "get": get_operation("Read Users", "read_users_users__get", json!({"tags": ["users"]})),
                },
            }),
            Some(item_schema()),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002b {
    use super::*;

    #[derive(Clone, Copy)]
    enum Tags {
        Items,
        Users,
    }

    impl From<Tags> for String {
        fn from(tag: Tags) -> String {
            match tag {
                Tags::Items => "items".into(),
                Tags::Users => "users".into(),
            }
        }
    }

    async fn get_items() -> Json<Value> {
        Json(json!(["Portal gun", "Plumbus"]))
    }

    async fn read_users() -> Json<Value> {
        Json(json!(["Rick", "Morty"]))
    }

    fn app() -> App {
        App::new()
            .route(Route::get("/items/", get_items).tag(Tags::Items))
            .route(Route::get("/users/", read_users).tag(Tags::Users))
    }

    #[portico::test]
    async fn get_items_answers() {
        assert_get(
            &TestClient::new(app()),
            "/items/",
            json!(["Portal gun", "Plumbus"]),
        )
        .await;
    }

    #[portico::test]
    async fn get_users() {
        assert_get(&TestClient::new(app()), "/users/", json!(["Rick", "Morty"])).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({
                "/items/": {"get": get_operation("Get Items", "get_items_items__get", json!({"tags": ["items"]}))},
                "/users/": {"get": get_operation("Read Users", "read_users_users__get", json!({"tags": ["users"]}))},
            }),
            None,
        );
        assert_document(&client, expected).await;
    }
}

/// The docstring of tutorials 004 and 005, FastAPI's description of their operation.
const DOCSTRING: &str = "Create an item with all the information:\n\n- **name**: each item must have a name\n- **description**: a long description\n- **price**: required\n- **tax**: if the item doesn't have tax, you can omit this\n- **tags**: a set of unique tag strings for this item";

/// The document of tutorials 003 to 005: `POST /items/` with a summary and a description.
fn described_document(description: &str, response_description: &str) -> Value {
    document(
        json!({"/items/": {"post": create_item_operation(
            "200",
            response_description,
            json!({"summary": "Create an item", "description": description}),
        )}}),
        Some(item_schema()),
    )
}

mod tutorial003 {
    use super::*;

    const DESCRIPTION: &str = "Create an item with all the information, name, description, price, tax and a set of unique tags";

    fn app() -> App {
        App::new().route(
            Route::post("/items/", create_item)
                .summary("Create an item")
                .description(DESCRIPTION),
        )
    }

    #[portico::test]
    async fn post_items() {
        assert_post_items(&TestClient::new(app()), 200).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(
            &client,
            described_document(DESCRIPTION, "Successful Response"),
        )
        .await;
    }
}

/// The handler of tutorials 004 and 005, its doc comment FastAPI's docstring.
mod documented {
    use super::*;

    /// Create an item with all the information:
    ///
    /// - **name**: each item must have a name
    /// - **description**: a long description
    /// - **price**: required
    /// - **tax**: if the item doesn't have tax, you can omit this
    /// - **tags**: a set of unique tag strings for this item
    #[portico::handler]
    pub(super) async fn create_item(Json(item): Json<Item>) -> Json<Item> {
        Json(item)
    }
}

mod tutorial004 {
    use super::*;

    fn app() -> App {
        App::new().route(Route::post("/items/", documented::create_item).summary("Create an item"))
    }

    #[portico::test]
    async fn post_items() {
        assert_post_items(&TestClient::new(app()), 200).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(
            &client,
            described_document(DOCSTRING, "Successful Response"),
        )
        .await;
    }
}

mod tutorial005 {
    use super::*;

    fn app() -> App {
        App::new().route(
            Route::post("/items/", documented::create_item)
                .summary("Create an item")
                .response_description("The created item"),
        )
    }

    #[portico::test]
    async fn query_params_str_validations() {
        let client = TestClient::new(app());
        let response = client
            .post("/items/")
            .json(&json!({"name": "Foo", "price": 42}))
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        // Python's `42 == 42.0`: Pydantic's float answers `42.0`.
        assert_eq!(
            response.json::<Value>(),
            json!({"name": "Foo", "price": 42.0, "description": null, "tax": null, "tags": []})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        assert_document(&client, described_document(DOCSTRING, "The created item")).await;
    }
}

mod tutorial006 {
    use super::*;

    async fn read_elements() -> Json<Value> {
        Json(json!([{"item_id": "Foo"}]))
    }

    fn app() -> App {
        App::new()
            .route(Route::get("/items/", read_items).tag("items"))
            .route(Route::get("/users/", read_users).tag("users"))
            .route(
                Route::get("/elements/", read_elements)
                    .tag("items")
                    .deprecated(),
            )
    }

    #[portico::test]
    async fn query_params_str_validations() {
        let client = TestClient::new(app());
        for (path, expected) in [
            ("/items/", json!([{"name": "Foo", "price": 42}])),
            ("/users/", json!([{"username": "johndoe"}])),
            ("/elements/", json!([{"item_id": "Foo"}])),
        ] {
            assert_get(&client, path, expected).await;
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({
                "/items/": {"get": get_operation("Read Items", "read_items_items__get", json!({"tags": ["items"]}))},
                "/users/": {"get": get_operation("Read Users", "read_users_users__get", json!({"tags": ["users"]}))},
                "/elements/": {"get": get_operation(
                    "Read Elements",
                    "read_elements_elements__get",
                    json!({"tags": ["items"], "deprecated": true}),
                )},
            }),
            None,
        );
        assert_document(&client, expected).await;
    }
}
