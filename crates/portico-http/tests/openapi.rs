//! The OpenAPI document as a user reads it: metadata, operations, parameters, bodies,
//! responses, schemas shaped by serde, declarative validation; and the routes that serve it
//! with the docs pages. The security tools are in `security.rs`.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use http::StatusCode;
use portico::testing::blocking_client_on;
use portico::{
    App, Contact, Cookie, Form, Header, Json, License, Path, Query, Route, Router, RuntimeKind,
    UploadFile,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The kind of an item.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Tool,
    Food,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Audit {
    created_by: String,
}

/// An item for sale.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Item {
    item_id: u64,
    #[schemars(length(min = 1, max = 20))]
    display_name: String,
    kind: Kind,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(skip)]
    #[allow(dead_code, reason = "skipped by serde, so absent from the schema")]
    cache_key: String,
    #[serde(rename = "price_cents")]
    #[schemars(range(min = 0))]
    price: i64,
    #[serde(flatten)]
    audit: Audit,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
enum Event {
    Sold { item: u64 },
    Restocked { item: u64, count: u32 },
}

#[derive(Deserialize, JsonSchema)]
struct Paging {
    /// How many items at most.
    #[schemars(range(min = 1, max = 100))]
    limit: Option<u32>,
    #[schemars(regex(pattern = r"^[a-z]+$"))]
    q: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct Agent {
    user_agent: String,
}

#[derive(Deserialize, JsonSchema)]
struct Session {
    session: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct Upload {
    file: UploadFile,
    note: String,
}

/// Reads one item.
///
/// Looks the item up by its id; the `verbose` query parameter adds its audit data.
#[portico::handler]
async fn read_item(Path(item_id): Path<u64>, Query(paging): Query<Paging>) -> Json<Item> {
    Json(Item {
        item_id,
        display_name: "hammer".into(),
        kind: Kind::Tool,
        tags: paging
            .q
            .into_iter()
            .chain(paging.limit.map(|limit| limit.to_string()))
            .collect(),
        cache_key: String::new(),
        price: 1200,
        audit: Audit {
            created_by: "ann".into(),
        },
    })
}

#[portico::handler]
async fn create_item(Json(item): Json<Item>) -> Json<Item> {
    Json(item)
}

async fn events(
    Header(agent): Header<Agent>,
    Cookie(session): Cookie<Session>,
) -> Json<Vec<Event>> {
    let item = agent.user_agent.len() + session.session.map_or(0, |s| s.len());
    Json(vec![Event::Sold { item: item as u64 }])
}

async fn upload(Form(form): Form<Upload>) -> String {
    drop(form.file);
    form.note
}

async fn old() -> &'static str {
    "old"
}

async fn secret() -> &'static str {
    "hidden"
}

fn shop() -> App {
    let items = Router::new()
        .prefix("/items")
        .tag("items")
        .response_json::<Value>(StatusCode::NOT_FOUND, "No such item")
        .get("/{item_id}", read_item)
        // The empty path is the prefix itself, `/items` (`/` would be `/items/`).
        .route(Route::post("", create_item).status_code(StatusCode::CREATED));
    App::new()
        .title("Shop")
        .version("2.1.0")
        .summary("A small shop")
        .description("Sells **items**.")
        .server("https://shop.example.com", Some("production"))
        .contact(Contact::new().name("Shop team").email("team@example.com"))
        .license(License::new("MIT").identifier("MIT"))
        .tag_description("items", "What the shop sells")
        .include(items)
        .get("/events", events)
        .route(
            Route::post("/upload", upload)
                .summary("Upload a file")
                .description("With a note.")
                .operation_id("upload_file"),
        )
        .route(Route::get("/old", old).deprecated())
        .route(Route::get("/secret", secret).include_in_schema(false))
}

#[test]
fn metadata_and_operations_come_from_the_app() {
    let doc = shop().openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["info"],
        json!({
            "title": "Shop",
            "summary": "A small shop",
            "description": "Sells **items**.",
            "contact": {"name": "Shop team", "email": "team@example.com"},
            "license": {"name": "MIT", "identifier": "MIT"},
            "version": "2.1.0",
        })
    );
    assert_eq!(
        doc["servers"],
        json!([{"url": "https://shop.example.com", "description": "production"}])
    );
    assert_eq!(
        doc["tags"],
        json!([{"name": "items", "description": "What the shop sells"}])
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        ["/events", "/items", "/items/{item_id}", "/old", "/upload"],
        "every route but the hidden one and the docs' own"
    );

    let read = &doc["paths"]["/items/{item_id}"]["get"];
    assert_eq!(read["operationId"], "read_item_items__item_id__get");
    // As FastAPI: the summary is the function's name in words, the description its whole
    // doc comment (FastAPI's docstring).
    assert_eq!(read["summary"], "Read Item");
    assert_eq!(
        read["description"],
        "Reads one item.\n\nLooks the item up by its id; the `verbose` query parameter adds its audit data."
    );
    assert_eq!(read["tags"], json!(["items"]));
    let upload = &doc["paths"]["/upload"]["post"];
    assert_eq!(upload["operationId"], "upload_file");
    assert_eq!(upload["summary"], "Upload a file");
    assert_eq!(upload["description"], "With a note.");
    assert_eq!(doc["paths"]["/old"]["get"]["deprecated"], true);
    assert_eq!(
        doc["paths"]["/events"]["get"]["operationId"], "events_events_get",
        "a handler without #[portico::handler] is still named by its function"
    );
    assert_eq!(doc["paths"]["/events"]["get"]["summary"], "Events");
}

#[test]
fn parameters_carry_schema_required_and_description() {
    let doc = shop().openapi();
    let params = &doc["paths"]["/items/{item_id}"]["get"]["parameters"];
    assert_eq!(params[0]["name"], "item_id");
    assert_eq!(params[0]["in"], "path");
    assert_eq!(params[0]["required"], true);
    assert_eq!(params[0]["schema"]["type"], "integer");
    let limit = &params[1];
    assert_eq!(limit["name"], "limit");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["required"], false);
    assert_eq!(limit["description"], "How many items at most.");
    // An optional value's constraints sit in its non-null branch, as Pydantic writes them.
    assert_eq!(limit["schema"]["anyOf"][0]["minimum"], 1);
    assert_eq!(limit["schema"]["anyOf"][0]["maximum"], 100);
    assert_eq!(limit["schema"]["anyOf"][1], json!({"type": "null"}));
    assert_eq!(params[2]["schema"]["anyOf"][0]["pattern"], "^[a-z]+$");

    let events = &doc["paths"]["/events"]["get"]["parameters"];
    assert_eq!(events[0]["name"], "user-agent");
    assert_eq!(events[0]["in"], "header");
    assert_eq!(events[0]["required"], true);
    assert_eq!(events[1]["name"], "session");
    assert_eq!(events[1]["in"], "cookie");
    assert_eq!(events[1]["required"], false);
}

#[test]
fn bodies_responses_and_components() {
    let doc = shop().openapi();
    let create = &doc["paths"]["/items"]["post"];
    assert_eq!(
        create["requestBody"],
        json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}, "required": true})
    );
    assert_eq!(
        create["responses"]["201"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Item"}),
        "the route's status code documents the success, with the one schema of a type read and written alike"
    );
    let required = doc["components"]["schemas"]["Item"]["required"]
        .as_array()
        .unwrap();
    assert!(
        !required.contains(&json!("tags")),
        "a defaulted field is optional, in what is read and in what is written, as in FastAPI"
    );
    assert!(doc["components"]["schemas"].get("Item-Output").is_none());
    assert!(create["responses"].get("200").is_none());
    assert_eq!(
        create["responses"]["422"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/HTTPValidationError"})
    );
    assert_eq!(
        doc["paths"]["/items/{item_id}"]["get"]["responses"]["404"]["description"],
        "No such item"
    );
    assert!(
        doc["paths"]["/old"]["get"]["responses"]
            .get("422")
            .is_none(),
        "a route that reads no input cannot answer 422"
    );
    assert_eq!(
        doc["paths"]["/old"]["get"]["responses"]["200"]["content"],
        json!({"text/plain": {"schema": {"type": "string"}}})
    );

    // A form model is a component named after its type; a file is documented as FastAPI's
    // OpenAPI 3.1 documents are.
    let upload = &doc["paths"]["/upload"]["post"]["requestBody"]["content"];
    assert_eq!(
        upload["multipart/form-data"]["schema"],
        json!({"$ref": "#/components/schemas/Upload"})
    );
    assert_eq!(
        doc["components"]["schemas"]["Upload"]["properties"]["file"],
        json!({"type": "string", "contentMediaType": "application/octet-stream"})
    );

    let schemas = &doc["components"]["schemas"];
    let item = &schemas["Item"];
    let props = item["properties"].as_object().unwrap();
    let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "created_by",
            "displayName",
            "itemId",
            "kind",
            "price_cents",
            "tags"
        ],
        "rename_all, rename, skip and flatten as serde reads the type"
    );
    assert_eq!(props["kind"], json!({"$ref": "#/components/schemas/Kind"}));
    assert_eq!(props["displayName"]["minLength"], 1);
    assert_eq!(props["displayName"]["maxLength"], 20);
    let required: Vec<&str> = item["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!required.contains(&"tags"), "a defaulted field is optional");
    assert!(required.contains(&"displayName"));
    assert_eq!(schemas["Kind"]["enum"], json!(["tool", "food"]));
    assert_eq!(schemas["Kind"]["description"], "The kind of an item.");
    let event = &schemas["Event"];
    let tags: Vec<&Value> = event["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| &variant["properties"]["type"]["const"])
        .collect();
    assert_eq!(tags, [&json!("Sold"), &json!("Restocked")]);
    assert_eq!(
        schemas["ValidationError"]["required"],
        json!(["loc", "msg", "type"])
    );
    assert_eq!(
        schemas["HTTPValidationError"]["properties"]["detail"]["items"],
        json!({"$ref": "#/components/schemas/ValidationError"})
    );
    let text = doc.to_string();
    assert!(
        !text.contains("#/$defs/"),
        "every reference points into components"
    );
}

#[portico::test]
fn the_document_and_the_docs_pages_are_served(rt: RuntimeKind) {
    let app = shop();
    let expected = app.openapi();
    let client = blocking_client_on(rt, app);
    let served = client.get("/openapi.json").send();
    assert_eq!(served.status(), 200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert_eq!(served.json::<Value>(), expected);

    let docs = client.get("/docs").send();
    assert_eq!(docs.status(), 200);
    assert_eq!(
        docs.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = docs.text();
    assert!(
        page.contains(r#"<script src="/docs/swagger-ui-bundle.js">"#),
        "{page}"
    );
    assert!(page.contains(r#"href="/docs/swagger-ui.css""#), "{page}");
    assert!(page.contains(r#"url: "/openapi.json""#), "{page}");
    assert!(page.contains("<title>Shop - Swagger UI</title>"), "{page}");
    assert!(
        !page.contains("https://"),
        "nothing is loaded from elsewhere"
    );
    let js = client.get("/docs/swagger-ui-bundle.js").send();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.bytes().len() > 500_000);
    assert!(js.text().contains("SwaggerUIBundle"));
    assert_eq!(js.header("content-encoding"), None);
    assert_eq!(js.header("vary"), Some("accept-encoding"));
    assert_eq!(js.header("cache-control"), Some("public, max-age=86400"));
    // A browser takes the file as it is kept, gzip-compressed: the same script, smaller.
    let gzipped = client
        .get("/docs/swagger-ui-bundle.js")
        .header("accept-encoding", "gzip, deflate, br")
        .send();
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gzipped.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(gzipped.bytes().len() < js.bytes().len() / 2);
    assert_eq!(gunzip(gzipped.bytes()), js.bytes().as_ref());
    let refused = client
        .get("/docs/swagger-ui-bundle.js")
        .header("accept-encoding", "gzip;q=0, identity")
        .send();
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.bytes(), js.bytes());
    let css = client.get("/docs/swagger-ui.css").send();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    let redirect = client.get("/docs/oauth2-redirect").send();
    assert!(
        redirect
            .text()
            .contains(r#"<script src="/docs/oauth2-redirect.js">"#)
    );
    assert_eq!(client.get("/docs/oauth2-redirect.js").send().status(), 200);

    let redoc = client.get("/redoc").send().text();
    assert!(
        redoc.contains(r#"<redoc spec-url="/openapi.json">"#),
        "{redoc}"
    );
    assert!(
        redoc.contains(r#"<script src="/redoc/redoc.standalone.js">"#),
        "{redoc}"
    );
    let redoc_js = client.get("/redoc/redoc.standalone.js").send();
    assert_eq!(redoc_js.status(), 200);
    assert!(redoc_js.text().contains("Redoc"));

    assert_eq!(client.get("/secret").send().text(), "hidden");
}

#[portico::test]
fn docs_paths_can_move_load_from_a_cdn_or_go(rt: RuntimeKind) {
    let app = App::new()
        .get("/", || async { "home" })
        .openapi_url(Some("/api/schema.json"))
        .docs_url(Some("/api/docs"))
        .redoc_url(None)
        .docs_from_cdn(true);
    let client = blocking_client_on(rt, app);
    assert_eq!(client.get("/openapi.json").send().status(), 404);
    assert_eq!(client.get("/api/schema.json").send().status(), 200);
    let page = client.get("/api/docs").send().text();
    assert!(page.contains(
        r#"<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js">"#
    ));
    assert!(page.contains(r#"url: "/api/schema.json""#));
    assert_eq!(
        client.get("/api/docs/swagger-ui-bundle.js").send().status(),
        404
    );
    assert_eq!(client.get("/redoc").send().status(), 404);

    let off = App::new().get("/", || async { "home" }).openapi_url(None);
    let doc = off.openapi();
    assert!(
        doc["paths"].get("/").is_some(),
        "the document is still built"
    );
    let client = blocking_client_on(rt, off);
    for path in ["/openapi.json", "/docs", "/redoc"] {
        assert_eq!(client.get(path).send().status(), 404, "{path}");
    }
}

#[portico::test]
fn a_route_status_code_is_given_to_a_plain_200(rt: RuntimeKind) {
    let app = App::new()
        .route(
            Route::post("/items", |Json(n): Json<u32>| async move { Json(n) })
                .status_code(StatusCode::CREATED),
        )
        .route(
            Route::post("/teapot", || async { (StatusCode::IM_A_TEAPOT, "tea") })
                .status_code(StatusCode::CREATED),
        );
    let client = blocking_client_on(rt, app);
    let created = client.post("/items").json(&7).send();
    assert_eq!(created.status(), 201);
    assert_eq!(created.text(), "7");
    let invalid = client.post("/items").json(&"seven").send();
    assert_eq!(invalid.status(), 422, "an error keeps its own status");
    assert_eq!(client.post("/teapot").send().status(), 418);
}

#[portico::test]
fn constraints_are_enforced_where_they_are_documented(rt: RuntimeKind) {
    let app = shop();
    let doc = app.openapi();
    assert_eq!(
        doc["components"]["schemas"]["Item"]["properties"]["price_cents"]["minimum"],
        0
    );
    let client = blocking_client_on(rt, app);
    let response = client
        .post("/items")
        .json(&json!({"itemId": 1, "displayName": "", "kind": "tool", "price_cents": -5, "created_by": "x"}))
        .send();
    assert_eq!(response.status(), 422);
    let detail: Value = response.json();
    let locs: Vec<&Value> = detail["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "displayName"]),
            &json!(["body", "price_cents"])
        ]
    );
    assert_eq!(detail["detail"][0]["type"], "string_too_short");
    assert_eq!(detail["detail"][1]["type"], "greater_than_equal");
    let bad_query = client.get("/items/1?limit=0&q=ABC").send();
    assert_eq!(bad_query.status(), 422);
    let found: Value = bad_query.json();
    assert_eq!(found["detail"][0]["loc"], json!(["query", "limit"]));
    assert_eq!(found["detail"][1]["loc"], json!(["query", "q"]));
    assert_eq!(found["detail"][1]["type"], "string_pattern_mismatch");
}

#[test]
fn two_types_of_one_name_keep_both_schemas() {
    mod a {
        #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub(crate) struct Thing {
            pub(crate) x: u8,
        }
    }
    mod b {
        #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub(crate) struct Thing {
            pub(crate) y: String,
        }
    }
    let app = App::new()
        .post("/a", |Json(t): Json<a::Thing>| async move { Json(t) })
        .post("/b", |Json(t): Json<b::Thing>| async move { Json(t) });
    let doc = app.openapi();
    let a_ref =
        &doc["paths"]["/a"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    let b_ref =
        &doc["paths"]["/b"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(a_ref, "#/components/schemas/Thing");
    assert_eq!(b_ref, "#/components/schemas/Thing2");
    assert_eq!(
        doc["paths"]["/b"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Thing2"
    );
    assert!(
        doc["components"]["schemas"]["Thing2"]["properties"]
            .get("y")
            .is_some()
    );
}

#[test]
fn multipart_forms_are_described_with_their_files() {
    let doc = shop().openapi();
    let schema =
        &doc["paths"]["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(schema["$ref"], "#/components/schemas/Upload");
    assert_eq!(
        doc["components"]["schemas"]["Upload"]["required"],
        json!(["file", "note"])
    );
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use async_compression::futures::bufread::GzipDecoder;
    use futures_lite::AsyncReadExt;
    let mut out = Vec::new();
    futures_lite::future::block_on(GzipDecoder::new(bytes).read_to_end(&mut out)).unwrap();
    out
}

/// A user whose id the server assigns: written in answers, never read from requests.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Account {
    #[serde(skip_deserializing)]
    id: u64,
    name: String,
    nickname: Option<String>,
}

async fn create_account(Json(account): Json<Account>) -> Json<Account> {
    Json(account)
}

#[test]
fn a_type_written_differently_from_how_it_is_read_has_an_output_schema() {
    let doc = App::new().post("/accounts", create_account).openapi();
    let post = &doc["paths"]["/accounts"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Account"})
    );
    assert_eq!(
        post["responses"]["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Account-Output"})
    );
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Account"]["properties"].get("id").is_none());
    assert!(schemas["Account-Output"]["properties"].get("id").is_some());
    assert_eq!(schemas["Account"]["required"], json!(["name"]));
    assert_eq!(
        schemas["Account-Output"]["required"],
        json!(["id", "name"]),
        "what a request need not send is not required in the answer either; what only answers have is"
    );
}
