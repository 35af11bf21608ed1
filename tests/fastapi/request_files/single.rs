//! One file per request: tutorials 001, 001_02 and 001_03.

use portico::testing::TestClient;
use portico::{App, Json, UploadFile};
use serde_json::{Value, json};

use super::{
    CONTENT, assert_answer, body_schema, file_schema, missing, multipart_operation, post_files,
    test_txt,
};
use crate::support::{assert_document, document, nullable};

/// The length of an uploaded file, as FastAPI's `len(file)` of a `bytes` parameter.
async fn len(file: &UploadFile) -> usize {
    file.bytes().await.unwrap().len()
}

mod tutorial001 {
    use super::*;

    // FastAPI's `file: bytes = File()`: Portico has no bytes file parameter, so read the upload.
    #[portico::handler]
    async fn create_file(#[form] file: UploadFile) -> Json<Value> {
        Json(json!({"file_size": len(&file).await}))
    }

    #[portico::handler]
    async fn create_upload_file(#[form] file: UploadFile) -> Json<Value> {
        Json(json!({"filename": file.file_name()}))
    }

    fn app() -> App {
        App::new()
            .post("/files/", create_file)
            .post("/uploadfile/", create_upload_file)
    }

    #[portico::test]
    async fn post_form_no_body() {
        let client = TestClient::new(app());
        let response = client.post("/files/").await;
        assert_answer(&response, 422, &missing("file"));
    }

    #[portico::test]
    async fn post_body_json() {
        let client = TestClient::new(app());
        let response = client.post("/files/").json(&json!({"file": "Foo"})).await;
        assert_answer(&response, 422, &missing("file"));
    }

    #[portico::test]
    async fn post_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/files/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"file_size": 14}));
    }

    #[portico::test]
    async fn post_large_file() {
        let client = TestClient::new(app());
        let default_pydantic_max_size = 1 << 16;
        let form = portico::testing::MultipartForm::new().file(
            "file",
            "test.txt",
            "text/plain",
            vec![b'x'; default_pydantic_max_size + 1],
        );
        let response = post_files(&client, "/files/", form).await;
        let expected = json!({"file_size": default_pydantic_max_size + 1});
        assert_answer(&response, 200, &expected);
    }

    #[portico::test]
    async fn post_upload_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/uploadfile/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"filename": "test.txt"}));
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = document(
            json!({
                "/files/": multipart_operation("Create File", "create_file_files__post", true),
                "/uploadfile/": multipart_operation(
                    "Create Upload File",
                    "create_upload_file_uploadfile__post",
                    true,
                ),
            }),
            Some(json!({
                "Body_create_upload_file_uploadfile__post": body_schema("file", file_schema(), true),
                "Body_create_file_files__post": body_schema("file", file_schema(), true),
            })),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}

mod tutorial001_02 {
    use super::*;

    // FastAPI's `file: bytes | None = File()`: Portico has no bytes file parameter.
    #[portico::handler]
    async fn create_file(#[form] file: Option<UploadFile>) -> Json<Value> {
        match file {
            None => Json(json!({"message": "No file sent"})),
            Some(file) => Json(json!({"file_size": len(&file).await})),
        }
    }

    #[portico::handler]
    async fn create_upload_file(#[form] file: Option<UploadFile>) -> Json<Value> {
        match file {
            None => Json(json!({"message": "No upload file sent"})),
            Some(file) => Json(json!({"filename": file.file_name()})),
        }
    }

    fn app() -> App {
        App::new()
            .post("/files/", create_file)
            .post("/uploadfile/", create_upload_file)
    }

    #[portico::test]
    async fn post_form_no_body() {
        let client = TestClient::new(app());
        let response = client.post("/files/").await;
        assert_answer(&response, 200, &json!({"message": "No file sent"}));
    }

    #[portico::test]
    async fn post_uploadfile_no_body() {
        let client = TestClient::new(app());
        let response = client.post("/uploadfile/").await;
        assert_answer(&response, 200, &json!({"message": "No upload file sent"}));
    }

    #[portico::test]
    async fn post_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/files/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"file_size": CONTENT.len()}));
    }

    #[portico::test]
    async fn post_upload_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/uploadfile/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"filename": "test.txt"}));
    }

    #[portico::test]
    async fn openapi_schema() {
        let optional_file = nullable(file_schema());
        let expected = document(
            json!({
                "/files/": multipart_operation("Create File", "create_file_files__post", false),
                "/uploadfile/": multipart_operation(
                    "Create Upload File",
                    "create_upload_file_uploadfile__post",
                    false,
                ),
            }),
            Some(json!({
                "Body_create_file_files__post": body_schema("file", optional_file.clone(), false),
                "Body_create_upload_file_uploadfile__post": body_schema("file", optional_file, false),
            })),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}

mod tutorial001_03 {
    use super::*;

    // FastAPI's `file: bytes = File(...)`: Portico has no bytes file parameter.
    #[portico::handler]
    async fn create_file(
        #[form(description = "A file read as bytes")] file: UploadFile,
    ) -> Json<Value> {
        Json(json!({"file_size": len(&file).await}))
    }

    #[portico::handler]
    async fn create_upload_file(
        #[form(description = "A file read as UploadFile")] file: UploadFile,
    ) -> Json<Value> {
        Json(json!({"filename": file.file_name()}))
    }

    fn app() -> App {
        App::new()
            .post("/files/", create_file)
            .post("/uploadfile/", create_upload_file)
    }

    #[portico::test]
    async fn post_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/files/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"file_size": 14}));
    }

    #[portico::test]
    async fn post_upload_file() {
        let client = TestClient::new(app());
        let response = post_files(&client, "/uploadfile/", test_txt("file")).await;
        assert_answer(&response, 200, &json!({"filename": "test.txt"}));
    }

    #[portico::test]
    async fn openapi_schema() {
        let described = |description: &str| {
            let mut schema = file_schema();
            schema["description"] = json!(description);
            schema
        };
        let expected = document(
            json!({
                "/files/": multipart_operation("Create File", "create_file_files__post", true),
                "/uploadfile/": multipart_operation(
                    "Create Upload File",
                    "create_upload_file_uploadfile__post",
                    true,
                ),
            }),
            Some(json!({
                "Body_create_file_files__post":
                    body_schema("file", described("A file read as bytes"), true),
                "Body_create_upload_file_uploadfile__post":
                    body_schema("file", described("A file read as UploadFile"), true),
            })),
        );
        assert_document(&TestClient::new(app()), expected).await;
    }
}
