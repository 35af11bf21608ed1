//! Response model: `docs_src/response_model/tutorial001` to `tutorial006`.
//!
//! A Portico handler's response model is its return type: FastAPI's `response_model=Item` and
//! `-> Item` are both `Json<Item>` here.

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, IntoResponse, Json, Partial, Redirect, Response, Route};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document, param, validation_response};

/// Python's `==` on JSON documents, as FastAPI's tests compare them: `62 == 62.0`. (Pydantic
/// sends a `float` field as `62.0`; the tests write the expected value as `62`.)
fn python_eq(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| python_eq(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| python_eq(v, w)))
        }
        _ => actual == expected,
    }
}

fn assert_python_eq(actual: Value, expected: Value) {
    assert!(
        python_eq(&actual, &expected),
        "expected {expected}, found {actual}"
    );
}

/// A 200 whose body is `schema`.
fn json_response(schema: Value) -> Value {
    json!({
        "description": "Successful Response",
        "content": {"application/json": {"schema": schema}},
    })
}

fn component(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A JSON request body of the component `name`.
fn request_body(name: &str) -> Value {
    json!({"content": {"application/json": {"schema": component(name)}}, "required": true})
}

fn nullable_string() -> Value {
    json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
}

/// The schemas of tutorials 002, 003 and 003_01's users.
fn user_schema(required: &[&str], password: bool) -> Value {
    let mut schema = json!({
        "required": required,
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "full_name": nullable_string(),
        },
    });
    if password {
        schema["properties"]["password"] = json!({"type": "string"});
    }
    schema
}

/// `POST /user/` with a user, the answer's status and body.
async fn post_user(client: &TestClient) -> (StatusCode, Value) {
    let response = client
        .post("/user/")
        .json(&json!({
            "username": "foo",
            "password": "fighter",
            "email": "foo@example.com",
            "full_name": "Grave Dohl",
        }))
        .await;
    (response.status(), response.json())
}

/// The document of `POST /user/` taking `UserIn` and answering `output`.
fn user_document(output: &str, schemas: Value) -> Value {
    document(
        json!({"/user/": {"post": {
            "summary": "Create User",
            "operationId": "create_user_user__post",
            "requestBody": request_body("UserIn"),
            "responses": {"200": json_response(component(output)), "422": validation_response()},
        }}}),
        Some(schemas),
    )
}

/// `tutorial001` declares `response_model=Item` and `tutorial001_01` the return annotation
/// `-> Item`; in Rust both are the return type `Json<Item>`, so the two are one app here.
mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        name: String,
        #[serde(default)]
        description: Option<String>,
        price: f64,
        #[serde(default)]
        tax: Option<f64>,
        #[serde(default)]
        tags: Vec<String>,
    }

    async fn create_item(Json(item): Json<Item>) -> Json<Item> {
        Json(item)
    }

    async fn read_items() -> Json<Vec<Item>> {
        let item = |name: &str, price| Item {
            name: name.to_owned(),
            description: None,
            price,
            tax: None,
            tags: Vec::new(),
        };
        Json(vec![item("Portal Gun", 42.0), item("Plumbus", 32.0)])
    }

    fn app() -> App {
        App::new()
            .post("/items/", create_item)
            .get("/items/", read_items)
    }

    #[portico::test]
    async fn read_items_test() {
        let client = TestClient::new(app());
        let response = client.get("/items/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!([
                {"name": "Portal Gun", "description": null, "price": 42.0, "tags": [], "tax": null},
                {"name": "Plumbus", "description": null, "price": 32.0, "tags": [], "tax": null},
            ]),
        );
    }

    #[portico::test]
    async fn create_item_test() {
        let client = TestClient::new(app());
        let item_data = json!({
            "name": "Test Item",
            "description": "A test item",
            "price": 10.5,
            "tax": 1.5,
            "tags": ["test", "item"],
        });
        let response = client.post("/items/").json(&item_data).await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(response.json(), item_data);
    }

    #[portico::test]
    async fn create_item_only_required() {
        let client = TestClient::new(app());
        let response = client
            .post("/items/")
            .json(&json!({"name": "Test Item", "price": 10.5}))
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_python_eq(
            response.json(),
            json!({"name": "Test Item", "price": 10.5, "description": null, "tax": null, "tags": []}),
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/": {
                "get": {
                    "responses": {"200": json_response(json!({"type": "array", "items": component("Item")}))},
                    "summary": "Read Items",
                    "operationId": "read_items_items__get",
                },
                "post": {
                    "requestBody": request_body("Item"),
                    "responses": {"200": json_response(component("Item")), "422": validation_response()},
                    "summary": "Create Item",
                    "operationId": "create_item_items__post",
                },
            }}),
            Some(json!({"Item": {
                "required": ["name", "price"],
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number"},
                    "description": nullable_string(),
                    "tax": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct UserIn {
        username: String,
        password: String,
        #[schemars(email)]
        email: String,
        #[serde(default)]
        full_name: Option<String>,
    }

    // Don't do this in production!
    async fn create_user(Json(user): Json<UserIn>) -> Json<UserIn> {
        Json(user)
    }

    fn app() -> App {
        App::new().post("/user/", create_user)
    }

    #[portico::test]
    async fn post_user_test() {
        let client = TestClient::new(app());
        let (status, body) = post_user(&client).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({
                "username": "foo",
                "password": "fighter",
                "email": "foo@example.com",
                "full_name": "Grave Dohl",
            })
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = user_document(
            "UserIn",
            json!({"UserIn": user_schema(&["username", "password", "email"], true)}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[derive(Deserialize, JsonSchema)]
    struct UserIn {
        username: String,
        password: String,
        #[schemars(email)]
        email: String,
        #[serde(default)]
        full_name: Option<String>,
    }

    #[derive(Serialize, JsonSchema)]
    struct UserOut {
        username: String,
        #[schemars(email)]
        email: String,
        full_name: Option<String>,
    }

    /// FastAPI filters the returned `UserIn` through `response_model=UserOut`; a Rust handler
    /// returns a `UserOut`, built from the input.
    async fn create_user(Json(user): Json<UserIn>) -> Json<UserOut> {
        let _ = user.password;
        Json(UserOut {
            username: user.username,
            email: user.email,
            full_name: user.full_name,
        })
    }

    fn app() -> App {
        App::new().post("/user/", create_user)
    }

    #[portico::test]
    async fn post_user_test() {
        let client = TestClient::new(app());
        let (status, body) = post_user(&client).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"username": "foo", "email": "foo@example.com", "full_name": "Grave Dohl"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = user_document(
            "UserOut",
            json!({
                "UserOut": user_schema(&["username", "email"], false),
                "UserIn": user_schema(&["username", "password", "email"], true),
            }),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial003_01 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct BaseUser {
        username: String,
        #[schemars(email)]
        email: String,
        full_name: Option<String>,
    }

    /// `class UserIn(BaseUser)`: the base's fields, then its own.
    #[derive(Deserialize, JsonSchema)]
    struct UserIn {
        #[serde(flatten)]
        base: BaseUser,
        password: String,
    }

    async fn create_user(Json(user): Json<UserIn>) -> Json<BaseUser> {
        let _ = user.password;
        Json(user.base)
    }

    fn app() -> App {
        App::new().post("/user/", create_user)
    }

    #[portico::test]
    async fn post_user_test() {
        let client = TestClient::new(app());
        let (status, body) = post_user(&client).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"username": "foo", "email": "foo@example.com", "full_name": "Grave Dohl"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = user_document(
            "BaseUser",
            json!({
                "BaseUser": user_schema(&["username", "email"], false),
                "UserIn": user_schema(&["username", "email", "password"], true),
            }),
        );
        assert_document(&client, expected).await;
    }
}

const PORTAL: &str = "Here's your interdimensional portal.";
const RICKROLL: &str = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";

/// FastAPI's document of `GET /portal` (tutorials 003_02 and 003_05).
fn portal_document() -> Value {
    document(
        json!({"/portal": {"get": {
            "summary": "Get Portal",
            "operationId": "get_portal_portal_get",
            "parameters": [param("query", "teleport", false, json!({"type": "boolean", "default": false}))],
            "responses": {"200": any_json_response(), "422": validation_response()},
        }}}),
        Some(json!({})),
    )
}

// `-> Response`: a redirect or JSON, built by hand (FastAPI's `RedirectResponse` and
// `JSONResponse`).
#[portico::handler]
async fn get_portal(#[query(default = false)] teleport: bool) -> Response {
    if teleport {
        return Redirect::to(RICKROLL).into_response();
    }
    Json(json!({"message": PORTAL})).into_response()
}

mod tutorial003_02 {
    use super::*;

    pub(super) fn app() -> App {
        App::new().get("/portal", get_portal)
    }

    #[portico::test]
    async fn get_portal_test() {
        let client = TestClient::new(app());
        let response = client.get("/portal").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"message": PORTAL}));
    }

    #[portico::test]
    async fn get_redirect() {
        let client = TestClient::new(app());
        let response = client
            .get("/portal")
            .query(&[("teleport", "true")])
            .follow_redirects(false)
            .await;
        assert_eq!(response.status(), 307, "{}", response.text());
        assert_eq!(response.header("location"), Some(RICKROLL));
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), portal_document()).await;
    }
}

mod tutorial003_03 {
    use super::*;

    async fn get_teleport() -> Redirect {
        Redirect::to(RICKROLL)
    }

    fn app() -> App {
        App::new().get("/teleport", get_teleport)
    }

    #[portico::test]
    async fn get_portal_test() {
        let client = TestClient::new(app());
        let response = client.get("/teleport").follow_redirects(false).await;
        assert_eq!(response.status(), 307, "{}", response.text());
        assert_eq!(response.header("location"), Some(RICKROLL));
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/teleport": {"get": {
                "summary": "Get Teleport",
                "operationId": "get_teleport_teleport_get",
                "responses": {"200": any_json_response()},
            }}}),
            None,
        );
        assert_document(&client, expected).await;
    }
}

// tutorial003_04 annotates `-> Response | dict`, which FastAPI refuses when the app is
// imported (its test asserts that `FastAPIError`). A Rust function has one return type: the
// app cannot be written, so there is nothing to port.

/// `tutorial003_05` is 003_02 with `response_model=None`: a Rust handler returning `Response`
/// already has no response model, so it is the same app, against FastAPI's second test file.
mod tutorial003_05 {
    use super::*;

    fn app() -> App {
        tutorial003_02::app()
    }

    #[portico::test]
    async fn get_portal_test() {
        let client = TestClient::new(app());
        let response = client.get("/portal").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"message": PORTAL}));
    }

    #[portico::test]
    async fn get_redirect() {
        let client = TestClient::new(app());
        let response = client
            .get("/portal")
            .query(&[("teleport", "true")])
            .follow_redirects(false)
            .await;
        assert_eq!(response.status(), 307, "{}", response.text());
        assert_eq!(response.header("location"), Some(RICKROLL));
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), portal_document()).await;
    }
}

/// The document of `GET /items/{item_id}{suffix}` answering an `Item`.
mod exclude;
