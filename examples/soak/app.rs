//! The soak application: one endpoint for each kind of work a server does, panics included.

use portico::prelude::*;
use portico::websocket::Message;
use portico::{StreamBody, UploadFile};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Every panic of the soak's handlers starts with this, so that the panic hook keeps them out of
/// the server's output.
pub(crate) const PANIC_TAG: &str = "soak:";

/// The size of each chunk of `/stream`.
pub(crate) const CHUNK: usize = 1024;

/// Chunks `/stream-cut` sends before it panics.
pub(crate) const CHUNKS_BEFORE_THE_CUT: usize = 2;

/// An item as stored: what `/items` accepts, validated.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Item {
    #[schemars(length(min = 1, max = 50))]
    pub(crate) name: String,
    #[schemars(range(min = 0))]
    pub(crate) price: f64,
}

async fn read_item(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "id": id, "name": format!("item {id}") }))
}

async fn create_item(Json(item): Json<Item>) -> (StatusCode, Json<Item>) {
    (StatusCode::CREATED, Json(item))
}

async fn async_panic() -> &'static str {
    panic!("soak: an async handler")
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct Work {
    #[schemars(range(min = 1, max = 1_000_000))]
    pub(crate) n: u64,
}

/// CPU work in a plain `fn`, on the thread pool.
fn sum(Query(Work { n }): Query<Work>) -> Json<Value> {
    let total = (1..=n).fold(0u64, |acc, k| acc.wrapping_add(std::hint::black_box(k)));
    Json(json!({ "n": n, "sum": total }))
}

fn blocking_panic() -> &'static str {
    panic!("soak: a plain fn on the thread pool")
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct Chunks {
    #[schemars(range(min = 1, max = 1024))]
    pub(crate) chunks: usize,
}

/// `chunks` chunks of `CHUNK` bytes, the event loop visited between each.
async fn stream(Query(Chunks { chunks }): Query<Chunks>) -> StreamBody {
    let body =
        futures_lite::StreamExt::then(futures_lite::stream::iter(0..chunks), |n| async move {
            futures_lite::future::yield_now().await;
            let byte = b'a' + (n % 26) as u8;
            Ok::<_, std::io::Error>(vec![byte; CHUNK])
        });
    StreamBody::new(body)
}

/// A stream that sends a few chunks, lets them leave, then panics: the client sees a cut body.
///
/// It yields once before the panic: hyper writes out what it holds whenever the body is not
/// ready, so the chunks are on the wire first. (A short sleep would not do: on a starved
/// machine its deadline can pass before it is first polled, and then the panic comes first.)
async fn stream_cut() -> StreamBody {
    let body = futures_lite::StreamExt::then(futures_lite::stream::iter(0..), |n| async move {
        if n == CHUNKS_BEFORE_THE_CUT {
            futures_lite::future::yield_now().await;
            panic!("soak: in the middle of a stream");
        }
        Ok::<_, std::io::Error>(vec![b'c'; CHUNK])
    });
    StreamBody::new(body)
}

#[derive(Deserialize, JsonSchema)]
struct Upload {
    file: UploadFile,
}

async fn upload(Form(form): Form<Upload>) -> Result<Json<Value>, HttpError> {
    let bytes = form
        .file
        .bytes()
        .await
        .map_err(|_| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR))?;
    let sum: u64 = bytes.iter().map(|&b| u64::from(b)).sum();
    Ok(Json(json!({ "size": bytes.len(), "sum": sum })))
}

/// Echoes every message until the client closes.
async fn echo(ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept().await?;
    loop {
        match ws.receive().await {
            Ok(Message::Text(text)) => ws.send_text(text.to_string()).await?,
            Ok(Message::Binary(bytes)) => ws.send_bytes(bytes).await?,
            Ok(_) => {}
            Err(err) if err.disconnect().is_some() => return Ok(()),
            Err(err) => return Err(err),
        }
    }
}

/// The application.
pub(crate) fn app() -> App {
    App::new()
        .get("/items/{id}", read_item)
        .route(Route::post("/items", create_item).status_code(StatusCode::CREATED))
        .get("/panic", async_panic)
        .get("/sum", sum)
        .get("/blocking-panic", blocking_panic)
        .get("/stream", stream)
        .get("/stream-cut", stream_cut)
        .post("/upload", upload)
        .websocket("/ws", echo)
}

/// Keeps the expected panics' messages out of the output (thousands a minute); any other panic
/// is reported as usual.
pub(crate) fn quiet_expected_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if !message.is_some_and(|message| message.starts_with(PANIC_TAG)) {
            report(info);
        }
    }));
}
