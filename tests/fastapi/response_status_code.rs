//! Response status code: `docs_src/response_status_code/tutorial001` (`status_code=201`) and
//! `tutorial002` (`status.HTTP_201_CREATED`); FastAPI's one test file runs against both.

use portico::http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Json, Route};
use serde_json::{Value, json};

use crate::support::{assert_document, document, operation, param};

#[portico::handler]
async fn create_item(#[query] name: String) -> Json<Value> {
    Json(json!({"name": name}))
}

/// Both apps, as FastAPI's test runs its functions against each.
fn apps() -> [App; 2] {
    [
        // tutorial001: the number itself.
        App::new().route(
            Route::post("/items/", create_item).status_code(StatusCode::from_u16(201).unwrap()),
        ),
        // tutorial002: the named constant.
        App::new().route(Route::post("/items/", create_item).status_code(StatusCode::CREATED)),
    ]
}

#[portico::test]
async fn create_item_test() {
    for app in apps() {
        let client = TestClient::new(app);
        let response = client.post("/items/").query(&[("name", "Test Item")]).await;
        assert_eq!(response.status(), 201, "{}", response.text());
        assert_eq!(response.json::<Value>(), json!({"name": "Test Item"}));
    }
}

#[portico::test]
async fn openapi_schema() {
    for app in apps() {
        let client = TestClient::new(app);
        let mut operation = operation(
            "Create Item",
            "create_item_items__post",
            vec![param("query", "name", true, json!({"type": "string"}))],
        );
        let responses = &mut operation["responses"];
        responses["201"] = responses["200"].take();
        responses.as_object_mut().unwrap().remove("200");
        let expected = document(json!({"/items/": {"post": operation}}), Some(json!({})));
        assert_document(&client, expected).await;
    }
}
