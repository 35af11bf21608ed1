//! The contract between each example's OpenAPI document and what it really answers: every
//! route of the document is driven through the test client, and every response must be one
//! the document declares for that route and status, with a body of the declared media type
//! that validates against the declared schema (checked with the `jsonschema` crate, not with
//! Portico's own validator).

#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap is a failed test, with its location"
)]

#[path = "../todo/app.rs"]
#[allow(dead_code, reason = "the test uses part of the example")]
mod todo;

#[path = "../bench_server.rs"]
#[allow(dead_code, reason = "the test uses the application, not the binary")]
mod bench_server;

#[path = "../hello.rs"]
#[allow(dead_code, reason = "the test uses the application, not the binary")]
mod hello;

use std::collections::BTreeSet;

use portico::testing::{TestClient, TestResponse};
use serde_json::{Value, json};

/// An example's document, and the operations a test has checked a response of.
struct Contract {
    doc: Value,
    seen: BTreeSet<(String, String)>,
}

impl Contract {
    fn new(doc: Value) -> Self {
        Contract {
            doc,
            seen: BTreeSet::new(),
        }
    }

    /// Checks that `response`, an answer to `method template`, is one the document declares.
    #[track_caller]
    fn check(&mut self, method: &str, template: &str, response: &TestResponse) {
        let what = format!(
            "{} {template} -> {}",
            method.to_uppercase(),
            response.status()
        );
        let operation = &self.doc["paths"][template][method];
        assert!(operation.is_object(), "{what}: not in the document");
        self.seen.insert((method.to_owned(), template.to_owned()));
        let declared = &operation["responses"][response.status().as_str()];
        assert!(
            declared.is_object(),
            "{what}: status not declared; the document has {}",
            operation["responses"]
        );
        let body = response.bytes();
        let Some(content) = declared.get("content").and_then(Value::as_object) else {
            assert!(body.is_empty(), "{what}: a body where none is declared");
            return;
        };
        let media_type = response
            .header("content-type")
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_owned();
        let entry = content
            .get(&media_type)
            .or_else(|| content.get("*/*"))
            .unwrap_or_else(|| panic!("{what}: {media_type:?} is not among {content:?}"));
        let schema = &entry["schema"];
        let instance: Value = if media_type == "application/json" {
            serde_json::from_slice(body).unwrap_or_else(|err| panic!("{what}: not JSON: {err}"))
        } else {
            Value::String(String::from_utf8_lossy(body).into_owned())
        };
        // The schema with the document's components beside it, so that its `$ref`s resolve.
        let mut wrapped = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"].clone(),
        });
        if let (Value::Object(target), Value::Object(schema)) = (&mut wrapped, schema) {
            target.extend(schema.clone());
        }
        let validator = jsonschema::validator_for(&wrapped)
            .unwrap_or_else(|err| panic!("{what}: the declared schema does not compile: {err}"));
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|err| format!("{} at {}", err, err.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the body {instance} does not match {schema}: {errors:?}"
        );
    }

    /// Checks that every operation of the document was exercised.
    #[track_caller]
    fn assert_all_seen(&self) {
        let mut all = BTreeSet::new();
        for (template, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                all.insert((method.clone(), template.clone()));
            }
        }
        let missed: Vec<_> = all.difference(&self.seen).collect();
        assert!(missed.is_empty(), "operations never exercised: {missed:?}");
    }
}

#[portico::test]
async fn the_todo_api_answers_as_its_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let app = todo::app(dir.path().join("todo.sqlite3"));
    let mut contract = Contract::new(app.openapi());
    let client = TestClient::new(app);

    let created = client
        .post("/todos")
        .json(&json!({"title": "buy tea"}))
        .await;
    assert_eq!(created.status(), 201);
    contract.check("post", "/todos", &created);
    let invalid = client.post("/todos").json(&json!({"title": ""})).await;
    assert_eq!(invalid.status(), 422);
    contract.check("post", "/todos", &invalid);
    let list = client.get("/todos?done=false&limit=5").await;
    assert_eq!(list.status(), 200);
    contract.check("get", "/todos", &list);
    let bad_limit = client.get("/todos?limit=0").await;
    assert_eq!(bad_limit.status(), 422);
    contract.check("get", "/todos", &bad_limit);
    let one = client.get("/todos/1").await;
    assert_eq!(one.status(), 200);
    contract.check("get", "/todos/{id}", &one);
    let missing = client.get("/todos/99").await;
    assert_eq!(missing.status(), 404);
    contract.check("get", "/todos/{id}", &missing);
    let not_a_number = client.get("/todos/abc").await;
    assert_eq!(not_a_number.status(), 422);
    contract.check("get", "/todos/{id}", &not_a_number);
    let updated = client.patch("/todos/1").json(&json!({"done": true})).await;
    assert_eq!(updated.status(), 200);
    contract.check("patch", "/todos/{id}", &updated);
    let patch_missing = client.patch("/todos/99").json(&json!({"done": true})).await;
    contract.check("patch", "/todos/{id}", &patch_missing);
    let activity = client.get("/activity").await;
    contract.check("get", "/activity", &activity);
    let deleted = client.delete("/todos/1").await;
    assert_eq!(deleted.status(), 204);
    contract.check("delete", "/todos/{id}", &deleted);
    let delete_missing = client.delete("/todos/1").await;
    assert_eq!(delete_missing.status(), 404);
    contract.check("delete", "/todos/{id}", &delete_missing);
    contract.assert_all_seen();
}

#[portico::test]
async fn the_bench_server_answers_as_its_document_says() {
    let app = bench_server::app();
    let mut contract = Contract::new(app.openapi());
    let client = TestClient::new(app);
    contract.check("get", "/plaintext", &client.get("/plaintext").await);
    contract.check("get", "/json", &client.get("/json").await);
    contract.check(
        "get",
        "/users/{id}",
        &client.get("/users/7?verbose=true").await,
    );
    let bad = client.get("/users/x?verbose=maybe").await;
    assert_eq!(bad.status(), 422);
    contract.check("get", "/users/{id}", &bad);
    let echo = client
        .post("/echo")
        .json(&json!({"name": "a", "count": 2, "tags": ["x"]}))
        .await;
    assert_eq!(echo.status(), 200);
    contract.check("post", "/echo", &echo);
    let bad_echo = client.post("/echo").json(&json!({"name": 3})).await;
    assert_eq!(bad_echo.status(), 422);
    contract.check("post", "/echo", &bad_echo);
    let valid = client
        .post("/echo-valid")
        .json(&json!({"name": "a", "count": 2, "tags": ["x"]}))
        .await;
    assert_eq!(valid.status(), 200);
    contract.check("post", "/echo-valid", &valid);
    let bad_valid = client
        .post("/echo-valid")
        .json(&json!({"name": "", "count": 1001, "tags": [""]}))
        .await;
    assert_eq!(bad_valid.status(), 422);
    assert_eq!(
        bad_valid.json::<Value>()["detail"].as_array().map(Vec::len),
        Some(3)
    );
    contract.check("post", "/echo-valid", &bad_valid);
    contract.check("get", "/blocking", &client.get("/blocking").await);
    let blocking_deps = client.get("/blocking-deps").await;
    assert_eq!(blocking_deps.text(), r#"{"ok":true}"#);
    contract.check("get", "/blocking-deps", &blocking_deps);
    contract.check("get", "/deps", &client.get("/deps").await);
    contract.check("get", "/deps-async", &client.get("/deps-async").await);
    let behind = client
        .get("/mw/json")
        .header("origin", "http://bench.example")
        .await;
    assert_eq!(
        behind.header("access-control-allow-origin"),
        Some("http://bench.example")
    );
    assert!(behind.header("x-request-id").is_some());
    contract.check("get", "/mw/json", &behind);
    contract.check("get", "/metrics-json", &client.get("/metrics-json").await);
    contract.check("get", "/otel-json", &client.get("/otel-json").await);
    let metrics = client.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.text().contains(
            "http_server_requests_total{method=\"GET\",route=\"/metrics-json\",status_class=\"2xx\"} 1"
        ),
        "{}",
        metrics.text()
    );
    contract.check("get", "/metrics", &metrics);
    contract.assert_all_seen();
}

#[portico::test]
async fn the_hello_app_answers_as_its_document_says() {
    let app = hello::app();
    let mut contract = Contract::new(app.openapi());
    let client = TestClient::new(app);
    contract.check("get", "/", &client.get("/").await);
    contract.check("get", "/items/{item_id}", &client.get("/items/5?q=x").await);
    contract.check("get", "/items/{item_id}", &client.get("/items/-5").await);
    let created = client
        .post("/items")
        .json(&json!({"name": "pen", "price": 1.5}))
        .await;
    assert_eq!(created.status(), 201);
    contract.check("post", "/items", &created);
    contract.check(
        "post",
        "/items",
        &client.post("/items").json(&json!({"price": 0})).await,
    );
    contract.check("get", "/primes", &client.get("/primes?below=100").await);
    contract.check("get", "/primes", &client.get("/primes?below=1").await);
    contract.check("get", "/slow", &client.get("/slow?seconds=0").await);
    contract.check("get", "/slow", &client.get("/slow?seconds=31").await);
    contract.assert_all_seen();
}

#[portico::test]
#[should_panic(expected = "does not match")]
async fn a_body_that_breaks_the_document_fails_the_check() {
    let app = bench_server::app();
    let mut contract = Contract::new(app.openapi());
    let client = TestClient::new(app);
    // `/users/{id}` answers a user; checked as `/echo`'s answer, it is not an echo.
    let user = client.get("/users/7").await;
    contract.check("post", "/echo", &user);
}
