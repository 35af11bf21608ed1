//! Testing dependencies with overrides: `docs_src/dependency_testing/tutorial001` (the `_an`
//! variant is the same app). FastAPI's tests run the tutorial's own three tests and three of
//! their own; all are ported here.

use portico::testing::TestClient;
use portico::{App, Depends, HttpError, Json};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Serialize)]
struct Commons {
    q: Option<String>,
    skip: i64,
    limit: i64,
}

#[portico::provider]
async fn common_parameters(
    #[query] q: Option<String>,
    #[query(default = 0)] skip: i64,
    #[query(default = 100)] limit: i64,
) -> Result<Commons, HttpError> {
    Ok(Commons { q, skip, limit })
}

async fn read_items(Depends(commons): Depends<Commons>) -> Json<Value> {
    Json(json!({"message": "Hello Items!", "params": *commons}))
}

async fn read_users(Depends(commons): Depends<Commons>) -> Json<Value> {
    Json(json!({"message": "Hello Users!", "params": *commons}))
}

fn app() -> App {
    App::new()
        .provide(common_parameters)
        .get("/items/", read_items)
        .get("/users/", read_users)
}

#[portico::provider]
async fn override_dependency(#[query] q: Option<String>) -> Result<Commons, HttpError> {
    Ok(Commons {
        q,
        skip: 5,
        limit: 10,
    })
}

/// The tutorial's module-level client, with `app.dependency_overrides` set.
fn client() -> TestClient {
    let client = TestClient::new(app());
    client.service().override_dependency(override_dependency);
    client
}

async fn assert_get(client: &TestClient, path: &str, expected: Value) {
    let response = client.get(path).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), expected);
}

#[portico::test]
async fn override_in_items() {
    let expected =
        json!({"message": "Hello Items!", "params": {"q": null, "skip": 5, "limit": 10}});
    assert_get(&client(), "/items/", expected).await;
}

#[portico::test]
async fn override_in_items_with_q() {
    let expected =
        json!({"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}});
    assert_get(&client(), "/items/?q=foo", expected).await;
}

#[portico::test]
async fn override_in_items_with_params() {
    let expected =
        json!({"message": "Hello Items!", "params": {"q": "foo", "skip": 5, "limit": 10}});
    assert_get(&client(), "/items/?q=foo&skip=100&limit=200", expected).await;
}

#[portico::test]
async fn override_in_users() {
    let expected =
        json!({"message": "Hello Users!", "params": {"q": null, "skip": 5, "limit": 10}});
    assert_get(&client(), "/users/", expected).await;
}

#[portico::test]
async fn override_in_users_with_q() {
    let expected =
        json!({"message": "Hello Users!", "params": {"q": "foo", "skip": 5, "limit": 10}});
    assert_get(&client(), "/users/?q=foo", expected).await;
}

#[portico::test]
async fn override_in_users_with_params() {
    let expected =
        json!({"message": "Hello Users!", "params": {"q": "foo", "skip": 5, "limit": 10}});
    assert_get(&client(), "/users/?q=foo&skip=100&limit=200", expected).await;
}

#[portico::test]
async fn normal_app() {
    let client = client();
    // `app.dependency_overrides = None`.
    client.service().clear_overrides();
    let expected =
        json!({"message": "Hello Items!", "params": {"q": "foo", "skip": 100, "limit": 200}});
    assert_get(&client, "/items/?q=foo&skip=100&limit=200", expected).await;
}
