//! The baseline: the benchmark endpoints on raw hyper 1.x (HTTP/1.1) over tokio, routed by
//! hand, with `spawn_blocking` for `/blocking`.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[path = "common.rs"]
mod common;
use common::*;

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(value).expect("serialises"),
    )));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn unprocessable() -> Response<Full<Bytes>> {
    json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &serde_json::json!({"detail": "invalid"}),
    )
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let response = match (request.method().as_str(), path) {
        ("GET", "/plaintext") => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        ("GET", "/json") => json(
            StatusCode::OK,
            &Message {
                message: "Hello, World!",
            },
        ),
        ("GET", "/blocking") => {
            tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)))
                .await
                .expect("no panic");
            json(StatusCode::OK, &Done { ok: true })
        }
        ("POST", "/echo") => {
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match serde_json::from_slice::<Echo>(&body) {
                Ok(echo) => json(StatusCode::OK, &echo),
                Err(_) => unprocessable(),
            }
        }
        ("GET", _) if path.starts_with("/users/") => {
            let id = path["/users/".len()..].parse::<u64>();
            let query = request.uri().query().unwrap_or_default();
            let verbose: Result<Verbosity, _> = serde_urlencoded::from_str(query);
            match (id, verbose) {
                (Ok(id), Ok(verbosity)) => json(
                    StatusCode::OK,
                    &User {
                        id,
                        verbose: verbosity.verbose,
                    },
                ),
                _ => unprocessable(),
            }
        }
        _ => json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"detail": "Not Found"}),
        ),
    };
    Ok(response)
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers)
        .enable_all()
        .build()
        .expect("the runtime starts");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .expect("binds");
        announce(listener.local_addr().expect("an address"));
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
