//! Middleware: `docs_src/middleware/tutorial001`.

use portico::middleware::Next;
use portico::testing::TestClient;
use portico::{App, Request, Response};
use serde_json::json;

use crate::support::{assert_document, document};

/// FastAPI's `@app.middleware("http")`: the time the app took, in seconds.
async fn add_process_time_header(request: Request, call_next: Next) -> Response {
    let start_time = std::time::Instant::now();
    let mut response = call_next.run(request).await;
    let process_time = start_time.elapsed().as_secs_f64();
    let value = process_time.to_string().parse().unwrap();
    response.headers_mut().insert("X-Process-Time", value);
    response
}

fn app() -> App {
    App::new().middleware(add_process_time_header)
}

#[portico::test]
async fn response_headers() {
    let client = TestClient::new(app());
    let response = client.get("/openapi.json").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert!(response.headers().contains_key("X-Process-Time"));
}

#[portico::test]
async fn openapi_schema() {
    assert_document(&TestClient::new(app()), document(json!({}), None)).await;
}
