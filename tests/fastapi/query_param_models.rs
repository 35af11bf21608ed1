//! Query parameter models: `docs_src/query_param_models/tutorial001` and `tutorial002` (the `_an`
//! variants are the same apps).

use portico::testing::TestClient;
use portico::{App, Json, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{assert_document, document, operation, param};

/// FastAPI's `Literal["created_at", "updated_at"]`: an enum written inline, as Pydantic
/// writes a `Literal`.
#[derive(Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(inline)]
enum OrderBy {
    #[default]
    CreatedAt,
    UpdatedAt,
}

fn hundred() -> i64 {
    100
}

/// The query of the tests that send every field.
const FULL: &[(&str, &str)] = &[
    ("limit", "10"),
    ("offset", "5"),
    ("order_by", "updated_at"),
    ("tags", "tag1"),
    ("tags", "tag2"),
];

async fn assert_get(client: &TestClient, query: &[(&str, &str)], status: u16, expected: Value) {
    let response = client.get("/items/").query(query).await;
    assert_eq!(response.status(), status, "{query:?}: {}", response.text());
    assert_eq!(response.json::<Value>(), expected, "{query:?}");
}

fn full_answer() -> Value {
    json!({"limit": 10, "offset": 5, "order_by": "updated_at", "tags": ["tag1", "tag2"]})
}

async fn check_param_model(client: &TestClient) {
    assert_get(client, FULL, 200, full_answer()).await;
}

async fn check_defaults(client: &TestClient) {
    let expected = json!({"limit": 100, "offset": 0, "order_by": "created_at", "tags": []});
    assert_get(client, &[], 200, expected).await;
}

async fn check_invalid(client: &TestClient) {
    let query = [("limit", "150"), ("offset", "-1"), ("order_by", "invalid")];
    let expected = json!({"detail": [
        {
            "type": "less_than_equal",
            "loc": ["query", "limit"],
            "msg": "Input should be less than or equal to 100",
            "input": "150",
            "ctx": {"le": 100},
        },
        {
            "type": "greater_than_equal",
            "loc": ["query", "offset"],
            "msg": "Input should be greater than or equal to 0",
            "input": "-1",
            "ctx": {"ge": 0},
        },
        {
            "type": "literal_error",
            "loc": ["query", "order_by"],
            "msg": "Input should be 'created_at' or 'updated_at'",
            "input": "invalid",
            "ctx": {"expected": "'created_at' or 'updated_at'"},
        },
    ]});
    assert_get(client, &query, 422, expected).await;
}

fn with_tool() -> Vec<(&'static str, &'static str)> {
    let mut query = FULL.to_vec();
    query.push(("tool", "plumbus"));
    query
}

fn expected_document() -> Value {
    document(
        json!({"/items/": {"get": operation("Read Items", "read_items_items__get", vec![
            param("query", "limit", false, json!({
                "type": "integer", "maximum": 100, "exclusiveMinimum": 0, "default": 100,
            })),
            param("query", "offset", false, json!({"type": "integer", "minimum": 0, "default": 0})),
            param("query", "order_by", false, json!({
                "enum": ["created_at", "updated_at"], "type": "string", "default": "created_at",
            })),
            param("query", "tags", false, json!({
                "type": "array", "items": {"type": "string"}, "default": [],
            })),
        ])}}),
        Some(json!({})),
    )
}

mod tutorial001 {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct FilterParams {
        #[serde(default = "hundred")]
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        limit: i64,
        #[serde(default)]
        #[schemars(range(min = 0))]
        offset: i64,
        #[serde(default)]
        order_by: OrderBy,
        #[serde(default)]
        tags: Vec<String>,
    }

    async fn read_items(Query(filter_query): Query<FilterParams>) -> Json<Value> {
        Json(serde_json::to_value(filter_query).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn query_param_model() {
        check_param_model(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_defaults() {
        check_defaults(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_invalid() {
        check_invalid(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_extra() {
        assert_get(&TestClient::new(app()), &with_tool(), 200, full_answer()).await;
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
    struct FilterParams {
        #[serde(default = "hundred")]
        #[schemars(range(max = 100), extend("exclusiveMinimum" = 0))]
        limit: i64,
        #[serde(default)]
        #[schemars(range(min = 0))]
        offset: i64,
        #[serde(default)]
        order_by: OrderBy,
        #[serde(default)]
        tags: Vec<String>,
    }

    async fn read_items(Query(filter_query): Query<FilterParams>) -> Json<Value> {
        Json(serde_json::to_value(filter_query).unwrap())
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn query_param_model() {
        check_param_model(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_defaults() {
        check_defaults(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_invalid() {
        check_invalid(&TestClient::new(app())).await;
    }

    #[portico::test]
    async fn query_param_model_extra() {
        let expected = json!({"detail": [{
            "type": "extra_forbidden",
            "loc": ["query", "tool"],
            "msg": "Extra inputs are not permitted",
            "input": "plumbus",
        }]});
        assert_get(&TestClient::new(app()), &with_tool(), 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), expected_document()).await;
    }
}
