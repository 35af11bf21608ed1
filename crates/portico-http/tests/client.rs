//! The test clients: the blocking one for plain tests, cookies kept between calls, redirects
//! followed on request.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::cookie::Cookie;
use portico::testing::{MultipartForm, blocking_client_on};
use portico::{App, Form, Json, Path, Redirect, RuntimeKind, SetCookie, UploadFile};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

async fn login(Path(user): Path<String>) -> (SetCookie, Redirect) {
    (
        SetCookie::new(Cookie::build(("user", user)).http_only(true)),
        Redirect::see_other("/me"),
    )
}

async fn me(headers: http::HeaderMap) -> Json<Value> {
    let cookie = headers
        .get("cookie")
        .and_then(|c| c.to_str().ok())
        .map(str::to_owned);
    Json(json!({ "cookie": cookie }))
}

#[derive(Deserialize, JsonSchema)]
struct Upload {
    note: String,
    file: UploadFile,
}

async fn upload(Form(form): Form<Upload>) -> String {
    format!("{}: {} bytes", form.note, form.file.size())
}

fn app() -> App {
    App::new()
        .post("/login/{user}", login)
        .get("/me", me)
        .post("/upload", upload)
}

#[portico::test]
fn the_blocking_client_keeps_cookies_and_follows_redirects_on_request(rt: RuntimeKind) {
    let client = blocking_client_on(rt, app());
    let redirected = client.post("/login/ada").send();
    assert_eq!(redirected.status(), 303);
    assert_eq!(redirected.header("location"), Some("/me"));
    assert_eq!(client.cookie("user").as_deref(), Some("ada"));
    assert_eq!(
        client.get("/me").send().json::<Value>(),
        json!({"cookie": "user=ada"})
    );

    let followed = client.post("/login/grace").follow_redirects(true).send();
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.json::<Value>(), json!({"cookie": "user=grace"}));

    let form = MultipartForm::new().text("note", "hello").file(
        "file",
        "a.bin",
        "application/octet-stream",
        vec![7u8; 1000],
    );
    assert_eq!(
        client.post("/upload").multipart(form).send().text(),
        "hello: 1000 bytes"
    );
}

#[portico::test]
fn the_blocking_client_tells_its_runtime(rt: RuntimeKind) {
    async fn which() -> String {
        portico::rt::current()
            .map(|rt| rt.name().to_owned())
            .unwrap_or_default()
    }
    let client = blocking_client_on(rt, App::new().get("/", which));
    assert_eq!(client.get("/").send().text(), rt.to_string());
}
