//! Tutorials 006 and 012: dependencies run for their effect, by a path operation
//! (`dependencies=[...]`) and by the whole application.

use portico::{App, HttpError, Json, Route};
use serde_json::{Value, json};

use super::{assert_json, client, missing_headers};
use crate::support::{assert_document, document, operation, param};

/// What `verify_token` produces: nothing, its check is its effect.
struct TokenVerified;

/// What `verify_key` returns.
struct XKey(
    #[allow(
        dead_code,
        reason = "FastAPI's verify_key returns it; nothing reads it"
    )]
    String,
);

#[portico::provider]
async fn verify_token(#[header] x_token: String) -> Result<TokenVerified, HttpError> {
    if x_token != "fake-super-secret-token" {
        return Err(HttpError::bad_request().detail("X-Token header invalid"));
    }
    Ok(TokenVerified)
}

#[portico::provider]
async fn verify_key(#[header] x_key: String) -> Result<XKey, HttpError> {
    if x_key != "fake-super-secret-key" {
        return Err(HttpError::bad_request().detail("X-Key header invalid"));
    }
    Ok(XKey(x_key))
}

/// The two header parameters the dependencies document.
fn header_params() -> Vec<Value> {
    vec![
        param("header", "x-token", true, json!({"type": "string"})),
        param("header", "x-key", true, json!({"type": "string"})),
    ]
}

/// FastAPI's four cases of one path: no headers, a wrong token, a wrong key, both right.
async fn assert_checks(app: App, path: &str, answer: &Value) {
    let client = client(app);
    assert_json(&client.get(path).await, 422, &missing_headers());
    assert_json(
        &client.get(path).header("X-Token", "invalid").await,
        400,
        &json!({"detail": "X-Token header invalid"}),
    );
    assert_json(
        &client
            .get(path)
            .header("X-Token", "fake-super-secret-token")
            .header("X-Key", "invalid")
            .await,
        400,
        &json!({"detail": "X-Key header invalid"}),
    );
    assert_json(
        &client
            .get(path)
            .header("X-Token", "fake-super-secret-token")
            .header("X-Key", "fake-super-secret-key")
            .await,
        200,
        answer,
    );
}

mod tutorial006 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"item": "Foo"}, {"item": "Bar"}]))
    }

    fn app() -> App {
        App::new().provide(verify_token).provide(verify_key).route(
            Route::get("/items/", read_items)
                .dependency::<TokenVerified>()
                .dependency::<XKey>(),
        )
    }

    #[portico::test]
    async fn get_no_headers() {
        let client = client(app());
        assert_json(&client.get("/items/").await, 422, &missing_headers());
    }

    #[portico::test]
    async fn get_invalid_one_header() {
        let client = client(app());
        let response = client.get("/items/").header("X-Token", "invalid").await;
        assert_json(&response, 400, &json!({"detail": "X-Token header invalid"}));
    }

    #[portico::test]
    async fn get_invalid_second_header() {
        let client = client(app());
        let response = client
            .get("/items/")
            .header("X-Token", "fake-super-secret-token")
            .header("X-Key", "invalid")
            .await;
        assert_json(&response, 400, &json!({"detail": "X-Key header invalid"}));
    }

    #[portico::test]
    async fn get_valid_headers() {
        let client = client(app());
        let response = client
            .get("/items/")
            .header("X-Token", "fake-super-secret-token")
            .header("X-Key", "fake-super-secret-key")
            .await;
        assert_json(&response, 200, &json!([{"item": "Foo"}, {"item": "Bar"}]));
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({"/items/": {"get": operation("Read Items", "read_items_items__get", header_params())}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial012 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"item": "Portal Gun"}, {"item": "Plumbus"}]))
    }

    async fn read_users() -> Json<Value> {
        Json(json!([{"username": "Rick"}, {"username": "Morty"}]))
    }

    fn app() -> App {
        App::new()
            .provide(verify_token)
            .provide(verify_key)
            .dependency::<TokenVerified>()
            .dependency::<XKey>()
            .get("/items/", read_items)
            .get("/users/", read_users)
    }

    // FastAPI's eight request tests: the four cases of `assert_checks` on each path.
    #[portico::test]
    async fn items() {
        let answer = json!([{"item": "Portal Gun"}, {"item": "Plumbus"}]);
        assert_checks(app(), "/items/", &answer).await;
    }

    #[portico::test]
    async fn users() {
        let answer = json!([{"username": "Rick"}, {"username": "Morty"}]);
        assert_checks(app(), "/users/", &answer).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = document(
            json!({
                "/items/": {"get": operation("Read Items", "read_items_items__get", header_params())},
                "/users/": {"get": operation("Read Users", "read_users_users__get", header_params())},
            }),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}
