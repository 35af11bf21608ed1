//! First steps: `docs_src/first_steps/tutorial001` (an `async def`) and `tutorial003` (a plain
//! `def`, a plain `fn` here, run on the thread pool).

use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::assert_document;

mod tutorial001 {
    use super::*;

    pub(super) async fn root() -> Json<Value> {
        Json(json!({"message": "Hello World"}))
    }
}

mod tutorial003 {
    use super::*;

    pub(super) fn root() -> Json<Value> {
        Json(json!({"message": "Hello World"}))
    }
}

/// Both apps, as FastAPI's test runs its functions against each.
fn apps() -> [App; 2] {
    [
        App::new().get("/", tutorial001::root),
        App::new().get("/", tutorial003::root),
    ]
}

#[portico::test]
async fn get_path() {
    for app in apps() {
        let client = TestClient::new(app);
        for (path, status, expected) in [
            ("/", 200, json!({"message": "Hello World"})),
            ("/nonexistent", 404, json!({"detail": "Not Found"})),
        ] {
            let response = client.get(path).await;
            assert_eq!(response.status(), status, "{path}");
            assert_eq!(response.json::<Value>(), expected, "{path}");
        }
    }
}

#[portico::test]
async fn openapi_schema() {
    for app in apps() {
        let client = TestClient::new(app);
        assert_document(
            &client,
            json!({
                "openapi": "3.1.0",
                "paths": {
                    "/": {
                        "get": {
                            "responses": {
                                "200": {
                                    "description": "Successful Response",
                                    "content": {"application/json": {"schema": {}}},
                                }
                            },
                            "summary": "Root",
                            "operationId": "root__get",
                        }
                    }
                },
            }),
        )
        .await;
    }
}
