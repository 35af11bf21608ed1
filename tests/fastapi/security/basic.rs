//! Tutorials 006 and 007: HTTP Basic authentication, and checking its credentials.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portico::security::{HttpBasic, compare_digest};
use portico::{App, Depends, HttpError, Json};
use serde_json::{Value, json};

use super::{assert_401, assert_json, basic_auth, client};
use crate::support::assert_document;

/// The document of both apps.
fn basic_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {"/users/me": {"get": {
            "responses": {"200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {}}},
            }},
            "summary": "Read Current User",
            "operationId": "read_current_user_users_me_get",
            "security": [{"HTTPBasic": []}],
        }}},
        "components": {"securitySchemes": {"HTTPBasic": {"type": "http", "scheme": "basic"}}},
    })
}

/// FastAPI's three cases without usable credentials: none, not base64, no `:`.
async fn assert_not_authenticated(app: fn() -> App) {
    let client = client(app());
    let response = client.get("/users/me").await;
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Not authenticated"})
    );
    assert_eq!(response.status(), 401, "{}", response.text());
    assert_eq!(response.header("www-authenticate"), Some("Basic"));
    for authorization in [
        "Basic notabase64token".to_owned(),
        format!("Basic {}", STANDARD.encode("johnsecret")),
    ] {
        let response = client
            .get("/users/me")
            .header("authorization", &authorization)
            .await;
        assert_eq!(response.status(), 401, "{}", response.text());
        assert_eq!(response.header("www-authenticate"), Some("Basic"));
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": "Not authenticated"})
        );
    }
}

mod tutorial006 {
    use super::*;

    fn read_current_user(HttpBasic(credentials): HttpBasic) -> Json<Value> {
        Json(json!({"username": credentials.username, "password": credentials.password}))
    }

    fn app() -> App {
        App::new().get("/users/me", read_current_user)
    }

    #[portico::test]
    async fn http_basic() {
        let client = client(app());
        let response = client
            .get("/users/me")
            .header("authorization", &basic_auth("john", "secret"))
            .await;
        assert_json(
            &response,
            200,
            &json!({"username": "john", "password": "secret"}),
        );
    }

    #[portico::test]
    async fn http_basic_without_credentials() {
        assert_not_authenticated(app).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&client(app()), basic_document()).await;
    }
}

mod tutorial007 {
    use super::*;

    struct Username(String);

    fn get_current_username(HttpBasic(credentials): HttpBasic) -> Result<Username, HttpError> {
        let is_correct_username = compare_digest(credentials.username.as_bytes(), b"stanleyjobson");
        let is_correct_password = compare_digest(credentials.password.as_bytes(), b"swordfish");
        if !(is_correct_username && is_correct_password) {
            return Err(HttpError::unauthorized()
                .detail("Incorrect username or password")
                .header("www-authenticate", "Basic"));
        }
        Ok(Username(credentials.username))
    }

    fn read_current_user(Depends(username): Depends<Username>) -> Json<Value> {
        Json(json!({"username": username.0}))
    }

    fn app() -> App {
        App::new()
            .provide(get_current_username)
            .get("/users/me", read_current_user)
    }

    #[portico::test]
    async fn http_basic() {
        let client = client(app());
        let response = client
            .get("/users/me")
            .header("authorization", &basic_auth("stanleyjobson", "swordfish"))
            .await;
        assert_json(&response, 200, &json!({"username": "stanleyjobson"}));
    }

    #[portico::test]
    async fn http_basic_without_credentials() {
        assert_not_authenticated(app).await;
    }

    #[portico::test]
    async fn http_basic_incorrect() {
        let client = client(app());
        for (username, password) in [("alice", "swordfish"), ("stanleyjobson", "wrongpassword")] {
            let response = client
                .get("/users/me")
                .header("authorization", &basic_auth(username, password))
                .await;
            assert_401(&response, "Incorrect username or password", "Basic");
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&client(app()), basic_document()).await;
    }
}
