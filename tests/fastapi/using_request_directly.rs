//! Using the request directly: `docs_src/using_request_directly/tutorial001`.
//!
//! FastAPI's `request.client.host` is Portico's `ClientAddr` parameter (a `Request` is the
//! HTTP request alone; the connection's address comes with the request's context).

use portico::proxy::ClientAddr;
use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{assert_document, document, operation, param};

#[portico::handler]
fn read_root(#[path] item_id: String, client: ClientAddr) -> Json<Value> {
    let client_host = client.0.ip().to_string();
    Json(json!({"client_host": client_host, "item_id": item_id}))
}

fn app() -> App {
    App::new().get("/items/{item_id}", read_root)
}

#[portico::test]
async fn path_operation() {
    let client = TestClient::new(app());
    let response = client.get("/items/foo").await;
    assert_eq!(response.status(), 200);
    // Differs on purpose: Starlette's test client calls its client the host name
    // "testclient"; a client's address is an IP, and Portico's test client is 127.0.0.1.
    assert_eq!(
        response.json::<Value>(),
        json!({"client_host": "127.0.0.1", "item_id": "foo"})
    );
}

#[portico::test]
async fn openapi() {
    let expected = document(
        json!({"/items/{item_id}": {"get": operation("Read Root", "read_root_items__item_id__get", vec![
            param("path", "item_id", true, json!({"type": "string"})),
        ])}}),
        Some(json!({})),
    );
    assert_document(&TestClient::new(app()), expected).await;
}
