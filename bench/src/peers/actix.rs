//! The benchmark endpoints on actix-web 4.

use std::time::Duration;

use actix_web::{App, HttpServer, web};

#[path = "common.rs"]
mod common;
use common::*;

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn json() -> web::Json<Message> {
    web::Json(Message {
        message: "Hello, World!",
    })
}

async fn user(id: web::Path<u64>, query: web::Query<Verbosity>) -> web::Json<User> {
    web::Json(User {
        id: id.into_inner(),
        verbose: query.verbose,
    })
}

async fn echo(body: web::Json<Echo>) -> web::Json<Echo> {
    body
}

async fn blocking() -> web::Json<Done> {
    web::block(|| std::thread::sleep(Duration::from_millis(1)))
        .await
        .expect("no panic");
    web::Json(Done { ok: true })
}

fn main() -> std::io::Result<()> {
    let options = options();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| {
            App::new()
                .route("/plaintext", web::get().to(plaintext))
                .route("/json", web::get().to(json))
                .route("/users/{id}", web::get().to(user))
                .route("/echo", web::post().to(echo))
                .route("/blocking", web::get().to(blocking))
        })
        .workers(options.workers)
        .bind(("127.0.0.1", options.port))?;
        announce(server.addrs()[0]);
        server.run().await
    })
}
