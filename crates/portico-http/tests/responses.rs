//! Responses: bodies and their types, tuples, redirects, cookies, streams, files with
//! validators and ranges, and server-sent events.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use portico::cookie::Cookie;
use portico::testing::TestClient;
use portico::{
    App, EventStream, FileResponse, Html, Json, KeepAlive, Path, Redirect, ServerSentEvent,
    SetCookie, StreamBody, Text,
};
use serde_json::{Value, json};

async fn text() -> String {
    "plain".to_owned()
}

async fn bytes() -> Bytes {
    Bytes::from_static(b"\x00\x01")
}

async fn html() -> Html<&'static str> {
    Html("<h1>Hi</h1>")
}

async fn typed() -> Text<String> {
    Text("typed".to_owned())
}

async fn json_body() -> Json<Value> {
    Json(json!({"a": [1, 2]}))
}

async fn created() -> (StatusCode, [(&'static str, &'static str); 2], Json<Value>) {
    (
        StatusCode::CREATED,
        [("location", "/items/9"), ("x-request-id", "r1")],
        Json(json!({"id": 9})),
    )
}

async fn nothing() -> StatusCode {
    StatusCode::ACCEPTED
}

#[portico::test]
async fn bodies_carry_their_content_type() {
    let app = App::new()
        .get("/text", text)
        .get("/bytes", bytes)
        .get("/html", html)
        .get("/typed", typed)
        .get("/json", json_body)
        .post("/created", created)
        .post("/accepted", nothing);
    let client = TestClient::new(app);
    let check = |r: &portico::testing::TestResponse, ty: &str, body: &[u8]| {
        assert_eq!(r.status(), 200);
        assert_eq!(r.header("content-type"), Some(ty));
        assert_eq!(r.bytes().as_ref(), body);
    };
    check(
        &client.get("/text").await,
        "text/plain; charset=utf-8",
        b"plain",
    );
    check(
        &client.get("/bytes").await,
        "application/octet-stream",
        b"\x00\x01",
    );
    check(
        &client.get("/html").await,
        "text/html; charset=utf-8",
        b"<h1>Hi</h1>",
    );
    check(
        &client.get("/typed").await,
        "text/plain; charset=utf-8",
        b"typed",
    );
    check(
        &client.get("/json").await,
        "application/json",
        br#"{"a":[1,2]}"#,
    );
    let response = client.post("/created").await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("location"), Some("/items/9"));
    assert_eq!(response.header("x-request-id"), Some("r1"));
    assert_eq!(response.json::<Value>(), json!({"id": 9}));
    let response = client.post("/accepted").await;
    assert_eq!(response.status(), 202);
    assert!(response.bytes().is_empty());
}

async fn go(Path(kind): Path<String>) -> Redirect {
    match kind.as_str() {
        "see-other" => Redirect::see_other("/text"),
        "permanent" => Redirect::permanent("/text"),
        _ => Redirect::to("/text"),
    }
}

#[portico::test]
async fn redirects_keep_or_change_the_method_as_their_status_says() {
    let client = TestClient::new(
        App::new()
            .get("/text", text)
            .route(portico::Route::new(http::Method::POST, "/go/{kind}", go))
            .get("/go/{kind}", go),
    );
    for (kind, status) in [("temporary", 307), ("see-other", 303), ("permanent", 308)] {
        let response = client.get(format!("/go/{kind}")).await;
        assert_eq!(response.status(), status);
        assert_eq!(response.header("location"), Some("/text"));
    }
    assert_eq!(
        client
            .get("/go/temporary")
            .follow_redirects(true)
            .await
            .text(),
        "plain"
    );
    // 303 turns a POST into a GET; 307 keeps the POST (which /text does not take).
    assert_eq!(
        client
            .post("/go/see-other")
            .follow_redirects(true)
            .await
            .text(),
        "plain"
    );
    assert_eq!(
        client
            .post("/go/temporary")
            .follow_redirects(true)
            .await
            .status(),
        405
    );
}

async fn login() -> (SetCookie, &'static str) {
    let session = Cookie::build(("session", "s3cr3t"))
        .http_only(true)
        .max_age(cookie::time::Duration::hours(1));
    (SetCookie::new(session).and(("theme", "dark")), "welcome")
}

async fn logout() -> (SetCookie, &'static str) {
    (SetCookie::default().remove("session"), "bye")
}

async fn whoami(cookies: http::HeaderMap) -> String {
    cookies
        .get("cookie")
        .and_then(|c| c.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

#[portico::test]
async fn cookies_are_set_and_kept_by_the_client() {
    let client = TestClient::new(
        App::new()
            .post("/login", login)
            .post("/logout", logout)
            .get("/me", whoami),
    );
    let response = client.post("/login").await;
    let set: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set.len(), 2);
    assert!(set[0].starts_with("session=s3cr3t"), "{set:?}");
    assert!(
        set[0].contains("HttpOnly")
            && set[0].contains("Path=/")
            && set[0].contains("SameSite=Lax")
            && set[0].contains("Max-Age=3600"),
        "{set:?}"
    );
    assert_eq!(client.cookie("session").as_deref(), Some("s3cr3t"));
    assert_eq!(client.get("/me").await.text(), "session=s3cr3t; theme=dark");
    client.post("/logout").await;
    assert_eq!(client.cookie("session"), None);
    assert_eq!(client.get("/me").await.text(), "theme=dark");
}

async fn numbers() -> StreamBody {
    let rt = portico::rt::current().unwrap();
    let lines = futures_lite::stream::unfold(0, move |n| {
        let rt = rt.clone();
        async move {
            if n == 3 {
                return None;
            }
            rt.sleep(Duration::from_millis(5)).await;
            Some((Ok::<_, std::io::Error>(format!("line {n}\n")), n + 1))
        }
    });
    StreamBody::new(lines).content_type("text/plain; charset=utf-8")
}

#[portico::test]
async fn streamed_bodies_arrive_chunk_by_chunk() {
    let client = TestClient::new(App::new().get("/numbers", numbers));
    let mut response = client.get("/numbers").send_streaming().await;
    assert_eq!(
        response.header_value("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.chunk().await.unwrap(), "line 0\n");
    assert_eq!(response.chunk().await.unwrap(), "line 1\n");
    assert_eq!(response.rest().await, "line 2\n");
    assert_eq!(
        client.get("/numbers").await.text(),
        "line 0\nline 1\nline 2\n"
    );
}

async fn ticks() -> EventStream {
    let events = futures_lite::stream::iter(vec![
        ServerSentEvent::default().data("first"),
        ServerSentEvent::default()
            .event("update")
            .id("2")
            .data("line one\nline two"),
        ServerSentEvent::default()
            .json_data(&json!({"n": 3}))
            .unwrap(),
    ]);
    let rt = portico::rt::current().unwrap();
    let then_wait = futures_lite::StreamExt::chain(
        events,
        futures_lite::stream::once_future(async move {
            rt.sleep(Duration::from_secs(3600)).await;
            ServerSentEvent::default().data("never")
        }),
    );
    EventStream::new(then_wait).keep_alive(
        KeepAlive::default()
            .interval(Duration::from_millis(30))
            .text("still here"),
    )
}

#[portico::test]
async fn server_sent_events_are_framed_and_kept_alive() {
    let client = TestClient::new(App::new().get("/events", ticks));
    let mut response = client.get("/events").send_streaming().await;
    assert_eq!(
        response.header_value("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(response.header_value("cache-control"), Some("no-cache"));
    assert_eq!(response.chunk().await.unwrap(), "data: first\n\n");
    assert_eq!(
        response.chunk().await.unwrap(),
        "event: update\ndata: line one\ndata: line two\nid: 2\n\n"
    );
    assert_eq!(response.chunk().await.unwrap(), "data: {\"n\":3}\n\n");
    let started = std::time::Instant::now();
    assert_eq!(response.chunk().await.unwrap(), ": still here\n\n");
    assert!(
        started.elapsed() >= Duration::from_millis(20),
        "{:?}",
        started.elapsed()
    );
}

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    std::fs::write(&path, b"0123456789abcdefghij").unwrap();
    (dir, path)
}

#[portico::test]
async fn files_have_types_validators_and_conditional_answers() {
    let (_dir, path) = fixture();
    let file = path.clone();
    let app = App::new()
        .get("/report", move || {
            let file = file.clone();
            async move { FileResponse::new(file) }
        })
        .get("/download", {
            let file = path.clone();
            move || {
                let file = file.clone();
                async move { FileResponse::new(file).attachment("r.txt") }
            }
        })
        .get("/missing", || async {
            FileResponse::new("/definitely/not/here.txt")
        });
    let client = TestClient::new(app);
    let response = client.get("/report").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.header("accept-ranges"), Some("bytes"));
    assert_eq!(response.header("content-length"), Some("20"));
    assert_eq!(response.text(), "0123456789abcdefghij");
    let etag = response.header("etag").unwrap().to_owned();
    let modified = response.header("last-modified").unwrap().to_owned();

    let not_modified = client.get("/report").header("if-none-match", &etag).await;
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.bytes().is_empty());
    assert_eq!(
        client
            .get("/report")
            .header("if-modified-since", &modified)
            .await
            .status(),
        304
    );
    assert_eq!(
        client
            .get("/report")
            .header("if-none-match", "\"other\"")
            .await
            .status(),
        200
    );

    let download = client.get("/download").await;
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"r.txt\"")
    );
    let head = client.head("/report").await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("content-length"), Some("20"));
    assert!(head.bytes().is_empty());
    assert_eq!(client.get("/missing").await.status(), 404);
}

#[portico::test]
async fn files_answer_ranges() {
    let (_dir, path) = fixture();
    let app = App::new().get("/report", move || {
        let file = path.clone();
        async move { FileResponse::new(file) }
    });
    let client = TestClient::new(app);
    let one = client.get("/report").header("range", "bytes=2-5").await;
    assert_eq!(one.status(), 206);
    assert_eq!(one.header("content-range"), Some("bytes 2-5/20"));
    assert_eq!(one.text(), "2345");
    let suffix = client.get("/report").header("range", "bytes=-3").await;
    assert_eq!(suffix.text(), "hij");
    let open = client.get("/report").header("range", "bytes=18-").await;
    assert_eq!(open.text(), "ij");

    let several = client
        .get("/report")
        .header("range", "bytes=0-1,10-11")
        .await;
    assert_eq!(several.status(), 206);
    let content_type = several.header("content-type").unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap();
    let body = several.text();
    assert!(
        body.contains(&format!(
            "--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n"
        )),
        "{body}"
    );
    assert!(
        body.contains("Content-Range: bytes 10-11/20\r\n\r\nab\r\n"),
        "{body}"
    );
    assert!(body.ends_with(&format!("--{boundary}--\r\n")), "{body}");

    let unsatisfiable = client.get("/report").header("range", "bytes=40-50").await;
    assert_eq!(unsatisfiable.status(), 416);
    assert_eq!(unsatisfiable.header("content-range"), Some("bytes */20"));

    let etag = client
        .get("/report")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let fresh = client
        .get("/report")
        .header("range", "bytes=0-1")
        .header("if-range", &etag)
        .await;
    assert_eq!(fresh.status(), 206);
    let stale = client
        .get("/report")
        .header("range", "bytes=0-1")
        .header("if-range", "\"stale\"")
        .await;
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.text().len(), 20);
    let malformed = client.get("/report").header("range", "pages=1").await;
    assert_eq!(malformed.status(), 200);
}
