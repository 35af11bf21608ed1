//! Sub applications, mounts: `docs_src/sub_applications/tutorial001`.

use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document};

fn read_main() -> Json<Value> {
    Json(json!({"message": "Hello World from main app"}))
}

fn read_sub() -> Json<Value> {
    Json(json!({"message": "Hello World from sub API"}))
}

fn app() -> App {
    let subapi = App::new().get("/sub", read_sub);
    App::new().get("/app", read_main).mount("/subapi", subapi)
}

#[portico::test]
async fn main() {
    let client = TestClient::new(app());
    let response = client.get("/app").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"message": "Hello World from main app"})
    );
}

#[portico::test]
async fn sub() {
    let client = TestClient::new(app());
    let response = client.get("/subapi/sub").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"message": "Hello World from sub API"})
    );
}

#[portico::test]
async fn openapi_schema_main() {
    let expected = document(
        json!({"/app": {"get": {
            "responses": {"200": any_json_response()},
            "summary": "Read Main",
            "operationId": "read_main_app_get",
        }}}),
        None,
    );
    assert_document(&TestClient::new(app()), expected).await;
}

#[portico::test]
async fn openapi_schema_sub() {
    let client = TestClient::new(app());
    let response = client.get("/subapi/openapi.json").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let mut expected = document(
        json!({"/sub": {"get": {
            "responses": {"200": any_json_response()},
            "summary": "Read Sub",
            "operationId": "read_sub_sub_get",
        }}}),
        None,
    );
    expected["servers"] = json!([{"url": "/subapi"}]);
    let actual: Value = response.json();
    // The document of the mounted app is not at `/openapi.json`: compare it whole, as
    // FastAPI's test does, but for `info`.
    let mut actual_without_info = actual.clone();
    if let Value::Object(map) = &mut actual_without_info {
        map.remove("info");
    }
    assert_eq!(actual_without_info, expected, "{actual}");
}
