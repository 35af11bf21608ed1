//! Behind a proxy: forwarded headers believed from trusted proxies only, the client's address,
//! and an application under a root path.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use portico::middleware::{HttpsRedirect, TrustedHost};
use portico::proxy::{ClientAddr, ProxyHeaders};
use portico::testing::blocking_client_on;
use portico::{App, Redirect, RuntimeKind};
use serde_json::json;
use support::serve;

async fn who(client: ClientAddr) -> String {
    client.0.to_string()
}

fn behind(trusted: &[&str]) -> App {
    App::new()
        .get("/who", who)
        .add_middleware(HttpsRedirect)
        .add_middleware(TrustedHost::new(["shop.example.com", "testserver"]))
        .add_middleware(ProxyHeaders::new(trusted.iter().copied()))
}

#[portico::test]
fn forwarded_headers_from_a_trusted_proxy_are_believed(rt: RuntimeKind) {
    // The test client connects from 127.0.0.1.
    let client = blocking_client_on(rt, behind(&["127.0.0.1", "10.0.0.0/8"]));
    let response = client
        .get("/who")
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.5, 10.1.2.3")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "shop.example.com")
        .follow_redirects(false)
        .send();
    // The nearest untrusted address, read from the right; https, so no redirect; the
    // forwarded host is the one checked.
    assert_eq!(response.status(), 200);
    assert_eq!(response.text(), "203.0.113.5:0");

    let rfc = client
        .get("/who")
        .header(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8::1]:4711";proto=https;host=shop.example.com"#,
        )
        .follow_redirects(false)
        .send();
    assert_eq!(rfc.status(), 200);
    assert_eq!(rfc.text(), "[2001:db8::1]:4711");

    let plain = client
        .get("/who?x=1")
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", "shop.example.com")
        .follow_redirects(false)
        .send();
    assert_eq!(plain.status(), 307);
    assert_eq!(
        plain.header("location"),
        Some("https://shop.example.com/who?x=1")
    );

    let bad_host = client
        .get("/who")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.test")
        .send();
    assert_eq!(bad_host.status(), 400);
}

#[portico::test]
fn forwarded_headers_from_anyone_else_are_ignored(rt: RuntimeKind) {
    let client = blocking_client_on(rt, behind(&["10.0.0.1"]));
    let response = client
        .get("/who")
        .header("x-forwarded-for", "198.51.100.7")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "shop.example.com")
        .follow_redirects(false)
        .send();
    assert_eq!(response.status(), 307, "still plain http");
    assert_eq!(response.header("location"), Some("https://testserver/who"));
    let client = blocking_client_on(rt, App::new().get("/who", who));
    assert_eq!(
        client
            .get("/who")
            .header("x-forwarded-for", "1.2.3.4")
            .send()
            .text(),
        "127.0.0.1:50000"
    );
}

#[portico::test]
async fn the_client_address_is_the_peer_of_the_connection() {
    let server = serve(
        App::new()
            .get("/who", who)
            .add_middleware(ProxyHeaders::new(["127.0.0.1"])),
    );
    let direct = support::roundtrip(
        server.local_addr(),
        "GET /who HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    let text = direct.text();
    assert!(
        text.starts_with("127.0.0.1:") && text != "127.0.0.1:0",
        "{text}"
    );
    let forwarded = support::roundtrip(
        server.local_addr(),
        "GET /who HTTP/1.1\r\nhost: t\r\nx-forwarded-for: 192.0.2.1\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(forwarded.text(), "192.0.2.1:0");
    server.stop().await.unwrap();
    // Without any middleware: the handler's parameter is enough for the server to pass it.
    let server = serve(App::new().get("/who", who));
    let direct = support::roundtrip(
        server.local_addr(),
        "GET /who HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(direct.status, 200);
    assert!(direct.text().starts_with("127.0.0.1:"), "{}", direct.text());
    server.stop().await.unwrap();
}

#[portico::test]
fn the_slash_redirect_goes_to_the_scheme_and_host_the_client_used(rt: RuntimeKind) {
    let app = App::new()
        .get("/items/", || async { "items" })
        .add_middleware(ProxyHeaders::new(["127.0.0.1"]));
    let client = blocking_client_on(rt, app).follow_redirects(false);
    let response = client
        .get("/items?page=2")
        .header("host", "example.com")
        .header("x-forwarded-proto", "https")
        .send();
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.header("location"),
        Some("https://example.com/items/?page=2")
    );
}

fn under_api() -> App {
    App::new()
        .root_path("/api/")
        .get("/items/", || async { "items" })
        .get("/go", || async { Redirect::to("/items/") })
}

#[portico::test]
fn an_app_under_a_root_path(rt: RuntimeKind) {
    let client = blocking_client_on(rt, under_api()).follow_redirects(false);
    // A proxy that strips the prefix, and one that does not: both reach the route.
    assert_eq!(client.get("/items/").send().text(), "items");
    assert_eq!(client.get("/api/items/").send().text(), "items");
    // The slash redirect puts the prefix back.
    let slash = client.get("/items?page=2").send();
    assert_eq!(slash.status(), 307);
    assert_eq!(
        slash.header("location"),
        Some("http://testserver/api/items/?page=2")
    );

    let doc: serde_json::Value = client.get("/openapi.json").send().json();
    assert_eq!(doc["servers"], json!([{"url": "/api"}]));
    let docs = client.get("/docs").send().text();
    assert!(docs.contains("\"/api/openapi.json\""), "{docs}");
    assert!(docs.contains("/api/docs/swagger-ui-bundle.js"));
    let redoc = client.get("/api/redoc").send().text();
    assert!(redoc.contains("/api/openapi.json"));
}

#[test]
fn declared_servers_follow_the_root_path() {
    let doc = under_api()
        .server("https://prod.example.com/api", Some("production"))
        .openapi();
    assert_eq!(
        doc["servers"],
        json!([{"url": "/api"}, {"url": "https://prod.example.com/api", "description": "production"}])
    );
    let plain = App::new().get("/", || async { "hi" }).openapi();
    assert!(plain.get("servers").is_none());
}

async fn peer_header(
    request: portico::Request,
    next: portico::middleware::Next,
) -> portico::Response {
    let seen = request
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-peer", seen.parse().unwrap());
    response
}

/// `GET path` over a socket; the response, after checking that the handler saw the test's
/// own address.
async fn get_who(addr: std::net::SocketAddr, path: &str) -> support::Raw {
    let response = support::roundtrip(
        addr,
        &format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"),
    )
    .await;
    assert!(
        response.text().starts_with("127.0.0.1:"),
        "{path}: {}",
        response.text()
    );
    response
}

#[portico::test]
async fn the_client_address_reaches_handlers_and_function_middleware_through_any_chain() {
    // Typed middleware that do not read it: the handler still gets the peer.
    let app = App::new()
        .get("/who", who)
        .add_middleware(portico::middleware::Cors::new().allow_origins(["http://a.test"]))
        .include(
            portico::Router::new()
                .prefix("/r")
                .get("/who", who)
                .add_middleware(portico::middleware::SetRequestId::new()),
        );
    let server = serve(app);
    for path in ["/who", "/r/who"] {
        get_who(server.local_addr(), path).await;
    }
    server.stop().await.unwrap();
    // A function middleware reads it from the request, on the application or on a route.
    let server = serve(App::new().get("/who", who).middleware(peer_header));
    let response = get_who(server.local_addr(), "/who").await;
    assert_eq!(response.header("x-peer"), Some("127.0.0.1"));
    server.stop().await.unwrap();
    let server = serve(
        App::new()
            .route(portico::Route::get("/who", who).middleware(peer_header))
            // A mounted application reads it too.
            .mount("/sub", App::new().get("/who", who)),
    );
    let response = get_who(server.local_addr(), "/who").await;
    assert_eq!(response.header("x-peer"), Some("127.0.0.1"));
    get_who(server.local_addr(), "/sub/who").await;
    server.stop().await.unwrap();
}
