//! The comparison of OpenAPI documents used by every chapter.
//!
//! FastAPI's tests compare whole documents. Here a document is compared on what clients rely on:
//! the expected value is FastAPI's, and every key it has must be in Portico's with an equal
//! value, except `title` (a Pydantic display name no client reads). The maps whose keys clients
//! enumerate (paths, webhooks, callbacks, methods, responses, media types, properties,
//! parameters and component names) must have no key that FastAPI's does not; elsewhere Portico
//! may say more (a `format` or a `minimum` that FastAPI leaves out).

use portico::testing::TestClient;
use serde_json::Value;

/// Maps whose set of keys must be the same in both documents, by the key that holds them.
const CLOSED: &[&str] = &[
    "paths",
    "webhooks",
    "callbacks",
    "responses",
    "content",
    "properties",
    "schemas",
];

/// Fetches `/openapi.json` and compares it with FastAPI's `expected`.
pub(crate) async fn assert_document(client: &TestClient, expected: Value) {
    let response = client.get("/openapi.json").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    let actual: Value = response.json();
    save_for_validation(&actual);
    let mut differences = Vec::new();
    compare(&expected, &actual, "", false, 0, &mut differences);
    assert!(
        differences.is_empty(),
        "the document differs from FastAPI's:\n{}\n\nwhole document:\n{}",
        differences.join("\n"),
        serde_json::to_string_pretty(&actual).unwrap()
    );
}

/// With `PORTICO_OPENAPI_OUT` set (by `cargo xtask openapi-validate`), writes the document
/// there, named after the test, for the OpenAPI 3.1 validator.
fn save_for_validation(document: &Value) {
    let Some(dir) = std::env::var_os("PORTICO_OPENAPI_OUT") else {
        return;
    };
    let thread = std::thread::current();
    let name: String = thread
        .name()
        .unwrap_or("document")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = std::path::Path::new(&dir).join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
}

/// Compares `actual` with `expected` at `at`; `closed` says whether `actual` may have keys
/// `expected` lacks. `callback` is how deep `at` is inside an operation's `callbacks`: 1 for
/// the map of callbacks, 2 for a callback (its URLs), 3 for a path item (its methods), else 0.
fn compare(
    expected: &Value,
    actual: &Value,
    at: &str,
    closed: bool,
    callback: u8,
    out: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                if key == "title" {
                    continue;
                }
                let here = format!("{at}/{key}");
                let inner = match (key.as_str(), callback) {
                    ("callbacks", _) => 1,
                    (_, 1 | 2) => callback + 1,
                    _ => 0,
                };
                // A path item's methods are closed too: the map under `paths` or `webhooks`
                // holds them, or a callback's URL.
                let inner_closed = CLOSED.contains(&key.as_str())
                    || at == "/paths"
                    || at == "/webhooks"
                    || inner > 1;
                match have.get(key) {
                    Some(found) => compare(value, found, &here, inner_closed, inner, out),
                    None => out.push(format!("{here}: missing, expected {value}")),
                }
            }
            if closed {
                for key in have.keys().filter(|k| !want.contains_key(*k)) {
                    out.push(format!("{at}/{key}: not in FastAPI's document"));
                }
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                compare(w, h, &format!("{at}/{i}"), closed, 0, out);
            }
        }
        _ if expected == actual => {}
        _ => out.push(format!("{at}: expected {expected}, found {actual}")),
    }
}

/// FastAPI's 422 response, as every operation with a parameter or a body documents it.
pub(crate) fn validation_response() -> Value {
    serde_json::json!({
        "description": "Validation Error",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
            }
        },
    })
}

/// A 200 whose body is any JSON (a handler returning `Json<Value>`, FastAPI's untyped return).
pub(crate) fn any_json_response() -> Value {
    serde_json::json!({
        "description": "Successful Response",
        "content": {"application/json": {"schema": {}}},
    })
}

/// `components.schemas` as FastAPI writes it: `extra` and the two validation error schemas.
pub(crate) fn schemas_with_validation(extra: Value) -> Value {
    let mut schemas = serde_json::json!({
        "HTTPValidationError": {
            "properties": {
                "detail": {
                    "items": {"$ref": "#/components/schemas/ValidationError"},
                    "type": "array",
                },
            },
            "type": "object",
        },
        "ValidationError": {
            "properties": {
                "ctx": {"type": "object"},
                "input": {},
                "loc": {
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    "type": "array",
                },
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
            "required": ["loc", "msg", "type"],
            "type": "object",
        },
    });
    if let (Value::Object(all), Value::Object(more)) = (&mut schemas, extra) {
        all.extend(more);
    }
    schemas
}

/// A parameter as FastAPI documents it.
pub(crate) fn param(source: &str, name: &str, required: bool, schema: Value) -> Value {
    serde_json::json!({"in": source, "name": name, "required": required, "schema": schema})
}

/// FastAPI's schema of an optional value: `anyOf` the value's and `null`.
pub(crate) fn nullable(schema: Value) -> Value {
    serde_json::json!({"anyOf": [schema, {"type": "null"}]})
}

/// An operation with its summary, operationId and parameters, answering any JSON with a 200,
/// and documenting the 422 when it has parameters.
pub(crate) fn operation(summary: &str, operation_id: &str, parameters: Vec<Value>) -> Value {
    let mut operation = serde_json::json!({
        "summary": summary,
        "operationId": operation_id,
        "responses": {"200": any_json_response()},
    });
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
        operation["responses"]["422"] = validation_response();
    }
    operation
}

/// A whole document: `paths` as given, and FastAPI's validation schemas with `schemas` when
/// any operation validates its input.
pub(crate) fn document(paths: Value, schemas: Option<Value>) -> Value {
    let mut document = serde_json::json!({"openapi": "3.1.0", "paths": paths});
    if let Some(schemas) = schemas {
        document["components"] = serde_json::json!({"schemas": schemas_with_validation(schemas)});
    }
    document
}
