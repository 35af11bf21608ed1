//! Handling errors: `docs_src/handling_errors/tutorial001` to `tutorial006`.

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{
    App, HttpError, IntoResponse, Json, LocPart, RequestHead, RequestValidationError, Response,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{assert_document, document, operation, param};

/// The document of one `GET` with a path parameter `name` of the given schema.
fn one_get(path: &str, summary: &str, operation_id: &str, name: &str, schema: Value) -> Value {
    document(
        json!({path: {"get": operation(summary, operation_id, vec![param("path", name, true, schema)])}}),
        Some(json!({})),
    )
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Result<Json<Value>, HttpError> {
        match item_id.as_str() {
            "foo" => Ok(Json(json!({"item": "The Foo Wrestlers"}))),
            _ => Err(HttpError::not_found().detail("Item not found")),
        }
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_item() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"item": "The Foo Wrestlers"})
        );
    }

    #[portico::test]
    async fn get_item_not_found() {
        let client = TestClient::new(app());
        let response = client.get("/items/bar").await;
        assert_eq!(response.status(), 404, "{}", response.text());
        assert_eq!(response.header("x-error"), None);
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Item not found"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = one_get(
            "/items/{item_id}",
            "Read Item",
            "read_item_items__item_id__get",
            "item_id",
            json!({"type": "string"}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn read_item_header(#[path] item_id: String) -> Result<Json<Value>, HttpError> {
        match item_id.as_str() {
            "foo" => Ok(Json(json!({"item": "The Foo Wrestlers"}))),
            _ => Err(HttpError::not_found()
                .detail("Item not found")
                .header("X-Error", "There goes my error")),
        }
    }

    fn app() -> App {
        App::new().get("/items-header/{item_id}", read_item_header)
    }

    #[portico::test]
    async fn get_item_header() {
        let client = TestClient::new(app());
        let response = client.get("/items-header/foo").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"item": "The Foo Wrestlers"})
        );
    }

    #[portico::test]
    async fn get_item_not_found_header() {
        let client = TestClient::new(app());
        let response = client.get("/items-header/bar").await;
        assert_eq!(response.status(), 404, "{}", response.text());
        assert_eq!(response.header("x-error"), Some("There goes my error"));
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Item not found"})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = one_get(
            "/items-header/{item_id}",
            "Read Item Header",
            "read_item_header_items_header__item_id__get",
            "item_id",
            json!({"type": "string"}),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[derive(Debug)]
    struct UnicornException {
        name: String,
    }

    /// Without its exception handler, an unhandled error: 500, as FastAPI answers one.
    impl IntoResponse for UnicornException {
        fn into_response(self) -> Response {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }

    async fn unicorn_exception_handler(exc: UnicornException, _: RequestHead) -> impl IntoResponse {
        (
            StatusCode::IM_A_TEAPOT,
            Json(
                json!({"message": format!("Oops! {} did something. There goes a rainbow...", exc.name)}),
            ),
        )
    }

    #[portico::handler]
    async fn read_unicorn(#[path] name: String) -> Result<Json<Value>, UnicornException> {
        if name == "yolo" {
            return Err(UnicornException { name });
        }
        Ok(Json(json!({"unicorn_name": name})))
    }

    fn app() -> App {
        App::new()
            .exception_handler(unicorn_exception_handler)
            .get("/unicorns/{name}", read_unicorn)
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        let response = client.get("/unicorns/shinny").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"unicorn_name": "shinny"}));
    }

    #[portico::test]
    async fn get_exception() {
        let client = TestClient::new(app());
        let response = client.get("/unicorns/yolo").await;
        assert_eq!(response.status(), 418, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"message": "Oops! yolo did something. There goes a rainbow..."})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = one_get(
            "/unicorns/{name}",
            "Read Unicorn",
            "read_unicorn_unicorns__name__get",
            "name",
            json!({"type": "string"}),
        );
        assert_document(&client, expected).await;
    }
}

// `read_item` of tutorials 004 and 006.
#[portico::handler]
async fn read_item(#[path] item_id: i64) -> Result<Json<Value>, HttpError> {
    if item_id == 3 {
        return Err(HttpError::new(StatusCode::IM_A_TEAPOT).detail("Nope! I don't like 3."));
    }
    Ok(Json(json!({"item_id": item_id})))
}

/// The document of tutorials 004 and 006.
fn read_item_document() -> Value {
    one_get(
        "/items/{item_id}",
        "Read Item",
        "read_item_items__item_id__get",
        "item_id",
        json!({"type": "integer"}),
    )
}

mod tutorial004 {
    use super::*;

    /// A location as Python prints the tuple: `('path', 'item_id')`.
    fn python_tuple(loc: &[LocPart]) -> String {
        let parts: Vec<String> = loc
            .iter()
            .map(|part| match part {
                LocPart::Key(key) => format!("'{key}'"),
                LocPart::Index(index) => index.to_string(),
            })
            .collect();
        match parts.as_slice() {
            [one] => format!("({one},)"),
            _ => format!("({})", parts.join(", ")),
        }
    }

    async fn http_exception_handler(exc: HttpError, _: RequestHead) -> impl IntoResponse {
        let detail = match exc.detail_value() {
            Value::String(text) => text,
            other => other.to_string(),
        };
        (exc.status(), detail)
    }

    async fn validation_exception_handler(
        exc: RequestValidationError,
        _: RequestHead,
    ) -> impl IntoResponse {
        let mut message = String::from("Validation errors:");
        for error in exc.errors() {
            message += &format!(
                "\nField: {}, Error: {}",
                python_tuple(&error.loc),
                error.msg
            );
        }
        (StatusCode::BAD_REQUEST, message)
    }

    fn app() -> App {
        App::new()
            .exception_handler(http_exception_handler)
            .exception_handler(validation_exception_handler)
            .get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_validation_error() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo").await;
        let text = response.text();
        assert_eq!(response.status(), 400, "{text}");
        assert!(text.contains("Validation errors:"), "{text}");
        assert!(text.contains("Field: ('path', 'item_id')"), "{text}");
    }

    #[portico::test]
    async fn get_http_error() {
        let client = TestClient::new(app());
        let response = client.get("/items/3").await;
        assert_eq!(response.status(), 418, "{}", response.text());
        assert_eq!(response.bytes().as_ref(), b"Nope! I don't like 3.");
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        let response = client.get("/items/2").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"item_id": 2}));
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), read_item_document()).await;
    }
}

mod tutorial005 {
    use super::*;

    /// FastAPI's handler answers `{"detail": exc.errors(), "body": exc.body}`.
    async fn validation_exception_handler(
        exc: RequestValidationError,
        _: RequestHead,
    ) -> impl IntoResponse {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"detail": exc.errors(), "body": exc.body()})),
        )
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Item {
        title: String,
        size: i64,
    }

    async fn create_item(Json(item): Json<Item>) -> Json<Item> {
        Json(item)
    }

    fn app() -> App {
        App::new()
            .exception_handler(validation_exception_handler)
            .post("/items/", create_item)
    }

    #[portico::test]
    async fn post_validation_error() {
        let client = TestClient::new(app());
        let response = client
            .post("/items/")
            .json(&json!({"title": "towel", "size": "XL"}))
            .await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({
                "detail": [{
                    "type": "int_parsing",
                    "loc": ["body", "size"],
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "input": "XL",
                }],
                "body": {"title": "towel", "size": "XL"},
            })
        );
    }

    #[portico::test]
    async fn post() {
        let client = TestClient::new(app());
        let data = json!({"title": "towel", "size": 5});
        let response = client.post("/items/").json(&data).await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), data);
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/": {"post": {
                "summary": "Create Item",
                "operationId": "create_item_items__post",
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                    "required": true,
                },
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    },
                    "422": crate::support::validation_response(),
                },
            }}}),
            Some(json!({"Item": {
                "required": ["title", "size"],
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "size": {"type": "integer"},
                },
            }})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial006 {
    use super::*;

    /// Logs, then answers as the default handler does (FastAPI's `http_exception_handler`).
    async fn custom_http_exception_handler(exc: HttpError, _: RequestHead) -> Response {
        tracing::info!("OMG! An HTTP error!: {exc:?}");
        exc.into_response()
    }

    /// Logs, then answers as the default handler does (FastAPI's
    /// `request_validation_exception_handler`).
    async fn validation_exception_handler(exc: RequestValidationError, _: RequestHead) -> Response {
        tracing::info!("OMG! The client sent invalid data!: {exc}");
        exc.into_response()
    }

    fn app() -> App {
        App::new()
            .exception_handler(custom_http_exception_handler)
            .exception_handler(validation_exception_handler)
            .get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn get_validation_error() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [{
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "foo",
            }]})
        );
    }

    #[portico::test]
    async fn get_http_error() {
        let client = TestClient::new(app());
        let response = client.get("/items/3").await;
        assert_eq!(response.status(), 418, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Nope! I don't like 3."})
        );
    }

    #[portico::test]
    async fn get() {
        let client = TestClient::new(app());
        let response = client.get("/items/2").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"item_id": 2}));
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), read_item_document()).await;
    }
}
