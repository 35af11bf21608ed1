//! Form bodies: urlencoded and multipart forms, files, their limits, and what a form route
//! does with a body of another type.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::testing::{MultipartForm, TestClient};
use portico::{App, ContentTypeCheck, Form, Json, Route, UploadFile};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct Login {
    username: String,
    #[schemars(length(min = 8))]
    password: String,
    remember: Option<bool>,
}

async fn login(Form(form): Form<Login>) -> String {
    format!(
        "{} {} {:?}",
        form.username,
        form.password.len(),
        form.remember
    )
}

#[portico::test]
async fn urlencoded_forms() {
    let client = TestClient::new(App::new().post("/login", login));
    let ok = client
        .post("/login")
        .form(&[
            ("username", "ada"),
            ("password", "correct horse"),
            ("remember", "on"),
        ])
        .await;
    assert_eq!(ok.text(), "ada 13 Some(true)");
    let bad = client
        .post("/login")
        .form(&[("username", ""), ("password", "short")])
        .await;
    assert_eq!(bad.status(), 422);
    let detail = bad.json::<Value>()["detail"].clone();
    // A form model's missing field reports the form's input (an empty value is no value).
    assert_eq!(
        detail[0],
        json!({"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": {"password": "short"}})
    );
    assert_eq!(detail[1]["type"], "string_too_short");
    // As FastAPI: a body of another type is read as an empty form (a model's missing fields
    // report that empty input).
    let json_body = client
        .post("/login")
        .json(&json!({"username": "ada", "password": "correct horse"}))
        .await;
    assert_eq!(json_body.status(), 422);
    assert_eq!(
        json_body.json::<Value>(),
        json!({"detail": [
            {"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": {}},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": {}},
        ]})
    );
}

#[portico::test]
async fn forms_with_too_many_fields_answer_400() {
    let client = TestClient::new(App::new().post("/login", login));
    let pairs: Vec<(String, String)> = (0..1001)
        .map(|i| (format!("f{i}"), "x".to_owned()))
        .collect();
    let response = client.post("/login").form(&pairs).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>(),
        json!({"detail": "Too many fields. Maximum number of fields is 1000."})
    );
}

#[derive(Deserialize, JsonSchema)]
struct Avatar {
    user: String,
    image: UploadFile,
    extra: Option<Vec<UploadFile>>,
}

async fn avatar(Form(form): Form<Avatar>) -> Json<Value> {
    let image = form.image.bytes().await.unwrap();
    let extra: Vec<Value> = form
        .extra
        .unwrap_or_default()
        .iter()
        .map(|f| json!({"name": f.file_name(), "size": f.size(), "spooled": f.is_spooled()}))
        .collect();
    Json(json!({
        "user": form.user,
        "name": form.image.file_name(),
        "type": form.image.content_type(),
        "size": form.image.size(),
        "spooled": form.image.is_spooled(),
        "sum": image.iter().map(|&b| u64::from(b)).sum::<u64>(),
        "extra": extra,
    }))
}

#[portico::test]
async fn multipart_forms_receive_files_and_spool_large_ones() {
    let client =
        TestClient::new(App::new().route(Route::post("/avatar", avatar).body_limit(8 << 20)));
    let small = vec![1u8; 100];
    let large = vec![2u8; 3 << 20];
    let form = MultipartForm::new()
        .text("user", "ada")
        .file("image", "ada.png", "image/png", small)
        .file("extra", "big.bin", "application/octet-stream", large)
        .file("extra", "b.txt", "text/plain", "hello");
    let response = client.post("/avatar").multipart(form).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"user": "ada", "name": "ada.png", "type": "image/png", "size": 100, "spooled": false, "sum": 100,
               "extra": [{"name": "big.bin", "size": 3 << 20, "spooled": true}, {"name": "b.txt", "size": 5, "spooled": false}]})
    );
}

#[portico::test]
async fn multipart_mistakes_are_reported_by_field() {
    let client = TestClient::new(App::new().post("/avatar", avatar));
    let form = MultipartForm::new()
        .file("user", "u.txt", "text/plain", "ada")
        .text("image", "not a file");
    let response = client.post("/avatar").multipart(form).await;
    assert_eq!(response.status(), 422);
    let detail = response.json::<Value>()["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["body", "user"]));
    assert_eq!(detail[0]["type"], "string_type");
    assert_eq!(detail[1]["loc"], json!(["body", "image"]));
    assert_eq!(
        detail[1]["msg"],
        "Value error, Expected UploadFile, received: <class 'str'>"
    );
    assert_eq!(detail.as_array().unwrap().len(), 2);
}

#[portico::test]
async fn multipart_limits_hold() {
    let client = TestClient::new(App::new().post("/avatar", avatar));
    let long_text = "x".repeat((1 << 20) + 1);
    let response = client
        .post("/avatar")
        .multipart(MultipartForm::new().text("user", &long_text))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>()["detail"],
        "Part exceeded maximum size of 1024KB."
    );

    let mut form = MultipartForm::new();
    for i in 0..1001 {
        form = form.file("extra", &format!("{i}.txt"), "text/plain", "x");
    }
    let response = client.post("/avatar").multipart(form).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>()["detail"],
        "Too many files. Maximum number of files is 1000."
    );

    let huge = client
        .post("/avatar")
        .multipart(MultipartForm::new().file("image", "a", "b", vec![0u8; 3 << 20]))
        .await;
    assert_eq!(huge.status(), 413);
}

#[portico::test]
async fn the_apps_content_type_check_can_refuse_a_form_of_another_type_with_415() {
    let app = App::new()
        .content_type_check(ContentTypeCheck::Refuse)
        .post("/login", login);
    let response = TestClient::new(app).post("/login").json(&json!({})).await;
    assert_eq!(response.status(), 415);
    assert_eq!(
        response.json::<Value>()["detail"],
        "Unsupported Media Type: the request body must be application/x-www-form-urlencoded or multipart/form-data"
    );
}
