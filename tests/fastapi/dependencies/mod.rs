//! Dependencies: `docs_src/dependencies/tutorial001` to `tutorial012` (the `_an` variants are
//! the same apps; `tutorial001_02` too, and 002 to 004 declare one app three ways).

use portico::App;
use portico::testing::{TestClient, TestResponse};
use serde_json::{Value, json};

mod functions;
mod route_and_app;
mod with_yield;

/// A client as FastAPI's tests use Starlette's: it follows redirects (`/items` → `/items/`).
fn client(app: App) -> TestClient {
    TestClient::new(app).follow_redirects(true)
}

/// Checks a status and a JSON body, FastAPI's two asserts of most cases.
fn assert_json(response: &TestResponse, status: u16, expected: &Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(&response.json::<Value>(), expected);
}

/// FastAPI's 422 for the two headers of tutorials 006 and 012, both missing.
fn missing_headers() -> Value {
    json!({"detail": [
        {"type": "missing", "loc": ["header", "x-token"], "msg": "Field required", "input": null},
        {"type": "missing", "loc": ["header", "x-key"], "msg": "Field required", "input": null},
    ]})
}
