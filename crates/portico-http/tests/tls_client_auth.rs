//! Client certificates over HTTPS (mutual TLS), on real loopback sockets with certificates
//! made in the test: required and optional, as `TlsInfo` shows them and as `MutualTls` admits
//! them, and the `mutualTLS` security scheme in the OpenAPI document.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;
mod tls_support;

use bytes::Bytes;
use portico::tls::{ClientAuth, MutualTls, TlsInfo};
use portico::{App, ServerHandle};
use serde_json::{Value, json};
use tls_support::{Client, Pki, hex, maybe_tls, serve_tls, whoami};

/// A route only clients with a certificate may use.
async fn admin(client: MutualTls) -> String {
    hex(client.certificate())
}

/// A route that serves both, telling them apart.
async fn greeting(client: Option<MutualTls>) -> String {
    match client {
        Some(client) => format!("hello, {}", hex(client.certificate())),
        None => "hello, stranger".to_owned(),
    }
}

fn app() -> App {
    App::new()
        .get("/whoami", whoami)
        .get("/maybe", maybe_tls)
        .get("/admin", admin)
        .get("/greeting", greeting)
}

/// Serves [`app`] over TLS, asking clients for a certificate from `pki`'s authority.
fn serve_with_client_auth(pki: &Pki, mode: ClientAuth) -> ServerHandle {
    let tls = pki.tls().client_auth(pki.roots(), mode).unwrap();
    serve_tls(app(), tls, |s| s)
}

#[portico::test]
async fn client_certificate_reaches_the_handler() {
    let pki = Pki::new("server");
    let server = serve_with_client_auth(&pki, ClientAuth::Required);
    let addr = server.local_addr();
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut client = Client::connect(addr, pki.client_with_cert(&[alpn])).await;
        let (_, status, body) = client.get("/whoami").await;
        assert_eq!(status, 200);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["client"], hex(&pki.client_cert));
        assert_eq!(body["chain"], 1);
    }
    // Without a certificate, no request gets through.
    let refused = async {
        let mut client = Client::try_connect(addr, pki.client(&[b"http/1.1"])).await?;
        client.try_get("/whoami").await
    };
    assert!(
        refused.await.is_err(),
        "a client without a certificate got an answer"
    );
    server.stop().await.unwrap();
}

#[portico::test]
async fn optional_client_auth_lets_anonymous_clients_in() {
    let pki = Pki::new("server");
    let server = serve_with_client_auth(&pki, ClientAuth::Optional);
    let mut anonymous = Client::connect(server.local_addr(), pki.client(&[b"h2"])).await;
    let body: Value = serde_json::from_slice(&anonymous.get("/whoami").await.2).unwrap();
    assert_eq!(body["client"], Value::Null);
    let mut known = Client::connect(server.local_addr(), pki.client_with_cert(&[b"h2"])).await;
    let body: Value = serde_json::from_slice(&known.get("/whoami").await.2).unwrap();
    assert_eq!(body["client"], hex(&pki.client_cert));
    server.stop().await.unwrap();
}

#[portico::test]
async fn mutual_tls_admits_certified_clients_and_refuses_the_others() {
    let pki = Pki::new("server");
    let server = serve_with_client_auth(&pki, ClientAuth::Optional);
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut known = Client::connect(server.local_addr(), pki.client_with_cert(&[alpn])).await;
        let (_, status, body) = known.get("/admin").await;
        assert_eq!((status, body), (200, Bytes::from(hex(&pki.client_cert))));
        let mut anonymous = Client::connect(server.local_addr(), pki.client(&[alpn])).await;
        let (_, status, body) = anonymous.get("/admin").await;
        assert_eq!(status, 403);
        assert_eq!(
            body,
            Bytes::from_static(br#"{"detail":"Not authenticated"}"#)
        );
        // The other routes still answer an anonymous client, and `Option<MutualTls>` tells
        // the two apart.
        assert_eq!(anonymous.get("/maybe").await.1, 200);
        let (_, status, body) = anonymous.get("/greeting").await;
        assert_eq!(
            (status, body),
            (200, Bytes::from_static(b"hello, stranger"))
        );
        let (_, status, body) = known.get("/greeting").await;
        let expected = format!("hello, {}", hex(&pki.client_cert));
        assert_eq!((status, body), (200, Bytes::from(expected)));
    }
    server.stop().await.unwrap();
}

#[portico::test]
async fn mutual_tls_is_refused_without_tls_and_documented_as_a_security_scheme() {
    let client = portico::testing::TestClient::new(app());
    let response = client.get("/admin").await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.text(), r#"{"detail":"Not authenticated"}"#);
    let doc: Value = client.get("/openapi.json").await.json();
    assert_eq!(
        doc["components"]["securitySchemes"]["MutualTLS"],
        json!({"type": "mutualTLS"})
    );
    assert_eq!(
        doc["paths"]["/admin"]["get"]["security"],
        json!([{"MutualTLS": []}])
    );
    // An optional credential is still documented, as FastAPI documents one with
    // `auto_error=False`.
    assert_eq!(
        doc["paths"]["/greeting"]["get"]["security"],
        json!([{"MutualTLS": []}])
    );
    assert_eq!(doc["paths"]["/maybe"]["get"].get("security"), None);
}

#[portico::test]
async fn the_test_client_sends_requests_as_if_over_tls() {
    let pki = Pki::new("server");
    let plain = portico::testing::TestClient::new(app());
    assert_eq!(plain.get("/maybe").await.text(), "plain");

    let anonymous = portico::testing::TestClient::new(app()).tls(TlsInfo::simulated());
    assert_eq!(anonymous.get("/maybe").await.text(), "tls");
    let shown: Value = anonymous.get("/whoami").await.json();
    assert_eq!(
        shown,
        json!({"alpn": "http/1.1", "sni": "testserver", "version": "TLSv1_3", "client": null, "chain": 0})
    );
    assert_eq!(anonymous.get("/admin").await.status(), 403);
    assert_eq!(anonymous.get("/greeting").await.text(), "hello, stranger");

    let known = portico::testing::TestClient::new(app())
        .tls(TlsInfo::simulated().with_peer_certificates(vec![pki.client_cert.clone()]));
    let shown: Value = known.get("/whoami").await.json();
    assert_eq!(shown["client"], hex(&pki.client_cert));
    assert_eq!(shown["chain"], 1);
    assert_eq!(known.get("/admin").await.text(), hex(&pki.client_cert));
    assert_eq!(
        known.get("/greeting").await.text(),
        format!("hello, {}", hex(&pki.client_cert))
    );
}
