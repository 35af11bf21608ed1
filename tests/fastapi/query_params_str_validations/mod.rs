//! Query parameters and string validations: `docs_src/query_params_str_validations/tutorial001`
//! to `tutorial015`.

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// The answer of most tutorials here: two items, and `q` when it is not empty.
fn items(q: Option<String>) -> Json<Value> {
    let mut results = json!({"items": [{"item_id": "Foo"}, {"item_id": "Bar"}]});
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        results["q"] = json!(q);
    }
    Json(results)
}

fn items_and(q: Option<&str>) -> Value {
    let mut results = json!({"items": [{"item_id": "Foo"}, {"item_id": "Bar"}]});
    if let Some(q) = q {
        results["q"] = json!(q);
    }
    results
}

/// `GET /items/` with the given query pairs answers `status` and `expected`.
async fn assert_get(client: &TestClient, pairs: &[(&str, &str)], status: u16, expected: Value) {
    let response = client.get("/items/").query(pairs).await;
    assert_eq!(response.status(), status, "{pairs:?}: {}", response.text());
    assert_eq!(response.json::<Value>(), expected, "{pairs:?}");
}

/// Pydantic's 422 for one query value `q` that breaks a string constraint.
fn string_error(kind: &str, name: &str, msg: &str, input: &str, ctx: Value) -> Value {
    json!({"detail": [{"type": kind, "loc": ["query", name], "msg": msg, "input": input, "ctx": ctx}]})
}

fn too_short(input: &str) -> Value {
    string_error(
        "string_too_short",
        "q",
        "String should have at least 3 characters",
        input,
        json!({"min_length": 3}),
    )
}

fn too_long(input: &str) -> Value {
    string_error(
        "string_too_long",
        "q",
        "String should have at most 50 characters",
        input,
        json!({"max_length": 50}),
    )
}

fn missing_q() -> Value {
    json!({"detail": [{"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": null}]})
}

/// The document of `GET /items/` (`read_items`) with the given parameters.
fn items_document(parameters: Vec<Value>) -> Value {
    document(
        json!({"/items/": {"get": operation("Read Items", "read_items_items__get", parameters)}}),
        Some(json!({})),
    )
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[query] q: Option<String>) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_empty_str() {
        assert_get(&TestClient::new(app()), &[("q", "")], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "query")], 200, items_and(Some("query"))).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({"type": "string"})),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[query(max_length = 50)] q: Option<String>) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_empty_str() {
        assert_get(&TestClient::new(app()), &[("q", "")], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "query")], 200, items_and(Some("query"))).await;
    }

    #[portico::test]
    async fn q_too_long() {
        let q = "q".repeat(51);
        assert_get(&TestClient::new(app()), &[("q", &q)], 422, too_long(&q)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({"type": "string", "maxLength": 50})),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(min_length = 3, max_length = 50)] q: Option<String>,
    ) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "query")], 200, items_and(Some("query"))).await;
    }

    #[portico::test]
    async fn q_too_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "qu")],
            422,
            too_short("qu"),
        )
        .await;
    }

    #[portico::test]
    async fn q_too_long() {
        let q = "q".repeat(51);
        assert_get(&TestClient::new(app()), &[("q", &q)], 422, too_long(&q)).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({"type": "string", "minLength": 3, "maxLength": 50})),
        )]);
        assert_document(&client, expected).await;
    }
}

/// The 422 of a `q` that does not match `^fixedquery$`, at `name`.
fn pattern_mismatch(name: &str, input: &str) -> Value {
    string_error(
        "string_pattern_mismatch",
        name,
        "String should match pattern '^fixedquery$'",
        input,
        json!({"pattern": "^fixedquery$"}),
    )
}

mod tutorial004 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(min_length = 3, max_length = 50, pattern = "^fixedquery$")] q: Option<String>,
    ) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 200, items_and(None)).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("q", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_nonregexquery() {
        let client = TestClient::new(app());
        let expected = pattern_mismatch("q", "nonregexquery");
        assert_get(&client, &[("q", "nonregexquery")], 422, expected).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            nullable(json!({
                "type": "string", "minLength": 3, "maxLength": 50, "pattern": "^fixedquery$",
            })),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[query(default = "fixedquery".to_owned(), min_length = 3)] q: String,
    ) -> Json<Value> {
        items(Some(q))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[], 200, items_and(Some("fixedquery"))).await;
    }

    #[portico::test]
    async fn q_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "query")], 200, items_and(Some("query"))).await;
    }

    #[portico::test]
    async fn q_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "fa")],
            422,
            too_short("fa"),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            false,
            json!({"type": "string", "default": "fixedquery", "minLength": 3}),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial006 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[query(min_length = 3)] q: String) -> Json<Value> {
        items(Some(q))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 422, missing_q()).await;
    }

    #[portico::test]
    async fn q_fixedquery() {
        let client = TestClient::new(app());
        let expected = items_and(Some("fixedquery"));
        assert_get(&client, &[("q", "fixedquery")], 200, expected).await;
    }

    #[portico::test]
    async fn q_fixedquery_too_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "fa")],
            422,
            too_short("fa"),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![param(
            "query",
            "q",
            true,
            json!({"type": "string", "minLength": 3}),
        )]);
        assert_document(&client, expected).await;
    }
}

mod tutorial006c {
    use super::*;

    // FastAPI's `q: str | None = Query(min_length=3)`: required, and may be None.
    #[portico::handler]
    async fn read_items(#[query(required, min_length = 3)] q: Option<String>) -> Json<Value> {
        items(q)
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    // FastAPI marks this test and the next `xfail` (its issue 12419: the example does not do
    // what the tutorial says): the tutorial expects a 200, FastAPI answers the 422 below. The
    // port asserts FastAPI's answer.
    #[portico::test]
    async fn no_query() {
        assert_get(&TestClient::new(app()), &[], 422, missing_q()).await;
    }

    #[portico::test]
    async fn empty_str() {
        let client = TestClient::new(app());
        let response = client.get("/items/?q=").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(response.json::<Value>(), too_short(""));
    }

    #[portico::test]
    async fn q_query() {
        let client = TestClient::new(app());
        assert_get(&client, &[("q", "query")], 200, items_and(Some("query"))).await;
    }

    #[portico::test]
    async fn q_short() {
        assert_get(
            &TestClient::new(app()),
            &[("q", "fa")],
            422,
            too_short("fa"),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        // Differs on purpose: FastAPI writes `anyOf` the string and null; a required query
        // value cannot be null on the wire, and Portico's schema says just the string.
        let expected = items_document(vec![param(
            "query",
            "q",
            true,
            json!({"type": "string", "minLength": 3}),
        )]);
        assert_document(&client, expected).await;
    }
}

mod metadata;
