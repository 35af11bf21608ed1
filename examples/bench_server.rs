//! The benchmark application: the endpoints `cargo xtask bench http` loads, the same ones the
//! raw hyper, axum and actix-web servers of the `bench/` workspace answer.
//!
//! ```text
//! cargo run --release --example bench_server -- --port 8080 --workers 1
//! PORTICO_RUNTIME=smol cargo run --release --example bench_server -- --port 8080
//! curl -s 127.0.0.1:8080/users/7?verbose=true
//! ```
//!
//! * `GET /plaintext` → `Hello, World!` (`text/plain`)
//! * `GET /json` → `{"message":"Hello, World!"}`
//! * `GET /users/{id}?verbose=true` → `{"id":<u64>,"verbose":<bool>}` (`verbose` optional;
//!   a non-integer id or a bad `verbose` → 422)
//! * `POST /echo` with `{"name":str,"count":int,"tags":[str]}` → the same object, 422 when it
//!   does not fit
//! * `POST /echo-valid` → `/echo` with constraints on its fields (lengths, a range, a list's
//!   size), as a Pydantic model with `Field(...)` has them (Portico and FastAPI; compared with
//!   `/echo`)
//! * `GET /blocking` → a plain `fn` (run on the thread pool) that sleeps 1 ms and answers
//!   `{"ok":true}`
//! * `GET /blocking-deps` → `/blocking` with two plain-`fn` dependencies, all three in one
//!   trip to the thread pool (Portico and FastAPI; compared with `/blocking`)
//! * `GET /deps` → `{"tenant":7,"session":"s-7","quota":700}` from a chain of three
//!   dependencies: `Tenant` (async), needed by `Session` (async) and `Quota` (a plain `fn`, on
//!   the thread pool), so produced once and shared (Portico only; compared with `/users`)
//! * `GET /deps-async` → the same, with `Quota` produced by an `async fn`: the difference
//!   with `/deps` is the thread hop
//! * `GET /metrics-json` → `/json` behind the `Metrics` middleware (its page at `GET /metrics`),
//!   and `GET /otel-json` → `/json` behind the `OpenTelemetry` middleware, whose spans are
//!   batched and then discarded (nothing leaves the process): the cost of each on `/json`
//!
//! Options: `--port N` (default 8080; 0 picks a free port), `--workers N` (executor threads;
//! default one per CPU), `--listeners N` (`SO_REUSEPORT` accept sockets; default 1),
//! `--tls-cert FILE --tls-key FILE` (HTTPS, HTTP/2 and HTTP/1.1 by ALPN; the `dev_cert`
//! example makes a pair). The first line printed is `listening on http://ADDR` (`https://`
//! with TLS).

#![allow(
    clippy::print_stdout,
    reason = "an example talks to the person running it"
)]

use std::time::Duration;

use portico::middleware::{Compression, Cors, SetRequestId};
use portico::prelude::*;
use portico::telemetry::opentelemetry_sdk::error::OTelSdkResult;
use portico::telemetry::opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use portico::telemetry::{Metrics, OpenTelemetry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, JsonSchema)]
struct Message {
    message: &'static str,
}

#[derive(Deserialize, JsonSchema)]
struct Verbosity {
    #[serde(default)]
    verbose: bool,
}

#[derive(Serialize, JsonSchema)]
struct User {
    id: u64,
    verbose: bool,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Echo {
    name: String,
    count: i64,
    tags: Vec<String>,
}

/// `Echo` with constraints: validated field by field, as FastAPI's `Field(...)` does.
#[derive(Serialize, Deserialize, JsonSchema)]
struct EchoValid {
    #[schemars(length(min = 1, max = 64))]
    name: String,
    #[schemars(range(min = 0, max = 1000))]
    count: i64,
    #[schemars(length(max = 16), inner(length(min = 1)))]
    tags: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct Done {
    ok: bool,
}

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn json() -> Json<Message> {
    Json(Message {
        message: "Hello, World!",
    })
}

async fn user(Path(id): Path<u64>, Query(query): Query<Verbosity>) -> Json<User> {
    Json(User {
        id,
        verbose: query.verbose,
    })
}

async fn echo(Json(body): Json<Echo>) -> Json<Echo> {
    Json(body)
}

async fn echo_valid(Json(body): Json<EchoValid>) -> Json<EchoValid> {
    Json(body)
}

/// A plain `fn`: Portico runs it on the thread pool, so sleeping here blocks no event loop.
fn blocking() -> Json<Done> {
    std::thread::sleep(Duration::from_millis(1));
    Json(Done { ok: true })
}

/// What a plain-`fn` dependency reads, say from a database: the account behind a request.
struct Account(u64);
/// A second plain-`fn` dependency, built on the first.
struct Limits(u64);

fn account() -> Result<Account, HttpError> {
    Ok(Account(7))
}

fn limits(Depends(account): Depends<Account>) -> Result<Limits, HttpError> {
    Ok(Limits(account.0 * 100))
}

/// `/blocking` with two plain-`fn` dependencies: the three run in one trip to the thread pool.
fn blocking_deps(Depends(limits): Depends<Limits>) -> Json<Done> {
    std::thread::sleep(Duration::from_millis(1));
    Json(Done {
        ok: limits.0 == 700,
    })
}

struct Tenant(u64);
struct Session(String);
struct Quota(u64);

async fn tenant() -> Result<Tenant, HttpError> {
    Ok(Tenant(7))
}

async fn session(Depends(tenant): Depends<Tenant>) -> Result<Session, HttpError> {
    Ok(Session(format!("s-{}", tenant.0)))
}

fn quota(Depends(tenant): Depends<Tenant>) -> Result<Quota, HttpError> {
    Ok(Quota(tenant.0 * 100))
}

/// `Quota`'s twin produced by an `async fn`, to tell the thread hop from the rest.
struct QuotaAsync(u64);

async fn quota_async(Depends(tenant): Depends<Tenant>) -> Result<QuotaAsync, HttpError> {
    Ok(QuotaAsync(tenant.0 * 100))
}

async fn deps_async(
    Depends(tenant): Depends<Tenant>,
    Depends(session): Depends<Session>,
    Depends(quota): Depends<QuotaAsync>,
) -> Json<Context> {
    Json(Context {
        tenant: tenant.0,
        session: session.0.clone(),
        quota: quota.0,
    })
}

#[derive(Serialize, JsonSchema)]
struct Context {
    tenant: u64,
    session: String,
    quota: u64,
}

async fn deps(
    Depends(tenant): Depends<Tenant>,
    Depends(session): Depends<Session>,
    Depends(quota): Depends<Quota>,
) -> Json<Context> {
    Json(Context {
        tenant: tenant.0,
        session: session.0.clone(),
        quota: quota.0,
    })
}

/// Drops the spans it is given: traces cost what they cost in the server, and nothing leaves
/// the process.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

/// The benchmark application.
pub(crate) fn app() -> App {
    let metrics = Metrics::new();
    let traces = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    App::new()
        .provide(tenant)
        .provide(session)
        .provide(quota)
        .provide(quota_async)
        .provide(account)
        .provide(limits)
        .get("/plaintext", plaintext)
        .get("/json", json)
        .get("/users/{id}", user)
        .post("/echo", echo)
        .post("/echo-valid", echo_valid)
        .get("/blocking", blocking)
        .get("/blocking-deps", blocking_deps)
        .get("/deps", deps)
        .get("/deps-async", deps_async)
        // `/json` again behind the middleware an API usually has, for the cost of the chain.
        .include(
            Router::new()
                .prefix("/mw")
                .get("/json", json)
                .add_middleware(SetRequestId::new())
                .add_middleware(Compression::new())
                .add_middleware(Cors::new().allow_origins(["http://bench.example"])),
        )
        // `/json` again behind each kind of telemetry, for its cost.
        .include(
            Router::new()
                .get("/metrics-json", json)
                .add_middleware(metrics.clone()),
        )
        .get("/metrics", metrics.endpoint())
        .include(
            Router::new()
                .get("/otel-json", json)
                .add_middleware(OpenTelemetry::new(traces)),
        )
}

struct Options {
    port: u16,
    workers: Option<usize>,
    listeners: usize,
    tls_cert: Option<String>,
    tls_key: Option<String>,
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 8080,
        workers: None,
        listeners: 1,
        tls_cert: None,
        tls_key: None,
    };
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (
                arg.clone(),
                args.next().ok_or(format!("{arg} needs a value"))?,
            ),
        };
        let number = |what: &str| {
            value
                .parse::<usize>()
                .map_err(|_| format!("{what} takes a number, not {value:?}"))
        };
        match name.as_str() {
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port takes 0 to 65535, not {value:?}"))?
            }
            "--workers" => options.workers = Some(number("--workers")?.max(1)),
            "--listeners" => options.listeners = number("--listeners")?.max(1),
            "--tls-cert" => options.tls_cert = Some(value),
            "--tls-key" => options.tls_key = Some(value),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.tls_cert.is_some() != options.tls_key.is_some() {
        return Err("--tls-cert and --tls-key go together".into());
    }
    Ok(options)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--openapi") {
        // The OpenAPI document, for `cargo xtask openapi`.
        let doc = app().openapi();
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    let options = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "error: {message}\nusage: bench_server [--port N] [--workers N] [--listeners N] [--tls-cert FILE --tls-key FILE]"
            );
            std::process::exit(2);
        }
    };
    let mut builder = portico::Builder::new();
    if let Some(workers) = options.workers {
        builder = builder.worker_threads(workers);
    }
    let served = builder.run(async move {
        let mut server = app()
            .serve(format!("127.0.0.1:{}", options.port))
            .listeners(options.listeners);
        let mut scheme = "http";
        if let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) {
            server = server.tls(portico::tls::TlsConfig::from_pem_files(cert, key)?);
            scheme = "https";
        }
        let server = server.start()?;
        println!("listening on {scheme}://{}", server.local_addr());
        server.stopped().await
    });
    if let Err(err) = served {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}
