//! The applications the targets drive: small, with a route for each kind of input Portico
//! reads (JSON, validated path and query parameters, forms, files, headers, cookies, streamed
//! bodies, WebSockets). No handler fails on purpose, so a 5xx is the framework's.

use std::time::Duration;

use bytes::Bytes;
use futures_lite::StreamExt as _;
use portico::websocket::{Message, WebSocketConfig};
use portico::{
    App, BackgroundTasks, BodyStream, Cookie, Form, Header, Json, Path, Query, Request, Router,
    StreamBody, UploadFile, WebSocket, WebSocketError,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The largest WebSocket message the applications take (4 KiB, small enough for a fuzzer's
/// input to pass it, in one frame or in fragments, and be closed with 1009).
pub const MAX_MESSAGE: usize = 4 * 1024;

/// The largest body the applications read (4 KiB, as above, for 413).
pub const BODY_LIMIT: usize = 4 * 1024;

async fn hello() -> &'static str {
    "Hello, World!"
}

async fn echo(Json(value): Json<Value>) -> Json<Value> {
    Json(value)
}

/// A path and query parameters, validated.
#[portico::handler]
async fn item(
    #[path] id: u32,
    #[query(default = 10, ge = 1, le = 100)] limit: u32,
    #[query(min_length = 2, max_length = 20)] q: Option<String>,
    #[query(alias = "tag", default = Vec::new())] tags: Vec<String>,
) -> Json<Value> {
    Json(json!({"id": id, "limit": limit, "q": q, "tags": tags}))
}

#[derive(Deserialize, JsonSchema)]
struct Login {
    #[schemars(length(min = 1, max = 32))]
    username: String,
    #[schemars(length(min = 8))]
    password: String,
    remember: Option<bool>,
}

async fn login(Form(form): Form<Login>) -> Json<Value> {
    Json(json!({
        "username": form.username,
        "password": form.password.len(),
        "remember": form.remember,
    }))
}

#[derive(Deserialize, JsonSchema)]
struct Upload {
    title: String,
    file: UploadFile,
    extra: Option<Vec<UploadFile>>,
}

async fn upload(Form(form): Form<Upload>) -> Json<Value> {
    let size = form.file.bytes().await.map(|b| b.len()).ok();
    Json(json!({
        "title": form.title,
        "name": form.file.file_name(),
        "size": size,
        "extra": form.extra.map(|files| files.len()),
    }))
}

/// A body read as it streams (chunked framing, a length, or nothing).
async fn count(mut body: BodyStream) -> Json<Value> {
    let (mut chunks, mut total) = (0, 0);
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                chunks += 1;
                total += chunk.len();
            }
            Err(err) => return Json(json!({"error": err.to_string(), "after": total})),
        }
    }
    Json(json!({"chunks": chunks, "bytes": total}))
}

/// A response that streams: a few chunks, each after the runtime had a turn.
async fn stream() -> StreamBody {
    let chunks = futures_lite::stream::unfold(0, |n| async move {
        if n == 4 {
            return None;
        }
        futures_lite::future::yield_now().await;
        Some((Ok::<_, std::io::Error>(format!("line {n}\n")), n + 1))
    });
    StreamBody::new(chunks).content_type("text/plain; charset=utf-8")
}

/// Work after the response, which the run waits for.
async fn later(tasks: BackgroundTasks) -> &'static str {
    tasks.add(|| async {
        futures_lite::future::yield_now().await;
    });
    "queued"
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Greeting {
    greeting: Option<String>,
}

/// Greets, then echoes every message until the WebSocket closes; a JSON text comes back
/// parsed and written again.
async fn room(
    ws: WebSocket,
    Path(room): Path<String>,
    Query(q): Query<Greeting>,
) -> Result<(), WebSocketError> {
    ws.accept().await?;
    let greeting = q.greeting.unwrap_or_else(|| "hello".into());
    ws.send_json(&json!({"room": room, "greeting": greeting}))
        .await?;
    loop {
        match ws.receive().await? {
            Message::Text(text) => match serde_json::from_str::<Value>(&text) {
                Ok(value) => ws.send_json(&value).await?,
                Err(_) => ws.send_text(text).await?,
            },
            Message::Binary(bytes) => ws.send_bytes(bytes).await?,
            _ => {}
        }
    }
}

/// Closes at once with a code of its own.
async fn refuse(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.close(4000, "not today").await
}

/// The application of the `http1`, `h2` and `websocket` targets.
pub fn server_app() -> App {
    App::new()
        .get("/", hello)
        .post("/echo", echo)
        .get("/items/{id}", item)
        .post("/login", login)
        .post("/upload", upload)
        .post("/count", count)
        .put("/count", count)
        .get("/stream", stream)
        .get("/later", later)
        .websocket("/ws/{room}", room)
        .websocket("/refuse", refuse)
        .body_limit(BODY_LIMIT)
        .websocket_config(
            WebSocketConfig::default()
                .max_message_size(MAX_MESSAGE)
                .close_timeout(Duration::from_millis(100)),
        )
}

async fn who(Path(id): Path<String>) -> Json<Value> {
    Json(json!({"who": id}))
}

async fn file(Path(rest): Path<String>) -> Json<Value> {
    Json(json!({"file": rest}))
}

#[derive(Deserialize, JsonSchema)]
struct Ids {
    org: u32,
    repo: String,
}

async fn repo(Path(ids): Path<Ids>) -> Json<Value> {
    Json(json!({"org": ids.org, "repo": ids.repo}))
}

async fn pair(Path((org, n)): Path<(u32, i64)>) -> Json<Value> {
    Json(json!({"org": org, "n": n}))
}

async fn raw(request: Request) -> Json<Value> {
    Json(json!({"path": request.uri().path(), "query": request.uri().query()}))
}

/// The application of the `routing` target: static and templated segments, catch-alls, typed
/// parameters, nested routers with templated prefixes, a mounted application and a mounted
/// service, slash redirects.
pub fn routing_app() -> App {
    let repos = Router::new()
        .prefix("/orgs/{org}")
        .get("/repos/{repo}", repo)
        .get("/pairs/{n}", pair);
    let admin = App::new()
        .get("/", hello)
        .get("/users/{id}", |Path(id): Path<u32>| async move {
            Json(json!({"admin": id}))
        });
    App::new()
        .get("/", hello)
        .get("/users/me", hello)
        .get("/users/{id}", who)
        .post("/users/{id}", who)
        .get("/files/{rest:path}", file)
        .get("/static/{*rest}", file)
        .get("/items/", hello)
        .get("/things", hello)
        .get("/caf\u{e9}/{id}", who)
        .include(Router::new().prefix("/v1").include(repos))
        .mount("/admin", admin)
        .include(Router::new().prefix("/v2").mount("/raw", raw))
}

#[derive(Deserialize, JsonSchema)]
struct Search {
    #[schemars(length(min = 3))]
    q: String,
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 100))]
    limit: u32,
    tag: Option<Vec<String>>,
    exact: Option<bool>,
    ratio: Option<f64>,
}

fn ten() -> u32 {
    10
}

async fn search(Query(s): Query<Search>) -> Json<Value> {
    Json(json!({"q": s.q, "limit": s.limit, "tags": s.tag, "exact": s.exact, "ratio": s.ratio}))
}

#[derive(Deserialize, JsonSchema)]
struct Client {
    user_agent: String,
    x_token: Vec<String>,
    x_retries: Option<u8>,
}

async fn client_headers(Header(h): Header<Client>) -> Json<Value> {
    Json(json!({"ua": h.user_agent, "tokens": h.x_token, "retries": h.x_retries}))
}

#[derive(Deserialize, JsonSchema)]
struct Session {
    #[schemars(length(min = 3))]
    session: String,
    theme: Option<String>,
}

async fn session(Cookie(s): Cookie<Session>) -> Json<Value> {
    Json(json!({"session": s.session, "theme": s.theme}))
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Order {
    #[schemars(length(min = 1))]
    name: String,
    #[schemars(range(min = 1))]
    quantity: u32,
    price: Option<f64>,
    tags: Option<Vec<String>>,
}

/// Every kind of parameter at once, each failure collected in one 422.
#[portico::handler]
async fn place(
    #[path] shop: u32,
    #[query(ge = 0)] page: Option<i32>,
    #[header] x_request: Option<String>,
    #[cookie(min_length = 3)] token: Option<String>,
    Json(order): Json<Order>,
) -> Json<Value> {
    Json(json!({
        "shop": shop, "page": page, "x_request": x_request, "token": token,
        "order": order,
    }))
}

/// A plain function: it runs on the thread pool.
#[portico::handler]
fn double(#[query(gt = 0, lt = 1_000_000)] n: i64) -> String {
    (n * 2).to_string()
}

async fn text(body: String) -> Json<Value> {
    Json(json!({"len": body.len()}))
}

async fn bytes(body: Bytes) -> Json<Value> {
    Json(json!({"len": body.len()}))
}

/// The application of the `extract` target.
pub fn extract_app() -> App {
    App::new()
        .get("/search", search)
        .get("/headers", client_headers)
        .get("/session", session)
        .post("/shops/{shop}/orders", place)
        .get("/double", double)
        .post("/login", login)
        .post("/upload", upload)
        .post("/echo", echo)
        .post("/text", text)
        .post("/bytes", bytes)
        .post("/count", count)
        .body_limit(BODY_LIMIT)
}
