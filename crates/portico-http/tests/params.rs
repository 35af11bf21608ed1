//! Single named parameters with `#[portico::handler]`, as FastAPI declares them.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use portico::testing::TestClient;
use portico::{App, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Item {
    name: String,
}

#[portico::handler]
async fn read_items(
    #[path] shop: u32,
    #[query] q: Option<String>,
    #[query(default = 10, ge = 1, le = 100)] limit: u32,
    #[query(alias = "tag", default = Vec::new())] tags: Vec<String>,
    #[header] user_agent: Option<String>,
    #[cookie(min_length = 3)] session: Option<String>,
    Json(item): Json<Item>,
) -> Json<Value> {
    Json(json!({
        "shop": shop, "q": q, "limit": limit, "tags": tags,
        "user_agent": user_agent, "session": session, "item": item.name,
    }))
}

/// A plain fn works the same way (and runs on the thread pool).
#[portico::handler]
fn double(#[query(gt = 0, description = "what to double")] n: i64) -> String {
    (n * 2).to_string()
}

fn app() -> App {
    App::new()
        .post("/shops/{shop}/items", read_items)
        .get("/double", double)
}

#[portico::test]
async fn single_parameters_are_read_by_name() {
    let client = TestClient::new(app());
    let response = client
        .post("/shops/3/items?q=tea&tag=a&tag=b")
        .header("user-agent", "tests")
        .cookie("session", "abcdef")
        .json(&json!({"name": "pot"}))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({"shop": 3, "q": "tea", "limit": 10, "tags": ["a", "b"], "user_agent": "tests", "session": "abcdef", "item": "pot"})
    );
    assert_eq!(client.get("/double?n=21").await.text(), "42");
}

#[portico::test]
async fn single_parameters_are_validated_together() {
    let client = TestClient::new(app());
    let response = client
        .post("/shops/x/items?limit=1000")
        .cookie("session", "ab")
        .json(&json!({"name": 1}))
        .await;
    assert_eq!(response.status(), 422);
    let detail = response.json::<Value>()["detail"].clone();
    let summary: Vec<(Value, Value)> = detail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["loc"].clone(), e["type"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(["path", "shop"]), json!("int_parsing")),
            (json!(["query", "limit"]), json!("less_than_equal")),
            (json!(["cookie", "session"]), json!("string_too_short")),
            (json!(["body", "name"]), json!("string_type")),
        ]
    );
    let missing = client.get("/double").await.json::<Value>();
    assert_eq!(
        missing["detail"][0],
        json!({"type": "missing", "loc": ["query", "n"], "msg": "Field required", "input": null})
    );
    let negative = client.get("/double?n=-1").await.json::<Value>();
    assert_eq!(negative["detail"][0]["ctx"], json!({"gt": 0}));
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Owner {
    username: String,
}

/// Several body parameters, as FastAPI's: the keys of one object.
#[portico::handler]
async fn assign(
    #[path] shop: u32,
    #[body] item: Item,
    #[body] owner: Owner,
    #[body(gt = 0, default = 1)] copies: u32,
) -> String {
    format!("{shop}: {} x{copies} for {}", item.name, owner.username)
}

/// One body parameter alone is the body; `embed` puts it under its name.
#[portico::handler]
fn rename(#[body] item: Item) -> String {
    item.name
}

#[portico::handler]
fn rename_embedded(#[body(embed)] item: Item) -> String {
    item.name
}

#[portico::test]
async fn body_parameters_are_read_by_name_each_on_its_own() {
    let app = App::new()
        .post("/shops/{shop}/assign", assign)
        .post("/rename", rename)
        .post("/rename-embedded", rename_embedded);
    let doc = app.openapi();
    let client = TestClient::new(app);
    let body = json!({"item": {"name": "pot"}, "owner": {"username": "ada"}, "copies": 2});
    let response = client.post("/shops/3/assign").json(&body).await;
    assert_eq!(response.text(), "3: pot x2 for ada");
    let defaulted = json!({"item": {"name": "pot"}, "owner": {"username": "ada"}});
    assert_eq!(
        client.post("/shops/3/assign").json(&defaulted).await.text(),
        "3: pot x1 for ada"
    );

    // No body: each parameter is missing on its own, with no input.
    let missing = client.post("/shops/3/assign").await;
    assert_eq!(missing.status(), 422);
    assert_eq!(
        missing.json::<Value>(),
        json!({"detail": [
            {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": null},
            {"type": "missing", "loc": ["body", "owner"], "msg": "Field required", "input": null},
        ]})
    );
    // Invalid ones are found at their place, all together.
    let invalid = client
        .post("/shops/3/assign")
        .json(&json!({"item": {}, "owner": {"username": "ada"}, "copies": 0}))
        .await;
    let detail = invalid.json::<Value>()["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["body", "item", "name"]));
    assert_eq!(detail[1]["loc"], json!(["body", "copies"]));
    assert_eq!(detail[1]["type"], "greater_than");

    assert_eq!(
        client
            .post("/rename")
            .json(&json!({"name": "cup"}))
            .await
            .text(),
        "cup"
    );
    let embedded = json!({"item": {"name": "cup"}});
    assert_eq!(
        client.post("/rename-embedded").json(&embedded).await.text(),
        "cup"
    );
    assert_eq!(
        client
            .post("/rename-embedded")
            .json(&json!({"name": "cup"}))
            .await
            .status(),
        422
    );

    // The document names the object after the operation, as FastAPI does.
    let assign_body = &doc["paths"]["/shops/{shop}/assign"]["post"]["requestBody"];
    assert_eq!(
        assign_body["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Body_assign_shops__shop__assign_post"})
    );
    let schema = &doc["components"]["schemas"]["Body_assign_shops__shop__assign_post"];
    assert_eq!(schema["required"], json!(["item", "owner"]));
    assert_eq!(
        schema["properties"]["item"],
        json!({"$ref": "#/components/schemas/Item"})
    );
    assert_eq!(
        doc["paths"]["/rename"]["post"]["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Item"})
    );
}

/// Form fields by name, as FastAPI's `Form()` parameters.
#[portico::handler]
async fn login(#[form] username: String, #[form(min_length = 8)] password: String) -> String {
    format!("{username} ({} characters)", password.len())
}

#[portico::test]
async fn form_parameters_are_read_by_name_and_documented_as_fastapi_does() {
    let app = App::new().post("/login", login);
    let doc = app.openapi();
    let client = TestClient::new(app);
    let response = client
        .post("/login")
        .form(&[("username", "ada"), ("password", "correct horse")])
        .await;
    assert_eq!(response.text(), "ada (13 characters)");
    let short = client
        .post("/login")
        .form(&[("username", "ada"), ("password", "short")])
        .await;
    assert_eq!(short.status(), 422);
    assert_eq!(
        short.json::<Value>()["detail"][0]["loc"],
        json!(["body", "password"])
    );

    let body = &doc["paths"]["/login"]["post"]["requestBody"]["content"];
    assert_eq!(
        body["application/x-www-form-urlencoded"]["schema"],
        json!({"$ref": "#/components/schemas/Body_login_login_post"})
    );
    let schema = &doc["components"]["schemas"]["Body_login_login_post"];
    assert_eq!(schema["title"], "Body_login_login_post");
    assert_eq!(schema["required"], json!(["username", "password"]));
    assert!(schema.get("x-portico-fields").is_none(), "{schema}");
}
