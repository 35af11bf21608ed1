//! Hello, Portico: a small API to try with curl or a browser.
//!
//! ```text
//! cargo run --example hello                          # tokio
//! PORTICO_RUNTIME=smol cargo run --example hello     # smol
//!
//! curl http://127.0.0.1:8000/
//! curl 'http://127.0.0.1:8000/items/42?q=tea'
//! curl http://127.0.0.1:8000/items/forty-two              # 422, FastAPI's error body
//! curl -X POST http://127.0.0.1:8000/items -H 'content-type: application/json' \
//!      -d '{"name": "teapot", "price": 12.5, "tags": ["kitchen"]}'
//! curl 'http://127.0.0.1:8000/primes?below=100000'       # a plain fn, run on the thread pool
//! curl 'http://127.0.0.1:8000/slow?seconds=2'            # then Ctrl-C: it still gets its answer
//! ```
//!
//! Options: `--port N` (default 8000; 0 picks a free port). The first line printed gives the
//! address. Requests are logged (`RUST_LOG=debug` for more). Ctrl-C or SIGTERM stops it
//! gracefully: requests in flight are answered first.

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

use std::time::Duration;

use portico::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The greeting, naming the runtime that serves it.
#[portico::handler]
async fn root() -> Json<Value> {
    let runtime = portico::rt::current().map(|rt| rt.name()).unwrap_or("none");
    Json(json!({ "message": "Hello, World!", "runtime": runtime }))
}

#[derive(Deserialize, JsonSchema)]
struct ItemQuery {
    /// Something to search for.
    q: Option<String>,
    /// Leave the description out.
    #[serde(default)]
    short: bool,
}

/// FastAPI's first example: a path parameter and two query parameters.
#[portico::handler]
async fn read_item(Path(item_id): Path<u64>, Query(query): Query<ItemQuery>) -> Json<Value> {
    let mut item = json!({ "item_id": item_id, "q": query.q });
    if !query.short {
        item["description"] = json!("This is an amazing item that has a long description");
    }
    Json(item)
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    #[schemars(length(min = 1, max = 50))]
    name: String,
    #[schemars(extend("exclusiveMinimum" = 0))]
    price: f64,
    #[serde(default)]
    tags: Vec<String>,
}

/// A JSON body, validated: every mistake comes back in one 422.
#[portico::handler]
async fn create_item(Json(item): Json<Item>) -> (StatusCode, Json<Item>) {
    (StatusCode::CREATED, Json(item))
}

#[derive(Deserialize, JsonSchema)]
struct Below {
    #[schemars(range(min = 2, max = 10_000_000))]
    below: u64,
}

/// CPU work in a plain `fn`: Portico runs it on the thread pool, never on the event loop.
#[portico::handler]
fn primes(Query(Below { below }): Query<Below>) -> Json<Value> {
    let count = (2..below)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count();
    Json(json!({ "below": below, "primes": count }))
}

#[derive(Deserialize, JsonSchema)]
struct Seconds {
    #[schemars(range(min = 0, max = 30))]
    seconds: f64,
}

/// A slow answer, to watch a graceful shutdown wait for it.
#[portico::handler]
async fn slow(Query(Seconds { seconds }): Query<Seconds>) -> Result<String, HttpError> {
    let rt = portico::rt::current().map_err(|_| HttpError::new(StatusCode::SERVICE_UNAVAILABLE))?;
    rt.sleep(Duration::from_secs_f64(seconds)).await;
    Ok(format!("slept {seconds} s"))
}

/// The application.
pub(crate) fn app() -> App {
    App::new()
        .get("/", root)
        .get("/items/{item_id}", read_item)
        .route(Route::post("/items", create_item).status_code(StatusCode::CREATED))
        .get("/primes", primes)
        .get("/slow", slow)
}

fn port_from_args(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 8000;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" => args.next().ok_or("--port needs a value")?,
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unknown argument {other:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("--port takes a number from 0 to 65535, not {value:?}"))?;
    }
    Ok(port)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--openapi") {
        // The OpenAPI document, for `cargo xtask openapi`.
        let doc = app().openapi();
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("error: {message}\nusage: hello [--port N]");
            std::process::exit(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let served = portico::run(async move {
        let server = app().serve(format!("127.0.0.1:{port}")).start()?;
        let addr = server.local_addr();
        let runtime = portico::rt::current().map(|rt| rt.name()).unwrap_or("none");
        println!(
            "hello: listening on http://{addr} with the {runtime} runtime; try `curl http://{addr}/items/42?q=tea`"
        );
        server.stopped().await
    });
    match served {
        Ok(report) if report.is_graceful() => {}
        Ok(report) => eprintln!(
            "hello: {} connection(s) were cut at shutdown",
            report.cut_connections
        ),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}
