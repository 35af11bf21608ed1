//! The benchmark endpoints on axum 0.8 over tokio.

use std::time::Duration;

use axum::extract::{Path, Query};
use axum::routing::{get, post};
use axum::{Json, Router};

#[path = "common.rs"]
mod common;
use common::*;

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

async fn blocking() -> Json<Done> {
    tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)))
        .await
        .expect("no panic");
    Json(Done { ok: true })
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers)
        .enable_all()
        .build()
        .expect("the runtime starts");
    runtime.block_on(async move {
        let app = Router::new()
            .route("/plaintext", get(plaintext))
            .route("/json", get(json))
            .route("/users/{id}", get(user))
            .route("/echo", post(echo))
            .route("/blocking", get(blocking));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .expect("binds");
        announce(listener.local_addr().expect("an address"));
        axum::serve(listener, app).await.expect("serves");
    });
}
