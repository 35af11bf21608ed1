//! Several files per request: tutorials 002 and 003.

use portico::testing::{MultipartForm, TestClient};
use portico::{App, Html, IntoResponse, Json, Response, UploadFile};
use serde_json::{Value, json};

use super::{
    CONTENT, assert_answer, body_schema, file_schema, missing, multipart_operation, post_files,
};
use crate::support::{assert_document, document};

/// The page both tutorials serve at `/`.
const PAGE: &str = r#"
<body>
<form action="/files/" enctype="multipart/form-data" method="post">
<input name="files" type="file" multiple>
<input type="submit">
</form>
<form action="/uploadfiles/" enctype="multipart/form-data" method="post">
<input name="files" type="file" multiple>
<input type="submit">
</form>
</body>
    "#;

// FastAPI's `return HTMLResponse(content=content)`: a response returned as it is, which the
// document describes as FastAPI's default (JSON of any shape), not as `text/html`.
async fn main() -> Response {
    Html(PAGE).into_response()
}

/// `test.txt` and `test2.txt`, both as `files`.
fn two_files() -> MultipartForm {
    MultipartForm::new()
        .file("files", "test.txt", "text/plain", CONTENT)
        .file("files", "test2.txt", "text/plain", "<file content2>")
}

async fn check_post_files(app: App) {
    let client = TestClient::new(app);
    let response = post_files(&client, "/files/", two_files()).await;
    assert_answer(&response, 200, &json!({"file_sizes": [14, 15]}));
}

async fn check_post_upload_files(app: App) {
    let client = TestClient::new(app);
    let response = post_files(&client, "/uploadfiles/", two_files()).await;
    let expected = json!({"filenames": ["test.txt", "test2.txt"]});
    assert_answer(&response, 200, &expected);
}

async fn check_get_root(app: App) {
    let client = TestClient::new(app);
    let response = client.get("/").await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert!(response.text().contains("<form"));
}

async fn sizes(files: &[UploadFile]) -> Vec<usize> {
    let mut sizes = Vec::new();
    for file in files {
        sizes.push(file.bytes().await.unwrap().len());
    }
    sizes
}

fn names(files: &[UploadFile]) -> Vec<Option<&str>> {
    files.iter().map(UploadFile::file_name).collect()
}

/// The document of both tutorials, with each `files` property's `description`, if any.
fn expected_document(bytes_description: Option<&str>, upload_description: Option<&str>) -> Value {
    let files = |description: Option<&str>| {
        let mut schema = json!({"type": "array", "items": file_schema()});
        if let Some(description) = description {
            schema["description"] = json!(description);
        }
        body_schema("files", schema, true)
    };
    document(
        json!({
            "/files/": multipart_operation("Create Files", "create_files_files__post", true),
            "/uploadfiles/": multipart_operation(
                "Create Upload Files",
                "create_upload_files_uploadfiles__post",
                true,
            ),
            "/": {"get": {
                "responses": {
                    "200": {
                        "description": "Successful Response",
                        "content": {"application/json": {"schema": {}}},
                    }
                },
                "summary": "Main",
                "operationId": "main__get",
            }},
        }),
        Some(json!({
            "Body_create_upload_files_uploadfiles__post": files(upload_description),
            "Body_create_files_files__post": files(bytes_description),
        })),
    )
}

mod tutorial002 {
    use super::*;

    // FastAPI's `files: list[bytes] = File()`: Portico has no bytes file parameter.
    #[portico::handler]
    async fn create_files(#[form] files: Vec<UploadFile>) -> Json<Value> {
        Json(json!({"file_sizes": sizes(&files).await}))
    }

    #[portico::handler]
    async fn create_upload_files(#[form] files: Vec<UploadFile>) -> Json<Value> {
        Json(json!({"filenames": names(&files)}))
    }

    fn app() -> App {
        App::new()
            .post("/files/", create_files)
            .post("/uploadfiles/", create_upload_files)
            .get("/", main)
    }

    #[portico::test]
    async fn post_form_no_body() {
        let client = TestClient::new(app());
        let response = client.post("/files/").await;
        assert_answer(&response, 422, &missing("files"));
    }

    #[portico::test]
    async fn post_body_json() {
        let client = TestClient::new(app());
        let response = client.post("/files/").json(&json!({"file": "Foo"})).await;
        assert_answer(&response, 422, &missing("files"));
    }

    #[portico::test]
    async fn post_files() {
        check_post_files(app()).await;
    }

    #[portico::test]
    async fn post_upload_file() {
        check_post_upload_files(app()).await;
    }

    #[portico::test]
    async fn get_root() {
        check_get_root(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), expected_document(None, None)).await;
    }
}

mod tutorial003 {
    use super::*;

    // FastAPI's `files: list[bytes] = File(...)`: Portico has no bytes file parameter.
    #[portico::handler]
    async fn create_files(
        #[form(description = "Multiple files as bytes")] files: Vec<UploadFile>,
    ) -> Json<Value> {
        Json(json!({"file_sizes": sizes(&files).await}))
    }

    #[portico::handler]
    async fn create_upload_files(
        #[form(description = "Multiple files as UploadFile")] files: Vec<UploadFile>,
    ) -> Json<Value> {
        Json(json!({"filenames": names(&files)}))
    }

    fn app() -> App {
        App::new()
            .post("/files/", create_files)
            .post("/uploadfiles/", create_upload_files)
            .get("/", main)
    }

    #[portico::test]
    async fn post_files() {
        check_post_files(app()).await;
    }

    #[portico::test]
    async fn post_upload_file() {
        check_post_upload_files(app()).await;
    }

    #[portico::test]
    async fn get_root() {
        check_get_root(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = expected_document(
            Some("Multiple files as bytes"),
            Some("Multiple files as UploadFile"),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}
