//! Forms and files together: `docs_src/request_forms_and_files/tutorial001` (the `_an` variant
//! is the same app).
//!
//! FastAPI's `file: bytes = File()` has no Portico counterpart: it is an `UploadFile`
//! parameter whose bytes the handler reads.

use portico::testing::{MultipartForm, TestClient, TestResponse};
use portico::{App, Json, UploadFile};
use serde_json::{Value, json};

use crate::support::{assert_document, document, validation_response};

fn assert_answer(response: &TestResponse, status: u16, expected: &Value) {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(&response.json::<Value>(), expected);
}

/// FastAPI's 422 for each form field in `names` missing.
fn missing(names: &[&str]) -> Value {
    let detail: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"type": "missing", "loc": ["body", name], "msg": "Field required", "input": null})
        })
        .collect();
    json!({"detail": detail})
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn create_file(
        #[form] file: UploadFile,
        #[form] fileb: UploadFile,
        #[form] token: String,
    ) -> Json<Value> {
        // FastAPI's `file: bytes = File()`: Portico has no bytes file parameter.
        let file = file.bytes().await.unwrap();
        Json(json!({
            "file_size": file.len(),
            "token": token,
            "fileb_content_type": fileb.content_type(),
        }))
    }

    fn app() -> App {
        App::new().post("/files/", create_file)
    }

    #[portico::test]
    async fn post_form_no_body() {
        let client = TestClient::new(app());
        let response = client.post("/files/").await;
        assert_answer(&response, 422, &missing(&["file", "fileb", "token"]));
    }

    #[portico::test]
    async fn post_form_no_file() {
        let client = TestClient::new(app());
        let response = client.post("/files/").form(&[("token", "foo")]).await;
        assert_answer(&response, 422, &missing(&["file", "fileb"]));
    }

    #[portico::test]
    async fn post_body_json() {
        let client = TestClient::new(app());
        let response = client
            .post("/files/")
            .json(&json!({"file": "Foo", "token": "Bar"}))
            .await;
        assert_answer(&response, 422, &missing(&["file", "fileb", "token"]));
    }

    #[portico::test]
    async fn post_file_no_token() {
        let client = TestClient::new(app());
        let form = MultipartForm::new().file("file", "test.txt", "text/plain", "<file content>");
        let response = client.post("/files/").multipart(form).await;
        assert_answer(&response, 422, &missing(&["fileb", "token"]));
    }

    #[portico::test]
    async fn post_files_and_token() {
        let client = TestClient::new(app());
        let form = MultipartForm::new()
            .text("token", "foo")
            .file("file", "test.txt", "text/plain", "<file content>")
            .file("fileb", "testb.txt", "text/plain", "<file b content>");
        let response = client.post("/files/").multipart(form).await;
        let expected = json!({
            "file_size": 14,
            "token": "foo",
            "fileb_content_type": "text/plain",
        });
        assert_answer(&response, 200, &expected);
    }

    #[portico::test]
    async fn openapi_schema() {
        let file = json!({"type": "string", "contentMediaType": "application/octet-stream"});
        let expected = document(
            json!({"/files/": {"post": {
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    },
                    "422": validation_response(),
                },
                "summary": "Create File",
                "operationId": "create_file_files__post",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {"$ref": "#/components/schemas/Body_create_file_files__post"}
                        }
                    },
                    "required": true,
                },
            }}}),
            Some(json!({
                "Body_create_file_files__post": {
                    "required": ["file", "fileb", "token"],
                    "type": "object",
                    "properties": {
                        "file": file,
                        "fileb": file,
                        "token": {"type": "string"},
                    },
                },
            })),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}
