//! Request files: `docs_src/request_files/tutorial001`, `tutorial001_02`, `tutorial001_03`,
//! `tutorial002` and `tutorial003` (the `_an` variants are the same apps).
//!
//! FastAPI's `bytes = File()` parameters have no Portico counterpart: they are `#[form]`
//! `UploadFile` parameters whose bytes the handler reads.

use portico::testing::{MultipartForm, TestClient, TestResponse};
use serde_json::{Value, json};

use crate::support::validation_response;

mod multiple;
mod single;

/// The file FastAPI's tests write and upload as `test.txt`.
const CONTENT: &str = "<file content>";

/// A `POST` of `form` to `path`.
async fn post_files(client: &TestClient, path: &str, form: MultipartForm) -> TestResponse {
    client.post(path).multipart(form).await
}

/// A form with the file `name` = `test.txt`, as httpx sends `files={name: file}`.
fn test_txt(name: &str) -> MultipartForm {
    MultipartForm::new().file(name, "test.txt", "text/plain", CONTENT)
}

fn assert_answer(response: &TestResponse, status: u16, expected: &Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(&response.json::<Value>(), expected);
}

/// FastAPI's 422 for the missing form field `name`.
fn missing(name: &str) -> Value {
    json!({"detail": [{
        "type": "missing",
        "loc": ["body", name],
        "msg": "Field required",
        "input": null,
    }]})
}

/// A `POST` operation reading the multipart body `Body_<operation_id>`.
fn multipart_operation(summary: &str, operation_id: &str, required: bool) -> Value {
    let mut body = json!({
        "content": {
            "multipart/form-data": {
                "schema": {"$ref": format!("#/components/schemas/Body_{operation_id}")}
            }
        },
    });
    if required {
        body["required"] = json!(true);
    }
    json!({"post": {
        "summary": summary,
        "operationId": operation_id,
        "requestBody": body,
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {}}},
            },
            "422": validation_response(),
        },
    }})
}

/// FastAPI's schema of a file (`bytes` or `UploadFile`).
fn file_schema() -> Value {
    json!({"type": "string", "contentMediaType": "application/octet-stream"})
}

/// A `Body_...` component with the one property `name`.
fn body_schema(name: &str, schema: Value, required: bool) -> Value {
    let mut body = json!({"type": "object", "properties": {name: schema}});
    if required {
        body["required"] = json!([name]);
    }
    body
}
