//! What the document says beyond the handlers' types, as FastAPI says it: responses added to
//! a route's own, tags' external docs, and the servers a root path or a mount makes.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use http::StatusCode;
use portico::testing::TestClient;
use portico::{App, Json, Route};
use serde_json::{Value, json};

fn item() -> Json<Value> {
    Json(json!({"id": "pen"}))
}

#[test]
fn a_route_adds_media_types_and_an_example_to_its_own_response() {
    let doc = App::new()
        .route(
            Route::get("/item", item)
                .response_media_type(StatusCode::OK, "image/png")
                .response_example(StatusCode::OK, json!({"id": "cap"}))
                .response_media_type(StatusCode::NOT_FOUND, "text/plain"),
        )
        .openapi();
    let responses = &doc["paths"]["/item"]["get"]["responses"];
    assert_eq!(
        responses["200"],
        json!({
            "description": "Successful Response",
            "content": {
                "application/json": {"schema": {}, "example": {"id": "cap"}},
                "image/png": {},
            },
        })
    );
    assert_eq!(
        responses["404"],
        json!({"description": "Not Found", "content": {"text/plain": {}}})
    );
}

#[test]
fn a_tag_points_to_its_external_docs() {
    let doc = App::new()
        .tag_description("items", "Things")
        .tag_external_docs("items", "https://example.com/items", Some("More"))
        .tag_external_docs("users", "https://example.com/users", None)
        .openapi();
    assert_eq!(
        doc["tags"],
        json!([
            {
                "name": "items",
                "description": "Things",
                "externalDocs": {"description": "More", "url": "https://example.com/items"},
            },
            {"name": "users", "externalDocs": {"url": "https://example.com/users"}},
        ])
    );
}

#[test]
fn the_root_path_can_be_left_out_of_the_servers() {
    let app = || {
        App::new()
            .root_path("/api")
            .server("https://example.com/api", None)
            .get("/item", item)
    };
    assert_eq!(
        app().openapi()["servers"],
        json!([{"url": "/api"}, {"url": "https://example.com/api"}])
    );
    assert_eq!(
        app().root_path_in_servers(false).openapi()["servers"],
        json!([{"url": "https://example.com/api"}])
    );
}

#[portico::test]
async fn a_mounted_apps_document_lists_the_prefix_it_is_reached_under() {
    let inner = App::new().get("/item", item);
    let sub = App::new().get("/item", item).mount("/inner", inner);
    let quiet = App::new().get("/item", item).root_path_in_servers(false);
    let client = TestClient::new(
        App::new()
            .root_path("/api")
            .mount("/sub", sub)
            .mount("/quiet", quiet),
    );
    let doc: Value = client.get("/sub/openapi.json").await.json();
    assert_eq!(doc["servers"], json!([{"url": "/api/sub"}]));
    assert!(doc["paths"].get("/item").is_some());
    // Asked again, the same document.
    let again: Value = client.get("/sub/openapi.json").await.json();
    assert_eq!(again, doc);
    // Mounts inside mounts add up.
    let doc: Value = client.get("/sub/inner/openapi.json").await.json();
    assert_eq!(doc["servers"], json!([{"url": "/api/sub/inner"}]));
    let doc: Value = client.get("/quiet/openapi.json").await.json();
    assert!(doc.get("servers").is_none(), "{doc}");
    // The application it is mounted in lists its own root path only.
    let doc: Value = client.get("/openapi.json").await.json();
    assert_eq!(doc["servers"], json!([{"url": "/api"}]));
}

#[portico::test]
async fn a_mounted_apps_docs_pages_load_its_own_document_and_files() {
    // FastAPI's sub-application docs: `/subapi/docs` shows `/subapi/openapi.json`.
    let sub = App::new().get("/sub", item);
    let client = TestClient::new(App::new().get("/app", item).mount("/subapi", sub));
    let docs = client.get("/subapi/docs").await.text();
    assert!(docs.contains("url: \"/subapi/openapi.json\""), "{docs}");
    assert!(!docs.contains("url: \"/openapi.json\""), "{docs}");
    let redoc = client.get("/subapi/redoc").await.text();
    assert!(
        redoc.contains("spec-url=\"/subapi/openapi.json\""),
        "{redoc}"
    );
    // Every file the page loads from the application is served where the page looks for it.
    for src in docs
        .split("src=\"")
        .skip(1)
        .chain(docs.split("href=\"").skip(1))
    {
        let url = src.split('"').next().unwrap();
        if url.starts_with('/') {
            assert!(url.starts_with("/subapi/"), "{url}");
            assert_eq!(client.get(url).await.status(), StatusCode::OK, "{url}");
        }
    }
    let doc: Value = client.get("/subapi/openapi.json").await.json();
    assert!(doc["paths"].get("/sub").is_some(), "{doc}");
    // The main application's page is unchanged.
    let main = client.get("/docs").await.text();
    assert!(main.contains("url: \"/openapi.json\""), "{main}");
}
