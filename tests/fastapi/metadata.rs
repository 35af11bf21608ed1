//! Metadata and docs URLs: `docs_src/metadata/tutorial001` to `tutorial004` (with
//! `tutorial001_1`). The documents here compare `info` too (its `title` with its own assert,
//! as `assert_document` passes over `title` keys).

use portico::testing::TestClient;
use portico::{App, Contact, Json, License, Route};
use serde_json::{Value, json};

use crate::support::{any_json_response, assert_document};

/// `GET /items/` as every app here documents it, with `tags` when given.
fn items_path(summary: &str, operation_id: &str) -> Value {
    json!({"get": {
        "summary": summary,
        "operationId": operation_id,
        "responses": {"200": any_json_response()},
    }})
}

async fn assert_get(client: &TestClient, path: &str, expected: Value) {
    let response = client.get(path).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(response.json::<Value>(), expected);
}

/// The document's `info.title`, which `assert_document` does not compare.
async fn assert_title(client: &TestClient, title: &str) {
    let document: Value = client.get("/openapi.json").await.json();
    assert_eq!(document["info"]["title"], title);
}

const DESCRIPTION: &str = "
ChimichangApp API helps you do awesome stuff. 🚀

## Items

You can **read items**.

## Users

You will be able to:

* **Create users** (_not implemented_).
* **Read users** (_not implemented_).
";

fn chimichang_app(license: License) -> App {
    App::new()
        .title("ChimichangApp")
        .description(DESCRIPTION)
        .summary("Deadpool's favorite app. Nuff said.")
        .version("0.0.1")
        .terms_of_service("http://example.com/terms/")
        .contact(
            Contact::new()
                .name("Deadpoolio the Amazing")
                .url("http://x-force.example.com/contact/")
                .email("dp@x-force.example.com"),
        )
        .license(license)
}

fn chimichang_document(license: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ChimichangApp",
            "summary": "Deadpool's favorite app. Nuff said.",
            "description": "\nChimichangApp API helps you do awesome stuff. 🚀\n\n## Items\n\nYou can **read items**.\n\n## Users\n\nYou will be able to:\n\n* **Create users** (_not implemented_).\n* **Read users** (_not implemented_).\n",
            "termsOfService": "http://example.com/terms/",
            "contact": {
                "name": "Deadpoolio the Amazing",
                "url": "http://x-force.example.com/contact/",
                "email": "dp@x-force.example.com",
            },
            "license": license,
            "version": "0.0.1",
        },
        "paths": {"/items/": items_path("Read Items", "read_items_items__get")},
    })
}

mod tutorial001 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"name": "Katana"}]))
    }

    fn app() -> App {
        chimichang_app(
            License::new("Apache 2.0").url("https://www.apache.org/licenses/LICENSE-2.0.html"),
        )
        .get("/items/", read_items)
    }

    #[portico::test]
    async fn items() {
        assert_get(
            &TestClient::new(app()),
            "/items/",
            json!([{"name": "Katana"}]),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let license = json!({
            "name": "Apache 2.0",
            "url": "https://www.apache.org/licenses/LICENSE-2.0.html",
        });
        assert_document(&client, chimichang_document(license)).await;
        assert_title(&client, "ChimichangApp").await;
    }
}

mod tutorial001_1 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"name": "Katana"}]))
    }

    fn app() -> App {
        chimichang_app(License::new("Apache 2.0").identifier("Apache-2.0"))
            .get("/items/", read_items)
    }

    #[portico::test]
    async fn items() {
        assert_get(
            &TestClient::new(app()),
            "/items/",
            json!([{"name": "Katana"}]),
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let license = json!({"name": "Apache 2.0", "identifier": "Apache-2.0"});
        assert_document(&client, chimichang_document(license)).await;
        assert_title(&client, "ChimichangApp").await;
    }
}

/// The document of tutorials 002 and 003: FastAPI's default `info`, but for its title.
fn foo_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "FastAPI", "version": "0.1.0"},
        "paths": {"/items/": items_path("Read Items", "read_items_items__get")},
    })
}

mod tutorial002 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"name": "Foo"}]))
    }

    fn app() -> App {
        App::new()
            .openapi_url(Some("/api/v1/openapi.json"))
            .get("/items/", read_items)
    }

    #[portico::test]
    async fn items() {
        assert_get(&TestClient::new(app()), "/items/", json!([{"name": "Foo"}])).await;
    }

    #[portico::test]
    async fn get_openapi_json_default_url() {
        let response = TestClient::new(app()).get("/openapi.json").await;
        assert_eq!(response.status(), 404, "{}", response.text());
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let response = client.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        // `assert_document` reads `/openapi.json`: this document is compared whole, but for
        // `info.title` (Portico's default is "Portico", FastAPI's "FastAPI").
        let mut document: Value = response.json();
        let mut expected = foo_document();
        document["info"]["title"].take();
        expected["info"]["title"].take();
        assert_eq!(document, expected);
    }
}

mod tutorial003 {
    use super::*;

    async fn read_items() -> Json<Value> {
        Json(json!([{"name": "Foo"}]))
    }

    fn app() -> App {
        App::new()
            .docs_url(Some("/documentation"))
            .redoc_url(None)
            .get("/items/", read_items)
    }

    #[portico::test]
    async fn items() {
        assert_get(&TestClient::new(app()), "/items/", json!([{"name": "Foo"}])).await;
    }

    #[portico::test]
    async fn openapi_schema() {
        assert_document(&TestClient::new(app()), foo_document()).await;
    }

    #[portico::test]
    async fn swagger_ui() {
        let client = TestClient::new(app());
        let response = client.get("/docs").await;
        assert_eq!(response.status(), 404, "{}", response.text());
        let response = client.get("/documentation").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        // The page is titled after the app's title, whose default is "Portico" here.
        assert!(
            response
                .text()
                .contains("<title>Portico - Swagger UI</title>"),
            "{}",
            response.text()
        );
        let response = client.get("/redoc").await;
        assert_eq!(response.status(), 404, "{}", response.text());
    }
}

mod tutorial004 {
    use super::*;

    async fn get_users() -> Json<Value> {
        Json(json!([{"name": "Harry"}, {"name": "Ron"}]))
    }

    async fn get_items() -> Json<Value> {
        Json(json!([{"name": "wand"}, {"name": "flying broom"}]))
    }

    fn app() -> App {
        App::new()
            .tag_description(
                "users",
                "Operations with users. The **login** logic is also here.",
            )
            .tag_description(
                "items",
                "Manage items. So _fancy_ they have their own docs.",
            )
            .tag_external_docs(
                "items",
                "https://fastapi.tiangolo.com/",
                Some("Items external docs"),
            )
            .route(Route::get("/users/", get_users).tag("users"))
            .route(Route::get("/items/", get_items).tag("items"))
    }

    #[portico::test]
    async fn path_operations() {
        let client = TestClient::new(app());
        let response = client.get("/items/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        let response = client.get("/users/").await;
        assert_eq!(response.status(), 200, "{}", response.text());
    }

    #[portico::test]
    async fn openapi_schema() {
        let mut users = items_path("Get Users", "get_users_users__get");
        users["get"]["tags"] = json!(["users"]);
        let mut items = items_path("Get Items", "get_items_items__get");
        items["get"]["tags"] = json!(["items"]);
        let expected = json!({
            "openapi": "3.1.0",
            "info": {"title": "FastAPI", "version": "0.1.0"},
            "paths": {"/users/": users, "/items/": items},
            "tags": [
                {
                    "name": "users",
                    "description": "Operations with users. The **login** logic is also here.",
                },
                {
                    "name": "items",
                    "description": "Manage items. So _fancy_ they have their own docs.",
                    "externalDocs": {
                        "description": "Items external docs",
                        "url": "https://fastapi.tiangolo.com/",
                    },
                },
            ],
        });
        assert_document(&TestClient::new(app()), expected).await;
    }
}
