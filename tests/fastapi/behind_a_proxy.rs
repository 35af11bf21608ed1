//! Behind a proxy: `docs_src/behind_a_proxy/tutorial001` to `tutorial004`.
//!
//! FastAPI's handlers read `request.scope["root_path"]`; a Portico handler has no accessor for
//! the application's root path, so these apps hand it to their handler as state.

use portico::proxy::ProxyHeaders;
use portico::testing::TestClient;
use portico::{App, Json, State};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document, document};

const ROOT_PATH: &str = "/api/v1";

#[derive(Clone)]
struct RootPath(&'static str);

fn read_main(State(root_path): State<RootPath>) -> Json<Value> {
    Json(json!({"message": "Hello World", "root_path": root_path.0}))
}

/// The app of 001 to 004, under `/api/v1`.
fn app() -> App {
    App::new()
        .root_path(ROOT_PATH)
        .state(RootPath(ROOT_PATH))
        .get("/app", read_main)
}

async fn assert_main(app: App) {
    let client = TestClient::new(app);
    let response = client.get("/app").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>(),
        json!({"message": "Hello World", "root_path": "/api/v1"})
    );
}

fn main_document(servers: Value) -> Value {
    let mut expected = document(
        json!({"/app": {"get": {
            "summary": "Read Main",
            "operationId": "read_main_app_get",
            "responses": {"200": any_json_response()},
        }}}),
        None,
    );
    expected["servers"] = servers;
    expected
}

fn staging_and_production(app: App) -> App {
    app.server("https://stag.example.com", Some("Staging environment"))
        .server("https://prod.example.com", Some("Production environment"))
}

/// The root path comes from the server (`uvicorn --root-path`, `TestClient(root_path=...)`)
/// in FastAPI; a Portico app declares it, so this is the app of 002.
mod tutorial001 {
    use super::*;

    #[portico::test]
    async fn main() {
        assert_main(app()).await;
    }

    #[portico::test]
    async fn openapi() {
        let expected = main_document(json!([{"url": "/api/v1"}]));
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// Proxy forwarded headers: FastAPI's test client calls the app at `https://example.com`; the
/// port's requests say so as a trusted proxy would (`X-Forwarded-Proto`, `Host`).
mod tutorial001_01 {
    use super::*;

    fn read_items() -> Json<Value> {
        Json(json!(["plumbus", "portal gun"]))
    }

    fn app() -> App {
        App::new()
            .get("/items/", read_items)
            .add_middleware(ProxyHeaders::new(["127.0.0.1"]))
    }

    fn client() -> TestClient {
        TestClient::new(app())
            .follow_redirects(false)
            .default_header("host", "example.com")
            .default_header("x-forwarded-proto", "https")
    }

    #[portico::test]
    async fn redirect() {
        let response = client().get("/items").await;
        assert_eq!(response.status(), 307);
        assert_eq!(
            response.header("location"),
            Some("https://example.com/items/")
        );
    }

    #[portico::test]
    async fn no_redirect() {
        let response = client().get("/items/").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>(), json!(["plumbus", "portal gun"]));
    }
}

/// `FastAPI(root_path="/api/v1")`.
mod tutorial002 {
    use super::*;

    #[portico::test]
    async fn main() {
        assert_main(app()).await;
    }

    #[portico::test]
    async fn openapi() {
        let expected = main_document(json!([{"url": "/api/v1"}]));
        assert_document(&TestClient::new(app()), expected).await;
    }
}

/// Declared servers: the root path is listed first.
mod tutorial003 {
    use super::*;

    #[portico::test]
    async fn main() {
        assert_main(staging_and_production(app())).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = main_document(json!([
            {"url": "/api/v1"},
            {"url": "https://stag.example.com", "description": "Staging environment"},
            {"url": "https://prod.example.com", "description": "Production environment"},
        ]));
        assert_document(&TestClient::new(staging_and_production(app())), expected).await;
    }
}

/// `root_path_in_servers=False`.
mod tutorial004 {
    use super::*;

    fn app() -> App {
        staging_and_production(super::app()).root_path_in_servers(false)
    }

    #[portico::test]
    async fn main() {
        assert_main(app()).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let expected = main_document(json!([
            {"url": "https://stag.example.com", "description": "Staging environment"},
            {"url": "https://prod.example.com", "description": "Production environment"},
        ]));
        assert_document(&TestClient::new(app()), expected).await;
    }
}
