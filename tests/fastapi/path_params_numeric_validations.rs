//! Path parameters and numeric validations: `docs_src/path_params_numeric_validations/`
//! `tutorial001` to `tutorial006`.

use portico::App;
use portico::Json;
use portico::testing::TestClient;
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// The answer of every tutorial here: the id, `q` when it is not empty, and `size` if given.
fn results(item_id: i64, q: Option<String>, size: Option<f64>) -> Json<Value> {
    let mut results = json!({"item_id": item_id});
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        results["q"] = json!(q);
    }
    if let Some(size) = size.filter(|size| *size != 0.0) {
        results["size"] = json!(size);
    }
    Json(results)
}

async fn assert_gets(client: &TestClient, cases: &[(&str, Value)]) {
    for (path, expected) in cases {
        let response = client.get(*path).await;
        assert_eq!(response.status(), 200, "{path}: {}", response.text());
        assert_eq!(&response.json::<Value>(), expected, "{path}");
    }
}

async fn assert_invalid(client: &TestClient, path: &str, error: Value) {
    let response = client.get(path).await;
    assert_eq!(response.status(), 422, "{path}: {}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": [error]}),
        "{path}"
    );
}

fn int_parsing() -> Value {
    json!({
        "loc": ["path", "item_id"],
        "input": "invalid_id",
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "type": "int_parsing",
    })
}

fn missing_q() -> Value {
    json!({"loc": ["query", "q"], "input": null, "msg": "Field required", "type": "missing"})
}

fn bound(loc: &str, input: &str, msg: &str, kind: &str, ctx: Value) -> Value {
    let (source, name) = loc.split_once('.').unwrap();
    json!({"loc": [source, name], "input": input, "msg": msg, "type": kind, "ctx": ctx})
}

/// The document of `GET /items/{item_id}` with the given parameters.
fn items_document(parameters: Vec<Value>) -> Value {
    document(
        json!({"/items/{item_id}": {"get": operation(
            "Read Items",
            "read_items_items__item_id__get",
            parameters,
        )}}),
        Some(json!({})),
    )
}

fn item_id(schema: Value) -> Value {
    param("path", "item_id", true, schema)
}

fn q_required() -> Value {
    param("query", "q", true, json!({"type": "string"}))
}

// FastAPI's `title="The ID of the item to get"` is a schema title, which the comparison leaves
// out: the ports below do not declare it.

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[path] item_id: i64,
        #[query(alias = "item-query")] q: Option<String>,
    ) -> Json<Value> {
        results(item_id, q, None)
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn read_items_cases() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                ("/items/42", json!({"item_id": 42})),
                (
                    "/items/123?item-query=somequery",
                    json!({"item_id": 123, "q": "somequery"}),
                ),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn read_items_invalid_item_id() {
        let client = TestClient::new(app());
        assert_invalid(&client, "/items/invalid_id", int_parsing()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![
            item_id(json!({"type": "integer"})),
            param(
                "query",
                "item-query",
                false,
                nullable(json!({"type": "string"})),
            ),
        ]);
        assert_document(&client, expected).await;
    }
}

mod tutorial002_tutorial003 {
    use super::*;

    // Tutorials 002 and 003 differ in the order of their parameters only (Python's rule that a
    // parameter without a default comes first): both orders are ported, and tested alike.
    mod order002 {
        use super::*;

        #[portico::handler]
        pub(super) async fn read_items(#[query] q: String, #[path] item_id: i64) -> Json<Value> {
            results(item_id, Some(q), None)
        }
    }

    mod order003 {
        use super::*;

        #[portico::handler]
        pub(super) async fn read_items(#[path] item_id: i64, #[query] q: String) -> Json<Value> {
            results(item_id, Some(q), None)
        }
    }

    fn apps() -> [App; 2] {
        [
            App::new().get("/items/{item_id}", order002::read_items),
            App::new().get("/items/{item_id}", order003::read_items),
        ]
    }

    #[portico::test]
    async fn read_items_cases() {
        for app in apps() {
            let client = TestClient::new(app);
            assert_gets(
                &client,
                &[
                    ("/items/42?q=", json!({"item_id": 42})),
                    (
                        "/items/123?q=somequery",
                        json!({"item_id": 123, "q": "somequery"}),
                    ),
                ],
            )
            .await;
        }
    }

    #[portico::test]
    async fn read_items_invalid_item_id() {
        for app in apps() {
            let client = TestClient::new(app);
            assert_invalid(&client, "/items/invalid_id?q=somequery", int_parsing()).await;
        }
    }

    #[portico::test]
    async fn read_items_missing_q() {
        for app in apps() {
            assert_invalid(&TestClient::new(app), "/items/42", missing_q()).await;
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        for app in apps() {
            let expected = items_document(vec![item_id(json!({"type": "integer"})), q_required()]);
            assert_document(&TestClient::new(app), expected).await;
        }
    }
}

mod tutorial004 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[path(ge = 1)] item_id: i64, #[query] q: String) -> Json<Value> {
        results(item_id, Some(q), None)
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn read_items_cases() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                ("/items/42?q=", json!({"item_id": 42})),
                (
                    "/items/1?q=somequery",
                    json!({"item_id": 1, "q": "somequery"}),
                ),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn read_items_non_int_item_id() {
        let client = TestClient::new(app());
        assert_invalid(&client, "/items/invalid_id?q=somequery", int_parsing()).await;
    }

    #[portico::test]
    async fn read_items_item_id_less_than_one() {
        let client = TestClient::new(app());
        let error = bound(
            "path.item_id",
            "0",
            "Input should be greater than or equal to 1",
            "greater_than_equal",
            json!({"ge": 1}),
        );
        assert_invalid(&client, "/items/0?q=somequery", error).await;
    }

    #[portico::test]
    async fn read_items_missing_q() {
        assert_invalid(&TestClient::new(app()), "/items/42", missing_q()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![
            item_id(json!({"type": "integer", "minimum": 1})),
            q_required(),
        ]);
        assert_document(&client, expected).await;
    }
}

fn greater_than_1000() -> Value {
    bound(
        "path.item_id",
        "1001",
        "Input should be less than or equal to 1000",
        "less_than_equal",
        json!({"le": 1000}),
    )
}

mod tutorial005 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[path(gt = 0, le = 1000)] item_id: i64,
        #[query] q: String,
    ) -> Json<Value> {
        results(item_id, Some(q), None)
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn read_items_cases() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                ("/items/1?q=", json!({"item_id": 1})),
                (
                    "/items/1000?q=somequery",
                    json!({"item_id": 1000, "q": "somequery"}),
                ),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn read_items_non_int_item_id() {
        let client = TestClient::new(app());
        assert_invalid(&client, "/items/invalid_id?q=somequery", int_parsing()).await;
    }

    #[portico::test]
    async fn read_items_item_id_less_than_one() {
        let client = TestClient::new(app());
        let error = bound(
            "path.item_id",
            "0",
            "Input should be greater than 0",
            "greater_than",
            json!({"gt": 0}),
        );
        assert_invalid(&client, "/items/0?q=somequery", error).await;
    }

    #[portico::test]
    async fn read_items_item_id_greater_than_one_thousand() {
        let client = TestClient::new(app());
        assert_invalid(&client, "/items/1001?q=somequery", greater_than_1000()).await;
    }

    #[portico::test]
    async fn read_items_missing_q() {
        assert_invalid(&TestClient::new(app()), "/items/42", missing_q()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![
            item_id(json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 1000})),
            q_required(),
        ]);
        assert_document(&client, expected).await;
    }
}

mod tutorial006 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[path(ge = 0, le = 1000)] item_id: i64,
        #[query] q: String,
        #[query(gt = 0, lt = 10.5)] size: f64,
    ) -> Json<Value> {
        results(item_id, Some(q), Some(size))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_items)
    }

    #[portico::test]
    async fn read_items_cases() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                ("/items/0?q=&size=0.1", json!({"item_id": 0, "size": 0.1})),
                (
                    "/items/1000?q=somequery&size=10.4",
                    json!({"item_id": 1000, "q": "somequery", "size": 10.4}),
                ),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn read_items_item_id_less_than_zero() {
        let client = TestClient::new(app());
        let error = bound(
            "path.item_id",
            "-1",
            "Input should be greater than or equal to 0",
            "greater_than_equal",
            json!({"ge": 0}),
        );
        assert_invalid(&client, "/items/-1?q=somequery&size=5", error).await;
    }

    #[portico::test]
    async fn read_items_item_id_greater_than_one_thousand() {
        let client = TestClient::new(app());
        assert_invalid(
            &client,
            "/items/1001?q=somequery&size=5",
            greater_than_1000(),
        )
        .await;
    }

    #[portico::test]
    async fn read_items_size_too_small() {
        let client = TestClient::new(app());
        // FastAPI's test writes `{"gt": 0.0}`, which Python holds equal to the `0` the app
        // declares (`gt=0`) and Pydantic reports.
        let error = bound(
            "query.size",
            "0.0",
            "Input should be greater than 0",
            "greater_than",
            json!({"gt": 0}),
        );
        assert_invalid(&client, "/items/1?q=somequery&size=0.0", error).await;
    }

    #[portico::test]
    async fn read_items_size_too_large() {
        let client = TestClient::new(app());
        let error = bound(
            "query.size",
            "10.5",
            "Input should be less than 10.5",
            "less_than",
            json!({"lt": 10.5}),
        );
        assert_invalid(&client, "/items/1?q=somequery&size=10.5", error).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = items_document(vec![
            item_id(json!({"type": "integer", "minimum": 0, "maximum": 1000})),
            q_required(),
            param(
                "query",
                "size",
                true,
                json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10.5}),
            ),
        ]);
        assert_document(&client, expected).await;
    }
}
