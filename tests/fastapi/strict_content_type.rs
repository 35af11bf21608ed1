//! Strict content type: `docs_src/strict_content_type/tutorial001`, an app that reads JSON
//! sent without a `Content-Type` (`FastAPI(strict_content_type=False)`).

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    name: String,
    price: f64,
}

async fn create_item(Json(item): Json<Item>) -> Json<Item> {
    Json(item)
}

fn app() -> App {
    App::new()
        .strict_content_type(false)
        .post("/items/", create_item)
}

#[portico::test]
async fn lax_post_without_content_type_is_parsed_as_json() {
    let client = TestClient::new(app());
    let response = client
        .post("/items/")
        .body(r#"{"name": "Foo", "price": 50.5}"#)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Foo", "price": 50.5})
    );
}

#[portico::test]
async fn lax_post_with_json_content_type() {
    let client = TestClient::new(app());
    let response = client
        .post("/items/")
        .json(&json!({"name": "Foo", "price": 50.5}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"name": "Foo", "price": 50.5})
    );
}

#[portico::test]
async fn lax_post_with_text_plain_is_still_rejected() {
    let client = TestClient::new(app());
    let response = client
        .post("/items/")
        .content_type("text/plain")
        .body(r#"{"name": "Foo", "price": 50.5}"#)
        .await;
    assert_eq!(response.status(), 422, "{}", response.text());
}
