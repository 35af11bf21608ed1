//! CORS: `docs_src/cors/tutorial001`.

use portico::middleware::Cors;
use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

async fn main() -> Json<Value> {
    Json(json!({"message": "Hello World"}))
}

fn app() -> App {
    let origins = [
        "http://localhost.tiangolo.com",
        "https://localhost.tiangolo.com",
        "http://localhost",
        "http://localhost:8080",
    ];
    App::new().get("/", main).add_middleware(
        Cors::new()
            .allow_origins(origins)
            .allow_credentials(true)
            .allow_methods(["*"])
            .allow_headers(["*"]),
    )
}

#[portico::test]
async fn cors() {
    let client = TestClient::new(app());
    // Test pre-flight response
    let response = client
        .options("/")
        .header("Origin", "https://localhost.tiangolo.com")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "X-Example")
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.text(), "OK");
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://localhost.tiangolo.com")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("X-Example")
    );

    // Test standard response
    let response = client
        .get("/")
        .header("Origin", "https://localhost.tiangolo.com")
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({"message": "Hello World"}));
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://localhost.tiangolo.com")
    );

    // Test non-CORS response
    let response = client.get("/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), json!({"message": "Hello World"}));
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}
