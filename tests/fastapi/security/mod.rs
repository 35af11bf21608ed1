//! Security: `docs_src/security/tutorial001` to `tutorial007` (the `_an` variants are the same
//! apps).
//!
//! The tokens are signed and checked with `jsonwebtoken` (PyJWT's HS256), the Basic credentials
//! encoded with `base64`, and the password hashes computed with `sha2`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portico::App;
use portico::testing::{TestClient, TestResponse};
use serde_json::{Value, json};

mod basic;
mod jwt;
mod oauth2_simple;
mod scopes;

/// A client as FastAPI's tests use Starlette's: it follows redirects (`/users/me` → `/users/me/`).
fn client(app: App) -> TestClient {
    TestClient::new(app).follow_redirects(true)
}

/// Checks a status and a JSON body.
fn assert_json(response: &TestResponse, status: u16, expected: &Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(&response.json::<Value>(), expected);
}

/// Checks a 401 with its detail and its `WWW-Authenticate` challenge.
fn assert_401(response: &TestResponse, detail: &str, challenge: &str) {
    assert_json(response, 401, &json!({"detail": detail}));
    assert_eq!(response.header("www-authenticate"), Some(challenge));
}

/// The `Authorization` header of HTTP Basic, as the `auth=(user, password)` of FastAPI's client.
fn basic_auth(username: &str, password: &str) -> String {
    let credentials = format!("{username}:{password}");
    format!("Basic {}", STANDARD.encode(credentials))
}
