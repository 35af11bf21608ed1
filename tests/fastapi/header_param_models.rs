//! Header parameter models: `docs_src/header_param_models/tutorial001` to `tutorial003` (the
//! `_an` variants are the same apps).

use portico::testing::{TestClient, TestResponse};
use portico::{App, Header, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// The headers Starlette's test client (httpx) sends with every request besides `host`, which
/// Portico's sends too. FastAPI's tests accept either of two `accept-encoding`s; this is one.
const HTTPX_HEADERS: &[(&str, &str)] = &[
    ("accept", "*/*"),
    ("accept-encoding", "gzip, deflate"),
    ("connection", "keep-alive"),
    ("user-agent", "testclient"),
];

/// A `GET /items/` with `headers`, after httpx's own unless `bare` (FastAPI's
/// `client.headers.clear()`).
async fn get(client: &TestClient, headers: &[(&str, &str)], bare: bool) -> TestResponse {
    let mut request = client.get("/items/");
    if !bare {
        for (name, value) in HTTPX_HEADERS {
            request = request.header(name, value);
        }
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.await
}

async fn assert_get(
    client: &TestClient,
    headers: &[(&str, &str)],
    bare: bool,
    status: u16,
    expected: Value,
) {
    let response = get(client, headers, bare).await;
    assert_eq!(
        response.status(),
        status,
        "{headers:?}: {}",
        response.text()
    );
    assert_eq!(response.json::<Value>(), expected, "{headers:?}");
}

fn full_answer() -> Value {
    json!({
        "host": "testserver",
        "save_data": true,
        "if_modified_since": "yesterday",
        "traceparent": "123",
        "x_tag": ["one", "two"],
    })
}

fn defaults_answer() -> Value {
    json!({
        "host": "testserver",
        "save_data": true,
        "if_modified_since": null,
        "traceparent": null,
        "x_tag": [],
    })
}

/// FastAPI's 422 for a missing `save_data`, whose input is every header read as the model.
fn missing_save_data(input: Value) -> Value {
    json!({"detail": [{
        "type": "missing",
        "loc": ["header", "save_data"],
        "msg": "Field required",
        "input": input,
    }]})
}

/// The input FastAPI reports when only httpx's headers were sent.
fn httpx_input() -> Value {
    json!({
        "x_tag": [],
        "host": "testserver",
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "user-agent": "testclient",
    })
}

/// The document, with the headers named as `save_data`, `if_modified_since` and `x_tag` are.
fn expected_document(save_data: &str, if_modified_since: &str, x_tag: &str) -> Value {
    let nullable_string = nullable(json!({"type": "string"}));
    document(
        json!({"/items/": {"get": operation("Read Items", "read_items_items__get", vec![
            param("header", "host", true, json!({"type": "string"})),
            param("header", save_data, true, json!({"type": "boolean"})),
            param("header", if_modified_since, false, nullable_string.clone()),
            param("header", "traceparent", false, nullable_string),
            param("header", x_tag, false, json!({
                "type": "array", "items": {"type": "string"}, "default": [],
            })),
        ])}}),
        Some(json!({})),
    )
}

const HYPHENATED: &[(&str, &str)] = &[
    ("save-data", "true"),
    ("if-modified-since", "yesterday"),
    ("traceparent", "123"),
    ("x-tag", "one"),
    ("x-tag", "two"),
];

mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct CommonHeaders {
        host: String,
        save_data: bool,
        if_modified_since: Option<String>,
        traceparent: Option<String>,
        #[serde(default)]
        x_tag: Vec<String>,
    }

    async fn read_items(Header(headers): Header<CommonHeaders>) -> Json<Value> {
        Json(serde_json::to_value(headers).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn header_param_model() {
        assert_get(
            &TestClient::new(app()),
            HYPHENATED,
            false,
            200,
            full_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn header_param_model_defaults() {
        let client = TestClient::new(app());
        assert_get(
            &client,
            &[("save-data", "true")],
            false,
            200,
            defaults_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn header_param_model_invalid() {
        let expected = missing_save_data(httpx_input());
        assert_get(&TestClient::new(app()), &[], false, 422, expected).await;
    }

    #[portico::test]
    async fn header_param_model_extra() {
        let headers = [("save-data", "true"), ("tool", "plumbus")];
        assert_get(
            &TestClient::new(app()),
            &headers,
            false,
            200,
            defaults_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = expected_document("save-data", "if-modified-since", "x-tag");
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// FastAPI's test clears the client's default headers: only `host` is sent besides the test's.
mod tutorial002 {
    use super::*;

    /// `model_config = {"extra": "forbid"}`.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct CommonHeaders {
        host: String,
        save_data: bool,
        if_modified_since: Option<String>,
        traceparent: Option<String>,
        #[serde(default)]
        x_tag: Vec<String>,
    }

    async fn read_items(Header(headers): Header<CommonHeaders>) -> Json<Value> {
        Json(serde_json::to_value(headers).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn header_param_model() {
        assert_get(
            &TestClient::new(app()),
            HYPHENATED,
            true,
            200,
            full_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn header_param_model_defaults() {
        let client = TestClient::new(app());
        assert_get(
            &client,
            &[("save-data", "true")],
            true,
            200,
            defaults_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn header_param_model_invalid() {
        let expected = missing_save_data(json!({"x_tag": [], "host": "testserver"}));
        assert_get(&TestClient::new(app()), &[], true, 422, expected).await;
    }

    #[portico::test]
    async fn header_param_model_extra() {
        let headers = [("save-data", "true"), ("tool", "plumbus")];
        let expected = json!({"detail": [{
            "type": "extra_forbidden",
            "loc": ["header", "tool"],
            "msg": "Extra inputs are not permitted",
            "input": "plumbus",
        }]});
        assert_get(&TestClient::new(app()), &headers, true, 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = expected_document("save-data", "if-modified-since", "x-tag");
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// `Header(convert_underscores=False)` on the model. `Header<T>` has no option for it: each
/// field says so with the mark `#[header(convert_underscores = false)]` puts on a parameter.
mod tutorial003 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct CommonHeaders {
        #[schemars(extend("x-portico-verbatim" = true))]
        host: String,
        #[schemars(extend("x-portico-verbatim" = true))]
        save_data: bool,
        #[schemars(extend("x-portico-verbatim" = true))]
        if_modified_since: Option<String>,
        #[schemars(extend("x-portico-verbatim" = true))]
        traceparent: Option<String>,
        #[serde(default)]
        #[schemars(extend("x-portico-verbatim" = true))]
        x_tag: Vec<String>,
    }

    async fn read_items(Header(headers): Header<CommonHeaders>) -> Json<Value> {
        Json(serde_json::to_value(headers).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn header_param_model() {
        let headers = [
            ("save_data", "true"),
            ("if_modified_since", "yesterday"),
            ("traceparent", "123"),
            ("x_tag", "one"),
            ("x_tag", "two"),
        ];
        assert_get(&TestClient::new(app()), &headers, false, 200, full_answer()).await;
    }

    #[portico::test]
    async fn header_param_model_no_underscore() {
        let mut input = httpx_input();
        let more = json!({
            "traceparent": "123",
            "save-data": "true",
            "if-modified-since": "yesterday",
            "x-tag": ["one", "two"],
        });
        input
            .as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        let expected = missing_save_data(input);
        assert_get(&TestClient::new(app()), HYPHENATED, false, 422, expected).await;
    }

    #[portico::test]
    async fn header_param_model_defaults() {
        let client = TestClient::new(app());
        assert_get(
            &client,
            &[("save_data", "true")],
            false,
            200,
            defaults_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn header_param_model_invalid() {
        let expected = missing_save_data(httpx_input());
        assert_get(&TestClient::new(app()), &[], false, 422, expected).await;
    }

    #[portico::test]
    async fn header_param_model_extra() {
        let headers = [("save_data", "true"), ("tool", "plumbus")];
        assert_get(
            &TestClient::new(app()),
            &headers,
            false,
            200,
            defaults_answer(),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = expected_document("save_data", "if_modified_since", "x_tag");
        assert_document(&TestClient::new(app()), expected).await;
    }
}
