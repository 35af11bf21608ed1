//! The TLS baseline: `/plaintext` and `/json` on raw hyper 1.x over tokio-rustls (aws-lc-rs, as
//! Portico's), HTTP/2 or HTTP/1.1 chosen by ALPN, the way a hyper user would write it.
//!
//! `--port P --workers N --tls-cert FILE --tls-key FILE`; the first line printed is
//! `listening on https://ADDR`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method().as_str(), request.uri().path()) {
        ("GET", "/plaintext") => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        ("GET", "/json") => {
            let body = serde_json::to_vec(&Message {
                message: "Hello, World!",
            })
            .expect("serialises");
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        _ => {
            let mut response =
                Response::new(Full::new(Bytes::from_static(br#"{"detail":"Not Found"}"#)));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    Ok(response)
}

struct Options {
    port: u16,
    workers: usize,
    cert: String,
    key: String,
}

fn options() -> Options {
    let mut options = Options {
        port: 8443,
        workers: 1,
        cert: String::new(),
        key: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--port" => options.port = value.parse().expect("--port takes a number"),
            "--workers" => options.workers = value.parse().expect("--workers takes a number"),
            "--tls-cert" => options.cert = value,
            "--tls-key" => options.key = value,
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        !options.cert.is_empty() && !options.key.is_empty(),
        "--tls-cert and --tls-key are required"
    );
    options
}

fn tls_config(options: &Options) -> Arc<rustls::ServerConfig> {
    let certs = CertificateDer::pem_file_iter(&options.cert)
        .expect("reads the certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("a certificate chain");
    let key = PrivateKeyDer::from_pem_file(&options.key).expect("reads the key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("the certificate and its key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

fn main() {
    let options = options();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config(&options));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers)
        .enable_all()
        .build()
        .expect("the runtime starts");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .expect("binds");
        println!(
            "listening on https://{}",
            listener.local_addr().expect("an address")
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(stream);
                let service = hyper::service::service_fn(handle);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    });
}
