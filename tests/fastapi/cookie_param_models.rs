//! Cookie parameter models: `docs_src/cookie_param_models/tutorial001` and `tutorial002` (the
//! `_an` variants are the same apps).

use portico::testing::TestClient;
use portico::{App, Cookie, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// A `GET /items/` from a client whose cookie jar holds `cookies`, as FastAPI's tests set them.
async fn assert_get(app: App, cookies: &[(&str, &str)], status: u16, expected: Value) {
    let client = TestClient::new(app);
    for (name, value) in cookies {
        client.set_cookie(name, value);
    }
    let response = client.get("/items/").await;
    assert_eq!(
        response.status(),
        status,
        "{cookies:?}: {}",
        response.text()
    );
    assert_eq!(response.json::<Value>(), expected, "{cookies:?}");
}

const ALL: &[(&str, &str)] = &[
    ("session_id", "123"),
    ("fatebook_tracker", "456"),
    ("googall_tracker", "789"),
];

fn all_answer() -> Value {
    json!({"session_id": "123", "fatebook_tracker": "456", "googall_tracker": "789"})
}

fn defaults_answer() -> Value {
    json!({"session_id": "123", "fatebook_tracker": null, "googall_tracker": null})
}

fn missing_session_id() -> Value {
    json!({"detail": [{
        "type": "missing",
        "loc": ["cookie", "session_id"],
        "msg": "Field required",
        "input": {},
    }]})
}

const WITH_EXTRA: &[(&str, &str)] = &[("session_id", "123"), ("extra", "track-me-here-too")];

fn expected_document() -> Value {
    let nullable_string = nullable(json!({"type": "string"}));
    document(
        json!({"/items/": {"get": operation("Read Items", "read_items_items__get", vec![
            param("cookie", "session_id", true, json!({"type": "string"})),
            param("cookie", "fatebook_tracker", false, nullable_string.clone()),
            param("cookie", "googall_tracker", false, nullable_string),
        ])}}),
        Some(json!({})),
    )
}

mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Cookies {
        session_id: String,
        fatebook_tracker: Option<String>,
        googall_tracker: Option<String>,
    }

    async fn read_items(Cookie(cookies): Cookie<Cookies>) -> Json<Value> {
        Json(serde_json::to_value(cookies).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn cookie_param_model() {
        assert_get(app(), ALL, 200, all_answer()).await;
    }

    #[portico::test]
    async fn cookie_param_model_defaults() {
        assert_get(app(), &[("session_id", "123")], 200, defaults_answer()).await;
    }

    #[portico::test]
    async fn cookie_param_model_invalid() {
        assert_get(app(), &[], 422, missing_session_id()).await;
    }

    #[portico::test]
    async fn cookie_param_model_extra() {
        assert_get(app(), WITH_EXTRA, 200, defaults_answer()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), expected_document()).await;
    }
}

mod tutorial002 {
    use super::*;

    /// `model_config = {"extra": "forbid"}`.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Cookies {
        session_id: String,
        fatebook_tracker: Option<String>,
        googall_tracker: Option<String>,
    }

    async fn read_items(Cookie(cookies): Cookie<Cookies>) -> Json<Value> {
        Json(serde_json::to_value(cookies).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn cookie_param_model() {
        assert_get(app(), ALL, 200, all_answer()).await;
    }

    #[portico::test]
    async fn cookie_param_model_defaults() {
        assert_get(app(), &[("session_id", "123")], 200, defaults_answer()).await;
    }

    #[portico::test]
    async fn cookie_param_model_invalid() {
        assert_get(app(), &[], 422, missing_session_id()).await;
    }

    #[portico::test]
    async fn cookie_param_model_extra() {
        let expected = json!({"detail": [{
            "type": "extra_forbidden",
            "loc": ["cookie", "extra"],
            "msg": "Extra inputs are not permitted",
            "input": "track-me-here-too",
        }]});
        assert_get(app(), WITH_EXTRA, 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), expected_document()).await;
    }
}
