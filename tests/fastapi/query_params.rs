//! Query parameters: `docs_src/query_params/tutorial001` to `tutorial006`.

use portico::testing::TestClient;
use portico::{App, Json};
use serde_json::{Value, json};

use crate::support::{assert_document, document, nullable, operation, param};

/// The answer of tutorials 003 and 004, built the way they build it.
fn item(mut item: Value, q: Option<String>, short: bool) -> Json<Value> {
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        item["q"] = json!(q);
    }
    if !short {
        item["description"] = json!("This is an amazing item that has a long description");
    }
    Json(item)
}

async fn assert_gets(client: &TestClient, cases: &[(&str, Value)]) {
    for (path, expected) in cases {
        let response = client.get(*path).await;
        assert_eq!(response.status(), 200, "{path}: {}", response.text());
        assert_eq!(&response.json::<Value>(), expected, "{path}");
    }
}

mod tutorial001 {
    use super::*;

    #[portico::handler]
    async fn read_item(
        #[query(default = 0)] skip: usize,
        #[query(default = 10)] limit: usize,
    ) -> Json<Value> {
        let db = [
            json!({"item_name": "Foo"}),
            json!({"item_name": "Bar"}),
            json!({"item_name": "Baz"}),
        ];
        Json(db.into_iter().skip(skip).take(limit).collect())
    }

    fn app() -> App {
        App::new().get("/items/", read_item)
    }

    #[portico::test]
    async fn read_user_item() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                (
                    "/items/",
                    json!([{"item_name": "Foo"}, {"item_name": "Bar"}, {"item_name": "Baz"}]),
                ),
                (
                    "/items/?skip=1",
                    json!([{"item_name": "Bar"}, {"item_name": "Baz"}]),
                ),
                ("/items/?skip=1&limit=1", json!([{"item_name": "Bar"}])),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/": {"get": operation("Read Item", "read_item_items__get", vec![
                param("query", "skip", false, json!({"type": "integer", "default": 0})),
                param("query", "limit", false, json!({"type": "integer", "default": 10})),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial002 {
    use super::*;

    #[portico::handler]
    async fn read_item(#[path] item_id: String, #[query] q: Option<String>) -> Json<Value> {
        match q {
            Some(q) if !q.is_empty() => Json(json!({"item_id": item_id, "q": q})),
            _ => Json(json!({"item_id": item_id})),
        }
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn read_user_item() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[
                ("/items/foo", json!({"item_id": "foo"})),
                (
                    "/items/bar?q=somequery",
                    json!({"item_id": "bar", "q": "somequery"}),
                ),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": operation("Read Item", "read_item_items__item_id__get", vec![
                param("path", "item_id", true, json!({"type": "string"})),
                param("query", "q", false, nullable(json!({"type": "string"}))),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial003 {
    use super::*;

    #[portico::handler]
    async fn read_item(
        #[path] item_id: String,
        #[query] q: Option<String>,
        #[query(default = false)] short: bool,
    ) -> Json<Value> {
        item(json!({"item_id": item_id}), q, short)
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_item)
    }

    #[portico::test]
    async fn read_user_item() {
        let client = TestClient::new(app());
        let description = "This is an amazing item that has a long description";
        assert_gets(
            &client,
            &[
                (
                    "/items/foo",
                    json!({"item_id": "foo", "description": description}),
                ),
                (
                    "/items/bar?q=somequery",
                    json!({"item_id": "bar", "q": "somequery", "description": description}),
                ),
                ("/items/baz?short=true", json!({"item_id": "baz"})),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": operation("Read Item", "read_item_items__item_id__get", vec![
                param("path", "item_id", true, json!({"type": "string"})),
                param("query", "q", false, nullable(json!({"type": "string"}))),
                param("query", "short", false, json!({"type": "boolean", "default": false})),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial004 {
    use super::*;

    #[portico::handler]
    async fn read_user_item(
        #[path] user_id: i64,
        #[path] item_id: String,
        #[query] q: Option<String>,
        #[query(default = false)] short: bool,
    ) -> Json<Value> {
        item(json!({"item_id": item_id, "owner_id": user_id}), q, short)
    }

    fn app() -> App {
        App::new().get("/users/{user_id}/items/{item_id}", read_user_item)
    }

    #[portico::test]
    async fn read_user_item_cases() {
        let client = TestClient::new(app());
        let description = "This is an amazing item that has a long description";
        assert_gets(
            &client,
            &[
                (
                    "/users/123/items/foo",
                    json!({"item_id": "foo", "owner_id": 123, "description": description}),
                ),
                (
                    "/users/1/items/bar?q=somequery",
                    json!({"item_id": "bar", "owner_id": 1, "q": "somequery", "description": description}),
                ),
                ("/users/42/items/baz?short=true", json!({"item_id": "baz", "owner_id": 42})),
            ],
        )
        .await;
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/users/{user_id}/items/{item_id}": {"get": operation(
                "Read User Item",
                "read_user_item_users__user_id__items__item_id__get",
                vec![
                    param("path", "user_id", true, json!({"type": "integer"})),
                    param("path", "item_id", true, json!({"type": "string"})),
                    param("query", "q", false, nullable(json!({"type": "string"}))),
                    param("query", "short", false, json!({"type": "boolean", "default": false})),
                ],
            )}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial005 {
    use super::*;

    #[portico::handler]
    async fn read_user_item(#[path] item_id: String, #[query] needy: String) -> Json<Value> {
        Json(json!({"item_id": item_id, "needy": needy}))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_user_item)
    }

    #[portico::test]
    async fn foo_needy_very() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[(
                "/items/foo?needy=very",
                json!({"item_id": "foo", "needy": "very"}),
            )],
        )
        .await;
    }

    #[portico::test]
    async fn foo_no_needy() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [{
                "type": "missing",
                "loc": ["query", "needy"],
                "msg": "Field required",
                "input": null,
            }]})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": operation("Read User Item", "read_user_item_items__item_id__get", vec![
                param("path", "item_id", true, json!({"type": "string"})),
                param("query", "needy", true, json!({"type": "string"})),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}

mod tutorial006 {
    use super::*;

    #[portico::handler]
    async fn read_user_item(
        #[path] item_id: String,
        #[query] needy: String,
        #[query(default = 0)] skip: i64,
        #[query] limit: Option<i64>,
    ) -> Json<Value> {
        Json(json!({"item_id": item_id, "needy": needy, "skip": skip, "limit": limit}))
    }

    fn app() -> App {
        App::new().get("/items/{item_id}", read_user_item)
    }

    #[portico::test]
    async fn foo_needy_very() {
        let client = TestClient::new(app());
        assert_gets(
            &client,
            &[(
                "/items/foo?needy=very",
                json!({"item_id": "foo", "needy": "very", "skip": 0, "limit": null}),
            )],
        )
        .await;
    }

    #[portico::test]
    async fn foo_no_needy() {
        let client = TestClient::new(app());
        let response = client.get("/items/foo?skip=a&limit=b").await;
        assert_eq!(response.status(), 422, "{}", response.text());
        let parsing = "Input should be a valid integer, unable to parse string as an integer";
        assert_eq!(
            response.json::<Value>(),
            json!({"detail": [
                {"type": "missing", "loc": ["query", "needy"], "msg": "Field required", "input": null},
                {"type": "int_parsing", "loc": ["query", "skip"], "msg": parsing, "input": "a"},
                {"type": "int_parsing", "loc": ["query", "limit"], "msg": parsing, "input": "b"},
            ]})
        );
    }

    #[portico::test]
    async fn openapi_schema() {
        let client = TestClient::new(app());
        let expected = document(
            json!({"/items/{item_id}": {"get": operation("Read User Item", "read_user_item_items__item_id__get", vec![
                param("path", "item_id", true, json!({"type": "string"})),
                param("query", "needy", true, json!({"type": "string"})),
                param("query", "skip", false, json!({"type": "integer", "default": 0})),
                param("query", "limit", false, nullable(json!({"type": "integer"}))),
            ])}}),
            Some(json!({})),
        );
        assert_document(&client, expected).await;
    }
}
