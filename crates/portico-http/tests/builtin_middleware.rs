//! The built-in middleware answer as Starlette's do: CORS, compression, trusted hosts and the
//! HTTPS redirect.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use bytes::Bytes;
use futures_lite::AsyncReadExt;
use portico::middleware::{Compression, Cors, Encoding, HttpsRedirect, TrustedHost};
use portico::testing::blocking_client_on;
use portico::{App, FileResponse, Response, RuntimeKind, StreamBody};
use support::serve;

fn cors_app(cors: Cors) -> App {
    App::new()
        .get("/", || async { "hi" })
        .post("/items", || async { "made" })
        .add_middleware(cors)
}

fn preflight(
    client: &portico::testing::BlockingTestClient,
    origin: &str,
    method: &str,
) -> portico::testing::BlockingTestRequest {
    client
        .options("/items")
        .header("origin", origin)
        .header("access-control-request-method", method)
}

#[portico::test]
fn cors_preflights_are_answered_as_starlette_does(rt: RuntimeKind) {
    let cors = Cors::new()
        .allow_origins(["https://app.example.com"])
        .allow_methods(["GET", "POST"])
        .allow_headers(["x-token"]);
    let client = blocking_client_on(rt, cors_app(cors));

    let ok = preflight(&client, "https://app.example.com", "POST")
        .header("access-control-request-headers", "X-Token, Content-Type")
        .send();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text(), "OK");
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(ok.header("access-control-allow-methods"), Some("GET, POST"));
    assert_eq!(
        ok.header("access-control-allow-headers"),
        Some("accept, accept-language, content-language, content-type, x-token")
    );
    assert_eq!(ok.header("access-control-max-age"), Some("600"));
    assert_eq!(
        ok.header("vary"),
        Some("Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
    );
    assert!(ok.header("access-control-allow-credentials").is_none());

    let bad_origin = preflight(&client, "https://evil.test", "POST").send();
    assert_eq!(bad_origin.status(), 400);
    assert_eq!(bad_origin.text(), "Disallowed CORS origin");
    assert!(bad_origin.header("access-control-allow-origin").is_none());

    let bad_method = preflight(&client, "https://app.example.com", "DELETE").send();
    assert_eq!(bad_method.status(), 400);
    assert_eq!(bad_method.text(), "Disallowed CORS method");

    let all_bad = preflight(&client, "https://evil.test", "DELETE")
        .header("access-control-request-headers", "x-other")
        .send();
    assert_eq!(all_bad.text(), "Disallowed CORS origin, method, headers");

    // A plain OPTIONS request is not a preflight: the route table answers (405 here).
    let plain = client
        .options("/items")
        .header("origin", "https://app.example.com")
        .send();
    assert_eq!(plain.status(), 405);
}

#[portico::test]
fn cors_marks_responses_of_allowed_origins(rt: RuntimeKind) {
    let cors = Cors::new()
        .allow_origins(["https://app.example.com"])
        .allow_origin_regex(r"https://[a-z]+\.preview\.example\.com")
        .allow_credentials(true)
        .expose_headers(["x-total"]);
    let client = blocking_client_on(rt, cors_app(cors));

    let allowed = client
        .get("/")
        .header("origin", "https://app.example.com")
        .send();
    assert_eq!(allowed.text(), "hi");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        allowed.header("access-control-expose-headers"),
        Some("x-total")
    );
    assert_eq!(allowed.header("vary"), Some("Origin"));

    let preview = client
        .get("/")
        .header("origin", "https://pr.preview.example.com")
        .send();
    assert_eq!(
        preview.header("access-control-allow-origin"),
        Some("https://pr.preview.example.com")
    );
    // The regex matches whole origins only.
    let suffixed = client
        .get("/")
        .header("origin", "https://pr.preview.example.com.evil.test")
        .send();
    assert!(suffixed.header("access-control-allow-origin").is_none());

    let other = client.get("/").header("origin", "https://evil.test").send();
    assert_eq!(
        other.status(),
        200,
        "the server answers; the browser hides it"
    );
    assert!(other.header("access-control-allow-origin").is_none());
    assert_eq!(other.header("vary"), Some("Origin"));
}

#[portico::test]
fn cors_with_any_origin_answers_a_star_unless_credentials(rt: RuntimeKind) {
    let client = blocking_client_on(
        rt,
        cors_app(
            Cors::new()
                .allow_origins(["*"])
                .allow_methods(["*"])
                .allow_headers(["*"]),
        ),
    );
    let simple = client.get("/").header("origin", "https://any.test").send();
    assert_eq!(simple.header("access-control-allow-origin"), Some("*"));
    assert!(simple.header("vary").is_none());
    let pre = preflight(&client, "https://any.test", "PATCH")
        .header("access-control-request-headers", "x-anything")
        .send();
    assert_eq!(pre.status(), 200);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        pre.header("access-control-allow-methods"),
        Some("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
    );
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("x-anything")
    );

    let client = blocking_client_on(
        rt,
        cors_app(Cors::new().allow_origins(["*"]).allow_credentials(true)),
    );
    let simple = client.get("/").header("origin", "https://any.test").send();
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://any.test")
    );
    assert_eq!(simple.header("vary"), Some("Origin"));
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    use async_compression::futures::bufread::{BrotliDecoder, GzipDecoder, ZstdDecoder};
    let mut out = Vec::new();
    futures_lite::future::block_on(async {
        match encoding {
            "gzip" => GzipDecoder::new(bytes).read_to_end(&mut out).await,
            "br" => BrotliDecoder::new(bytes).read_to_end(&mut out).await,
            "zstd" => ZstdDecoder::new(bytes).read_to_end(&mut out).await,
            other => panic!("unexpected coding {other}"),
        }
    })
    .unwrap();
    out
}

fn page() -> String {
    (0..200).map(|n| format!("<li>item {n}</li>\n")).collect()
}

fn compressed_app() -> App {
    App::new()
        .get("/page", || async { portico::Html(page()) })
        .get("/small", || async { "tiny" })
        .get("/stream", || async {
            let chunks = (0..50).map(|n| {
                Ok::<_, std::io::Error>(Bytes::from(format!("line {n:04} of a streamed body\n")))
            });
            StreamBody::new(futures_lite::stream::iter(chunks))
        })
        .get("/png", || async {
            let mut response = Response::new(vec![7u8; 4096].into());
            response
                .headers_mut()
                .insert("content-type", "image/png".parse().unwrap());
            response
        })
        .add_middleware(Compression::new())
}

#[portico::test]
fn compression_follows_accept_encoding(rt: RuntimeKind) {
    let client = blocking_client_on(rt, compressed_app());
    for (accept, expected) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip;q=0.1", "gzip"),
        ("*", "zstd"),
    ] {
        let response = client.get("/page").header("accept-encoding", accept).send();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.header("content-encoding"),
            Some(expected),
            "{accept}"
        );
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
        assert!(response.bytes().len() < page().len() / 3);
        assert_eq!(
            decode(expected, response.bytes()),
            page().as_bytes(),
            "{accept}"
        );
    }
    let plain = client.get("/page").send();
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert_eq!(plain.text(), page());
    let refused = client
        .get("/page")
        .header("accept-encoding", "identity, gzip;q=0")
        .send();
    assert!(refused.header("content-encoding").is_none());
    // Several header lines are one list.
    let lines = client
        .get("/page")
        .header("accept-encoding", "zstd;q=0.2")
        .header("accept-encoding", "br;q=0.9, gzip;q=0.5")
        .send();
    assert_eq!(lines.header("content-encoding"), Some("br"));

    // Under the minimum size, and types that do not compress, go as they are.
    let small = client
        .get("/small")
        .header("accept-encoding", "gzip")
        .send();
    assert!(small.header("content-encoding").is_none());
    assert_eq!(small.text(), "tiny");
    // As Starlette: no `Vary`, since it goes the same to every client.
    assert!(small.header("vary").is_none());
    let png = client.get("/png").header("accept-encoding", "gzip").send();
    assert!(png.header("content-encoding").is_none());
    assert_eq!(png.bytes().len(), 4096);

    // HEAD: the length of the uncompressed body, and no body.
    let head = client
        .head("/page")
        .header("accept-encoding", "gzip")
        .send();
    assert!(head.header("content-encoding").is_none());
    assert!(head.bytes().is_empty());
}

#[portico::test]
fn streamed_bodies_are_compressed_as_they_go(rt: RuntimeKind) {
    let client = blocking_client_on(rt, compressed_app());
    let expected: String = (0..50)
        .map(|n| format!("line {n:04} of a streamed body\n"))
        .collect();
    for coding in ["gzip", "br", "zstd"] {
        let response = client
            .get("/stream")
            .header("accept-encoding", coding)
            .send();
        assert_eq!(response.header("content-encoding"), Some(coding));
        assert!(response.header("content-length").is_none());
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
        assert_eq!(decode(coding, response.bytes()), expected.as_bytes());
    }
    // A streamed body's size is unknown: it could have been compressed.
    let plain = client.get("/stream").send();
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert_eq!(plain.text(), expected);
}

#[portico::test]
async fn compression_over_a_socket() {
    let server = serve(compressed_app());
    let response = support::roundtrip(
        server.local_addr(),
        "GET /stream HTTP/1.1\r\nhost: t\r\naccept-encoding: gzip\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    let full = support::roundtrip(
        server.local_addr(),
        "GET /page HTTP/1.1\r\nhost: t\r\naccept-encoding: br\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(full.header("content-encoding"), Some("br"));
    assert_eq!(
        full.header("content-length"),
        Some(&*full.body.len().to_string())
    );
    assert_eq!(decode("br", &full.body), page().as_bytes());
    let text = String::from_utf8(decode("gzip", &response.body)).unwrap();
    assert!(text.starts_with("line 0000") && text.ends_with("line 0049 of a streamed body\n"));
    server.stop().await.unwrap();
}

#[portico::test]
fn compressed_files_keep_a_weak_etag_and_no_ranges(rt: RuntimeKind) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, page()).unwrap();
    let app = App::new()
        .get("/file", move || {
            let path = path.clone();
            async move { FileResponse::new(path) }
        })
        .add_middleware(Compression::new().encodings([Encoding::Gzip]));
    let client = blocking_client_on(rt, app);
    let plain = client.get("/file").send();
    let etag = plain.header("etag").unwrap().to_owned();
    assert!(!etag.starts_with("W/"));
    let gz = client
        .get("/file")
        .header("accept-encoding", "gzip, br")
        .send();
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("etag"), Some(&*format!("W/{etag}")));
    assert!(gz.header("accept-ranges").is_none());
    assert_eq!(decode("gzip", gz.bytes()), page().as_bytes());
    // A range is answered from the file as it is, never compressed.
    let part = client
        .get("/file")
        .header("accept-encoding", "gzip")
        .header("range", "bytes=0-9")
        .send();
    assert_eq!(part.status(), 206);
    assert!(part.header("content-encoding").is_none());
    assert_eq!(part.text(), &page()[..10]);
}

#[portico::test]
fn trusted_hosts_refuse_other_hosts(rt: RuntimeKind) {
    let app = App::new()
        .get("/", || async { "hi" })
        .add_middleware(TrustedHost::new([
            "www.example.com",
            "*.api.example.com",
            "localhost",
        ]));
    let client = blocking_client_on(rt, app);
    for ok in [
        "www.example.com",
        "v1.api.example.com",
        "localhost:8000",
        "WWW.EXAMPLE.COM",
    ] {
        assert_eq!(
            client.get("/").header("host", ok).send().text(),
            "hi",
            "{ok}"
        );
    }
    for bad in [
        "evil.test",
        "api.example.com.evil.test",
        "xapi.example.com",
        "testserver",
    ] {
        let response = client.get("/").header("host", bad).send();
        assert_eq!(response.status(), 400, "{bad}");
        assert_eq!(response.text(), "Invalid host header");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
    // The bare domain of an allowed `www.` host is redirected there.
    let bare = client
        .get("/?q=1")
        .header("host", "example.com")
        .follow_redirects(false)
        .send();
    assert_eq!(bare.status(), 307);
    assert_eq!(bare.header("location"), Some("http://www.example.com/?q=1"));

    let strict = App::new()
        .get("/", || async { "hi" })
        .add_middleware(TrustedHost::new(["www.example.com"]).www_redirect(false));
    let client = blocking_client_on(rt, strict);
    assert_eq!(
        client
            .get("/")
            .header("host", "example.com")
            .send()
            .status(),
        400
    );
}

#[portico::test]
fn plain_http_is_redirected_to_https(rt: RuntimeKind) {
    let app = App::new()
        .get("/items", || async { "secure" })
        .add_middleware(HttpsRedirect);
    let client = blocking_client_on(rt, app);
    let response = client
        .get("/items?page=2")
        .header("host", "example.com:80")
        .follow_redirects(false)
        .send();
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.header("location"),
        Some("https://example.com/items?page=2")
    );
    let other_port = client
        .get("/items")
        .header("host", "example.com:8080")
        .follow_redirects(false)
        .send();
    assert_eq!(
        other_port.header("location"),
        Some("https://example.com:8080/items")
    );
    let socket = client
        .get("/ws")
        .header("host", "example.com")
        .header("upgrade", "websocket")
        .follow_redirects(false)
        .send();
    assert_eq!(socket.header("location"), Some("wss://example.com/ws"));
}

#[portico::test]
fn cors_and_compression_both_say_what_the_response_varies_on(rt: RuntimeKind) {
    let app = compressed_app().add_middleware(Cors::new().allow_origins(["https://app.test"]));
    let client = blocking_client_on(rt, app);
    let response = client
        .get("/page")
        .header("origin", "https://app.test")
        .header("accept-encoding", "gzip")
        .send();
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    let vary: Vec<&str> = response
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["Accept-Encoding", "Origin"]);
}
