//! Additional responses in OpenAPI: `docs_src/additional_responses/tutorial001` to
//! `tutorial004`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, FileResponse, IntoResponse, Json, Response, Route, State};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::support::{
    assert_document, nullable, param, schemas_with_validation, validation_response,
};

#[derive(Serialize, JsonSchema)]
struct Item {
    id: String,
    value: String,
}

#[derive(Serialize, JsonSchema)]
struct Message {
    message: String,
}

fn there_goes_my_hero() -> Item {
    Item {
        id: "foo".into(),
        value: "there goes my hero".into(),
    }
}

fn item_schema() -> Value {
    json!({
        "required": ["id", "value"],
        "type": "object",
        "properties": {"id": {"type": "string"}, "value": {"type": "string"}},
    })
}

fn message_schema() -> Value {
    json!({
        "required": ["message"],
        "type": "object",
        "properties": {"message": {"type": "string"}},
    })
}

fn json_ref(name: &str) -> Value {
    json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}})
}

/// The document of every app here: `GET /items/{item_id}` with `responses` and the parameters.
fn items_document(responses: Value, img: bool, schemas: Value) -> Value {
    let mut parameters = vec![param("path", "item_id", true, json!({"type": "string"}))];
    if img {
        parameters.push(param(
            "query",
            "img",
            false,
            nullable(json!({"type": "boolean"})),
        ));
    }
    let mut all = responses;
    all["422"] = validation_response();
    json!({
        "openapi": "3.1.0",
        "paths": {"/items/{item_id}": {"get": {
            "responses": all,
            "summary": "Read Item",
            "operationId": "read_item_items__item_id__get",
            "parameters": parameters,
        }}},
        "components": {"schemas": schemas_with_validation(schemas)},
    })
}

async fn assert_item(client: &TestClient) {
    let response = client.get("/items/foo").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"id": "foo", "value": "there goes my hero"})
    );
}

async fn assert_not_found(client: &TestClient) {
    let response = client.get("/items/bar").await;
    assert_eq!(response.status(), 404, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"message": "Item not found"})
    );
}

/// FastAPI's `JSONResponse(status_code=404, content={"message": "Item not found"})`.
fn item_not_found() -> (StatusCode, Json<Message>) {
    (
        StatusCode::NOT_FOUND,
        Json(Message {
            message: "Item not found".into(),
        }),
    )
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Result<Json<Item>, (StatusCode, Json<Message>)> {
        if item_id == "foo" {
            return Ok(Json(there_goes_my_hero()));
        }
        Err(item_not_found())
    }

    fn app() -> App {
        App::new().route(
            Route::get("/items/{item_id}", read_item)
                .response_json::<Message>(StatusCode::NOT_FOUND, "Not Found"),
        )
    }

    #[portico::test]
    async fn path_operation() {
        assert_item(&TestClient::new(app())).await;
        assert_not_found(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let responses = json!({
            "404": {"description": "Not Found", "content": json_ref("Message")},
            "200": {"description": "Successful Response", "content": json_ref("Item")},
        });
        let schemas = json!({"Item": item_schema(), "Message": message_schema()});
        assert_document(
            &TestClient::new(app()),
            items_document(responses, false, schemas),
        )
        .await;
    }
}

/// The `image.png` that tutorials 002 and 004 send (FastAPI's test copies its favicon to the
/// working directory): a file of its own per app, as the tests run at once on two runtimes.
#[derive(Clone)]
struct Image(PathBuf);

impl Image {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "portico-fastapi-image-{}-{}.png",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        // A PNG signature and an empty IHDR chunk: bytes enough for a file response.
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        Self(path)
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// The handler of tutorials 002 and 004: the JSON item, or the image with `img`. It returns
// either of two response types, so it answers a `Response` and the route documents the 200
// (a comment, not a doc comment: that would become the operation's description).
#[portico::handler]
async fn read_item(
    #[path] item_id: String,
    #[query] img: Option<bool>,
    State(image): State<Image>,
) -> Response {
    let _ = item_id;
    if img == Some(true) {
        FileResponse::new(image.0.clone())
            .content_type("image/png")
            .into_response()
    } else {
        Json(there_goes_my_hero()).into_response()
    }
}

async fn assert_image(client: &TestClient) {
    let response = client.get("/items/foo?img=1").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("image/png"));
    assert!(!response.bytes().is_empty());
}

mod tutorial002 {
    use super::*;

    fn app(image: Image) -> App {
        App::new().state(image).route(
            Route::get("/items/{item_id}", read_item)
                .response_json::<Item>(StatusCode::OK, "Return the JSON item or an image.")
                .response_media_type(StatusCode::OK, "image/png"),
        )
    }

    #[portico::test]
    async fn path_operation() {
        let image = Image::new();
        let client = TestClient::new(app(image.clone()));
        assert_item(&client).await;
        assert_image(&client).await;
        image.remove();
    }

    #[portico::test]
    async fn openapi_schema() {
        let responses = json!({"200": {
            "description": "Return the JSON item or an image.",
            "content": {
                "image/png": {},
                "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
            },
        }});
        let expected = items_document(responses, true, json!({"Item": item_schema()}));
        let image = Image::new();
        assert_document(&TestClient::new(app(image.clone())), expected).await;
        image.remove();
    }
}

mod tutorial003 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: String) -> Result<Json<Item>, (StatusCode, Json<Message>)> {
        if item_id == "foo" {
            return Ok(Json(there_goes_my_hero()));
        }
        Err(item_not_found())
    }

    fn app() -> App {
        App::new().route(
            Route::get("/items/{item_id}", read_item)
                .response_json::<Message>(StatusCode::NOT_FOUND, "The item was not found")
                .response_description("Item requested by ID")
                .response_example(
                    StatusCode::OK,
                    json!({"id": "bar", "value": "The bar tenders"}),
                ),
        )
    }

    #[portico::test]
    async fn path_operation() {
        assert_item(&TestClient::new(app())).await;
        assert_not_found(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let responses = json!({
            "404": {"description": "The item was not found", "content": json_ref("Message")},
            "200": {
                "description": "Item requested by ID",
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Item"},
                    "example": {"id": "bar", "value": "The bar tenders"},
                }},
            },
        });
        let schemas = json!({"Item": item_schema(), "Message": message_schema()});
        assert_document(
            &TestClient::new(app()),
            items_document(responses, false, schemas),
        )
        .await;
    }
}

mod tutorial004 {
    use super::*;

    fn app(image: Image) -> App {
        // `responses={**responses, 200: {"content": {"image/png": {}}}}`, with
        // `response_model=Item`.
        App::new().state(image).route(
            Route::get("/items/{item_id}", read_item)
                .response(StatusCode::NOT_FOUND, "Item not found")
                .response(StatusCode::FOUND, "The item was moved")
                .response(StatusCode::FORBIDDEN, "Not enough privileges")
                .response_json::<Item>(StatusCode::OK, "Successful Response")
                .response_media_type(StatusCode::OK, "image/png"),
        )
    }

    #[portico::test]
    async fn path_operation() {
        let image = Image::new();
        let client = TestClient::new(app(image.clone()));
        assert_item(&client).await;
        assert_image(&client).await;
        image.remove();
    }

    #[portico::test]
    async fn openapi_schema() {
        let responses = json!({
            "404": {"description": "Item not found"},
            "302": {"description": "The item was moved"},
            "403": {"description": "Not enough privileges"},
            "200": {
                "description": "Successful Response",
                "content": {
                    "image/png": {},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
                },
            },
        });
        let expected = items_document(responses, true, json!({"Item": item_schema()}));
        let image = Image::new();
        assert_document(&TestClient::new(app(image.clone())), expected).await;
        image.remove();
    }
}
