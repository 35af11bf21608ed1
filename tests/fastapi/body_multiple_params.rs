//! Body - multiple parameters: `docs_src/body_multiple_params/tutorial001` to `tutorial005`.
//!
//! Several body parameters are declared with `#[body]`, as FastAPI's are; Portico reads them
//! as the keys of one object, documented as `Body_<operationId>` as FastAPI's.

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{
    any_json_response, assert_document, nullable, param, schemas_with_validation,
    validation_response,
};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    name: String,
    description: Option<String>,
    price: f64,
    tax: Option<f64>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct User {
    username: String,
    full_name: Option<String>,
}

fn item_schema() -> Value {
    json!({
        "required": ["name", "price"],
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "price": {"type": "number"},
            "tax": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        },
    })
}

fn user_schema() -> Value {
    json!({
        "required": ["username"],
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "full_name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    })
}

const BODY_NAME: &str = "Body_update_item_items__item_id__put";

/// The document of `PUT /items/{item_id}` (`update_item`) with the given parameters, request
/// body and components besides the validation ones.
fn update_document(parameters: Vec<Value>, request_body: Value, schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {"/items/{item_id}": {"put": {
            "responses": {"200": any_json_response(), "422": validation_response()},
            "summary": "Update Item",
            "operationId": "update_item_items__item_id__put",
            "parameters": parameters,
            "requestBody": request_body,
        }}},
        "components": {"schemas": schemas_with_validation(schemas)},
    })
}

/// The request body of the tutorials whose body is the `Body_...` object.
fn body_object() -> Value {
    json!({
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{BODY_NAME}")}}},
        "required": true,
    })
}

fn item_id_param() -> Value {
    param("path", "item_id", true, json!({"type": "integer"}))
}

fn q_param() -> Value {
    param("query", "q", false, nullable(json!({"type": "string"})))
}

async fn assert_put(
    client: &TestClient,
    url: &str,
    body: Option<Value>,
    status: u16,
    expected: Value,
) {
    let request = client.put(url);
    let request = match &body {
        Some(body) => request.json(body),
        // httpx's `json=None` sends no body at all.
        None => request,
    };
    let response = request.await;
    assert_eq!(
        response.status(),
        status,
        "{url} {body:?}: {}",
        response.text()
    );
    assert_eq!(response.json::<Value>(), expected, "{url} {body:?}");
}

fn missing(names: &[&str]) -> Value {
    let detail: Vec<Value> = names
        .iter()
        .map(|name| json!({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": null}))
        .collect();
    json!({"detail": detail})
}

fn int_parsing_foo() -> Value {
    json!({"detail": [{
        "type": "int_parsing",
        "loc": ["path", "item_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "foo",
    }]})
}

fn item_json(description: Option<&str>, tax: Option<f64>) -> Value {
    json!({"name": "Foo", "price": 50.5, "description": description, "tax": tax})
}

mod tutorial001 {
    use super::*;

    // FastAPI's `title="The ID of the item to get"` is a schema title, left out of comparisons.
    #[portico::handler]
    async fn update_item(
        #[path(ge = 0, le = 1000)] item_id: i64,
        #[query] q: Option<String>,
        #[body] item: Option<Item>,
    ) -> Json<Value> {
        let mut results = json!({"item_id": item_id});
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            results["q"] = json!(q);
        }
        if let Some(item) = item {
            results["item"] = json!(item);
        }
        Json(results)
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_body_q_bar_content() {
        assert_put(
            &TestClient::new(app()),
            "/items/5?q=bar",
            Some(json!({"name": "Foo", "price": 50.5})),
            200,
            json!({"item_id": 5, "item": item_json(None, None), "q": "bar"}),
        )
        .await;
    }

    #[portico::test]
    async fn post_no_body_q_bar() {
        let client = TestClient::new(app());
        let expected = json!({"item_id": 5, "q": "bar"});
        assert_put(&client, "/items/5?q=bar", None, 200, expected).await;
    }

    #[portico::test]
    async fn post_no_body() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/5", None, 200, json!({"item_id": 5})).await;
    }

    #[portico::test]
    async fn post_id_foo() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/foo", None, 422, int_parsing_foo()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        // FastAPI's snapshot writes the bounds as `0.0` and `1000.0`: the same JSON numbers.
        let expected = update_document(
            vec![
                param(
                    "path",
                    "item_id",
                    true,
                    json!({"maximum": 1000, "minimum": 0, "type": "integer"}),
                ),
                q_param(),
            ],
            json!({"content": {"application/json": {"schema": {
                "anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}],
            }}}}),
            json!({"Item": item_schema()}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn update_item(
        #[path] item_id: i64,
        #[body] item: Item,
        #[body] user: User,
    ) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item, "user": user}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_all() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({
                "item": {"name": "Foo", "price": 50.5, "description": "Some Foo", "tax": 0.1},
                "user": {"username": "johndoe", "full_name": "John Doe"},
            })),
            200,
            json!({
                "item_id": 5,
                "item": item_json(Some("Some Foo"), Some(0.1)),
                "user": {"username": "johndoe", "full_name": "John Doe"},
            }),
        )
        .await;
    }

    #[portico::test]
    async fn post_required() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({"item": {"name": "Foo", "price": 50.5}, "user": {"username": "johndoe"}})),
            200,
            json!({
                "item_id": 5,
                "item": item_json(None, None),
                "user": {"username": "johndoe", "full_name": null},
            }),
        )
        .await;
    }

    #[portico::test]
    async fn post_no_body() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/5", None, 422, missing(&["item", "user"])).await;
    }

    #[portico::test]
    async fn post_no_item() {
        let client = TestClient::new(app());
        let body = json!({"user": {"username": "johndoe"}});
        assert_put(&client, "/items/5", Some(body), 422, missing(&["item"])).await;
    }

    #[portico::test]
    async fn post_no_user() {
        let client = TestClient::new(app());
        let body = json!({"item": {"name": "Foo", "price": 50.5}});
        assert_put(&client, "/items/5", Some(body), 422, missing(&["user"])).await;
    }

    #[portico::test]
    async fn post_missing_required_field_in_item() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({"item": {"name": "Foo"}, "user": {"username": "johndoe"}})),
            422,
            json!({"detail": [{
                "input": {"name": "Foo"}, "loc": ["body", "item", "price"],
                "msg": "Field required", "type": "missing",
            }]}),
        )
        .await;
    }

    #[portico::test]
    async fn post_missing_required_field_in_user() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({
                "item": {"name": "Foo", "price": 50.5},
                "user": {"full_name": "John Doe"},
            })),
            422,
            json!({"detail": [{
                "input": {"full_name": "John Doe"}, "loc": ["body", "user", "username"],
                "msg": "Field required", "type": "missing",
            }]}),
        )
        .await;
    }

    #[portico::test]
    async fn post_id_foo() {
        assert_put(
            &TestClient::new(app()),
            "/items/foo",
            Some(json!({"item": {"name": "Foo", "price": 50.5}, "user": {"username": "johndoe"}})),
            422,
            int_parsing_foo(),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = update_document(
            vec![item_id_param()],
            body_object(),
            json!({
                BODY_NAME: {
                    "properties": {
                        "item": {"$ref": "#/components/schemas/Item"},
                        "user": {"$ref": "#/components/schemas/User"},
                    },
                    "required": ["item", "user"],
                    "type": "object",
                },
                "Item": item_schema(),
                "User": user_schema(),
            }),
        );
        assert_document(&client, expected).await;
    }
}

/// The `Body_...` schema of tutorials 003 and 004, with `importance`'s schema.
fn body_with_importance(importance: Value) -> Value {
    json!({
        BODY_NAME: {
            "required": ["item", "user", "importance"],
            "type": "object",
            "properties": {
                "item": {"$ref": "#/components/schemas/Item"},
                "user": {"$ref": "#/components/schemas/User"},
                "importance": importance,
            },
        },
        "Item": item_schema(),
        "User": user_schema(),
    })
}

fn valid_body() -> Value {
    json!({"importance": 2, "item": {"name": "Foo", "price": 50.5}, "user": {"username": "Dave"}})
}

fn valid_answer() -> Value {
    json!({
        "item_id": 5,
        "importance": 2,
        "item": item_json(None, None),
        "user": {"username": "Dave", "full_name": null},
    })
}

mod tutorial003 {
    use super::*;

    #[portico::handler]
    async fn update_item(
        #[path] item_id: i64,
        #[body] item: Item,
        #[body] user: User,
        #[body] importance: i64,
    ) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item, "user": user, "importance": importance}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_body_valid() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/5", Some(valid_body()), 200, valid_answer()).await;
    }

    #[portico::test]
    async fn post_body_no_data() {
        let client = TestClient::new(app());
        let expected = missing(&["item", "user", "importance"]);
        assert_put(&client, "/items/5", None, 422, expected).await;
    }

    #[portico::test]
    async fn post_body_empty_list() {
        let client = TestClient::new(app());
        let expected = missing(&["item", "user", "importance"]);
        assert_put(&client, "/items/5", Some(json!([])), 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = update_document(
            vec![item_id_param()],
            body_object(),
            body_with_importance(json!({"type": "integer"})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial004 {
    use super::*;

    #[portico::handler]
    async fn update_item(
        #[path] item_id: i64,
        #[body] item: Item,
        #[body] user: User,
        #[body(gt = 0)] importance: i64,
        #[query] q: Option<String>,
    ) -> Json<Value> {
        let mut results =
            json!({"item_id": item_id, "item": item, "user": user, "importance": importance});
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            results["q"] = json!(q);
        }
        Json(results)
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn put_all() {
        let client = TestClient::new(app());
        let mut expected = valid_answer();
        expected["q"] = json!("somequery");
        let url = "/items/5?q=somequery";
        assert_put(&client, url, Some(valid_body()), 200, expected).await;
    }

    #[portico::test]
    async fn put_only_required() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/5", Some(valid_body()), 200, valid_answer()).await;
    }

    #[portico::test]
    async fn put_missing_body() {
        let client = TestClient::new(app());
        let expected = missing(&["item", "user", "importance"]);
        assert_put(&client, "/items/5", None, 422, expected).await;
    }

    #[portico::test]
    async fn put_empty_body() {
        let client = TestClient::new(app());
        let expected = missing(&["item", "user", "importance"]);
        assert_put(&client, "/items/5", Some(json!({})), 422, expected).await;
    }

    #[portico::test]
    async fn put_invalid_importance() {
        let mut body = valid_body();
        body["importance"] = json!(0);
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(body),
            422,
            json!({"detail": [{
                "loc": ["body", "importance"],
                "msg": "Input should be greater than 0",
                "type": "greater_than",
                "input": 0,
                "ctx": {"gt": 0},
            }]}),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        // FastAPI's snapshot writes `exclusiveMinimum` as `0.0`: the same JSON number.
        let expected = update_document(
            vec![item_id_param(), q_param()],
            body_object(),
            body_with_importance(json!({"type": "integer", "exclusiveMinimum": 0})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    // `Body(embed=True)`: the item under the key `item`.
    #[portico::handler]
    async fn update_item(#[path] item_id: i64, #[body(embed)] item: Item) -> Json<Value> {
        Json(json!({"item_id": item_id, "item": item}))
    }

    fn app() -> App {
        App::new().put("/items/{item_id}", update_item)
    }

    #[portico::test]
    async fn post_all() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({"item": {"name": "Foo", "price": 50.5, "description": "Some Foo", "tax": 0.1}})),
            200,
            json!({"item_id": 5, "item": item_json(Some("Some Foo"), Some(0.1))}),
        )
        .await;
    }

    #[portico::test]
    async fn post_required() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({"item": {"name": "Foo", "price": 50.5}})),
            200,
            json!({"item_id": 5, "item": item_json(None, None)}),
        )
        .await;
    }

    #[portico::test]
    async fn post_no_body() {
        let client = TestClient::new(app());
        assert_put(&client, "/items/5", None, 422, missing(&["item"])).await;
    }

    #[portico::test]
    async fn post_like_not_embedded() {
        let client = TestClient::new(app());
        let body = json!({"name": "Foo", "price": 50.5});
        assert_put(&client, "/items/5", Some(body), 422, missing(&["item"])).await;
    }

    #[portico::test]
    async fn post_missing_required_field_in_item() {
        assert_put(
            &TestClient::new(app()),
            "/items/5",
            Some(json!({"item": {"name": "Foo"}, "user": {"username": "johndoe"}})),
            422,
            json!({"detail": [{
                "input": {"name": "Foo"}, "loc": ["body", "item", "price"],
                "msg": "Field required", "type": "missing",
            }]}),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = update_document(
            vec![item_id_param()],
            body_object(),
            json!({
                BODY_NAME: {
                    "properties": {"item": {"$ref": "#/components/schemas/Item"}},
                    "required": ["item"],
                    "type": "object",
                },
                "Item": item_schema(),
            }),
        );
        assert_document(&client, expected).await;
    }
}
