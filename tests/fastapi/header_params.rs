//! Header parameters: `docs_src/header_params/tutorial001` to `tutorial003` (the `_an` variants
//! are the same apps).

use portico::testing::{TestClient, TestResponse};
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// A client as FastAPI's tests use Starlette's: it follows redirects (`/items` → `/items/`).
fn client(app: App) -> TestClient {
    TestClient::new(app).follow_redirects(true)
}

/// A `GET` with `headers` as httpx sends it from Starlette's test client: with
/// `user-agent: testclient` unless the request sets its own.
async fn get(client: &TestClient, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = client.get(path);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
    {
        request = request.header("user-agent", "testclient");
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.await
}

/// The document of `GET /items/` reading one optional header.
fn items_document(parameter: Value) -> Value {
    document(
        json!({"/items/": {"get": operation("Read Items", "read_items_items__get", vec![parameter])}}),
        Some(json!({})),
    )
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[header] user_agent: Option<String>) -> Json<Value> {
        Json(json!({"User-Agent": user_agent}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn test() {
        let client = client(app());
        for (headers, expected) in [
            (&[][..], json!({"User-Agent": "testclient"})),
            (
                &[("X-Header", "notvalid")][..],
                json!({"User-Agent": "testclient"}),
            ),
            (
                &[("User-Agent", "FastAPI test")][..],
                json!({"User-Agent": "FastAPI test"}),
            ),
        ] {
            let response = get(&client, "/items", headers).await;
            assert_eq!(response.status(), 200, "{headers:?}: {}", response.text());
            assert_eq!(response.json::<Value>(), expected, "{headers:?}");
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = items_document(param(
            "header",
            "user-agent",
            false,
            nullable(json!({"type": "string"})),
        ));
        assert_document(&client, expected).await;
    }
}

/// FastAPI's `Header(convert_underscores=False)` reads the header `strange_header` as it is
/// spelled. `#[header]` has no such option (its options are default, alias, description and
/// constraints; an alias is converted too): the handler is written as a Portico user can, and
/// the tests keep FastAPI's expectations.
mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn read_items(
        #[header(alias = "strange_header")] strange_header: Option<String>,
    ) -> Json<Value> {
        Json(json!({"strange_header": strange_header}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    async fn check(headers: &[(&str, &str)], expected: Value) {
        let client = client(app());
        let response = get(&client, "/items", headers).await;
        assert_eq!(response.status(), 200, "{headers:?}: {}", response.text());
        assert_eq!(response.json::<Value>(), expected, "{headers:?}");
    }

    // FastAPI's one parametrized test, a test per case so that each case is reported.

    #[portico::test]
    async fn test_no_header() {
        check(&[], json!({"strange_header": null})).await;
    }

    #[portico::test]
    async fn test_other_header() {
        check(&[("X-Header", "notvalid")], json!({"strange_header": null})).await;
    }

    #[portico::test]
    async fn test_underscore_header() {
        check(
            &[("strange_header", "FastAPI test")],
            json!({"strange_header": "FastAPI test"}),
        )
        .await;
    }

    #[portico::test]
    async fn test_hyphen_header() {
        check(
            &[("strange-header", "Not really underscore")],
            json!({"strange_header": null}),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = items_document(param(
            "header",
            "strange_header",
            false,
            nullable(json!({"type": "string"})),
        ));
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[portico::handler]
    async fn read_items(#[header] x_token: Option<Vec<String>>) -> Json<Value> {
        Json(json!({"X-Token values": x_token}))
    }

    fn app() -> App {
        App::new().get("/items/", read_items)
    }

    #[portico::test]
    async fn test() {
        let client = client(app());
        for (headers, expected) in [
            (&[][..], json!({"X-Token values": null})),
            (
                &[("x-token", "foo")][..],
                json!({"X-Token values": ["foo"]}),
            ),
            (
                &[("x-token", "foo"), ("x-token", "bar")][..],
                json!({"X-Token values": ["foo", "bar"]}),
            ),
        ] {
            let response = get(&client, "/items", headers).await;
            assert_eq!(response.status(), 200, "{headers:?}: {}", response.text());
            assert_eq!(response.json::<Value>(), expected, "{headers:?}");
        }
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = client(app());
        let expected = items_document(param(
            "header",
            "x-token",
            false,
            nullable(json!({"type": "array", "items": {"type": "string"}})),
        ));
        assert_document(&client, expected).await;
    }
}
